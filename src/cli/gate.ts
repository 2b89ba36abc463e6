import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fixedText, percentText } from '../evaluate/numbers.js';
import type { GateAnswer } from '../gate/answer.js';
import { CHANGE_TYPES } from '../model/gate.js';
import { callSloguard } from './client.js';
import { EXIT, type GATE_FORMATS } from './exitCodes.js';

export interface GateOptions {
  service: string;
  env?: string;
  sha?: string;
  version?: string;
  changeType: string;
  runUrl?: string;
  /** When the change was committed (lead time for changes). */
  commitAt?: string;
  failOn: 'deny' | 'warn';
  onError: 'deny' | 'allow';
  format: (typeof GATE_FORMATS)[number];
  url: string;
  token?: string;
  timeoutMs: number;
  /** Keep asking until allowed or this long has passed (0: ask once). */
  waitMs: number;
  pollMs: number;
  /** Where GitHub Actions wants outputs and the job summary ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY). */
  githubOutput?: string;
  githubSummary?: string;
}

export interface GateIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

type Attempt = { answer: GateAnswer } | { failure: string } | { usage: string };

function describe(answer: GateAnswer): string {
  const lines = [`${answer.decision.toUpperCase()} ${answer.service}: ${answer.reason}`];
  for (const slo of answer.slos) {
    lines.push(
      `  ${slo.name}: ${slo.state}, SLI ${percentText(slo.sli, 3)} (objective ${percentText(slo.objective, 3)}), budget remaining ${percentText(slo.budget_remaining, 1)}`,
    );
  }
  if (answer.exemption) lines.push(`  exempt: ${answer.exemption} change`);
  if (answer.override)
    lines.push(`  override ${answer.override.id} by ${answer.override.actor} (${answer.override.ticket})`);
  if (answer.mode === 'observe' && answer.would_block)
    lines.push('  observe mode: enforcing would block this');
  lines.push(`  decision ${answer.decision_id}`);
  return lines.join('\n');
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The answer as a Markdown table (job summaries, merge-request comments). */
export function markdown(answer: GateAnswer): string {
  const icon = { allow: '✅', warn: '⚠️', deny: '⛔', error: '❗' }[answer.decision];
  const lines = [
    `### ${icon} Deploy gate: ${answer.decision} for ${answer.service}${answer.environment ? ` (${answer.environment})` : ''}`,
    '',
    cell(answer.reason),
    '',
    '| SLO | state | SLI | objective | budget remaining | burn 1h |',
    '|---|---|---|---|---|---|',
    ...answer.slos.map(
      (s) =>
        `| ${cell(s.name)} | ${s.state} | ${percentText(s.sli, 3)} | ${percentText(s.objective, 3)} | ${percentText(s.budget_remaining, 1)} | ${fixedText(s.burn_rates['1h'], 2)} |`,
    ),
    '',
    `mode ${answer.mode}${answer.exemption ? `, exempt (${answer.exemption})` : ''}${answer.override ? `, override ${answer.override.id} by ${cell(answer.override.actor)} (${cell(answer.override.ticket)})` : ''} · decision \`${answer.decision_id}\``,
  ];
  return lines.join('\n');
}

/** GitHub's multi-line output syntax with a delimiter no value can contain. */
function githubOutputs(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([key, value]) => {
      const delimiter = `ghadelimiter_${randomUUID()}`;
      return `${key}<<${delimiter}\n${value}\n${delimiter}\n`;
    })
    .join('');
}

function render(answer: GateAnswer, options: GateOptions, io: GateIo): void {
  if (options.format === 'json') {
    io.out(JSON.stringify(answer, null, 2));
    return;
  }
  if (options.format === 'markdown') {
    io.out(markdown(answer));
    return;
  }
  io.out(describe(answer));
  if (options.format !== 'github') return;
  const command = { allow: 'notice', warn: 'warning', deny: 'error', error: 'error' }[answer.decision];
  io.out(`::${command} title=Deploy gate ${answer.decision}::${answer.reason.replaceAll('\n', ' ')}`);
}

