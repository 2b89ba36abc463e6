import { callSloguard } from './client.js';
import { EXIT } from './exitCodes.js';

export const STATUS_FORMATS = ['table', 'json'] as const;

export interface StatusOptions {
  url: string;
  token?: string;
  format: (typeof STATUS_FORMATS)[number];
  timeoutMs: number;
}

interface SloRow {
  name: string;
  service: string;
  state: string;
  sli: number | null;
  objective: number;
  budget: { remaining_ratio: number | null };
}

const pct = (ratio: number | null, digits: number) =>
  ratio === null ? 'n/a' : `${(ratio * 100).toFixed(digits)}%`;

/** Columns padded to their widest cell, as `kubectl get` prints them. */
function table(slos: SloRow[]): string[] {
  const rows = [
    ['SERVICE', 'SLO', 'STATE', 'SLI', 'OBJECTIVE', 'BUDGET LEFT'],
    ...slos.map((s) => [
      s.service,
      s.name,
      s.state,
      pct(s.sli, 3),
      pct(s.objective, 3),
      pct(s.budget.remaining_ratio, 1),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * `sloguard status`: every SLO of a running service, as a table or as the API's JSON. Exit 0 when the
 * service answered, 1 when it could not be reached or refused (the URL and the cause on stderr).
 */
export async function runStatus(
  options: StatusOptions,
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<number> {
  const url = new URL('/api/v1/slos', options.url);
  const reply = await callSloguard(url, {
    ...(options.token && { token: options.token }),
    timeoutMs: options.timeoutMs,
  });
  if ('failure' in reply) {
    io.err(`sloguard status: ${reply.failure}`);
    return EXIT.invalid;
  }
  const text = await reply.response.text();
  if (!reply.response.ok) {
    const hint =
      reply.response.status === 401 ? ' (pass a token with the read scope: --token or $SLOGUARD_TOKEN)' : '';
    io.err(
      `sloguard status: ${url.href} answered HTTP ${reply.response.status}${hint}: ${text.slice(0, 500)}`,
    );
    return EXIT.invalid;
  }
  let body: { slos: SloRow[] };
  try {
    body = JSON.parse(text) as { slos: SloRow[] };
  } catch {
    io.err(`sloguard status: ${url.href} answered with a body that is not JSON (is it sloguard?)`);
    return EXIT.invalid;
  }
  if (options.format === 'json') io.out(JSON.stringify(body, null, 2));
  else for (const line of table(body.slos)) io.out(line);
  return EXIT.ok;
}
