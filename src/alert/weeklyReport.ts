import { setImmediate as yieldTurn } from 'node:timers/promises';
import cron, { type ScheduledTask } from 'node-cron';
import type { WeeklyReportSettings } from '../config/weeklyReport.js';
import { percentText } from '../evaluate/numbers.js';
import type { ServiceIncident } from '../model/incident.js';
import type { SloStatus } from '../model/status.js';
import { type ChatMessage, humanDuration, type MessageField, noticeAlert, utc } from './message.js';
import type { AlertLog } from './outbox.js';

const WEEK_MS = 7 * 86_400_000;
/** Incidents listed per service; a bad week says how many more, the dashboard has them all. */
const MAX_INCIDENT_LINES = 5;

/** An incident of the week: the fields the report shows of the history's service incident. */
export type ReportIncident = Pick<
  ServiceIncident,
  'id' | 'startedAtMs' | 'resolvedAtMs' | 'severity' | 'budgetConsumed' | 'postmortemRequired'
>;

/** A service's week as the incident history gives it to the API, the CLI's report and this report. */
export interface ServiceFigures {
  reliability: {
    incidentCount: number;
    mttrSeconds: { fromDetection: number | null; fromStart: number | null };
  };
  /** One row per environment deployed to. */
  delivery: ReadonlyArray<{
    environment: string;
    deployments: number;
    failedDeployments: number;
    changeFailureRate: number | null;
  }>;
  incidents: readonly ReportIncident[];
}

/**
 * Where the report's numbers come from: the latest statuses, and the incident history's service report, the
 * function behind the API's reliability, delivery and incidents answers, so the report says what the API
 * says for the same week.
 */
export interface WeeklyReportSources {
  statuses: () => readonly SloStatus[];
  serviceReport: (service: string, fromMs: number, toMs: number, nowMs: number) => ServiceFigures;
}

/** One service's week, as the report lays it out. */
export interface ServiceWeek extends ServiceFigures {
  service: string;
  statuses: readonly SloStatus[];
}

/** One service's field: its SLOs' attainment and budget, the incidents with their time to restore, the deploys. */
function serviceText(week: ServiceWeek): string {
  const slos = week.statuses.map((status) => {
    const met = status.sli === null ? 'no data' : status.sli >= status.objective ? 'met' : 'missed';
    return (
      `${status.name}: ${percentText(status.sli, 3)} of ${percentText(status.objective, 3)} (${met}), ` +
      `budget ${percentText(status.budget.remainingRatio, 1)} left`
    );
  });
  const { mttrSeconds: mttr } = week.reliability;
  const restore = (seconds: number | null) => (seconds === null ? 'n/a' : humanDuration(seconds * 1000));
  const incidents = week.incidents.slice(0, MAX_INCIDENT_LINES).map((incident) => {
    const lasted =
      incident.resolvedAtMs === null
        ? 'still open'
        : `restored in ${restore((incident.resolvedAtMs - incident.startedAtMs) / 1000)}`;
    const postmortem = incident.postmortemRequired ? ', postmortem required' : '';
    return (
      `${incident.severity} at ${utc(incident.startedAtMs)}, ${lasted}, ` +
      `${percentText(incident.budgetConsumed, 1)} of the budget${postmortem}`
    );
  });
  const deploys = week.delivery.map(
    (row) =>
      `${row.deployments} deploys to ${row.environment || 'no environment'}, change failure rate ` +
      `${percentText(row.changeFailureRate, 1)} (${row.failedDeployments} failed)`,
  );
  return [
    ...slos,
    `Incidents: ${week.reliability.incidentCount}; MTTR ${restore(mttr.fromDetection)} from detection, ` +
      `${restore(mttr.fromStart)} from start`,
    ...incidents.map((line) => `- ${line}`),
    ...(week.incidents.length > MAX_INCIDENT_LINES
      ? [`- and ${week.incidents.length - MAX_INCIDENT_LINES} more`]
      : []),
    ...(deploys.length > 0 ? deploys : ['No deploys']),
  ].join('\n');
}

