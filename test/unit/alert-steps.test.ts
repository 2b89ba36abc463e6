import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Alerting } from '../../src/alert/alerting.js';
import type { NotificationSettings } from '../../src/config/notifications.js';
import { SloRegistry } from '../../src/definitions/registry.js';
import type { SloDefinition } from '../../src/model/slo.js';
import type { SloStatus } from '../../src/model/status.js';
import { runInSlices, type SteppedWork } from '../../src/schedule/slices.js';
import { AlertBurnStore, AlertEpisodeStore } from '../../src/store/alertEpisodes.js';
import { openDatabase } from '../../src/store/database.js';
import { IncidentStore } from '../../src/store/incidents.js';
import { OutboxStore } from '../../src/store/outbox.js';
import { BURNS, sloStatus, T0 } from '../helpers/alertFixtures.js';
import { quietLog } from '../helpers/cleanups.js';
import { tempDir } from '../helpers/tmp.js';

const MINUTE = 60_000;
const SLOS = 2_000;
const names = Array.from({ length: SLOS }, (_, i) => `slo-${i}`);

/** SLO i, of service svc-(i mod 50), with the fields alerting reads of a definition. */
function definition(name: string, i: number): SloDefinition {
  return {
    name,
    service: `svc-${i % 50}`,
    labels: { team: `team-${i % 7}` },
    indicator: { source: 'loadbalancer', select: {}, good: { kind: 'availability' } },
  } as unknown as SloDefinition; // alerting reads only these fields
}

/** Each SLO's status at `atMs`: one in three pages, one in five tickets, the rest calm. */
function statusesAt(atMs: number, shift: number): SloStatus[] {
  return names.map((name, i) => {
    const level = (i + shift) % 3 === 0 ? 'page' : (i + shift) % 5 === 0 ? 'ticket' : 'calm';
    return { ...sloStatus({ burns: BURNS[level], atMs }), name, service: `svc-${i % 50}` };
  });
}

const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

/** An Alerting on a fresh database, one chat target, and what it wrote (episode ids aside: they are random). */
function alertingOn(registry: { registry: SloRegistry }) {
  const dir = tempDir('sloguard-alert-steps-');
  dirs.push(dir);
  const db = openDatabase(join(dir.path, 'sloguard.db'));
  const notifications: NotificationSettings = {
    repeatIntervalMs: 4 * 3_600_000,
    giveUpAfterMs: 3_600_000,
    retryBackoffMs: 10,
    maxRetryBackoffMs: 50,
    targets: new Map([['ops', { name: 'ops', kind: 'slack', url: 'http://127.0.0.1:9/ops' }]]),
    routes: [],
  };
  const episodes = new AlertEpisodeStore(db);
  const outbox = new OutboxStore(db);
  const alerting = new Alerting({
    config: { publicUrl: 'https://sloguard.example.com', notifications },
    definitions: registry,
    statuses: () => [],
    lastStatus: () => undefined,
    episodes,
    incidents: new IncidentStore(db),
    burns: new AlertBurnStore(db),
    outbox,
    log: quietLog,
  });
  const written = () => ({
    episodes: episodes.all().map(({ id: _id, ...rest }) => rest),
    outbox: outbox.list().map((entry) => [entry.target, entry.subject, entry.createdAtMs]),
  });
  return { alerting, written, close: () => db.close() };
}

/** Runs `work` as a tick runs a listener, in slices of `sliceMs`: how many turns of the loop passed meanwhile. */
async function inSlices(work: SteppedWork, sliceMs: number): Promise<number> {
  let turns = 0;
  let counting = true;
  const count = () => {
    turns += 1;
    if (counting) setImmediate(count);
  };
  setImmediate(count);
  await runInSlices(work, sliceMs, performance.now() + sliceMs);
  counting = false;
  return turns;
}

describe('alerting in steps', () => {
  it(`over ${SLOS} SLOs writes the same episodes and messages in slices as in one piece, the loop turning between`, async () => {
    const registry = { registry: new SloRegistry(names.map(definition)) };
    const whole = alertingOn(registry);
    const sliced = alertingOn(registry);
    // Three evaluations: alerts open, some escalate or resolve, the rest repeat nothing.
    const evaluations = [0, 1, 2].map((shift) => statusesAt(T0 + shift * MINUTE, shift));
    let turns = 0;
    for (const statuses of evaluations) {
      const nowMs = statuses[0]!.evaluatedAtMs;
      whole.alerting.evaluated(statuses, nowMs);
      turns += await inSlices(sliced.alerting.evaluatedInSteps(statuses, nowMs), 0.05);
    }
    const expected = whole.written();
    expect(expected.episodes.length).toBeGreaterThan(SLOS / 3);
    expect(expected.outbox.length).toBeGreaterThan(SLOS / 3);
    expect(sliced.written()).toEqual(expected);
    // Slices of 50 µs ran a few SLOs each at most; other work had turns between them.
    expect(turns).toBeGreaterThan(SLOS / 10);
    whole.close();
    sliced.close();
  });

  it('reads the SLO set once a pass: a reload between two steps applies from the next evaluation', () => {
    const registry = { registry: new SloRegistry(names.map(definition)) };
    const { alerting, written, close } = alertingOn(registry);
    const statuses = statusesAt(T0, 0);
    const work = alerting.evaluatedInSteps(statuses, T0);
    work.next();
    // Every SLO but the first removed mid-pass: their statuses still alert in this pass, none resolves as removed.
    registry.registry = new SloRegistry([definition(names[0]!, 0)]);
    while (work.next().done !== true);
    const paging = names.filter((_, i) => i % 3 === 0);
    expect(written().episodes.map((e) => e.slo)).toEqual(expect.arrayContaining(paging));
    expect(written().outbox.some(([, subject]) => String(subject).includes('resolved'))).toBe(false);
    // The next pass sees the reload: the removed SLOs' alerts resolve.
    alerting.evaluated([statuses[0]!], T0 + MINUTE);
    expect(written().episodes.map((e) => e.slo)).toEqual([names[0]]);
    close();
  });
});
