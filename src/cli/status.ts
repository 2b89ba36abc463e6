import type { Static } from 'typebox';
import { percentText } from '../evaluate/numbers.js';
import type { SloBreakdown } from '../http/schemas/breakdown.js';
import { readJson } from './client.js';
import { EXIT } from './exitCodes.js';

export const STATUS_FORMATS = ['table', 'json'] as const;

export interface StatusOptions {
  url: string;
  token?: string;
  format: (typeof STATUS_FORMATS)[number];
  timeoutMs: number;
  /** An SLO to break down (its series ranked by the budget they spent) instead of listing every SLO. */
  breakdown?: string;
  from?: string;
  to?: string;
  /** Checked by the service (a 400 naming it). */
  limit?: string;
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

/** The breakdown's answer, as its route declares it. */
type Breakdown = Static<(typeof SloBreakdown)[200]>;

/** Steps of a sparkline as one character each: met the objective, missed it, or had no events. */
const trend = (sparkline: Array<number | null>, objective: number) =>
  sparkline.map((sli) => (sli === null ? '·' : sli >= objective ? '▁' : '█')).join('');

function breakdownTable(breakdown: Breakdown): string[] {
  const lines = [`${breakdown.name} (${breakdown.service}) from ${breakdown.from} to ${breakdown.to}`];
  for (const group of breakdown.groups) {
    const spent = percentText(group.budget_spent, 1, 'in slices');
    const title = group.component ? `component ${group.component.name}: ` : '';
    lines.push(
      '',
      `${title}${group.bad} bad of ${group.valid} valid, budget spent ${spent}, ${group.series_count} series`,
      ...columns([
        ['ROUTE', 'METHOD', 'SOURCE', 'VALID', 'BAD', 'SLI', 'BAD SHARE', 'BUDGET SHARE', 'TREND'],
        ...group.series.map((s) => [
          s.route,
          s.method,
          s.source,
          String(s.valid),
          s.error_bound > 0 ? `${s.bad} ±${s.error_bound}` : String(s.bad),
          percentText(s.sli, 3),
          percentText(s.bad_share, 1),
          percentText(s.budget_share, 1),
          trend(s.sparkline, group.objective),
        ]),
      ]),
    );
  }
  return lines;
}

/** The breakdown's URL: the SLO's name and the range and limit given. */
function breakdownUrl(options: StatusOptions & { breakdown: string }): URL {
  const url = new URL(`/api/v1/slos/${encodeURIComponent(options.breakdown)}/breakdown`, options.url);
  if (options.from) url.searchParams.set('from', options.from);
  if (options.to) url.searchParams.set('to', options.to);
  if (options.limit) url.searchParams.set('limit', options.limit);
  return url;
}

/**
 * `sloguard status`: every SLO of a running service, as a table or as the API's JSON; with `--breakdown`, the
 * series of one SLO ranked by the budget they spent. Exit 0 when the
 * service answered, 1 when it could not be reached or refused (the URL and the cause on stderr).
 */
export async function runStatus(
  options: StatusOptions,
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<number> {
  if (options.breakdown !== undefined) {
    const read = await readJson<Breakdown>(
      'status',
      breakdownUrl({ ...options, breakdown: options.breakdown }),
      options,
    );
    if ('failure' in read) {
      io.err(read.failure);
      return EXIT.invalid;
    }
    if (options.format === 'json') io.out(JSON.stringify(read.body, null, 2));
    else for (const line of breakdownTable(read.body)) io.out(line);
    return EXIT.ok;
  }
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
