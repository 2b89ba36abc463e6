import { humanDuration } from '../alert/message.js';
import { fixedText, percentText } from '../evaluate/numbers.js';
import { readJson } from './client.js';
import { EXIT, type INCIDENT_FORMATS, type REPORT_FORMATS } from './exitCodes.js';
import { columns } from './status.js';

/** `sloguard incidents` and `sloguard report`: the incidents, reliability and delivery API, for people. */

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

interface ApiOptions {
  url: string;
  token?: string;
  timeoutMs: number;
  /** How far back from now (ms). */
  rangeMs: number;
}

interface Incident {
  id: string;
  service: string;
  started_at: string;
  resolved_at: string | null;
  duration_seconds: number | null;
  severity: string;
  budget_consumed: number | null;
  postmortem_required: boolean;
  runbook: string | null;
  episodes: Array<{ slo: string }>;
  suspected_deployments: Array<{ version: string }>;
}

interface Figures {
  incident_count: number;
  mttr_seconds: { from_detection: number | null; from_start: number | null };
  mttf_seconds: number | null;
  mtbf_seconds: number | null;
  mean_time_to_detect_seconds: number | null;
  budget_consumed_per_incident: number | null;
  postmortems_required: number;
}

interface Delivery {
  service: string;
  environment: string | null;
  deployments: number;
  deployments_per_day: number;
  lead_time_seconds: { median: number | null; p90: number | null; samples: number };
  change_failure_rate: number | null;
  failed_deployments: number;
  time_to_restore_seconds: number | null;
}

const seconds = (s: number | null): string => (s === null ? 'n/a' : humanDuration(s * 1000));

function apiUrl(options: ApiOptions, path: string, query: Record<string, string | undefined>): URL {
  const url = new URL(path, options.url);
  const nowMs = Date.now();
  url.searchParams.set('from', new Date(nowMs - options.rangeMs).toISOString());
  url.searchParams.set('to', new Date(nowMs).toISOString());
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value);
  return url;
}

function incidentRows(incidents: readonly Incident[]): string[][] {
  return [
    ['STARTED', 'SERVICE', 'SEVERITY', 'DURATION', 'BUDGET', 'POSTMORTEM', 'SLOS', 'SUSPECTS'],
    ...incidents.map((i) => [
      i.started_at.slice(0, 16).replace('T', ' '),
      i.service,
      i.severity,
      i.resolved_at === null ? 'open' : seconds(i.duration_seconds),
      percentText(i.budget_consumed, 1),
      i.postmortem_required ? 'required' : '-',
      i.episodes.map((e) => e.slo).join(','),
      i.suspected_deployments.map((d) => d.version).join(',') || '-',
    ]),
  ];
}

/** `sloguard incidents`: the service incidents of a range, newest first. Exit 0, or 1 when it cannot ask. */
export async function runIncidents(
  options: ApiOptions & { service?: string; slo?: string; format: (typeof INCIDENT_FORMATS)[number] },
  io: Io,
): Promise<number> {
  const url = apiUrl(options, '/api/v1/incidents', {
    service: options.service,
    slo: options.slo,
    limit: '500',
  });
  const read = await readJson<{ incidents: Incident[]; total: number }>('incidents', url, options);
  if ('failure' in read) {
    io.err(read.failure);
    return EXIT.invalid;
  }
  if (options.format === 'json') io.out(JSON.stringify(read.body, null, 2));
  else for (const line of columns(incidentRows(read.body.incidents))) io.out(line);
  return EXIT.ok;
}

/** The report's figures as label and value, the same for the table and Markdown. */
function reportLines(reliability: Figures, delivery: readonly Delivery[]): Array<[string, string]> {
  const lines: Array<[string, string]> = [
    ['Incidents', String(reliability.incident_count)],
    ['MTTR (from detection)', seconds(reliability.mttr_seconds.from_detection)],
    ['MTTR (from start of burn)', seconds(reliability.mttr_seconds.from_start)],
    ['MTTF', seconds(reliability.mttf_seconds)],
    ['MTBF', seconds(reliability.mtbf_seconds)],
    ['Mean time to detect', seconds(reliability.mean_time_to_detect_seconds)],
    ['Budget per incident', percentText(reliability.budget_consumed_per_incident, 1)],
    ['Postmortems required', String(reliability.postmortems_required)],
  ];
  for (const d of delivery) {
    const at = d.environment ? ` (${d.environment})` : '';
    lines.push(
      [`Deployments${at}`, `${d.deployments} (${fixedText(d.deployments_per_day, 2)} a day)`],
      [
        `Lead time${at}`,
        `median ${seconds(d.lead_time_seconds.median)}, p90 ${seconds(d.lead_time_seconds.p90)} (${d.lead_time_seconds.samples} with a commit time)`,
      ],
      [
        `Change failure rate${at}`,
        `${percentText(d.change_failure_rate, 1)} (${d.failed_deployments} failed)`,
      ],
      [`Time to restore${at}`, seconds(d.time_to_restore_seconds)],
    );
  }
  return lines;
}

/**
 * `sloguard report --service S --range 28d`: the service's reliability, DORA keys and incidents, from the same
 * API the dashboard reads. Exit 0, or 1 when it cannot ask.
 */
export async function runReport(
  options: ApiOptions & { service: string; format: (typeof REPORT_FORMATS)[number] },
  io: Io,
): Promise<number> {
  const service = encodeURIComponent(options.service);
  const [reliability, delivery, incidents] = await Promise.all([
    readJson<Figures>('report', apiUrl(options, `/api/v1/services/${service}/reliability`, {}), options),
    readJson<{ services: Delivery[] }>(
      'report',
      apiUrl(options, '/api/v1/delivery', { service: options.service }),
      options,
    ),
    readJson<{ incidents: Incident[] }>(
      'report',
      apiUrl(options, '/api/v1/incidents', { service: options.service, limit: '500' }),
      options,
    ),
  ]);
  for (const read of [reliability, delivery, incidents]) {
    if ('failure' in read) {
      io.err(read.failure);
      return EXIT.invalid;
    }
  }
  if (!('body' in reliability && 'body' in delivery && 'body' in incidents)) return EXIT.invalid;
  if (options.format === 'json') {
    io.out(
      JSON.stringify(
        { reliability: reliability.body, delivery: delivery.body, incidents: incidents.body.incidents },
        null,
        2,
      ),
    );
    return EXIT.ok;
  }
  const lines = reportLines(reliability.body, delivery.body.services);
  const rows = incidentRows(incidents.body.incidents);
  if (options.format === 'markdown') {
    const cell = (text: string) => text.replaceAll('|', '\\|');
    io.out(`## Reliability of ${options.service}\n`);
    io.out('| figure | value |\n|---|---|');
    for (const [label, value] of lines) io.out(`| ${label} | ${cell(value)} |`);
    io.out('\n### Incidents\n');
    io.out(`| ${rows[0]!.join(' | ')} |\n|${rows[0]!.map(() => '---|').join('')}`);
    for (const row of rows.slice(1)) io.out(`| ${row.map(cell).join(' | ')} |`);
    return EXIT.ok;
  }
  io.out(`Reliability of ${options.service}`);
  for (const line of columns(lines.map(([label, value]) => [`${label}:`, value]))) io.out(`  ${line}`);
  io.out('');
  for (const line of columns(rows)) io.out(line);
  return EXIT.ok;
}
