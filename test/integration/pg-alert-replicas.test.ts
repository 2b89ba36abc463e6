import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chatNotifications,
  describeMessage,
  evaluatedAt,
  ingest,
  SHOP_SLOS,
} from '../helpers/alertScenario.js';
import { CaptureServer } from '../helpers/capture.js';
import { hasPostgres, PostgresServer } from '../helpers/postgres.js';
import { SloguardProcess } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** What a replica's API shows of the alert: the open alert on the SLO's chart, and the incidents it lists. */
async function alertShown(service: SloguardProcess): Promise<{ open: boolean; incidents: number }> {
  const chart = await service.json<{ open_alert: unknown }>('/api/v1/slos/shop-availability/timeseries');
  const listed = await service.json<{ total: number }>('/api/v1/incidents');
  return { open: chart.body.open_alert !== null, incidents: listed.body.total };
}

describe.runIf(hasPostgres())('two replicas alerting from one PostgreSQL', () => {
  const dir = tempDir('sloguard-pg-alerts-');
  let postgres: PostgresServer;
  let capture: CaptureServer;
  let a: SloguardProcess;
  let b: SloguardProcess;

  beforeAll(async () => {
    postgres = await PostgresServer.start();
    capture = await CaptureServer.start();
    const definitions = join(dir.path, 'definitions');
    mkdirSync(definitions);
    dir.file('definitions/shop.yaml', SHOP_SLOS);
    const config = dir.file(
      'sloguard.yaml',
      `publicUrl: https://sloguard.example.com\nnotifications:\n${chatNotifications(capture.url)}`,
    );
    const env = { SLOGUARD_CONFIG: config, SLOGUARD_CONTROL_POSTGRES_URL: postgres.url };
    a = await SloguardProcess.start({ definitions, env });
    await waitFor('replica a to hold the evaluator lease', () => postgres.leaseHolder());
    b = await SloguardProcess.start({ definitions, env, until: 'ready' });
  }, 180_000);
  afterAll(async () => {
    await a?.cleanup();
    await b?.cleanup();
    await capture?.stop();
    await postgres?.stop();
    dir.cleanup();
  });

  it('the holder killed mid-episode: the other continues it, each alert reaches the chat once', async () => {
    // Both replicas see the same traffic (in the replicated shape both read one engine).
    for (const replica of [a, b]) await ingest(replica, 96, 4); // 4% errors: 4× burn, a ticket
    await waitFor('the ticket', () => capture.accepted().length >= 1);
    const holder = await postgres.leaseHolder();
    // Every replica's API shows the alert the holder opened (copied from PostgreSQL every 2 s).
    for (const replica of [a, b])
      await waitFor('the open alert on every replica', async () => {
        const shown = await alertShown(replica);
        return shown.open && shown.incidents === 1;
      });

    await a.stop('SIGKILL');
    await waitFor('replica b to take the lease', async () => {
      const pid = await postgres.leaseHolder();
      return pid !== undefined && pid !== holder;
    });
    // The new holder evaluates the still-burning SLO several times: the open episode is not announced again.
    const since = await evaluatedAt(b);
    await waitFor('three evaluations on replica b', async () => (await evaluatedAt(b)) >= since + 3_000);
    expect(capture.accepted().map(describeMessage)).toEqual(['firing warning']);

    await ingest(b, 4000, 0); // 4 of 4100: under 1× burn, every tier stops
    await waitFor('the resolve', () => capture.accepted().length >= 2);
    const resolvedAt = await evaluatedAt(b);
    await waitFor('three more evaluations', async () => (await evaluatedAt(b)) >= resolvedAt + 3_000);
    expect(capture.accepted().map(describeMessage)).toEqual(['firing warning', 'resolved warning']);
    expect(capture.requests).toHaveLength(2);
    await waitFor('the alert closed on the API', async () => {
      const shown = await alertShown(b);
      return !shown.open && shown.incidents === 1;
    });
  }, 240_000);
});