function writeGithubFiles(options: GateOptions, values: Record<string, string>, summary: string, io: GateIo) {
  if (options.format !== 'github') return;
  if (!options.githubOutput || !options.githubSummary) {
    io.err('--format github: $GITHUB_OUTPUT or $GITHUB_STEP_SUMMARY is not set; writing no outputs');
  }
  if (options.githubOutput) appendFileSync(options.githubOutput, githubOutputs(values));
  if (options.githubSummary) appendFileSync(options.githubSummary, `${summary}\n`);
}

async function askOnce(options: GateOptions): Promise<Attempt> {
  const url = new URL('/api/v1/gate', options.url);
  const body = {
    service: options.service,
    change_type: options.changeType,
    ...(options.env && { environment: options.env }),
    ...(options.version && { version: options.version }),
    ...(options.sha && { sha: options.sha }),
    ...(options.runUrl && { run_url: options.runUrl }),
    ...(options.commitAt && { commit_at: options.commitAt }),
  };
  const reply = await callSloguard(url, {
    method: 'POST',
    body,
    ...(options.token && { token: options.token }),
    timeoutMs: options.timeoutMs,
  });
  if ('failure' in reply) return reply;
  const { response, text } = reply;
  let parsed: (GateAnswer & { message?: string }) | undefined;
  try {
    parsed = JSON.parse(text) as GateAnswer & { message?: string };
  } catch {
    return { failure: `HTTP ${response.status} with a body that is not JSON` };
  }
  if (response.status === 400) return { usage: `gate refused the request: ${parsed.message ?? text}` };
  if (![200, 423, 503].includes(response.status) || !parsed.decision) {
    return { failure: `HTTP ${response.status}: ${parsed.message ?? text}` };
  }
  return { answer: parsed };
}

const settled = (attempt: Attempt) =>
  'usage' in attempt || ('answer' in attempt && ['allow', 'warn'].includes(attempt.answer.decision));

/**
 * Asks the gate (again every `pollMs` while it denies or fails, until `waitMs` is over) and maps the final
 * answer to an exit code; a gate that cannot answer is exit 4 unless `--on-error allow`.
 */
export async function runGate(options: GateOptions, io: GateIo): Promise<number> {
  if (!(CHANGE_TYPES as readonly string[]).includes(options.changeType)) {
    io.err(`--change-type must be one of ${CHANGE_TYPES.join(', ')}`);
    return EXIT.usage;
  }
  const deadline = Date.now() + options.waitMs;
  let attempt = await askOnce(options);
  while (!settled(attempt) && Date.now() + options.pollMs <= deadline) {
    const now =
      'answer' in attempt
        ? `${attempt.answer.decision}: ${attempt.answer.reason}`
        : (attempt as { failure: string }).failure;
    io.err(`gate says ${now}; asking again in ${Math.round(options.pollMs / 1000)}s`);
    await sleep(options.pollMs);
    attempt = await askOnce(options);
  }
  if ('usage' in attempt) {
    io.err(attempt.usage);
    return EXIT.usage;
  }
  const failed = (why: string, answer?: GateAnswer) => {
    io.err(`gate failed: ${why}`);
    writeGithubFiles(
      options,
      {
        decision: 'error',
        allowed: String(options.onError === 'allow'),
        reason: why,
        decision_id: answer?.decision_id ?? '',
      },
      answer ? markdown(answer) : `### ❗ Deploy gate failed for ${options.service}\n\n${cell(why)}`,
      io,
    );
    if (options.onError === 'allow') {
      io.err('--on-error allow: letting the release through');
      return EXIT.ok;
    }
    return EXIT.gateFailed;
  };
  if ('failure' in attempt) return failed(attempt.failure);
  const { answer } = attempt;
  render(answer, options, io);
  if (answer.decision === 'error') return failed(answer.reason, answer);
  writeGithubFiles(
    options,
    {
      decision: answer.decision,
      allowed: String(answer.allowed),
      reason: answer.reason,
      decision_id: answer.decision_id,
    },
    markdown(answer),
    io,
  );
  switch (answer.decision) {
    case 'allow':
      return EXIT.ok;
    case 'warn':
      return options.failOn === 'warn' ? EXIT.warnFailed : EXIT.ok;
    default:
      return EXIT.deny;
  }
}
