import { existsSync, readFileSync } from 'node:fs';
import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import { parseDocument } from 'yaml';
import { AuthFile, type AuthSettings, isLoopback, resolveAuth } from './auth.js';
import { type CardinalityLimits, DEFAULT_CARDINALITY_LIMITS } from './cardinality.js';
import { CollectorFile, type CollectorRole, resolveCollectorRole } from './collector.js';
import { ControlFile, type ControlSettings, resolveControl } from './control.js';
import { parseDuration } from './duration.js';
import { DataFile, type EngineSettings, resolveEngine } from './engine.js';
import { type LinkSettings, LinksFile, resolveLinks } from './links.js';
import { type NotificationSettings, NotificationsFile, resolveNotifications } from './notifications.js';
import { pointerField } from './schemaErrors.js';
import { resolveScrapeTargets, ScrapeFile, type ScrapeSettings } from './scrape.js';
import { type CollectorSettings, CollectorsFile, resolveCollectors } from './tail.js';

/** Where a source's lines go when the request names no service. */
const SourceMapping = Type.Object(
  {
    service: Type.Optional(Type.String({ minLength: 1 })),
    hosts: Type.Optional(Type.Record(Type.String(), Type.String({ minLength: 1 }))),
  },
  { additionalProperties: false },
);

const ServiceSettings = Type.Object(
  { routes: Type.Optional(Type.Array(Type.String({ pattern: '^/' }))) },
  { additionalProperties: false },
);

