import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Alerting } from '../../src/alert/alerting.js';
import type { AlertLog } from '../../src/alert/outbox.js';
import type { ControlPostgres } from '../../src/config/control.js';
import type { NotificationSettings } from '../../src/config/notifications.js';
import { ControlAlertState } from '../../src/control/alertState.js';
import { ControlDatabase } from '../../src/control/database.js';
import { EvaluatorLease } from '../../src/control/lease.js';
import { SloRegistry } from '../../src/definitions/registry.js';
import type { SloDefinition } from '../../src/model/slo.js';
import type { SloStatus } from '../../src/model/status.js';
import { BURNS, sloStatus } from '../helpers/alertFixtures.js';
import { CaptureServer } from '../helpers/capture.js';
import { hasPostgres, PostgresServer } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

const quiet: AlertLog = { info: () => {}, warn: () => {}, error: () => {} };
const MINUTE = 60_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.runIf(hasPostgres())('alert episodes in PostgreSQL across a lease takeover', () => {
  let postgres: PostgresServer;
  let settings: ControlPostgres;

  beforeAll(async () => {
    postgres = await PostgresServer.start();
    settings = {
      url: postgres.url,
      poolSize: 4,
      statementTimeoutMs: 10_000,
      connectTimeoutMs: 10_000,
      leaseCheckMs: 100,
    };
    const db = new ControlDatabase(settings, quiet);
    await db.migrate();
    await db.close();
  });
  afterAll(async () => {
    await postgres?.stop();
  });

  /** One replica's alerting: its own pool, lease and copy of the alert state, one target to `receiver`. */
  function replica(receiver: CaptureServer) {
    const db = new ControlDatabase(settings, quiet);
    const lease = new EvaluatorLease(settings, quiet);
    // The lease pid this replica last held, never forgotten: a replica that has not yet noticed it lost the
    // lease, so only the database's own check (the fence) can keep its writes out.
    let believed: number | undefined;
    lease.on('gained', () => {
      believed = lease.holderPid();
    });
    const state = new ControlAlertState(db, () => believed, quiet);
    const notifications: NotificationSettings = {
      repeatIntervalMs: 4 * 3_600_000,
      giveUpAfterMs: 3_600_000,
      retryBackoffMs: 10,
      maxRetryBackoffMs: 50,
      targets: new Map([['ops', { name: 'ops', kind: 'slack', url: `${receiver.url}/ops` }]]),
      routes: [],
    };
    const definition = {
      name: 'profile-availability',
      service: 'user-profile',
      labels: {},
      indicator: { source: 'loadbalancer', select: {}, good: { kind: 'availability' } },
    };
    const alerting = new Alerting({
      config: { publicUrl: 'https://sloguard.example.com', notifications },
      definitions: { registry: new SloRegistry([definition as unknown as SloDefinition]) },
      statuses: () => [],
      lastStatus: () => undefined,
      episodes: state.episodeStore,
      incidents: state.incidentWriter,
      burns: state.burnStore,
      outbox: state.outbox,
      log: quiet,
    });
    cleanups.push(async () => {
      await lease.stop();
      await db.close();
    });
    return {
      lease,
      state,
      alerting,
      /** What the service does with a tick's statuses on the lease holder: settle, alert, commit, send. */
      async evaluated(status: SloStatus) {
        if (await state.settled()) alerting.resume();
        alerting.evaluated([status], status.evaluatedAtMs);
        await state.settled();
        await alerting.dispatcher.drain();
      },
      /** What it does on gaining the lease: the episodes and burns another replica left. */
      async takeOver() {
        await waitFor('the lease', () => lease.isHolder());
        await state.load();
        alerting.resume();
      },
    };
  }

  const events = (receiver: CaptureServer) =>
    receiver.accepted().map((request) => JSON.stringify(request.body).match(/RESOLVED|PAGE/)?.[0]);

  it('the replica that takes over continues the episode: one fire, one resolve, nothing from the old holder', async () => {
    // Evaluations of the last minutes: messages are due at once and not yet old enough to give up.
    const T0 = Date.now() - 10 * MINUTE;
    const receiver = await CaptureServer.start();
    cleanups.push(() => receiver.stop());
    const a = replica(receiver);
    const b = replica(receiver);
    a.lease.start();
    await a.takeOver();
    b.lease.start();

    await a.evaluated(sloStatus({ burns: BURNS.page, atMs: T0 }));
    await a.evaluated(sloStatus({ burns: BURNS.page, atMs: T0 + MINUTE }));
    expect(events(receiver)).toEqual(['PAGE']);
    const stored = await postgres.query('sloguard', 'SELECT slo FROM control_alert_episodes');
    expect(stored.rows).toEqual([{ slo: 'profile-availability' }]);

    // The holder's lease session ends (as when its process is killed): the lock is freed, the other takes over.
    await a.lease.stop();
    await b.takeOver();
    await b.evaluated(sloStatus({ burns: BURNS.page, atMs: T0 + 2 * MINUTE }));
    expect(events(receiver)).toEqual(['PAGE']);

    // The old holder, still running an evaluation, is fenced out: its resolve commits nothing and sends nothing.
    await a.evaluated(sloStatus({ burns: BURNS.calm, atMs: T0 + 2 * MINUTE }));
    expect(events(receiver)).toEqual(['PAGE']);

    await b.evaluated(sloStatus({ burns: BURNS.calm, atMs: T0 + 3 * MINUTE }));
    await b.evaluated(sloStatus({ burns: BURNS.calm, atMs: T0 + 4 * MINUTE }));
    expect(events(receiver)).toEqual(['PAGE', 'RESOLVED']);
    expect((await postgres.query('sloguard', 'SELECT slo FROM control_alert_episodes')).rows).toEqual([]);
    const incidents = await postgres.query(
      'sloguard',
      'SELECT id, resolved_at_ms FROM control_incident_episodes',
    );
    expect(incidents.rows).toEqual([
      { id: `profile-availability-${T0}`, resolved_at_ms: String(T0 + 3 * MINUTE) },
    ]);
  });
});
