import { describe, expect, it } from 'vitest';
import { parseExposition } from '../../src/ingest/scrape/exposition.js';
import { boundsAround, exactAtBounds, spreadOverBins } from '../../src/ingest/scrape/histogram.js';
import { counterKey, readCounters } from '../../src/ingest/scrape/kinds.js';
import { increase } from '../../src/ingest/scrape/scraper.js';
import { binOf, estimateAtOrUnder } from '../../src/model/histogram.js';

describe('Prometheus text exposition', () => {
  it('reads samples with escaped labels, special values and timestamps', () => {
    const samples = parseExposition(`# HELP x A thing.
# TYPE x counter
x{a="q\\"uote",b="back\\\\slash",c="new\\nline",} 3 1700000000000
y 1.5e3
z{le="+Inf"} +Inf
`);
    expect(samples).toEqual([
      { name: 'x', labels: { a: 'q"uote', b: 'back\\slash', c: 'new\nline' }, value: 3 },
      { name: 'y', labels: {}, value: 1500 },
      { name: 'z', labels: { le: '+Inf' }, value: Number.POSITIVE_INFINITY },
    ]);
  });

  it.each([
    ['x{a="b} 1', 'unterminated label value'],
    ['x{a=b} 1', 'expected ="'],
    ['x abc', 'bad value'],
    ['{a="b"} 1', 'no metric name'],
  ])('refuses %j', (text, reason) => {
    expect(() => parseExposition(text)).toThrow(reason);
  });
});

describe('LB exporters to counters', () => {
  it('HAProxy: responses by class per backend; 5xx are errors; no histogram', () => {
    const counters = readCounters(
      'haproxy',
      parseExposition(`haproxy_backend_http_responses_total{proxy="be_app",code="2xx"} 90
haproxy_backend_http_responses_total{proxy="be_app",code="4xx"} 7
haproxy_backend_http_responses_total{proxy="be_app",code="5xx"} 3
haproxy_backend_http_responses_total{proxy="be_app",code="other"} 0
haproxy_backend_max_total_time_seconds{proxy="be_app"} 0.2
`),
    );
    expect(counters).toEqual(
      new Map([
        [counterKey('total', 'be_app', '*', '*'), 100],
        [counterKey('errors', 'be_app', '*', '*'), 3],
      ]),
    );
  });

  it('Envoy: rq_xx by class, rq_time buckets in ms (3.6e+06 too)', () => {
    const counters = readCounters(
      'envoy',
      parseExposition(`envoy_cluster_upstream_rq_xx{envoy_response_code_class="2",envoy_cluster_name="svc"} 8
envoy_cluster_upstream_rq_xx{envoy_response_code_class="5",envoy_cluster_name="svc"} 2
envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="svc",le="0.5"} 1
envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="svc",le="25"} 6
envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="svc",le="3.6e+06"} 10
envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="svc",le="+Inf"} 10
`),
    );
    expect(counters.get(counterKey('total', 'svc', '*', '*'))).toBe(10);
    expect(counters.get(counterKey('errors', 'svc', '*', '*'))).toBe(2);
    expect(counters.get(counterKey('bucket', 'svc', '*', '*', '500'))).toBe(1);
    expect(counters.get(counterKey('bucket', 'svc', '*', '*', '25000'))).toBe(6);
    expect(counters.get(counterKey('bucket', 'svc', '*', '*', '3600000000'))).toBe(10);
    expect(counters.get(counterKey('bucket', 'svc', '*', '*', 'inf'))).toBe(10);
  });

  it('Traefik: per service and method, histograms summed over codes', () => {
    const counters = readCounters(
      'traefik',
      parseExposition(`traefik_service_requests_total{code="200",method="GET",protocol="http",service="app@docker"} 5
traefik_service_requests_total{code="502",method="GET",protocol="http",service="app@docker"} 1
traefik_service_request_duration_seconds_bucket{code="200",method="GET",protocol="http",service="app@docker",le="0.1"} 4
traefik_service_request_duration_seconds_bucket{code="502",method="GET",protocol="http",service="app@docker",le="0.1"} 1
`),
    );
    expect(counters.get(counterKey('total', 'app@docker', '*', 'GET'))).toBe(6);
    expect(counters.get(counterKey('errors', 'app@docker', '*', 'GET'))).toBe(1);
    expect(counters.get(counterKey('bucket', 'app@docker', '*', 'GET', '100000'))).toBe(5);
  });

  it('ingress-nginx: per namespace/ingress, path and method', () => {
    const counters = readCounters(
      'ingress-nginx',
      parseExposition(`nginx_ingress_controller_requests{ingress="web",namespace="shop",path="/api",method="POST",service="web",status="503"} 4
nginx_ingress_controller_request_duration_seconds_bucket{ingress="web",namespace="shop",path="/api",method="POST",service="web",status="503",le="0.25"} 3
`),
    );
    expect(counters.get(counterKey('total', 'shop/web', '/api', 'POST'))).toBe(4);
    expect(counters.get(counterKey('errors', 'shop/web', '/api', 'POST'))).toBe(4);
    expect(counters.get(counterKey('bucket', 'shop/web', '/api', 'POST', '250000'))).toBe(3);
  });
});

describe('counter increases', () => {
  it.each([
    [undefined, 5, 5],
    [5, 9, 4],
    [9, 9, 0],
    [9, 2, 2],
  ])(
    'from %s to %s is %s (a drop is a reset: counting starts again at zero)',
    (previous, current, expected) => {
      expect(increase(previous, current)).toBe(expected);
    },
  );
});

describe('LB histogram buckets into sloguard bins', () => {
  // 10 requests ≤ 100 ms, 20 in (100 ms, 500 ms], 5 above 500 ms.
  const buckets = [
    { upperUs: 100_000, cumulative: 10 },
    { upperUs: 500_000, cumulative: 30 },
    { upperUs: Number.POSITIVE_INFINITY, cumulative: 35 },
  ];

  it('keeps every request', () => {
    const bins = spreadOverBins(buckets);
    expect([...bins.values()].reduce((a, b) => a + b, 0)).toBe(35);
    expect(bins.get(binOf(500_000) + 1)).toBe(5);
  });

  it('is exact at an LB bound and interpolates between bounds, saying which bounds', () => {
    expect(exactAtBounds(buckets, [100_000, 300_000, 500_000])).toEqual(
      new Map([
        [100_000, 10],
        [500_000, 30],
      ]),
    );
    expect(boundsAround(buckets, 300_000)).toEqual([100_000, 500_000]);
    expect(boundsAround(buckets, 500_000)).toBeUndefined();
    // Halfway through (100, 500] ms: 10 + 20/2 = 20 requests, within a request or two of rounding.
    const estimate = estimateAtOrUnder(spreadOverBins(buckets), 300_000);
    expect(Math.abs(estimate.good - 20)).toBeLessThanOrEqual(2);
    // At a bound the histogram agrees with the exact count.
    expect(estimateAtOrUnder(spreadOverBins(buckets), 100_000).good).toBeCloseTo(10, 6);
  });
});
