#!/usr/bin/env -S node --gc-memory-reducer-start-delay-ms=3600000
// The shebang's flags are SERVE_NODE_FLAGS (nodeFlags.ts): V8 takes them only on node's command line.
// Only commander and the option parsers load here: each command imports its module when it runs, so
// `--help` and usage errors answer without loading the service (fastify, SQLite, OpenTelemetry).
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { formatDuration, parseDuration } from '../config/duration.js';
import { EXIT, GATE_FORMATS, INCIDENT_FORMATS, REPORT_FORMATS } from './exitCodes.js';
import { STATUS_FORMATS } from './status.js';

const out = (text: string) => process.stdout.write(`${text}\n`);
const err = (text: string) => process.stderr.write(`${text}\n`);
const io = { out, err };
const defaultUrl = () => process.env.SLOGUARD_URL ?? 'http://127.0.0.1:9411';
const config = async () => (await import('../config/config.js')).loadConfig();
const definitionsOr = async (paths: string[]) =>
  paths.length > 0 ? paths : [(await config()).definitionsPath];

/** A duration like 30s or 15m; a bare number is seconds (what --timeout took before it took durations). */
function duration(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : parseDuration(text);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration like 30s or 15m');
  return ms;
}
/** A count of parsing threads, 0 (none: the importing thread parses) to 16. */
function threadCount(text: string): number {
  const count = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(count >= 0 && count <= 16)) throw new InvalidArgumentError('expected a whole number from 0 to 16');
  return count;
}
/** Defaults print as durations (`30s`), the way they are written, not as milliseconds. */
const durationOption = (flags: string, description: string, fallbackMs: number) =>
  new Option(flags, description).argParser(duration).default(fallbackMs, formatDuration(fallbackMs));
const urlOption = () =>
  new Option('--url <url>', 'sloguard URL (default: $SLOGUARD_URL or http://127.0.0.1:9411)');
const tokenOption = (scope: string) =>
  new Option('--token <token>', `bearer token with the ${scope} scope (default: $SLOGUARD_TOKEN)`);

const program = new Command('sloguard')
  .description('SLOs, error budgets and a deploy gate from load-balancer and trace data')
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) });

program
  .command('serve')
  .description('run the service (settings from SLOGUARD_* variables and sloguard.yaml)')
  .action(async () => {
    await (await import('./serve.js')).runServe(err);
  });

