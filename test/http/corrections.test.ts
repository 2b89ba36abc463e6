import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinitionSet } from '../../src/definitionSet.js';
import { loadDefinitions } from '../../src/definitions/load.js';
import { StatusStore } from '../../src/store/statuses.js';
import { nginxLine } from '../helpers/app.js';
import { GATE_DEFINITIONS, gateApp, INGEST_TOKEN } from '../helpers/gateFixtures.js';
import { tempDir } from '../helpers/tmp.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SLO = 'web-availability';

let ctx: Awaited<ReturnType<typeof gateApp>> | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

/** `count` requests of `web` answering `status`, one a second from `fromMs`. */
const lines = (fromMs: number, count: number, status: number) =>
  Array.from({ length: count }, (_, i) => nginxLine(fromMs + i * 1000, 'GET', '/home', status, 0.01));

async function ingest(text: string[]) {
  const response = await ctx!.app.inject({
    method: 'POST',
    url: '/api/v1/ingest/lb?format=nginx&service=web',
    payload: text.join('\n'),
    headers: { authorization: `Bearer ${INGEST_TOKEN}` },
  });
  expect(response.statusCode).toBe(202);
}

const post = (body: unknown, actor = 'sre-alice') =>
  ctx!.app.inject({
    method: 'POST',
    url: '/api/v1/corrections',
    payload: body as object,
    headers: { 'x-sloguard-actor': actor },
  });

const statusOf = () => ctx!.sloguard.evaluator.evaluateAll().find((s) => s.name === SLO)!;
const storedStatus = () => new StatusStore(ctx!.sloguard.db).loadAll().find((s) => s.name === SLO)!;

/**
 * Traffic around a daily maintenance window that starts on the hour three hours ago (in Berlin time): outside
 * it 1,000 good and 1 bad; inside it a 5xx burst of 200 with 100 good.
 */
async function trafficWithBurst() {
  const windowStart = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;
  await ingest([
    ...lines(windowStart - 90 * MINUTE, 500, 200),
    ...lines(windowStart - 60 * MINUTE, 1, 503),
    ...lines(windowStart + 5 * MINUTE, 200, 503),
    ...lines(windowStart + 10 * MINUTE, 100, 200),
    ...lines(windowStart + 40 * MINUTE, 500, 200),
  ]);
  const berlinHour = DateTime.fromMillis(windowStart, { zone: 'Europe/Berlin' }).hour;
  return {
    windowStart,
    window: { cron: `0 ${berlinHour} * * *`, timeZone: 'Europe/Berlin', duration: '30m' },
    outside: { good: 1000, valid: 1001 },
    inside: { good: 100, valid: 300 },
  };
}

