import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../src/definitions/load.js';
import { GATE_DEFINITIONS, gateApp } from '../helpers/gateFixtures.js';
import { tempDir } from '../helpers/tmp.js';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** GATE_DEFINITIONS with calendar change freezes added to the policy's defaults. */
function withFreezes(freezes: string): string {
  return GATE_DEFINITIONS.replace('  service: web\n', `  service: web\n  changeFreezes:\n${freezes}`);
}

let ctx: Awaited<ReturnType<typeof gateApp>> | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

describe('calendar change freezes', () => {
  it('denies a feature deploy and allows a rollback in a freeze, both in the audit trail', async () => {
    const now = Date.now();
    ctx = await gateApp(
      {},
      withFreezes(
        [
          `    - name: year-end`,
          `      reason: no feature deploys over the holidays`,
          `      window: { start: "${iso(now - HOUR)}", end: "${iso(now + 24 * HOUR)}" }`,
          // A recurring freeze that is not in force now must not count.
          `    - name: weekly-other`,
          `      window: { cron: "0 ${new Date(now + 2 * HOUR).getUTCHours()} * * *", duration: 30m }`,
          '',
        ].join('\n'),
      ),
    );
    await ctx.traffic(1000, 0);
    const feature = await ctx.app.inject('/api/v1/gate?service=web&environment=production&sha=abc');
    expect(feature.statusCode).toBe(423);
    expect(feature.json()).toMatchObject({ decision: 'deny', allowed: false });
    expect(feature.json().reason).toBe(
      `change freeze "year-end" in force from ${iso(now - HOUR)} until ${iso(now + 24 * HOUR)} (no feature deploys over the holidays)`,
    );
    const rollback = await ctx.app.inject(
      '/api/v1/gate?service=web&environment=production&sha=abd&change_type=rollback',
    );
    expect(rollback.statusCode).toBe(200);
    expect(rollback.json()).toMatchObject({ decision: 'allow', exemption: 'rollback', would_block: true });
    expect(rollback.json().reason).toMatch(
      /^rollback changes are exempt from the freeze: change freeze "year-end"/,
    );

    const audit = (await ctx.app.inject('/api/v1/gate/decisions?service=web')).json().decisions;
    const byId = new Map(audit.map((d: { decision_id: string }) => [d.decision_id, d]));
    expect(byId.get(feature.json().decision_id)).toMatchObject({
      change_type: 'feature',
      decision: 'deny',
      reason: feature.json().reason,
    });
    expect(byId.get(rollback.json().decision_id)).toMatchObject({
      change_type: 'rollback',
      decision: 'allow',
      reason: rollback.json().reason,
    });
  });

  it('lets deploys through outside every freeze', async () => {
    const now = Date.now();
    ctx = await gateApp(
      {},
      withFreezes(
        `    - name: last-week\n      window: { start: "${iso(now - 7 * 24 * HOUR)}", end: "${iso(now - 6 * 24 * HOUR)}" }\n`,
      ),
    );
    await ctx.traffic(1000, 0);
    const answer = await ctx.app.inject('/api/v1/gate?service=web&environment=production');
    expect(answer.json()).toMatchObject({ decision: 'allow' });
  });

  it('reports a bad freeze window at its field', () => {
    const dir = tempDir('sloguard-freeze-defs-');
    try {
      const file = dir.file(
        'web.yaml',
        withFreezes('    - name: broken\n      window: { cron: "0 0 31 2 x", duration: 1d }\n'),
      );
      const { errors } = loadDefinitions([file]);
      expect(errors.map((e) => e.message)).toEqual([
        expect.stringMatching(
          /web\.yaml:\d+:\d+: spec\.changeFreezes\.0\.window\.cron: not a cron expression/,
        ),
      ]);
      const long = dir.file(
        'long.yaml',
        withFreezes(
          '    - name: too-long\n      window: { start: "2026-01-01", end: "2028-01-01", timeZone: Europe/Berlin }\n',
        )
          .replace('web-availability', 'web-availability-2')
          .replace('web-gate', 'web-gate-2'),
      );
      expect(loadDefinitions([long]).errors.map((e) => e.field)).toEqual(['spec.changeFreezes.0.window.end']);
    } finally {
      dir.cleanup();
    }
  });
});
