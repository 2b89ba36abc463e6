import { percentText } from '../evaluate/numbers.js';
import { readJson } from './client.js';
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

/** Columns padded to their widest cell, as `kubectl get` prints them; the first row is the header. */
export function columns(rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

function table(slos: SloRow[]): string[] {
  return columns([
    ['SERVICE', 'SLO', 'STATE', 'SLI', 'OBJECTIVE', 'BUDGET LEFT'],
    ...slos.map((s) => [
      s.service,
      s.name,
      s.state,
      percentText(s.sli, 3),
      percentText(s.objective, 3),
      percentText(s.budget.remaining_ratio, 1),
    ]),
  ]);
}

/**
 * `sloguard status`: every SLO of a running service, as a table or as the API's JSON. Exit 0 when the
 * service answered, 1 when it could not be reached or refused (the URL and the cause on stderr).
 */
export async function runStatus(
  options: StatusOptions,
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<number> {
  const read = await readJson<{ slos: SloRow[] }>('status', new URL('/api/v1/slos', options.url), options);
  if ('failure' in read) {
    io.err(read.failure);
    return EXIT.invalid;
  }
  const { body } = read;
  if (options.format === 'json') io.out(JSON.stringify(body, null, 2));
  else for (const line of table(body.slos)) io.out(line);
  return EXIT.ok;
}
