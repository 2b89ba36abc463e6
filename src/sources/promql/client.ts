import type { PrometheusDataSource } from '../../model/promql.js';
import { AnswerTooLarge, readAnswer } from '../../net/boundedBody.js';

/**
 * The largest query answer read ([promql sources](../../../docs/promql-sources.md)). Counts of one SLO are a few
 * KiB; a 28-day chart at one-minute steps about 2 MiB; an answer past this is a query matching far more than it
 * should, refused as an error naming the maximum rather than held in memory.
 */
export const MAX_QUERY_ANSWER_BYTES = 64 * 1024 * 1024;

/** A query the engine could not answer in time or at all; the SLO goes stale rather than wrong. */
export class PromQlError extends Error {
  override name = 'PromQlError';

  /** `unreachable`: no answer at all (refused, reset, timed out), as opposed to an answer that is an error. */
  constructor(
    message: string,
    readonly unreachable = false,
  ) {
    super(message);
  }
}

function unreachable(dataSource: PrometheusDataSource, error: unknown): PromQlError {
  const cause =
    (error as Error).name === 'TimeoutError'
      ? `no answer within ${dataSource.timeoutMs} ms`
      : String((error as Error).cause ?? error);
  return new PromQlError(`${dataSource.name}: ${cause}`, true);
}

type Sample = [number, string];
interface QueryAnswer {
  status: 'success' | 'error';
  error?: string;
  errorType?: string;
  data?: { resultType: 'vector' | 'scalar' | 'matrix' | 'string'; result: unknown };
}

function authHeaders(dataSource: PrometheusDataSource, env: NodeJS.ProcessEnv): Record<string, string> {
  const auth = dataSource.auth;
  if (auth?.bearerTokenEnv) return { authorization: `Bearer ${env[auth.bearerTokenEnv] ?? ''}` };
  if (auth?.basic) {
    const secret = `${auth.basic.username}:${env[auth.basic.passwordEnv] ?? ''}`;
    return { authorization: `Basic ${Buffer.from(secret).toString('base64')}` };
  }
  return {};
}

/** The single number an instant query answers; an empty vector (no series matched) is zero events. */
function singleValue(answer: QueryAnswer, query: string): number {
  const data = answer.data;
  if (data?.resultType === 'scalar') return Number((data.result as Sample)[1]);
  if (data?.resultType !== 'vector')
    throw new PromQlError(`"${query}" answered a ${data?.resultType}, not a vector`);
  const result = data.result as Array<{ value: Sample }>;
  if (result.length === 0) return 0;
  if (result.length > 1)
    throw new PromQlError(`"${query}" answered ${result.length} series; aggregate it to one, e.g. sum(...)`);
  const value = Number(result[0]!.value[1]);
  if (!Number.isFinite(value)) throw new PromQlError(`"${query}" answered ${result[0]!.value[1]}`);
  return value;
}

/** POSTs a query form to one of the engine's query endpoints and returns its successful answer. */
async function ask(
  dataSource: PrometheusDataSource,
  endpoint: 'query' | 'query_range',
  form: Record<string, string>,
  env: NodeJS.ProcessEnv,
): Promise<QueryAnswer> {
  const body = new URLSearchParams({
    ...form,
    timeout: `${Math.max(1, Math.floor(dataSource.timeoutMs / 1000))}s`,
  });
  let response: Response;
  try {
    response = await fetch(`${dataSource.url}/api/v1/${endpoint}`, {
      method: 'POST',
      body,
      headers: { accept: 'application/json', ...authHeaders(dataSource, env) },
      signal: AbortSignal.timeout(dataSource.timeoutMs),
    });
  } catch (error) {
    throw unreachable(dataSource, error);
  }
  let answer: QueryAnswer;
  try {
    answer = JSON.parse(await readAnswer(response, MAX_QUERY_ANSWER_BYTES)) as QueryAnswer;
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') throw unreachable(dataSource, error);
    if (error instanceof AnswerTooLarge)
      throw new PromQlError(
        `${dataSource.name}: HTTP ${response.status}: ${error.message}; aggregate or narrow the query`,
      );
    throw new PromQlError(`${dataSource.name}: HTTP ${response.status} without a JSON answer`);
  }
  if (answer.status !== 'success')
    throw new PromQlError(
      `${dataSource.name}: ${answer.errorType ?? 'error'}: ${answer.error ?? `HTTP ${response.status}`}`,
    );
  return answer;
}

/**
 * Instant queries against `/api/v1/query` of Prometheus, Thanos, Mimir or VictoriaMetrics. Each call gives
 * up after the data source's timeout (the engine is also told, so it stops working on it).
 */
export async function instantQuery(
  dataSource: PrometheusDataSource,
  query: string,
  timeMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const answer = await ask(dataSource, 'query', { query, time: (timeMs / 1000).toFixed(3) }, env);
  return singleValue(answer, query);
}

/** One series of an instant query's answer: its labels and its value. */
export interface VectorSample {
  labels: Record<string, string>;
  value: number;
}

/**
 * An instant query whose answer is many series (a `sum by (...)`), each with its labels; values that are not
 * finite numbers are an error, as for a single value.
 */
export async function instantVector(
  dataSource: PrometheusDataSource,
  query: string,
  timeMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<VectorSample[]> {
  const answer = await ask(dataSource, 'query', { query, time: (timeMs / 1000).toFixed(3) }, env);
  if (answer.data?.resultType !== 'vector')
    throw new PromQlError(`"${query}" answered a ${answer.data?.resultType}, not a vector`);
  return (answer.data.result as Array<{ metric: Record<string, string>; value: Sample }>).map((series) => {
    const value = Number(series.value[1]);
    if (!Number.isFinite(value)) throw new PromQlError(`"${query}" answered ${series.value[1]}`);
    return { labels: series.metric, value };
  });
}

/** One series of a range query's answer: its labels and its value per step time in milliseconds. */
export interface MatrixSeries {
  labels: Record<string, string>;
  values: Map<number, number>;
}

/**
 * A range query (`/api/v1/query_range`) whose answer may be many series (a `sum by (...)`), each with its labels
 * and its value per step time in milliseconds; steps without a sample are absent.
 */
export async function rangeMatrix(
  dataSource: PrometheusDataSource,
  query: string,
  range: { startMs: number; endMs: number; stepMs: number },
  env: NodeJS.ProcessEnv = process.env,
): Promise<MatrixSeries[]> {
  const answer = await ask(
    dataSource,
    'query_range',
    {
      query,
      start: (range.startMs / 1000).toFixed(3),
      end: (range.endMs / 1000).toFixed(3),
      step: `${range.stepMs / 1000}s`,
    },
    env,
  );
  const series = (answer.data?.result ?? []) as Array<{ metric: Record<string, string>; values: Sample[] }>;
  return series.map(({ metric, values }) => ({
    labels: metric,
    values: new Map(values.map(([seconds, value]) => [Math.round(seconds * 1000), Number(value)])),
  }));
}

/**
 * A range query (`/api/v1/query_range`) answered as value per step time in milliseconds; steps without a
 * sample (no series matched then) are absent.
 */
export async function rangeQuery(
  dataSource: PrometheusDataSource,
  query: string,
  range: { startMs: number; endMs: number; stepMs: number },
  env: NodeJS.ProcessEnv = process.env,
): Promise<Map<number, number>> {
  const series = await rangeMatrix(dataSource, query, range, env);
  if (series.length > 1)
    throw new PromQlError(`"${query}" answered ${series.length} series; aggregate it to one, e.g. sum(...)`);
  return series[0]?.values ?? new Map();
}
