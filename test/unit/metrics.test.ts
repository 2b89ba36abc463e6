import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nginxLine, testApp } from '../helpers/app.js';

let ctx: Awaited<ReturnType<typeof testApp>>;
beforeEach(async () => {
  ctx = await testApp();
});
afterEach(async () => {
  await ctx.close();
});

interface Family {
  type: string;
  metrics: Array<{ labels: Record<string, string>; value: string }>;
}

/** Families by name from the text format's TYPE lines and samples (histogram series under their own names). */
function families(text: string): Map<string, Family> {
  const found = new Map<string, Family>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) found.set(type[1]!, { type: type[2]!.toUpperCase(), metrics: [] });
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) continue;
    const labels = Object.fromEntries(
      [...(sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    const family = found.get(sample[1]!) ?? { type: 'UNTYPED', metrics: [] };
    family.metrics.push({ labels, value: sample[3]! });
    found.set(sample[1]!, family);
  }
  return found;
}

async function scrape(): Promise<{ text: string; families: Map<string, Family> }> {
  const response = await ctx.app.inject({ method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toContain('text/plain; version=0.0.4');
  return { text: response.body, families: families(response.body) };
}

const value = (family: Family | undefined, labels: Record<string, string>) =>
  family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels[k] === v))?.value;

describe('GET /metrics', () => {
  it('exposes every SLO figure from the latest statuses', async () => {
    const t = Date.now() - 1_000;
    // 3% errors over 2,000 requests: enough events to judge a 99.95% budget (one allowed bad event).
    const lines = [
      ...Array.from({ length: 1940 }, (_, i) => nginxLine(t, 'GET', `/profile/${i}`, 200, 0.1)),
      ...Array.from({ length: 60 }, (_, i) => nginxLine(t, 'GET', `/profile/${i}`, 503, 0.1)),
    ].join('\n');
    await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/ingest/lb?format=nginx&service=user-profile',
      payload: lines,
    });
    const [status] = ctx.sloguard.evaluator.evaluateAll().filter((s) => s.name === 'profile-availability');
    const { families } = await scrape();
    const slo = { slo: 'profile-availability', service: 'user-profile' };
    expect(Number(value(families.get('sloguard_slo_sli_ratio'), slo))).toBeCloseTo(0.97, 12);
    expect(Number(value(families.get('sloguard_slo_objective_ratio'), slo))).toBe(0.9995);
    expect(Number(value(families.get('sloguard_slo_error_budget_remaining_ratio'), slo))).toBeCloseTo(
      status!.budget.remainingRatio!,
      9,
    );
    expect(Number(value(families.get('sloguard_slo_burn_rate'), { ...slo, window: '5m' }))).toBeCloseTo(
      60,
      9,
    );
    // 60× burn over 5m and 1h: the page tier fires.
    expect(value(families.get('sloguard_slo_alert_state'), slo)).toBe('2');
    // The exhausted budget freezes the service at the evaluation (issue #20: it waited for a gate decision),
    // and a gate decision keeps it frozen.
    expect(value(families.get('sloguard_slo_gate_frozen'), slo)).toBe('1');
    await ctx.app.inject({ method: 'GET', url: '/api/v1/gate?service=user-profile&environment=production' });
    expect(value((await scrape()).families.get('sloguard_slo_gate_frozen'), slo)).toBe('1');
    expect(families.get('sloguard_slo_burn_rate')?.metrics).toHaveLength(
      ctx.sloguard.evaluator
        .current()
        .filter((s) => s.valid > 0)
        .reduce((sum, s) => sum + Object.keys(s.burnRates).length, 0),
    );
    expect(families.get('sloguard_evaluation_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(families.get('process_cpu_user_seconds_total')?.type).toBe('COUNTER');
  });

  it('counts ingest outcomes with bounded reasons and gate decisions by outcome', async () => {
    const t = Date.now() - 1_000;
    const body = [
      nginxLine(t, 'GET', '/profile/1', 200, 0.1),
      'garbage',
      nginxLine(t, 'GET', '/a/b', 200, 1),
    ].join('\n');
    await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/ingest/lb?format=nginx&service=user-profile',
      payload: body,
    });
    await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/ingest/lb?format=nginx&service=user-profile',
      payload: 'x',
      headers: { 'content-encoding': 'gzip' },
    });
    await ctx.app.inject({ method: 'POST', url: '/api/v2/spans', payload: '{"not":"a list"}' });
    ctx.sloguard.evaluator.evaluateAll();
    await ctx.app.inject({ method: 'GET', url: '/api/v1/gate?service=user-profile' });
    await ctx.app.inject({ method: 'GET', url: '/api/v1/gate?service=nobody' });
    const { families } = await scrape();
    const events = families.get('sloguard_ingest_events_total');
    expect(value(events, { source: 'loadbalancer', outcome: 'accepted' })).toBe('2');
    expect(value(events, { source: 'loadbalancer', outcome: 'rejected' })).toBe('2');
    expect(value(events, { source: 'traces', outcome: 'rejected' })).toBe('1');
    const rejected = families.get('sloguard_ingest_rejected_total');
    expect(value(rejected, { source: 'loadbalancer', reason: 'invalid_line' })).toBe('1');
    expect(value(rejected, { source: 'loadbalancer', reason: 'invalid_gzip' })).toBe('1');
    expect(value(rejected, { source: 'traces', reason: 'invalid_spans' })).toBe('1');
    const decisions = families.get('sloguard_gate_decisions_total');
    expect(value(decisions, { decision: 'error' })).toBe('1');
    const decided = ['allow', 'warn', 'deny'].map((decision) => Number(value(decisions, { decision })));
    expect(decided.reduce((a, b) => a + b, 0)).toBe(1);
    expect(value(families.get('sloguard_ingest_queue_observations'), {})).toBe('0');
  });

  it('passes promtool’s metric lint (names, units, HELP and TYPE) for our own families', async () => {
    const { text } = await scrape();
    // prom-client's default nodejs_active_*_total gauges break the lint's _total rule; they are not ours to rename.
    const ours = text
      .split('\n')
      .filter((line) => /^(# (HELP|TYPE) )?sloguard_/.test(line))
      .join('\n');
    expect(ours).toContain('sloguard_slo_sli_ratio');
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: `${ours}\n`, encoding: 'utf8' });
    if (lint.error)
      throw new Error(`promtool is missing: apt-get install prometheus (${lint.error.message})`);
    expect(`${lint.stdout}${lint.stderr}`).toBe('');
    expect(lint.status).toBe(0);
  });
});
