import { CHANGE_TYPES } from '../gate/decide.js';

/** Exit codes CI reads (DESIGN.md). */
export const EXIT = { ok: 0, invalid: 1, deny: 2, warnFailed: 3, gateFailed: 4, usage: 64 } as const;

export interface GateOptions {
  service: string;
  env?: string;
  sha?: string;
  version?: string;
  changeType: string;
  runUrl?: string;
  failOn: 'deny' | 'warn';
  onError: 'deny' | 'allow';
  format: 'text' | 'json';
  url: string;
  token?: string;
  timeoutMs: number;
}

interface GateAnswer {
  decision: 'allow' | 'warn' | 'deny' | 'error';
  reason: string;
  decision_id?: string;
  stale?: boolean;
  slos?: Array<{
    name: string;
    state: string;
    sli: number | null;
    objective: number;
    budget_remaining: number | null;
  }>;
}

const pct = (ratio: number | null | undefined, digits: number) =>
  ratio === null || ratio === undefined ? 'n/a' : `${(ratio * 100).toFixed(digits)}%`;

function describe(answer: GateAnswer, service: string): string {
  const lines = [`${answer.decision.toUpperCase()} ${service}: ${answer.reason}`];
  for (const slo of answer.slos ?? []) {
    lines.push(
      `  ${slo.name}: ${slo.state}, SLI ${pct(slo.sli, 3)} (objective ${pct(slo.objective, 3)}), budget remaining ${pct(slo.budget_remaining, 1)}`,
    );
  }
  if (answer.decision_id) lines.push(`  decision ${answer.decision_id}`);
  return lines.join('\n');
}

/** Asks the gate once and maps its answer to an exit code; a gate that cannot answer is exit 4. */
export async function runGate(
  options: GateOptions,
  out: (text: string) => void,
  err: (text: string) => void,
) {
  if (!(CHANGE_TYPES as readonly string[]).includes(options.changeType)) {
    err(`--change-type must be one of ${CHANGE_TYPES.join(', ')}`);
    return EXIT.usage;
  }
  const url = new URL('/api/v1/gate', options.url);
  const body = {
    service: options.service,
    change_type: options.changeType,
    ...(options.env && { environment: options.env }),
    ...(options.version && { version: options.version }),
    ...(options.sha && { sha: options.sha }),
    ...(options.runUrl && { run_url: options.runUrl }),
  };
  const failed = (why: string) => {
    err(`gate failed: ${why}`);
    if (options.onError === 'allow') {
      err('--on-error allow: letting the release through');
      return EXIT.ok;
    }
    return EXIT.gateFailed;
  };
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.token && { authorization: `Bearer ${options.token}` }),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    return failed(`cannot reach ${url.origin}: ${cause?.message ?? (error as Error).message}`);
  }
  const text = await response.text();
  let answer: GateAnswer;
  try {
    answer = JSON.parse(text) as GateAnswer;
  } catch {
    return failed(`HTTP ${response.status} with a body that is not JSON`);
  }
  if (response.status === 400) {
    err(`gate refused the request: ${(answer as unknown as { message?: string }).message ?? text}`);
    return EXIT.usage;
  }
  if (![200, 423, 503].includes(response.status) || !answer.decision) {
    return failed(`HTTP ${response.status}: ${(answer as unknown as { message?: string }).message ?? text}`);
  }
  out(options.format === 'json' ? JSON.stringify(answer, null, 2) : describe(answer, options.service));
  switch (answer.decision) {
    case 'allow':
      return EXIT.ok;
    case 'warn':
      return options.failOn === 'warn' ? EXIT.warnFailed : EXIT.ok;
    case 'deny':
      return EXIT.deny;
    default:
      return failed(answer.reason);
  }
}
