import Type, { type Static } from 'typebox';
import { parseDuration } from '../config/duration.js';
import type { PrometheusDataSource, PromQlIndicator } from '../model/promql.js';

/** The placeholder a query uses for its window, spelled as Sloth spells it. */
export const WINDOW_PLACEHOLDER = '{{.window}}';

/** How to reach a Prometheus-compatible engine. Secrets come from environment variables, never the file. */
export const DataSourceSpec = Type.Object(
  {
    type: Type.Union([Type.Literal('prometheus'), Type.Literal('Prometheus')]),
    url: Type.String({ pattern: '^https?://' }),
    timeout: Type.Optional(Type.String()),
    auth: Type.Optional(
      Type.Object(
        {
          bearerTokenEnv: Type.Optional(Type.String({ minLength: 1 })),
          basic: Type.Optional(
            Type.Object(
              { username: Type.String(), passwordEnv: Type.String({ minLength: 1 }) },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type DataSourceSpec = Static<typeof DataSourceSpec>;

/** `apiVersion: sloguard/v1`, `kind: DataSource`. */
export const NativeDataSource = Type.Object(
  {
    apiVersion: Type.Literal('sloguard/v1'),
    kind: Type.Literal('DataSource'),
    metadata: Type.Object({ name: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    spec: DataSourceSpec,
  },
  { additionalProperties: false },
);
export type NativeDataSource = Static<typeof NativeDataSource>;

/** `spec.indicator.prometheus` of a native SLO: PromQL for good or bad events, and for all of them. */
export const PromQlQueries = Type.Object(
  {
    dataSource: Type.Optional(Type.String({ minLength: 1 })),
    url: Type.Optional(Type.String({ pattern: '^https?://' })),
    good: Type.Optional(Type.String({ minLength: 1 })),
    bad: Type.Optional(Type.String({ minLength: 1 })),
    total: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
export type PromQlQueries = Static<typeof PromQlQueries>;

export const DEFAULT_QUERY_TIMEOUT_MS = 5_000;

type Fail = (field: string, reason: string) => never;

export function readDataSource(name: string, spec: DataSourceSpec, fail: Fail): PrometheusDataSource {
  const timeoutMs = spec.timeout === undefined ? DEFAULT_QUERY_TIMEOUT_MS : parseDuration(spec.timeout);
  if (timeoutMs === undefined) fail('spec.timeout', `expected a duration like 5s, got "${spec.timeout}"`);
  return {
    name,
    url: spec.url.replace(/\/+$/, ''),
    timeoutMs: timeoutMs!,
    ...(spec.auth && { auth: spec.auth }),
  };
}

/**
 * Checks a PromQL indicator: one of good or bad, each query with the window placeholder, and an engine named
 * by URL or DataSource. A named DataSource is resolved once every file is read (`resolveDataSource`).
 */
export function readPromQlQueries(queries: PromQlQueries, field: string, fail: Fail): PromQlIndicator {
  if ((queries.good === undefined) === (queries.bad === undefined))
    fail(`${field}.good`, 'give exactly one of good or bad, with total');
  for (const key of ['good', 'bad', 'total'] as const) {
    const query = queries[key];
    if (query !== undefined && !query.includes(WINDOW_PLACEHOLDER))
      fail(
        `${field}.${key}`,
        `the query must use ${WINDOW_PLACEHOLDER} for its range, as in [${WINDOW_PLACEHOLDER}]`,
      );
  }
  if ((queries.url === undefined) === (queries.dataSource === undefined))
    fail(`${field}.dataSource`, 'name a DataSource or give a url, one of the two');
  const dataSource: PrometheusDataSource = queries.url
    ? { name: queries.url, url: queries.url.replace(/\/+$/, ''), timeoutMs: DEFAULT_QUERY_TIMEOUT_MS }
    : { name: queries.dataSource!, url: '', timeoutMs: DEFAULT_QUERY_TIMEOUT_MS };
  return {
    dataSource,
    ...(queries.good !== undefined && { good: queries.good }),
    ...(queries.bad !== undefined && { bad: queries.bad }),
    total: queries.total,
  };
}

/** A query with its window filled in: `[{{.window}}]` → `[5m]`. */
export function withWindow(query: string, window: string): string {
  return query.replaceAll(WINDOW_PLACEHOLDER, window);
}

/** The PromQL part of a native indicator: present exactly when `source: prometheus`. */
export function readPrometheusIndicator(
  indicator: { source: string; prometheus?: PromQlQueries; select?: unknown },
  fail: Fail,
): PromQlIndicator | undefined {
  const field = 'spec.indicator.prometheus';
  if (indicator.source !== 'prometheus') {
    if (indicator.prometheus !== undefined) fail(field, 'applies only to source: prometheus');
    return undefined;
  }
  if (indicator.prometheus === undefined)
    fail(field, 'source: prometheus needs good (or bad) and total queries');
  if (indicator.select !== undefined)
    fail('spec.indicator.select', 'a prometheus SLI selects with its queries');
  return readPromQlQueries(indicator.prometheus!, field, fail);
}
