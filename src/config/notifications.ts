import cron from 'node-cron';
import Type, { type Static } from 'typebox';
import { parseDuration } from './duration.js';
import { resolveWeeklyReport, WeeklyReportFile, type WeeklyReportSettings } from './weeklyReport.js';

export const TARGET_KINDS = ['slack', 'teams', 'googlechat', 'discord', 'webhook', 'alertmanager'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

const Target = Type.Object(
  {
    kind: Type.Unsafe<TargetKind>(Type.Union(TARGET_KINDS.map((kind) => Type.Literal(kind)))),
    /** The webhook URL (Alertmanager: its base URL). A secret for chat kinds: prefer urlEnv. */
    url: Type.Optional(Type.String({ pattern: '^https?://' })),
    /** Name of an environment variable holding the URL, so the secret stays out of the file. */
    urlEnv: Type.Optional(Type.String({ minLength: 1 })),
    /** daily (09:00), weekly (Monday 09:00), or a cron expression. */
    digest: Type.Optional(Type.String({ minLength: 1 })),
    timeZone: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

const Route = Type.Object(
  {
    slo: Type.Optional(Type.String({ minLength: 1 })),
    service: Type.Optional(Type.String({ minLength: 1 })),
    targets: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  },
  { additionalProperties: false },
);

/** The `notifications` block of sloguard.yaml. */
export const NotificationsFile = Type.Object(
  {
    repeatInterval: Type.Optional(Type.String()),
    giveUpAfter: Type.Optional(Type.String()),
    retryBackoff: Type.Optional(Type.String()),
    maxRetryBackoff: Type.Optional(Type.String()),
    targets: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), Target)),
    routes: Type.Optional(Type.Array(Route)),
    weeklyReport: Type.Optional(WeeklyReportFile),
  },
  { additionalProperties: false },
);
export type NotificationsFile = Static<typeof NotificationsFile>;

export interface NotificationTarget {
  name: string;
  kind: TargetKind;
  url: string;
  digest?: { cron: string; label: 'Daily' | 'Weekly' | 'Scheduled'; timeZone?: string };
}

export interface NotificationRoute {
  slo?: string;
  service?: string;
  targets: string[];
}

export interface NotificationSettings {
  /** A still-firing alert is announced again after this long (Alertmanager's repeat_interval). */
  repeatIntervalMs: number;
  /** A message not delivered after this long is dropped, logged and counted. */
  giveUpAfterMs: number;
  retryBackoffMs: number;
  maxRetryBackoffMs: number;
  targets: Map<string, NotificationTarget>;
  /** Empty: every target hears about every SLO. */
  routes: NotificationRoute[];
  /** The weekly reliability report; off when absent. */
  weeklyReport?: WeeklyReportSettings;
}

const DIGESTS = {
  daily: { cron: '0 9 * * *', label: 'Daily' },
  weekly: { cron: '0 9 * * 1', label: 'Weekly' },
} as const;

/**
 * Checks the block beyond its schema (durations, URLs from the environment, route target names) and
 * resolves it. `fail(field, message)` throws the caller's ConfigError; a URL is never put in a message.
 */
export function resolveNotifications(
  file: NotificationsFile,
  env: NodeJS.ProcessEnv,
  fail: (field: string, message: string) => never,
): NotificationSettings {
  const duration = (field: string, text: string | undefined, fallback: string): number =>
    parseDuration(text ?? fallback) ??
    fail(`notifications.${field}`, `expected a duration like 4h, got "${text}"`);
  const targets = new Map<string, NotificationTarget>();
  for (const [name, target] of Object.entries(file.targets ?? {})) {
    const field = `notifications.targets.${name}`;
    if ((target.url === undefined) === (target.urlEnv === undefined))
      fail(field, 'give exactly one of url, urlEnv');
    const url = target.url ?? env[target.urlEnv!];
    if (!url || !/^https?:\/\//.test(url))
      fail(`${field}.urlEnv`, `${target.urlEnv} must hold an http(s) URL`);
    const digest = target.digest
      ? { ...(DIGESTS[target.digest as keyof typeof DIGESTS] ?? { cron: target.digest, label: 'Scheduled' }) }
      : undefined;
    if (digest && !cron.validate(digest.cron))
      fail(`${field}.digest`, `expected daily, weekly or a cron expression, got "${target.digest}"`);
    targets.set(name, {
      name,
      kind: target.kind,
      url,
      ...(digest && { digest: { ...digest, ...(target.timeZone && { timeZone: target.timeZone }) } }),
    });
  }
  const routes = file.routes ?? [];
  routes.forEach((route, index) => {
    for (const name of route.targets)
      if (!targets.has(name)) fail(`notifications.routes.${index}.targets`, `no target named "${name}"`);
  });
  return {
    repeatIntervalMs: duration('repeatInterval', file.repeatInterval, '4h'),
    giveUpAfterMs: duration('giveUpAfter', file.giveUpAfter, '24h'),
    retryBackoffMs: duration('retryBackoff', file.retryBackoff, '5s'),
    maxRetryBackoffMs: duration('maxRetryBackoff', file.maxRetryBackoff, '10m'),
    targets,
    routes,
    ...(file.weeklyReport && {
      weeklyReport: resolveWeeklyReport(file.weeklyReport, [...targets.keys()], fail),
    }),
  };
}
