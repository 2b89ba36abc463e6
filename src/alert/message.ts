import { formatDuration } from '../config/duration.js';
import { burnRateText, percentText } from '../evaluate/numbers.js';
import type { AlertLevel } from '../model/alert.js';
import type { SloStatus } from '../model/status.js';
import { type AlertEvent, severityOf } from './state.js';

/** Colour of a message, mapped by each chat kind onto what it can show. */
export type Tone = 'critical' | 'warning' | 'resolved' | 'info';

export const TONE_HEX: Record<Tone, string> = {
  critical: '#D92D20',
  warning: '#F79009',
  resolved: '#12B76A',
  info: '#2E90FA',
};

export interface MessageField {
  label: string;
  value: string;
}

/** One alert as Alertmanager models it: the identity is the label set. */
export interface MessageAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAtMs: number;
  /** Firing: when Alertmanager should consider it resolved if not told again. */
  endsAtMs: number;
}

/**
 * What to say, once, for every chat kind: the payload builders only lay it out. `alerts` is the same in
 * Alertmanager's terms (reports and notices become one `severity: info` alert that lapses by itself).
 */
export interface ChatMessage {
  title: string;
  text: string;
  tone: Tone;
  fields: MessageField[];
  link?: { label: string; url: string };
  /** Messages of one alert episode share it, so chats that thread keep them together. */
  threadKey?: string;
  atMs: number;
  alerts: MessageAlert[];
}

/** The release that went out last before an episode began. */
export interface DeploymentNote {
  version: string;
  environment: string;
  deployedAtMs: number;
}

export interface AlertContext {
  publicUrl: string;
  /** The SLO's own labels (team, tier): carried to Alertmanager for routing. */
  labels: Record<string, string>;
  deployment?: DeploymentNote;
  repeatIntervalMs: number;
  /** Where to act and who owns the SLO (its own, else its service's): every alert message names them. */
  runbook?: string;
  owner?: string;
}

/** `2026-11-23 09:50 UTC`: times in messages, read the same in every chat. */
export const utc = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** Durations as people read them: whole minutes past one minute (`3h20m`), seconds below. */
export function humanDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  return formatDuration(Math.round(ms / 60_000) * 60_000);
}

export const dashboardUrl = (publicUrl: string, slo: string) => `${publicUrl}/slo/${encodeURIComponent(slo)}`;

const HEADLINE: Record<Exclude<AlertLevel, 'ok'>, string> = {
  critical: 'error budget burning fast',
  warning: 'error budget burning',
  exhausted: 'error budget exhausted',
  'no-data': 'no data',
};

/** The firing tiers' windows and rates, e.g. `1h 20.00× and 5m 18.30× (page above 14×)`. */
function firingWindows(status: SloStatus): string {
  const firing = status.alerts.filter((tier) => tier.state === 'firing');
  if (firing.length === 0) return `none firing (1h ${burnRateText(status.burnRates['1h'])})`;
  return firing
    .map(
      (tier) =>
        `${tier.longWindow} ${burnRateText(tier.longBurnRate)} and ${tier.shortWindow} ${burnRateText(tier.shortBurnRate)} ` +
        `(${tier.severity} above ${tier.factor}×)`,
    )
    .join('; ');
}

/** `, gone in 20h10m at this rate`, or nothing when it is already gone or not going. */
function exhaustionClause(status: SloStatus): string {
  const seconds = status.timeToExhaustionSeconds;
  return seconds === null || seconds <= 0 ? '' : `, gone in ${humanDuration(seconds * 1000)} at this rate`;
}

function exhaustion(status: SloStatus): string {
  if (status.budget.remainingRatio !== null && status.budget.remainingRatio <= 0) return 'already exhausted';
  return status.timeToExhaustionSeconds === null
    ? 'not at the current rate'
    : humanDuration(status.timeToExhaustionSeconds * 1000);
}

function statusFields(status: SloStatus): MessageField[] {
  return [
    { label: 'SLO', value: status.name },
    { label: 'Service', value: status.service },
    { label: 'SLI', value: `${percentText(status.sli, 3)} (objective ${percentText(status.objective, 3)})` },
    { label: 'Budget remaining', value: percentText(status.budget.remainingRatio, 1) },
    { label: 'Burn rates', value: firingWindows(status) },
    { label: 'Time to exhaustion', value: exhaustion(status) },
  ];
}

/** Alertmanager's view of one level of one SLO's alert. */
function alertOf(
  event: AlertEvent,
  level: Exclude<AlertLevel, 'ok'>,
  context: AlertContext,
  summary: string,
  description: string,
  resolved: boolean,
): MessageAlert {
  return {
    status: resolved ? 'resolved' : 'firing',
    labels: {
      ...context.labels,
      alertname: 'SLOErrorBudget',
      slo: event.status.name,
      service: event.status.service,
      severity: severityOf(level),
      condition: level,
    },
    annotations: {
      summary,
      description,
      dashboard: dashboardUrl(context.publicUrl, event.status.name),
      // Alertmanager's templates and Grafana know `runbook_url`.
      ...(context.runbook && { runbook_url: context.runbook }),
      ...(context.owner && { owner: context.owner }),
    },
    startsAtMs: event.episode.startedAtMs,
    // A firing alert lapses in Alertmanager unless repeated; our repeat renews it well before then.
    endsAtMs: resolved ? event.atMs : event.atMs + 2 * context.repeatIntervalMs,
  };
}

