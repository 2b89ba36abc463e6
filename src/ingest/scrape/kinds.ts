import type { ScrapeKind } from '../../config/scrape.js';
import { secondsToMicros } from '../loadbalancer/format.js';
import type { Sample } from './exposition.js';

/**
 * What each load balancer's metrics say, as flat cumulative counters keyed by
 * `<kind>\0<backend>\0<operation>\0<method>[\0<le in µs>]`, where kind is `total`, `errors` (5xx) or
 * `bucket` (requests at or under the bound). `backend` is the LB's name for the upstream (HAProxy backend,
 * Envoy cluster, Traefik service, ingress-nginx namespace/ingress), mapped to a service by `services:`.
 * Metrics without a route or method label count under operation and method `*`.
 */
export type Counters = Map<string, number>;

export const ANY = '*';
export const INF_BOUND = 'inf';

export function counterKey(
  kind: 'total' | 'errors' | 'bucket',
  backend: string,
  operation: string,
  method: string,
  le?: string,
): string {
  const base = `${kind}\u0000${backend}\u0000${operation}\u0000${method}`;
  return le === undefined ? base : `${base}\u0000${le}`;
}

function add(counters: Counters, key: string, value: number): void {
  if (Number.isFinite(value)) counters.set(key, (counters.get(key) ?? 0) + value);
}

/** A bucket bound in the metric's unit → µs, exactly when written as a decimal (Envoy writes 3.6e+06). */
function boundMicros(le: string, microsPerUnit: number): string {
  if (le === '+Inf' || le === 'Inf') return INF_BOUND;
  const decimal = secondsToMicros(le);
  const micros =
    decimal !== undefined ? (decimal * microsPerUnit) / 1_000_000 : Math.round(Number(le) * microsPerUnit);
  return String(micros);
}

interface KindSpec {
  /** The requests counter, and how to read backend, method, route and server-failure from its labels. */
  requests: string;
  backend(labels: Record<string, string>): string | undefined;
  isError(labels: Record<string, string>): boolean;
  operation?: string;
  method?: string;
  /** Histogram of request durations (name without `_bucket`) and its unit; HAProxy has none. */
  histogram?: { name: string; microsPerUnit: number };
}

const fiveHundreds = (label: string) => (labels: Record<string, string>) =>
  (labels[label] ?? '').startsWith('5');

const KINDS: Record<ScrapeKind, KindSpec> = {
  // HAProxy's built-in exporter: responses by class per backend. It exports no latency histogram (only
  // averages over the last 1024 requests), so latency SLIs for HAProxy come from its logs.
  haproxy: {
    requests: 'haproxy_backend_http_responses_total',
    backend: (labels) => labels.proxy,
    isError: fiveHundreds('code'),
  },
  envoy: {
    requests: 'envoy_cluster_upstream_rq_xx',
    backend: (labels) => labels.envoy_cluster_name,
    isError: fiveHundreds('envoy_response_code_class'),
    histogram: { name: 'envoy_cluster_upstream_rq_time', microsPerUnit: 1000 },
  },
  traefik: {
    requests: 'traefik_service_requests_total',
    backend: (labels) => labels.service,
    isError: fiveHundreds('code'),
    method: 'method',
    histogram: { name: 'traefik_service_request_duration_seconds', microsPerUnit: 1_000_000 },
  },
  'ingress-nginx': {
    requests: 'nginx_ingress_controller_requests',
    backend: (labels) => (labels.ingress ? `${labels.namespace ?? ''}/${labels.ingress}` : undefined),
    isError: fiveHundreds('status'),
    operation: 'path',
    method: 'method',
    histogram: { name: 'nginx_ingress_controller_request_duration_seconds', microsPerUnit: 1_000_000 },
  },
};

/** Reads one scrape into cumulative counters (samples of the same key, e.g. per status code, are summed). */
export function readCounters(kind: ScrapeKind, samples: readonly Sample[]): Counters {
  const spec = KINDS[kind];
  const counters: Counters = new Map();
  const bucketName = spec.histogram && `${spec.histogram.name}_bucket`;
  for (const { name, labels, value } of samples) {
    if (name !== spec.requests && name !== bucketName) continue;
    const backend = spec.backend(labels);
    if (backend === undefined) continue;
    const operation = (spec.operation && labels[spec.operation]) || ANY;
    const method = (spec.method && labels[spec.method]?.toUpperCase()) || ANY;
    if (name === spec.requests) {
      add(counters, counterKey('total', backend, operation, method), value);
      if (spec.isError(labels)) add(counters, counterKey('errors', backend, operation, method), value);
      else add(counters, counterKey('errors', backend, operation, method), 0);
    } else if (labels.le !== undefined) {
      const le = boundMicros(labels.le, spec.histogram!.microsPerUnit);
      add(counters, counterKey('bucket', backend, operation, method, le), value);
    }
  }
  return counters;
}
