#!/usr/bin/env node

import closeWithGrace from 'close-with-grace';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig } from '../config/config.js';
import { parseDuration } from '../config/duration.js';
import { loadDefinitions } from '../definitions/load.js';
import { lintDefinitions } from '../evaluate/lints.js';
import { percentText } from '../evaluate/numbers.js';
import { startService } from '../main.js';
import { EXIT, FORMATS, runGate } from './gate.js';
import { runImport } from './import.js';
import { runNotifyTest } from './notify.js';
import { runRules } from './rules.js';

const out = (text: string) => process.stdout.write(`${text}\n`);
const err = (text: string) => process.stderr.write(`${text}\n`);
const defaultUrl = () => process.env.SLOGUARD_URL ?? 'http://127.0.0.1:9411';

function gateDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration like 30s or 15m');
  return ms;
}

const program = new Command('sloguard')
  .description('SLOs, error budgets and a deploy gate from load-balancer and trace data')
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) });

program
  .command('serve')
  .description('run the service (settings from SLOGUARD_* variables and sloguard.yaml)')
  .action(async () => {
    const service = await startService(loadConfig());
    // SIGTERM/SIGINT: stop accepting, let in-flight requests finish (their batches commit), close the store.
    closeWithGrace({ delay: 10_000 }, async ({ err: error }) => {
      if (error) err(`sloguard: stopping after an unexpected error: ${error.stack ?? error.message}`);
      await service.close();
    });
  });

program
  .command('validate')
  .description('check SLO files; exit 0 when all are valid, 1 otherwise')
  .argument('[paths...]', 'files or folders (default: the definitions folder)')
  .action((paths: string[]) => {
    const targets = paths.length > 0 ? paths : [loadConfig().definitionsPath];
    const { definitions, errors, warnings, files } = loadDefinitions(targets);
    for (const warning of [...warnings, ...lintDefinitions(definitions)]) err(`warning: ${warning.message}`);
    for (const error of errors) err(error.message);
    if (errors.length > 0) {
      err(`${errors.length} problem${errors.length === 1 ? '' : 's'} in ${files.length} files`);
      process.exitCode = EXIT.invalid;
      return;
    }
    out(`ok: ${definitions.length} SLOs in ${files.length} files`);
  });

program
  .command('gate')
  .description(
    'ask the deploy gate: exit 0 allow (and warn), 2 deny, 3 warn with --fail-on warn, 4 gate failed',
  )
  .requiredOption('--service <name>', 'service to release')
  .option('--env <environment>', 'target environment')
  .option('--sha <sha>', 'commit being released')
  .option('--version <version>', 'version being released')
  .addOption(new Option('--change-type <type>', 'kind of change').default('feature'))
  .option('--run-url <url>', 'link to the CI run, kept in the audit trail')
  .addOption(
    new Option('--fail-on <decision>', 'lowest decision that fails')
      .choices(['deny', 'warn'])
      .default('deny'),
  )
  .addOption(
    new Option('--on-error <policy>', 'what a failed gate means').choices(['deny', 'allow']).default('deny'),
  )
  .addOption(
    new Option('--format <format>', 'output (github: also $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY)')
      .choices(FORMATS)
      .default('text'),
  )
  .option('--wait <duration>', 'ask again until allowed or this long has passed (e.g. 15m)', gateDuration, 0)
  .option('--poll-interval <duration>', 'pause between asks while waiting', gateDuration, 30_000)
  .option('--url <url>', 'sloguard URL (default $SLOGUARD_URL or http://127.0.0.1:9411)')
  .option('--token <token>', 'bearer token (default $SLOGUARD_TOKEN)')
  .option('--timeout <seconds>', 'how long to wait for an answer', '30')
  .action(async (options) => {
    process.exitCode = await runGate(
      {
        ...options,
        url: options.url ?? defaultUrl(),
        token: options.token ?? process.env.SLOGUARD_TOKEN,
        timeoutMs: Number(options.timeout) * 1000,
        waitMs: options.wait,
        pollMs: options.pollInterval,
        githubOutput: process.env.GITHUB_OUTPUT,
        githubSummary: process.env.GITHUB_STEP_SUMMARY,
      },
      { out, err },
    );
  });

program
  .command('import')
  .description('read access-log files (gzip too) into the database; a progress bar shows on a terminal')
  .requiredOption(
    '--format <format>',
    'log format (nginx, nginx-json, ingress-nginx, alb, gcp, haproxy, envoy, traefik, jsonl)',
  )
  .option('--source <name>', 'source name (default: the format)')
  .option('--service <name>', "service of every line (default: the source's mapping in sloguard.yaml)")
  .addOption(
    new Option('--status <which>', 'which status counts').choices(['edge', 'target']).default('edge'),
  )
  .argument('<files...>', 'log files')
  .action(async (files: string[], options) => {
    process.exitCode = await runImport(files, options, loadConfig(), out, err);
  });

program
  .command('rules')
  .description('export the SLOs read with PromQL as recording and burn-rate alerting rules')
  .addOption(new Option('--format <format>', 'rule dialect').choices(['prometheus']).makeOptionMandatory())
  .option('--window <duration>', 'judge every SLO over this window instead of its own (e.g. 28d)')
  .option('--output <file>', 'write the rule file here instead of stdout')
  .argument('[paths...]', 'files or folders (default: the definitions folder)')
  .action((paths: string[], options) => {
    const targets = paths.length > 0 ? paths : [loadConfig().definitionsPath];
    process.exitCode = runRules(targets, options, out, err);
  });

program
  .command('status')
  .description('print every SLO with its SLI, budget and state')
  .option('--url <url>', 'sloguard URL (default $SLOGUARD_URL or http://127.0.0.1:9411)')
  .action(async (options: { url?: string }) => {
    const url = new URL('/api/v1/slos', options.url ?? defaultUrl());
    const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    const body = (await response.json()) as {
      slos: Array<{
        name: string;
        service: string;
        state: string;
        sli: number | null;
        objective: number;
        budget: { remaining_ratio: number | null };
      }>;
    };
    const rows = body.slos.map((s) => [
      s.service,
      s.name,
      s.state,
      percentText(s.sli, 3),
      percentText(s.objective, 3),
      percentText(s.budget.remaining_ratio, 1),
    ]);
    const table = [['SERVICE', 'SLO', 'STATE', 'SLI', 'OBJECTIVE', 'BUDGET LEFT'], ...rows];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table)
      out(
        row
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      );
  });

program
  .command('notify')
  .description('chat notifications')
  .command('test')
  .description('send a test message to a notification target; exit 0 when delivered, 1 when not')
  .argument('<target>', 'a target named under notifications.targets in sloguard.yaml')
  .action(async (target: string) => {
    process.exitCode = await runNotifyTest(loadConfig(), target, { out, err });
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)
      ? 0
      : EXIT.usage;
  } else if (error instanceof ConfigError) {
    err(`configuration error: ${error.message}`);
    process.exitCode = EXIT.usage;
  } else {
    err(`sloguard: ${(error as Error).message}`);
    process.exitCode = EXIT.invalid;
  }
}