describe('corrections', () => {
  it('a recurring exclude window added for the past restores the SLI without the burst, everywhere', async () => {
    ctx = await gateApp();
    const { window, outside, inside, windowStart } = await trafficWithBurst();
    const before = statusOf();
    expect(before).toMatchObject({ good: 1100, valid: 1301, state: 'exhausted', corrections: null });
    expect(storedStatus().valid).toBe(1301);

    const created = await post({
      reason: 'nightly database maintenance',
      mode: 'exclude',
      window,
      appliesTo: { slos: [SLO] },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ origin: 'api', actor: 'sre-alice', active: true, window });

    const after = statusOf();
    expect(after).toMatchObject({
      good: outside.good,
      valid: outside.valid,
      sli: outside.good / outside.valid,
    });
    expect(after.corrections).toEqual({
      applied: [created.json().id],
      excluded: inside,
      planned: { good: 0, valid: 0, budgetConsumed: 0, budgetConsumedRatio: 0 },
    });
    // The burn-rate windows that held the burst lose it too: 1 bad in 1,001 over 6h is a burn of ~1.
    expect(after.burnRates['6h']).toBeCloseTo(1 / outside.valid / 0.001, 9);
    expect(after.state).not.toBe('exhausted');
    // The stored status (what a restart and the gate read) changed with the tick.
    expect(storedStatus()).toMatchObject({ good: outside.good, valid: outside.valid });
    const gate = await ctx.app.inject('/api/v1/gate?service=web&environment=production');
    expect(gate.json().reason).not.toContain('exhausted');

    // History: the last point of the chart is the status, and the window is there to shade.
    const chart = (await ctx.app.inject(`/api/v1/slos/${SLO}/timeseries?step=1h`)).json();
    expect(chart.points.at(-1)).toMatchObject({ good: outside.good, valid: outside.valid });
    expect(chart.corrections).toContainEqual({
      mode: 'exclude',
      start: new Date(windowStart).toISOString(),
      end: new Date(windowStart + 30 * MINUTE).toISOString(),
    });
  });

  it('planned mode keeps the SLI and reports the budget spent in the window; deletes are audited', async () => {
    ctx = await gateApp();
    const { window, inside } = await trafficWithBurst();
    const excluded = (
      await post({ reason: 'maintenance', mode: 'exclude', window, appliesTo: { services: ['web'] } })
    ).json();
    const deleted = await ctx.app.inject({
      method: 'DELETE',
      url: `/api/v1/corrections/${excluded.id}`,
      headers: { 'x-sloguard-actor': 'sre-bob' },
    });
    expect(deleted.json()).toMatchObject({ active: false, deleted_by: 'sre-bob', actor: 'sre-alice' });
    const again = await ctx.app.inject({ method: 'DELETE', url: `/api/v1/corrections/${excluded.id}` });
    expect(again.statusCode).toBe(409);

    const planned = await post({
      reason: 'release window',
      mode: 'planned',
      window,
      appliesTo: { labels: {} },
    });
    expect(planned.statusCode).toBe(201);
    const status = statusOf();
    expect(status).toMatchObject({ good: 1100, valid: 1301 });
    const bad = inside.valid - inside.good;
    expect(status.corrections).toEqual({
      applied: [planned.json().id],
      excluded: { good: 0, valid: 0 },
      planned: { ...inside, budgetConsumed: bad, budgetConsumedRatio: bad / (0.001 * 1301) },
    });

    const list = (await ctx.app.inject('/api/v1/corrections')).json().corrections;
    expect(list.map((c: { id: string; active: boolean }) => [c.id, c.active])).toEqual(
      expect.arrayContaining([
        [excluded.id, false],
        [planned.json().id, true],
      ]),
    );
  });

  it('reads kind: Correction from the definitions, which the API cannot delete', async () => {
    const now = Date.now();
    ctx = await gateApp(
      {},
      `${GATE_DEFINITIONS}---
apiVersion: sloguard/v1
kind: Correction
metadata: { name: incident-1234 }
spec:
  reason: load balancer misconfiguration answered 503 for the health checker only
  mode: exclude
  window: { start: "${new Date(now - HOUR).toISOString()}", end: "${new Date(now + HOUR).toISOString()}" }
  appliesTo: { slos: [${SLO}] }
`,
    );
    await ingest([...lines(now - 10 * MINUTE, 50, 503), ...lines(now - 150 * MINUTE, 20, 200)]);
    expect(statusOf()).toMatchObject({ good: 20, valid: 20, corrections: { applied: ['incident-1234'] } });
    const listed = (await ctx.app.inject('/api/v1/corrections/incident-1234')).json();
    expect(listed).toMatchObject({
      origin: 'file',
      actor: null,
      file: expect.stringMatching(/web\.yaml:\d+$/),
    });
    const refused = await ctx.app.inject({ method: 'DELETE', url: '/api/v1/corrections/incident-1234' });
    expect(refused.statusCode).toBe(409);
  });

  it('leaves the time slices an exclude window touches out of a slice budget', async () => {
    ctx = await gateApp(
      {},
      GATE_DEFINITIONS.replace(
        '  window: 28d\n',
        '  window: 28d\n  budgeting: { timeslices: { slice: 1m, target: 95 } }\n',
      ),
    );
    const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
    // Ten closed minutes of 20 good requests; the fourth from last also holds a burst of 20 errors.
    const burstMinute = minute - 4 * MINUTE;
    await ingest([
      ...Array.from({ length: 10 }, (_, i) => lines(minute - (10 - i) * MINUTE, 20, 200)).flat(),
      ...lines(burstMinute + 30_000, 20, 503),
    ]);
    expect(statusOf().slices).toMatchObject({ valid: 10, good: 9, bad: 1 });
    const created = await post({
      reason: 'load test against production',
      mode: 'exclude',
      window: {
        start: new Date(burstMinute).toISOString(),
        end: new Date(burstMinute + MINUTE).toISOString(),
      },
      appliesTo: { slos: [SLO] },
    });
    expect(created.statusCode).toBe(201);
    expect(statusOf().slices).toMatchObject({ valid: 9, good: 9, bad: 0 });
  });

  it('reports a correction file naming no SLO, or a wrong window, at the field', () => {
    const dir = tempDir('sloguard-corrections-defs-');
    try {
      const correction = (name: string, window: string, slos: string) => `---
apiVersion: sloguard/v1
kind: Correction
metadata: { name: ${name} }
spec:
  reason: maintenance
  mode: planned
  window: ${window}
  appliesTo: { slos: [${slos}] }
`;
      const file = dir.file(
        'web.yaml',
        GATE_DEFINITIONS +
          correction('typo', '{ cron: "0 2 * * 0", duration: 1h }', `${SLO}x`) +
          correction('zone', '{ cron: "0 2 * * 0", duration: 1h, timeZone: Mars/Base }', SLO) +
          correction('typo', '{ cron: "0 3 * * 0", duration: 1h }', SLO),
      );
      const { errors, corrections } = loadDefinitions([file]);
      // Lines of the corrections, after the policy's.
      const at = (line: number) => GATE_DEFINITIONS.split('\n').length - 1 + line;
      expect(errors.map((e) => `${e.location.line}: ${e.field}: ${e.reason}`)).toEqual([
        `${at(17)}: spec.window.timeZone: unknown IANA time zone "Mars/Base"`,
        `${at(20)}: metadata.name: duplicate Correction name "typo" (first defined at ${file}:${at(2)})`,
        `${at(9)}: spec.appliesTo.slos: no SLO named "${SLO}x"`,
      ]);
      expect(corrections).toEqual([]);
    } finally {
      dir.cleanup();
    }
  });

  it('refuses bad corrections with the field and why', async () => {
    ctx = await gateApp();
    const ok = {
      reason: 'r',
      mode: 'exclude',
      window: { start: '2026-01-01T00:00:00Z', end: '2026-01-01T01:00:00Z' },
      appliesTo: { slos: [SLO] },
    };
    const cases: Array<[unknown, string]> = [
      [{ ...ok, reason: undefined }, 'reason'],
      [{ ...ok, mode: 'ignore' }, 'mode'],
      [{ ...ok, window: { cron: '* * * * *', duration: '1m' } }, 'window.cron'],
      [{ ...ok, window: { cron: '0 2 * * 0', duration: '1h', timeZone: 'Mars/Olympus' } }, 'window.timeZone'],
      [{ ...ok, window: { start: '2026-01-02T00:00:00Z', end: '2026-01-01T00:00:00Z' } }, 'window.end'],
      [{ ...ok, window: { start: '1970-01-01T00:00:00Z', end: '2026-01-01T00:00:00Z' } }, 'window.start'],
      [{ ...ok, window: { start: '2026-01-01T00:00:00Z', end: '2028-01-01T00:00:00Z' } }, 'window.end'],
      [{ ...ok, window: { cron: '0 2 * * 0', duration: '400d' } }, 'window.duration'],
      [{ ...ok, appliesTo: { slos: ['nope'] } }, 'appliesTo.slos'],
      [{ ...ok, appliesTo: { services: ['nope'] } }, 'appliesTo.services'],
    ];
    for (const [body, field] of cases) {
      const response = await post(body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      // As elsewhere in the API, fields of the request body are named from `body`.
      expect(response.json()).toMatchObject({ error: 'invalid_request', field: `body.${field}` });
    }
    expect((await ctx.app.inject('/api/v1/corrections')).json().corrections).toEqual([]);
  });
});

describe('corrections across a definitions reload', () => {
  it('takes the files corrections of the new set, and keeps the API ones', async () => {
    ctx = await gateApp();
    const api = await post({
      reason: 'maintenance',
      mode: 'planned',
      window: { cron: '0 2 * * 0', duration: '1h' },
      appliesTo: { slos: [SLO] },
    });
    expect(api.statusCode).toBe(201);
    writeFileSync(
      join(ctx.definitionsDir, 'correction.yaml'),
      `apiVersion: sloguard/v1
kind: Correction
metadata: { name: from-file }
spec:
  reason: added by a reload
  mode: exclude
  window: { start: "2026-01-01T00:00:00Z", end: "2026-01-01T01:00:00Z" }
  appliesTo: { services: [web] }
`,
    );
    await ctx.sloguard.replace(loadDefinitionSet(ctx.definitionsDir), ctx.sloguard.config);
    expect(ctx.sloguard.corrections.all().map((c) => c.id)).toEqual(['from-file', api.json().id]);
  });
});
