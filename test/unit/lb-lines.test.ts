import { describe, expect, it } from 'vitest';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import { LOG_FORMATS } from '../../src/ingest/loadbalancer/formats.js';
import { ingestLines } from '../../src/ingest/loadbalancer/lines.js';
import { parseNginxLine } from '../../src/ingest/loadbalancer/nginx.js';
import { ServiceRoutes } from '../../src/ingest/routeTemplates.js';
import { fixtureLines } from '../helpers/lbFixtures.js';

function totals(batch: BatchAggregate) {
  let total = 0;
  let errors = 0;
  for (const series of batch.series.values())
    for (const delta of series.minutes.values()) {
      total += delta.total;
      errors += delta.errors;
    }
  return { total, errors };
}

const routes = new ServiceRoutes(() => []);

describe('which status counts: edge or target', () => {
  // ingress-nginx line 23: edge 200, upstreams answered 200 then 203; line 26: 502 at both.
  const lines = fixtureLines('nginx-ingress-upstreaminfo.log').join('\n');

  it.each([
    ['edge', 27, 2],
    ['target', 27, 2],
  ] as const)('ingress-nginx by %s', (statusFrom, total, errors) => {
    const batch = new BatchAggregate([100_000]);
    const summary = ingestLines(
      lines,
      LOG_FORMATS['ingress-nginx']!,
      { source: 'k8s', service: 'web', routes, statusFrom },
      batch,
    );
    expect(summary).toMatchObject({ accepted: 27, rejected: 2, skipped: 0 });
    expect(totals(batch)).toEqual({ total, errors });
  });

  it('ALB: a target 5xx behind an edge 200 counts only when judged by the target', () => {
    const line = fixtureLines('aws-alb-access.log')[0]!.replace(' 200 200 ', ' 200 503 ');
    for (const [statusFrom, errors] of [
      ['edge', 0],
      ['target', 1],
    ] as const) {
      const batch = new BatchAggregate();
      ingestLines(line, LOG_FORMATS.alb!, { source: 'alb', service: 'web', routes, statusFrom }, batch);
      expect(totals(batch)).toEqual({ total: 1, errors });
    }
  });

  it('judged by the target, a request no target answered keeps its edge status (ALB lambda 502)', () => {
    const batch = new BatchAggregate();
    const line = fixtureLines('aws-alb-access.log')[6]!;
    ingestLines(
      line,
      LOG_FORMATS.alb!,
      { source: 'alb', service: 'web', routes, statusFrom: 'target' },
      batch,
    );
    expect(totals(batch)).toEqual({ total: 1, errors: 1 });
  });

  it('maps the logged host to a service, else rejects the line with the reason', () => {
    const batch = new BatchAggregate();
    const summary = ingestLines(
      fixtureLines('nginx-ingress-upstreaminfo.log').slice(0, 10).join('\n'),
      LOG_FORMATS['ingress-nginx']!,
      { source: 'k8s', settings: { hosts: { 'default-web-8080': 'web' } }, routes },
      batch,
    );
    expect(summary.accepted).toBe(7);
    expect(summary.problems.at(-1)).toEqual({
      line: 10,
      reason: 'no service for host "default-web2-8080": pass service= or map the source',
    });
  });
});

describe('nginx with the upstream fields appended', () => {
  it('reads "$upstream_status" "$upstream_response_time" lists after $request_time', () => {
    const entry = parseNginxLine(
      '1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "-" 0.110 "502, 200" "0.100, 0.004"',
    );
    expect(entry).toMatchObject({
      status: 200,
      durationUs: 110_000,
      targetStatus: 200,
      targetDurationUs: 104_000,
    });
  });
});