/** The message for one alert event: firing, escalated, repeated or resolved. */
export function formatAlert(event: AlertEvent, context: AlertContext): ChatMessage {
  const { status } = event;
  const resolved = event.kind === 'resolved';
  // An open episode never announces ok; a resolve closes the level that was announced.
  const announced = (resolved ? event.previousLevel : event.level) as Exclude<AlertLevel, 'ok'>;
  const tag = resolved ? 'RESOLVED' : severityOf(announced).toUpperCase();
  const suffix =
    event.kind === 'escalated'
      ? ` (escalated from ${event.previousLevel})`
      : event.kind === 'repeat'
        ? ' (still firing)'
        : '';
  const title = resolved
    ? `[RESOLVED] ${status.name}: ${event.removed ? 'no longer defined' : 'back within its objective'}`
    : `[${tag}] ${status.name}: ${HEADLINE[announced]}${suffix}`;
  const fields = statusFields(status);
  fields.splice(2, 0, {
    label: 'State',
    value: resolved ? 'resolved' : `${announced} (${tag.toLowerCase()})`,
  });
  let text: string;
  if (resolved) {
    const lasted = humanDuration(event.durationMs ?? 0);
    const spent = percentText(event.budgetSpent ?? null, 1);
    const why = event.removed ? ' (the SLO was removed from the definitions)' : '';
    text = `${status.name} (${status.service}) resolved after ${lasted}${why}; the episode spent ${spent} of the error budget.`;
    fields.push({ label: 'Duration', value: lasted }, { label: 'Budget spent', value: spent });
  } else {
    text =
      `${status.name} (${status.service}): ${HEADLINE[announced]}. SLI ${percentText(status.sli, 3)} against ` +
      `${percentText(status.objective, 3)}; ${percentText(status.budget.remainingRatio, 1)} of the error budget ` +
      `left${exhaustionClause(status)}.`;
  }
  if (context.deployment) {
    const { version, environment, deployedAtMs } = context.deployment;
    fields.push({
      label: 'Last deployment',
      value: `${version}${environment ? ` to ${environment}` : ''} at ${utc(deployedAtMs)}`,
    });
  }
  if (context.runbook) fields.push({ label: 'Runbook', value: context.runbook });
  if (context.owner) fields.push({ label: 'Owner', value: context.owner });
  const alerts: MessageAlert[] = [];
  const previous = event.previousLevel;
  if (!resolved && previous !== 'ok' && previous !== announced) {
    alerts.push(alertOf(event, previous, context, title, text, true));
  }
  alerts.push(alertOf(event, announced, context, title, text, resolved));
  return {
    title,
    text,
    tone: resolved ? 'resolved' : announced === 'critical' ? 'critical' : 'warning',
    fields,
    link: { label: 'Open dashboard', url: dashboardUrl(context.publicUrl, status.name) },
    threadKey: event.episode.id,
    atMs: event.atMs,
    alerts,
  };
}

/** How long an informational alert (report, notice) stays up in Alertmanager. */
const NOTICE_TTL_MS = 5 * 60_000;

export function noticeAlert(
  alertname: string,
  title: string,
  text: string,
  fields: MessageField[],
  atMs: number,
) {
  return {
    status: 'firing' as const,
    labels: { alertname, severity: 'info' },
    annotations: {
      summary: title,
      description: [text, ...fields.map((field) => `${field.label}: ${field.value}`)].join('\n'),
    },
    startsAtMs: atMs,
    endsAtMs: atMs + NOTICE_TTL_MS,
  };
}

/** Which way a budget is going: the last day's burn against the last three days'. */
function trend(status: SloStatus): string {
  const day = status.burnRates['1d'] ?? null;
  const threeDays = status.burnRates['3d'] ?? null;
  if (day === null || threeDays === null) return 'no trend yet';
  if (day > threeDays * 1.1) return 'burning faster';
  if (day < threeDays * 0.9) return 'improving';
  return 'steady';
}

/** The daily or weekly report: every SLO's budget and where it is heading. */
export function formatDigest(
  label: string,
  statuses: readonly SloStatus[],
  publicUrl: string,
  atMs: number,
): ChatMessage {
  const unhealthy = statuses.filter((status) => status.state !== 'ok').length;
  const title = `${label} SLO report`;
  const text = `${statuses.length} SLOs, ${unhealthy} not ok, as of ${utc(atMs)}.`;
  const fields = statuses.map((status) => ({
    label: `${status.name} (${status.service})`,
    value:
      `${status.state}; SLI ${percentText(status.sli, 3)} of ${percentText(status.objective, 3)}; ` +
      `budget ${percentText(status.budget.remainingRatio, 1)} left; burn 1d ${burnRateText(status.burnRates['1d'])}, ` +
      `3d ${burnRateText(status.burnRates['3d'])}: ${trend(status)}`,
  }));
  return {
    title,
    text,
    tone: unhealthy > 0 ? 'warning' : 'info',
    fields,
    link: { label: 'Open dashboard', url: `${publicUrl}/` },
    atMs,
    alerts: [noticeAlert('SLOReport', title, text, fields, atMs)],
  };
}

/** A plain notice: a gate override was created, a test message. */
export function formatNotice(
  alertname: string,
  title: string,
  text: string,
  fields: MessageField[],
  publicUrl: string,
  atMs: number,
): ChatMessage {
  return {
    title,
    text,
    tone: 'info',
    fields,
    link: { label: 'Open sloguard', url: `${publicUrl}/` },
    atMs,
    alerts: [noticeAlert(alertname, title, text, fields, atMs)],
  };
}
