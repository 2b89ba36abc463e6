import { describe, expect, it } from 'vitest';
import { Alerting } from '../../src/alert/alerting.js';
import { replicatedAlerting } from '../../src/alert/replicated.js';
import type { NotificationSettings } from '../../src/config/notifications.js';
import { ControlAlertState } from '../../src/control/alertState.js';
import { ControlDatabase } from '../../src/control/database.js';
import { pruneSharedIncidents, SharedIncidents } from '../../src/control/incidents.js';
import { EvaluatorLease } from '../../src/control/lease.js';
import { SloRegistry } from '../../src/definitions/registry.js';
import type { SloDefinition } from '../../src/model/slo.js';
import type { SloStatus } from '../../src/model/status.js';
import { openDatabase } from '../../src/store/database.js';
import { IncidentStore } from '../../src/store/incidents.js';
import { BURNS, episode, sloStatus } from '../helpers/alertFixtures.js';
import { CaptureServer } from '../helpers/capture.js';
import { cleanupsAfterEach, quietLog } from '../helpers/cleanups.js';
import { controlPostgresSuite, hasPostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

const MINUTE = 60_000;

const cleanups = cleanupsAfterEach();

describe.runIf(hasPostgres())('alert episodes in PostgreSQL across a lease takeover', () => {
  const suite = controlPostgresSuite({ timeoutMs: 10_000, leaseCheckMs: 100, migrate: true });

  /** One replica's alerting: its own pool, lease and copy of the alert state, one target to `receiver`. */
  function replica(receiver: CaptureServer) {
    const db = new ControlDatabase(suite.settings, quietLog);
    const lease = new EvaluatorLease(suite.settings, quietLog);
    const shared = replicatedAlerting(db, lease, quietLog);
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
      ...shared.stores,
      log: quietLog,
    });
    cleanups.push(async () => {
      await lease.stop();
      await db.close();
    });
    return {
      db,
      lease,
      alerting,
      /** What the service does with a tick's statuses: alert on the lease holder, commit, send. */
      async evaluated(status: SloStatus) {
        await shared.evaluated(
          () => alerting.evaluated([status], status.evaluatedAtMs),
          () => alerting.resume(),
        );
        await alerting.dispatcher.drain();
      },
    };
  }

  async function capture(): Promise<CaptureServer> {
    const server = await CaptureServer.start();
    cleanups.push(() => server.stop());
    return server;
  }

  const events = (receiver: CaptureServer) =>
    receiver.accepted().map((request) => JSON.stringify(request.body).match(/RESOLVED|PAGE/)?.[0]);

  it('the replica that takes over continues the episode: one fire, one resolve, nothing from the old holder', async () => {
    // Evaluations of the last minutes: messages are due at once and not yet old enough to give up.
    const T0 = Date.now() - 10 * MINUTE;
    const receiver = await capture();
    const a = replica(receiver);
    const b = replica(receiver);
    a.lease.start();
    await waitFor('the lease on the first replica', () => a.lease.isHolder());
    b.lease.start();

    await a.evaluated(sloStatus({ burns: BURNS.page, atMs: T0 }));
    await a.evaluated(sloStatus({ burns: BURNS.page, atMs: T0 + MINUTE }));
    expect(events(receiver)).toEqual(['PAGE']);
    const stored = await suite.postgres.query('sloguard', 'SELECT slo FROM control_alert_episodes');
    expect(stored.rows).toEqual([{ slo: 'profile-availability' }]);

    // The holder's lease session ends (as when its process is killed): the lock is freed, the other takes over.
    await a.lease.stop();
    await waitFor('the lease on the second replica', () => b.lease.isHolder());
    await b.evaluated(sloStatus({ burns: BURNS.page, atMs: T0 + 2 * MINUTE }));
    expect(events(receiver)).toEqual(['PAGE']);

    // The old holder no longer alerts: its resolve is not announced.
    await a.evaluated(sloStatus({ burns: BURNS.calm, atMs: T0 + 2 * MINUTE }));
    expect(events(receiver)).toEqual(['PAGE']);

    await b.evaluated(sloStatus({ burns: BURNS.calm, atMs: T0 + 3 * MINUTE }));
    await b.evaluated(sloStatus({ burns: BURNS.calm, atMs: T0 + 4 * MINUTE }));
    expect(events(receiver)).toEqual(['PAGE', 'RESOLVED']);
    expect((await suite.postgres.query('sloguard', 'SELECT slo FROM control_alert_episodes')).rows).toEqual(
      [],
    );
    const incidents = await suite.postgres.query(
      'sloguard',
      'SELECT id, resolved_at_ms FROM control_incident_episodes',
    );
    expect(incidents.rows).toEqual([
      { id: `profile-availability-${T0}`, resolved_at_ms: String(T0 + 3 * MINUTE) },
    ]);

    // Every replica's API reads its own copy of the history: a refresh brings the episode, resolved.
    const local = openDatabase(':memory:');
    cleanups.push(() => {
      local.close();
    });
    const copy = new IncidentStore(local);
    const shared = new SharedIncidents(a.db, copy);
    expect(await shared.refresh()).toBe(1);
    expect(copy.list()).toMatchObject([
      {
        id: `profile-availability-${T0}`,
        slo: 'profile-availability',
        severity: 'page',
        burnStartedAtMs: T0,
        detectedAtMs: T0,
        resolvedAtMs: T0 + 3 * MINUTE,
      },
    ]);
    expect(await shared.refresh()).toBe(0);

    // Retention drops what resolved before the cutoff from the shared history, as from each copy.
    expect(await pruneSharedIncidents(a.db, T0 + 3 * MINUTE)).toBe(0);
    expect(await pruneSharedIncidents(a.db, T0 + 3 * MINUTE + 1)).toBe(1);
    expect((await suite.postgres.query('sloguard', 'SELECT id FROM control_incident_episodes')).rows).toEqual(
      [],
    );
  });

  it('a replica whose lease session is gone commits no alert change, even before it notices', async () => {
    const holder = replica(await capture());
    holder.lease.start();
    await waitFor('the lease', () => holder.lease.isHolder());
    const stalePid = holder.lease.holderPid();
    await holder.lease.stop();
    // The lease pid it last held, not forgotten: only the database's check (the fence) keeps its writes out.
    const state = new ControlAlertState(holder.db, () => stalePid, quietLog);
    state.episodeStore.atomically(() => state.episodeStore.set('checkout', episode({ slo: 'checkout' })));
    expect(await state.settled()).toBe(true);
    expect(state.episodeStore.get('checkout')).toBeUndefined();
    expect(
      (
        await suite.postgres.query(
          'sloguard',
          "SELECT slo FROM control_alert_episodes WHERE slo = 'checkout'",
        )
      ).rows,
    ).toEqual([]);
  });
});