/** The optional sloguard.yaml. Environment variables win over it. */
export const FileConfig = Type.Object(
  {
    host: Type.Optional(Type.String()),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    database: Type.Optional(Type.String()),
    definitions: Type.Optional(Type.String()),
    watchDefinitions: Type.Optional(Type.Boolean()),
    evaluationInterval: Type.Optional(Type.String()),
    minuteRetentionDays: Type.Optional(Type.Integer({ minimum: 1 })),
    hourRetentionDays: Type.Optional(Type.Integer({ minimum: 400, maximum: 36_500 })),
    maxClockSkew: Type.Optional(Type.String()),
    maxBodyBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
    maxQueuedObservations: Type.Optional(Type.Integer({ minimum: 1000 })),
    maxSeries: Type.Optional(Type.Integer({ minimum: 100 })),
    maxSeriesPerService: Type.Optional(Type.Integer({ minimum: 10 })),
    maxServices: Type.Optional(Type.Integer({ minimum: 1 })),
    gateMaxEnvironments: Type.Optional(Type.Integer({ minimum: 1 })),
    gateScopeRetentionDays: Type.Optional(Type.Integer({ minimum: 1 })),
    gateDecisionRetentionDays: Type.Optional(Type.Integer({ minimum: 1 })),
    gateMaxDecisions: Type.Optional(Type.Integer({ minimum: 1000 })),
    deploymentRetentionDays: Type.Optional(Type.Integer({ minimum: 1 })),
    maxDeployments: Type.Optional(Type.Integer({ minimum: 1000 })),
    logLevel: Type.Optional(Type.String()),
    tracingUrl: Type.Optional(Type.String()),
    otelMetricsUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    otlpPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    sources: Type.Optional(Type.Record(Type.String(), SourceMapping)),
    collectors: Type.Optional(CollectorsFile),
    collector: Type.Optional(CollectorFile),
    scrape: Type.Optional(ScrapeFile),
    services: Type.Optional(Type.Record(Type.String(), ServiceSettings)),
    publicUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    notifications: Type.Optional(NotificationsFile),
    links: Type.Optional(LinksFile),
    data: Type.Optional(DataFile),
    control: Type.Optional(ControlFile),
    auth: Type.Optional(AuthFile),
    rateLimits: Type.Optional(
      Type.Object(
        {
          gatePerMinute: Type.Optional(Type.Integer({ minimum: 0 })),
          ingestPerMinute: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
type FileConfig = Static<typeof FileConfig>;

export interface SourceSettings {
  service?: string;
  hosts?: Record<string, string>;
}

export interface Config {
  host: string;
  port: number;
  databasePath: string;
  definitionsPath: string;
  /** Reload when a file under the definitions folder changes (SIGHUP and `POST /-/reload` always work). */
  watchDefinitions: boolean;
  /** Evaluation tick in milliseconds; divides a minute or an hour so ticks land on round times. */
  evaluationIntervalMs: number;
  minuteRetentionDays: number;
  hourRetentionDays: number;
  /** How far ahead of this server's clock an incoming time may lie (senders' clocks drift a little). */
  maxClockSkewMs: number;
  maxBodyBytes: number;
  maxQueuedObservations: number;
  /** Caps on the series request data can create (docs/security.md#cardinality). */
  cardinality: CardinalityLimits;
  /** Retention and caps of the gate's state (docs/storage.md). */
  gateRetention: GateRetention;
  logLevel: string;
  /** Self-tracing: a Zipkin `/api/v2/spans` URL, or `self` for this service's own; absent means off. */
  tracingUrl?: string;
  /** Bearer token the span exporter sends (SLOGUARD_TRACING_TOKEN only: secrets stay out of files). */
  tracingToken?: string;
  /** Tests: every JSON answer is checked against its route's response schema (SLOGUARD_CHECK_RESPONSES=1). */
  checkResponses?: boolean;
  /** OTLP/HTTP metrics endpoint (`http://collector:4318/v1/metrics`) the SLO figures are pushed to; absent means off. */
  otelMetricsUrl?: string;
  /** A second listener, on SLOGUARD_HOST, for the OTLP/HTTP routes alone (OTLP's usual 4318); off when absent. */
  otlpPort?: number;
  sources: Record<string, SourceSettings>;
  /** Access-log files to tail. */
  collectors: CollectorSettings[];
  /** Load-balancer Prometheus endpoints to scrape. */
  scrapeTargets: ScrapeSettings[];
  /** Set: this process is a collector that remote-writes counters to an engine (docs/scaling.md). */
  collector?: CollectorRole;
  /** Route templates per service, tried before automatic id normalisation. */
  routeTemplates: Record<string, string[]>;
  /** Where people reach the dashboard; alert links point here (`<publicUrl>/slo/<name>`). */
  publicUrl: string;
  notifications: NotificationSettings;
  /** Links from SLOs to their traces and logs (docs/dashboard.md#links-to-traces-and-logs). */
  links: LinkSettings;
  /** Native SLO data in an engine written by collectors (`data.engine`); absent: sloguard's own store. */
  engine?: EngineSettings;
  /** Replicas sharing a PostgreSQL (`control.postgres`); absent: one process with its state in SQLite. */
  control?: ControlSettings;
  auth: AuthSettings;
  /** Requests per minute per token (or per client address when open); 0 turns a limit off. */
  rateLimits: { gatePerMinute: number; ingestPerMinute: number };
}

export interface GateRetention {
  /** Environments remembered per service (freeze scopes). */
  maxEnvironments: number;
  /** Days an open scope is remembered unchanged. */
  scopeRetentionDays: number;
  decisionRetentionDays: number;
  maxDecisions: number;
  deploymentRetentionDays: number;
  maxDeployments: number;
}

export class ConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

/**
 * Days of per-minute buckets. Long windows read hour rollups and slices are kept as they close, so minutes serve
 * window edges, recent slices and charts: 1 day keeps windows up to a day exact to the minute (the 3d burn-rate
 * window starts at its oldest hour) and 28 days of 1,000 series with latency under 200 MB; a day more of 1,000
 * busy series with latency is about 66 MB (docs/storage.md).
 */
export const DEFAULT_MINUTE_RETENTION_DAYS = 1;

/** Every environment variable the service reads, with its file key and default (docs/configuration.md lists them). */
export const ENVIRONMENT = {
  SLOGUARD_HOST: { key: 'host', default: '127.0.0.1' },
  SLOGUARD_PORT: { key: 'port', default: '9411' },
  SLOGUARD_DATABASE: { key: 'database', default: './data/sloguard.db' },
  SLOGUARD_DEFINITIONS: { key: 'definitions', default: './slo-definitions' },
  SLOGUARD_WATCH_DEFINITIONS: { key: 'watchDefinitions', default: 'true' },
  SLOGUARD_EVALUATION_INTERVAL: { key: 'evaluationInterval', default: '1m' },
  SLOGUARD_MINUTE_RETENTION_DAYS: {
    key: 'minuteRetentionDays',
    default: String(DEFAULT_MINUTE_RETENTION_DAYS),
  },
  SLOGUARD_HOUR_RETENTION_DAYS: { key: 'hourRetentionDays', default: '400' },
  SLOGUARD_MAX_CLOCK_SKEW: { key: 'maxClockSkew', default: '5m' },
  SLOGUARD_MAX_BODY_BYTES: { key: 'maxBodyBytes', default: String(16 * 1024 * 1024) },
  SLOGUARD_MAX_QUEUED_OBSERVATIONS: { key: 'maxQueuedObservations', default: '2000000' },
  SLOGUARD_MAX_SERIES: { key: 'maxSeries', default: String(DEFAULT_CARDINALITY_LIMITS.maxSeries) },
  SLOGUARD_MAX_SERIES_PER_SERVICE: {
    key: 'maxSeriesPerService',
    default: String(DEFAULT_CARDINALITY_LIMITS.maxSeriesPerService),
  },
  SLOGUARD_MAX_SERVICES: { key: 'maxServices', default: String(DEFAULT_CARDINALITY_LIMITS.maxServices) },
  SLOGUARD_GATE_MAX_ENVIRONMENTS: { key: 'gateMaxEnvironments', default: '50' },
  SLOGUARD_GATE_SCOPE_RETENTION_DAYS: { key: 'gateScopeRetentionDays', default: '30' },
  SLOGUARD_GATE_DECISION_RETENTION_DAYS: { key: 'gateDecisionRetentionDays', default: '400' },
  SLOGUARD_GATE_MAX_DECISIONS: { key: 'gateMaxDecisions', default: '1000000' },
  SLOGUARD_DEPLOYMENT_RETENTION_DAYS: { key: 'deploymentRetentionDays', default: '400' },
  SLOGUARD_MAX_DEPLOYMENTS: { key: 'maxDeployments', default: '100000' },
  SLOGUARD_LOG_LEVEL: { key: 'logLevel', default: 'info' },
  SLOGUARD_TRACING_URL: { key: 'tracingUrl', default: '' },
  SLOGUARD_OTEL_METRICS_URL: { key: 'otelMetricsUrl', default: '' },
  SLOGUARD_OTLP_PORT: { key: 'otlpPort', default: '' },
  SLOGUARD_PUBLIC_URL: { key: 'publicUrl', default: '' },
} as const;

type EnvName = keyof typeof ENVIRONMENT;

function readFileConfig(path: string): FileConfig {
  const document = parseDocument(readFileSync(path, 'utf8'), { customTags: [] });
  if (document.errors.length > 0) throw new ConfigError(path, document.errors[0]!.message);
  const value: unknown = document.toJS() ?? {};
  const firstError = Value.Errors(FileConfig, value)[0];
  if (firstError) {
    const field = pointerField(firstError.instancePath) || '(top level)';
    const extra =
      'additionalProperties' in firstError.params
        ? ` (${String(firstError.params.additionalProperties)})`
        : '';
    throw new ConfigError(`${path}: ${field}`, `${firstError.message}${extra}`);
  }
  return value as FileConfig;
}

function integer(name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

function flag(name: string, text: string): boolean {
  if (text === 'true' || text === 'false') return text === 'true';
  throw new ConfigError(name, `expected true or false, got "${text}"`);
}

function evaluationInterval(name: string, text: string): number {
  const ms = parseDuration(text);
  const valid =
    ms !== undefined &&
    ms % 1000 === 0 &&
    ((ms < 60_000 && 60_000 % ms === 0) || (ms >= 60_000 && ms % 60_000 === 0 && 3_600_000 % ms === 0));
  if (!valid) {
    throw new ConfigError(
      name,
      `expected a duration that divides a minute or an hour (5s, 30s, 1m, 5m), got "${text}"`,
    );
  }
  return ms;
}

/** Up to an hour: more would let a sender stamp traffic far enough ahead to lie in wait for the budget. */
export const MAX_CLOCK_SKEW_LIMIT_MS = 3_600_000;

function clockSkew(name: string, text: string): number {
  const ms = text === '0s' ? 0 : parseDuration(text);
  if (ms === undefined || ms > MAX_CLOCK_SKEW_LIMIT_MS) {
    throw new ConfigError(name, `expected a duration from 0s to 1h (e.g. 5m), got "${text}"`);
  }
  return ms;
}

function tracingUrl(text: string): { tracingUrl?: string } {
  if (text === '') return {};
  if (text !== 'self' && !/^https?:\/\/[^/]/.test(text)) {
    throw new ConfigError('SLOGUARD_TRACING_URL', `expected an http(s) URL or "self", got "${text}"`);
  }
  return { tracingUrl: text };
}

function otelMetricsUrl(text: string): { otelMetricsUrl?: string } {
  if (text === '') return {};
  if (!/^https?:\/\/[^/]/.test(text))
    throw new ConfigError(
      'SLOGUARD_OTEL_METRICS_URL',
      `expected an OTLP/HTTP URL like http://127.0.0.1:4318/v1/metrics, got "${text}"`,
    );
  return { otelMetricsUrl: text };
}

function collectorRole(file: FileConfig, env: NodeJS.ProcessEnv, databasePath: string) {
  const role = resolveCollectorRole(file.collector, env, databasePath, (field, message) => {
    throw new ConfigError(field, message);
  });
  return role && { collector: role };
}

const withEngine = (engine: EngineSettings | undefined) => (engine ? { engine } : {});
const withControl = (control: ControlSettings | undefined) => (control ? { control } : {});

/**
 * Reads the configuration once at start: sloguard.yaml (SLOGUARD_CONFIG, or ./sloguard.yaml when present),
 * then SLOGUARD_* variables over it. Throws ConfigError naming the bad field.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const configPath = env.SLOGUARD_CONFIG ?? (existsSync('sloguard.yaml') ? 'sloguard.yaml' : undefined);
  if (env.SLOGUARD_CONFIG && !existsSync(env.SLOGUARD_CONFIG)) {
    throw new ConfigError('SLOGUARD_CONFIG', `no such file: ${env.SLOGUARD_CONFIG}`);
  }
  const file = configPath ? readFileConfig(configPath) : {};
  const setting = (name: EnvName): string => {
    const { key, default: fallback } = ENVIRONMENT[name];
    const fromFile = (file as Record<string, unknown>)[key];
    return env[name] ?? (fromFile === undefined ? fallback : String(fromFile));
  };
  const routeTemplates: Record<string, string[]> = {};
  for (const [service, settings] of Object.entries(file.services ?? {}))
    routeTemplates[service] = settings.routes ?? [];
  const auth = resolveAuth(file.auth ?? {}, env, (field, message) => {
    throw new ConfigError(field, message);
  });
  if (auth.tokens.length === 0 && !isLoopback(setting('SLOGUARD_HOST'))) {
    throw new ConfigError(
      'SLOGUARD_HOST',
      `refusing to listen on ${setting('SLOGUARD_HOST')} without auth tokens: configure auth.tokens in sloguard.yaml or listen on 127.0.0.1`,
    );
  }
  return {
    host: setting('SLOGUARD_HOST'),
    port: integer('SLOGUARD_PORT', setting('SLOGUARD_PORT'), 0, 65535),
    databasePath: setting('SLOGUARD_DATABASE'),
    definitionsPath: setting('SLOGUARD_DEFINITIONS'),
    watchDefinitions: flag('SLOGUARD_WATCH_DEFINITIONS', setting('SLOGUARD_WATCH_DEFINITIONS')),
    evaluationIntervalMs: evaluationInterval(
      'SLOGUARD_EVALUATION_INTERVAL',
      setting('SLOGUARD_EVALUATION_INTERVAL'),
    ),
    minuteRetentionDays: integer(
      'SLOGUARD_MINUTE_RETENTION_DAYS',
      setting('SLOGUARD_MINUTE_RETENTION_DAYS'),
      1,
    ),
    // At most a century: the retention is also how far back an incoming time may lie, in safe integer ms.
    hourRetentionDays: integer(
      'SLOGUARD_HOUR_RETENTION_DAYS',
      setting('SLOGUARD_HOUR_RETENTION_DAYS'),
      400,
      36_500,
    ),
    maxClockSkewMs: clockSkew('SLOGUARD_MAX_CLOCK_SKEW', setting('SLOGUARD_MAX_CLOCK_SKEW')),
    maxBodyBytes: integer('SLOGUARD_MAX_BODY_BYTES', setting('SLOGUARD_MAX_BODY_BYTES'), 1024),
    maxQueuedObservations: integer(
      'SLOGUARD_MAX_QUEUED_OBSERVATIONS',
      setting('SLOGUARD_MAX_QUEUED_OBSERVATIONS'),
      1000,
    ),
    cardinality: {
      maxSeries: integer('SLOGUARD_MAX_SERIES', setting('SLOGUARD_MAX_SERIES'), 100),
      maxSeriesPerService: integer(
        'SLOGUARD_MAX_SERIES_PER_SERVICE',
        setting('SLOGUARD_MAX_SERIES_PER_SERVICE'),
        10,
      ),
      maxServices: integer('SLOGUARD_MAX_SERVICES', setting('SLOGUARD_MAX_SERVICES'), 1),
    },
    gateRetention: {
      maxEnvironments: integer(
        'SLOGUARD_GATE_MAX_ENVIRONMENTS',
        setting('SLOGUARD_GATE_MAX_ENVIRONMENTS'),
        1,
      ),
      scopeRetentionDays: integer(
        'SLOGUARD_GATE_SCOPE_RETENTION_DAYS',
        setting('SLOGUARD_GATE_SCOPE_RETENTION_DAYS'),
        1,
      ),
      decisionRetentionDays: integer(
        'SLOGUARD_GATE_DECISION_RETENTION_DAYS',
        setting('SLOGUARD_GATE_DECISION_RETENTION_DAYS'),
        1,
      ),
      maxDecisions: integer('SLOGUARD_GATE_MAX_DECISIONS', setting('SLOGUARD_GATE_MAX_DECISIONS'), 1000),
      deploymentRetentionDays: integer(
        'SLOGUARD_DEPLOYMENT_RETENTION_DAYS',
        setting('SLOGUARD_DEPLOYMENT_RETENTION_DAYS'),
        1,
      ),
      maxDeployments: integer('SLOGUARD_MAX_DEPLOYMENTS', setting('SLOGUARD_MAX_DEPLOYMENTS'), 1000),
    },
    logLevel: setting('SLOGUARD_LOG_LEVEL'),
    ...tracingUrl(setting('SLOGUARD_TRACING_URL')),
    ...otelMetricsUrl(setting('SLOGUARD_OTEL_METRICS_URL')),
    ...(setting('SLOGUARD_OTLP_PORT') !== '' && {
      otlpPort: integer('SLOGUARD_OTLP_PORT', setting('SLOGUARD_OTLP_PORT'), 0, 65535),
    }),
    ...(env.SLOGUARD_TRACING_TOKEN && { tracingToken: env.SLOGUARD_TRACING_TOKEN }),
    ...(env.SLOGUARD_CHECK_RESPONSES === '1' && { checkResponses: true }),
    // Looked up by the `source` a request names: without a prototype, `constructor` names no source.
    sources: Object.assign(Object.create(null), file.sources),
    collectors: resolveCollectors(file.collectors, (field, message) => {
      throw new ConfigError(field, message);
    }),
    scrapeTargets: resolveScrapeTargets(file.scrape, (field, message) => {
      throw new ConfigError(field, message);
    }),
    ...collectorRole(file, env, setting('SLOGUARD_DATABASE')),
    routeTemplates,
    publicUrl: (
      setting('SLOGUARD_PUBLIC_URL') || `http://${setting('SLOGUARD_HOST')}:${setting('SLOGUARD_PORT')}`
    ).replace(/\/+$/, ''),
    auth,
    rateLimits: { gatePerMinute: 1_200, ingestPerMinute: 60_000, ...file.rateLimits },
    notifications: resolveNotifications(file.notifications ?? {}, env, (field, message) => {
      throw new ConfigError(field, message);
    }),
    links: resolveLinks(file.links, (field, message) => {
      throw new ConfigError(field, message);
    }),
    ...withEngine(
      resolveEngine(file.data, (field, message) => {
        throw new ConfigError(field, message);
      }),
    ),
    ...withControl(
      resolveControl(file.control, env, (field, message) => {
        throw new ConfigError(field, message);
      }),
    ),
  };
}

/**
 * The settings a reload applies (SIGHUP, `POST /-/reload`): where alerts go, which files are tailed and which
 * endpoints scraped, and how paths become routes. The others (address, database, intervals, limits, auth) are
 * read at start only.
 */
export const RELOADABLE_SETTINGS = [
  'notifications',
  'collectors',
  'scrapeTargets',
  'routeTemplates',
  'sources',
] as const satisfies ReadonlyArray<keyof Config>;

export type ReloadableSettings = Pick<Config, (typeof RELOADABLE_SETTINGS)[number]>;

export function reloadableSettings(config: ReloadableSettings): ReloadableSettings {
  const { notifications, collectors, scrapeTargets, routeTemplates, sources } = config;
  return { notifications, collectors, scrapeTargets, routeTemplates, sources };
}

/** Settings that differ between two configs but only take effect at a restart: a reload warns about them. */
export function settingsNeedingRestart(running: Config, next: Config): string[] {
  const reloadable = new Set<string>(RELOADABLE_SETTINGS);
  const keys = new Set([...Object.keys(running), ...Object.keys(next)]) as Set<keyof Config>;
  return [...keys].filter(
    (key) => !reloadable.has(key) && JSON.stringify(running[key]) !== JSON.stringify(next[key]),
  );
}