program
  .command('validate')
  .description('check SLO files; exit 0 when all are valid, 1 otherwise')
  .argument('[paths...]', 'files or folders (default: the definitions folder)')
  .action(async (paths: string[]) => {
    const targets = await definitionsOr(paths);
    process.exitCode = (await import('./validate.js')).runValidate(targets, io);
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
  .option('--commit-at <time>', 'when the change was committed (RFC 3339 or Unix seconds), for lead time')
  .addOption(
    new Option('--fail-on <decision>', 'lowest decision that fails')
      .choices(['deny', 'warn'])
      .default('deny'),
  )
  .addOption(
    new Option('--on-error <policy>', 'what a gate that cannot answer means')
      .choices(['deny', 'allow'])
      .default('deny'),
  )
  .addOption(
    new Option('--format <format>', 'output (github: also $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY)')
      .choices(GATE_FORMATS)
      .default('text'),
  )
  .addOption(
    durationOption('--wait <duration>', 'ask again until allowed or this long has passed (e.g. 15m)', 0),
  )
  .addOption(durationOption('--poll-interval <duration>', 'pause between asks while waiting', 30_000))
  .addOption(urlOption())
  .addOption(tokenOption('gate'))
  .addOption(durationOption('--timeout <duration>', 'how long to wait for an answer', 30_000))
  .action(async (options) => {
    const { runGate } = await import('./gate.js');
    process.exitCode = await runGate(
      {
        ...options,
        url: options.url ?? defaultUrl(),
        token: options.token ?? process.env.SLOGUARD_TOKEN,
        timeoutMs: options.timeout,
        waitMs: options.wait,
        pollMs: options.pollInterval,
        githubOutput: process.env.GITHUB_OUTPUT,
        githubSummary: process.env.GITHUB_STEP_SUMMARY,
      },
      io,
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
  .option('--force', 'count files again that an earlier import already committed')
  .addOption(
    new Option(
      '--threads <count>',
      'parsing threads (default: the cores but one, at most 2, and none below 3 cores); with 0 the import parses on its own thread',
    ).argParser(threadCount),
  )
  .argument('<files...>', 'log files')
  .action(async (files: string[], options) => {
    const { runImport } = await import('./import.js');
    process.exitCode = await runImport(files, options, await config(), out, err);
  });

program
  .command('backup')
  .description("copy the database consistently, also while the service runs (SQLite's online backup)")
  .argument('<file>', 'where the copy goes (must not exist)')
  .action(async (file: string) => {
    const { runBackup } = await import('./backup.js');
    process.exitCode = await runBackup((await config()).databasePath, file, io);
  });

program
  .command('rules')
  .description('export the SLOs read with PromQL as recording and burn-rate alerting rules')
  .addOption(new Option('--format <format>', 'rule dialect').choices(['prometheus']).makeOptionMandatory())
  .option('--window <duration>', 'judge every SLO over this window instead of its own (e.g. 28d)')
  .option('--output <file>', 'write the rule file here instead of stdout')
  .option('--native', 'also native SLOs, over the series sloguard collectors write (docs/scaling.md)')
  .argument('[paths...]', 'files or folders (default: the definitions folder)')
  .action(async (paths: string[], options) => {
    const targets = await definitionsOr(paths);
    process.exitCode = (await import('./rules.js')).runRules(targets, options, out, err);
  });

program
  .command('status')
  .description('print every SLO with its SLI, budget and state; exit 1 when sloguard cannot be reached')
  .addOption(urlOption())
  .addOption(tokenOption('read'))
  .addOption(new Option('--format <format>', 'output').choices(STATUS_FORMATS).default('table'))
  .addOption(durationOption('--timeout <duration>', 'how long to wait for an answer', 30_000))
  .option('--breakdown <slo>', "rank the SLO's series (route, method, source) by the budget they spent")
  .option('--from <time>', 'breakdown range start: RFC 3339 or Unix seconds (default: the SLO window back)')
  .option('--to <time>', 'breakdown range end (default: now)')
  .option('--limit <count>', 'breakdown series per group, 1-100 (default 10)')
  .action(async (options) => {
    const { runStatus } = await import('./status.js');
    process.exitCode = await runStatus(
      {
        url: options.url ?? defaultUrl(),
        token: options.token ?? process.env.SLOGUARD_TOKEN,
        format: options.format,
        timeoutMs: options.timeout,
        breakdown: options.breakdown,
        from: options.from,
        to: options.to,
        limit: options.limit,
      },
      io,
    );
  });

/** The read options `incidents` and `report` share. */
const readOptions = (options: { url?: string; token?: string; timeout: number; range: number }) => ({
  url: options.url ?? defaultUrl(),
  token: options.token ?? process.env.SLOGUARD_TOKEN,
  timeoutMs: options.timeout,
  rangeMs: options.range,
});

program
  .command('incidents')
  .description(
    'list service incidents (overlapping alert episodes) with their deployments; exit 1 when sloguard cannot be reached',
  )
  .option('--service <name>', 'only this service')
  .option('--slo <name>', 'only incidents with an episode of this SLO')
  .addOption(durationOption('--range <duration>', 'how far back from now', 28 * 86_400_000))
  .addOption(urlOption())
  .addOption(tokenOption('read'))
  .addOption(new Option('--format <format>', 'output').choices(INCIDENT_FORMATS).default('table'))
  .addOption(durationOption('--timeout <duration>', 'how long to wait for an answer', 30_000))
  .action(async (options) => {
    const { runIncidents } = await import('./incidents.js');
    process.exitCode = await runIncidents(
      { ...readOptions(options), service: options.service, slo: options.slo, format: options.format },
      io,
    );
  });

program
  .command('report')
  .description("a service's reliability (MTTR, MTTF, time to detect), DORA keys and incidents over a range")
  .requiredOption('--service <name>', 'the service')
  .addOption(durationOption('--range <duration>', 'how far back from now', 28 * 86_400_000))
  .addOption(urlOption())
  .addOption(tokenOption('read'))
  .addOption(new Option('--format <format>', 'output').choices(REPORT_FORMATS).default('table'))
  .addOption(durationOption('--timeout <duration>', 'how long to wait for an answer', 30_000))
  .action(async (options) => {
    const { runReport } = await import('./incidents.js');
    process.exitCode = await runReport(
      { ...readOptions(options), service: options.service, format: options.format },
      io,
    );
  });

program
  .command('notify')
  .description('chat notifications')
  .command('test')
  .description('send a test message to a notification target; exit 0 when delivered, 1 when not')
  .argument('<target>', 'a target named under notifications.targets in sloguard.yaml')
  .action(async (target: string) => {
    const { runNotifyTest } = await import('./notify.js');
    process.exitCode = await runNotifyTest(await config(), target, io);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)
      ? 0
      : EXIT.usage;
  } else if (error instanceof Error && error.name === 'ConfigError') {
    err(`configuration error: ${error.message}`);
    process.exitCode = EXIT.usage;
  } else {
    err(`sloguard: ${(error as Error).message}`);
    process.exitCode = EXIT.invalid;
  }
}