/** The weekly reliability report: per service, SLO attainment, budget left, incidents, deploys and failures. */
export function formatWeeklyReport(
  weeks: readonly ServiceWeek[],
  range: { fromMs: number; toMs: number },
  publicUrl: string,
): ChatMessage {
  const incidents = weeks.reduce((sum, week) => sum + week.reliability.incidentCount, 0);
  const deploys = weeks.reduce(
    (sum, week) => sum + week.delivery.reduce((rows, row) => rows + row.deployments, 0),
    0,
  );
  const missed = weeks.some((week) =>
    week.statuses.some((status) => status.sli !== null && status.sli < status.objective),
  );
  const title = 'Weekly reliability report';
  const text =
    `${weeks.length} services, ${incidents} incidents and ${deploys} deploys from ${utc(range.fromMs)} ` +
    `to ${utc(range.toMs)}.`;
  const fields: MessageField[] = weeks.map((week) => ({ label: week.service, value: serviceText(week) }));
  return {
    title,
    text,
    tone: missed || incidents > 0 ? 'warning' : 'info',
    fields,
    link: { label: 'Open incidents', url: `${publicUrl}/incidents?range=7d` },
    atMs: range.toMs,
    alerts: [noticeAlert('SLOWeeklyReport', title, text, fields, range.toMs)],
  };
}

export interface WeeklyReportParts {
  settings: WeeklyReportSettings;
  publicUrl: string;
  sources: WeeklyReportSources;
  /** Writes the message to the targets' outbox in one transaction; the alerting's sender delivers it. */
  announce: (targets: readonly string[], subject: string, message: ChatMessage, nowMs: number) => void;
  log: AlertLog;
}

/** The report job: node-cron on the configured day and time in its time zone, through the outbox. */
export class WeeklyReport {
  private task: ScheduledTask | undefined;
  /** Set by stop: a report under way writes nothing once the alerting (and the database) stops. */
  private stopped = false;

  constructor(private readonly parts: WeeklyReportParts) {}

  /**
   * The report of the week ending `nowMs`, one ServiceWeek per service with an SLO, by service name; a turn
   * of the event loop between services, so thousands of them never hold the gate's answers back.
   */
  async weeks(nowMs: number): Promise<ServiceWeek[]> {
    const { sources } = this.parts;
    const byService = new Map<string, SloStatus[]>();
    for (const status of sources.statuses()) {
      const list = byService.get(status.service) ?? [];
      list.push(status);
      byService.set(status.service, list);
    }
    const weeks: ServiceWeek[] = [];
    for (const service of [...byService.keys()].sort()) {
      if (this.stopped) break;
      weeks.push({
        service,
        statuses: byService.get(service) ?? [],
        ...sources.serviceReport(service, nowMs - WEEK_MS, nowMs, nowMs),
      });
      await yieldTurn();
    }
    return weeks;
  }

  /** Writes the report of the week ending `nowMs` to every report target. */
  async send(nowMs = Date.now()): Promise<void> {
    const range = { fromMs: nowMs - WEEK_MS, toMs: nowMs };
    const weeks = await this.weeks(nowMs);
    if (this.stopped) return;
    const message = formatWeeklyReport(weeks, range, this.parts.publicUrl);
    this.parts.announce(this.parts.settings.targets, 'weekly reliability report', message, nowMs);
  }

  start(): void {
    const { settings, log } = this.parts;
    this.stopped = false;
    this.task = cron.schedule(
      settings.cron,
      () =>
        this.send().catch((error: unknown) => {
          log.error({ err: error }, 'weekly report failed');
        }),
      { name: 'weekly-report', noOverlap: true, timezone: settings.timeZone },
    );
  }

  stop(): void {
    this.stopped = true;
    this.task?.stop();
    this.task = undefined;
  }
}
