import { afterEach, describe, expect, it } from 'vitest';
import { nginxLine, testApp } from '../helpers/app.js';
import { tempDir } from '../helpers/tmp.js';

const opened: Array<{ close(): Promise<void> }> = [];
const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(async () => {
  for (const app of opened.splice(0)) await app.close();
  for (const dir of dirs.splice(0)) dir.cleanup();
});

const OPENSLO = `apiVersion: openslo/v1
kind: SLI
metadata: { name: search-ok }
spec:
  ratioMetric:
    counter: true
    good: { metricSource: { type: sloguard, spec: { source: loadbalancer, operation: /search, good: { status: "< 500" } } } }
    total: { metricSource: { type: sloguard, spec: { source: loadbalancer, operation: /search } } }
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: search-slices }
spec:
  service: play-store
  indicatorRef: search-ok
  timeWindow: [{ duration: 1M, isRolling: false, calendar: { startTime: "2024-01-01 00:00:00", timeZone: Europe/Berlin } }]
  budgetingMethod: Timeslices
  objectives: [{ target: 0.99, timeSliceTarget: 0.9, timeSliceWindow: 1m }]
`;

describe('statuses of OpenSLO SLOs on sloguard data, through the API', () => {
  it('shows the calendar window end, the budgeting method and the slices judged', async () => {
    const dir = tempDir();
    dirs.push(dir);
    dir.file('search.yaml', OPENSLO);
    const t = await testApp({ definitionsPath: dir.path });
    opened.push(t);
    // Mid-month in Berlin, so the slices are inside the current calendar period whenever the test runs.
    const minute = Date.UTC(2026, 9, 15, 12, 0);
    // Two minutes ago: 10 clean requests; one minute ago: 5 of 10 failed.
    const lines = [
      ...Array.from({ length: 10 }, (_, i) =>
        nginxLine(minute - 120_000 + i * 1000, 'GET', '/search', 200, 0.01),
      ),
      ...Array.from({ length: 10 }, (_, i) =>
        nginxLine(minute - 60_000 + i * 1000, 'GET', '/search', i < 5 ? 503 : 200, 0.01),
      ),
    ];
    const ingest = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ingest/lb?format=nginx&source=edge&service=play-store',
      payload: `${lines.join('\n')}\n`,
    });
    expect(ingest.statusCode).toBe(202);
    t.sloguard.pipeline.flush();
    t.sloguard.evaluator.evaluateAll(minute);
    const body = (await t.app.inject({ method: 'GET', url: '/api/v1/slos/search-slices' })).json();
    expect(body.budgeting).toBe('timeslices');
    expect(body.window).toBe('1 month from 2024-01-01 00:00:00 (Europe/Berlin)');
    expect(new Date(body.window_end).getTime()).toBeGreaterThan(minute);
    expect(body.slices).toMatchObject({ slice_seconds: 60, valid: 2, good: 1, bad: 1 });
    expect(body.sli).toBe(0.5);
    expect([body.good, body.valid]).toEqual([15, 20]);
    expect(body.warnings).toEqual([]);
  });
});
