import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { IncidentEpisode } from '../../src/model/incident.js';
import { openDatabase } from '../../src/store/database.js';
import { IncidentStore } from '../../src/store/incidents.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { tempDir } from '../helpers/tmp.js';

const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

const episode = (id: string, resolvedAtMs: number | null): IncidentEpisode => ({
  id,
  slo: 'shop-availability',
  service: 'shop',
  severity: 'page',
  burnStartedAtMs: 1_000,
  detectedAtMs: 2_000,
  escalations: [],
  resolvedAtMs,
  peakBurnRate: 20,
  budgetConsumed: 0.1,
});

describe('IncidentStore', () => {
  it('backfills the episodes open when the incidents migration runs', () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir.path, 'old.db');
    // A database of the version before incidents, with one open alert episode.
    const before = MIGRATIONS.findIndex((sql) => sql.includes('CREATE TABLE incident_episodes'));
    const old = new Database(path);
    old.function('recode_histogram', (blob: unknown) => blob);
    for (const sql of MIGRATIONS.slice(0, before)) old.exec(sql);
    old.pragma(`user_version = ${before}`);
    old.pragma(`application_id = ${0x534c4f47}`);
    const open = {
      slo: 'shop-availability',
      service: 'shop',
      id: 'shop-availability-60000',
      level: 'critical',
      notifiedLevel: 'critical',
      startedAtMs: 60_000,
      lastNotifiedAtMs: 60_000,
      badEventsAtStart: 3,
    };
    old
      .prepare('INSERT INTO alert_episodes (slo, episode) VALUES (?, ?)')
      .run(open.slo, JSON.stringify(open));
    old.close();

    const db = openDatabase(path);
    try {
      expect(new IncidentStore(db).list()).toEqual([
        {
          id: 'shop-availability-60000',
          slo: 'shop-availability',
          service: 'shop',
          severity: 'page',
          burnStartedAtMs: 60_000,
          detectedAtMs: 60_000,
          escalations: [],
          resolvedAtMs: null,
          peakBurnRate: null,
          budgetConsumed: null,
        },
      ]);
    } finally {
      db.close();
    }
  });

  it('keeps open episodes and those resolved within the retention, and updates one episode in place', () => {
    const db = openDatabase(':memory:');
    const store = new IncidentStore(db);
    store.save(episode('old', 5_000));
    store.save(episode('recent', 50_000));
    store.save(episode('open', null));
    store.save({ ...episode('open', null), budgetConsumed: 0.3 });
    expect(store.prune(10_000)).toBe(1);
    expect(store.list().map((e) => [e.id, e.budgetConsumed])).toEqual([
      ['open', 0.3],
      ['recent', 0.1],
    ]);
    expect(store.openCount()).toBe(1);
    db.close();
  });
});
