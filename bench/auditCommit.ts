/**
 * The audit trail's commit, in process: CPU time and WAL frames per decision committed alone (as at a thousand
 * decisions a second, when each group commit holds one), this tree's GateDecisionStore against another build's
 * in the same rounds; then how long this tree's migrations take on a trail of the other build's schema.
 *
 *   BENCH_AUDIT_BEFORE_DIST=/path/to/older/dist BENCH_ROUNDS=5 npx tsx bench/auditCommit.ts
 *
 * BENCH_AUDIT_BEFORE_DIST is a built `dist` folder (e.g. main's, copied); without it both sides are this tree's
 * dist (run `npm run build` first).
 * BENCH_AUDIT_COMMITS decisions are timed per round after BENCH_AUDIT_PREFILL already stored; the migration, and
 * a retention pass that removes 10,000 past the cap, are timed on BENCH_AUDIT_MIGRATE_ROWS decisions (0 skips).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import type { SloStatus } from '../src/model/status.js';
import type * as ours from '../src/store/database.js';
import type * as oursStore from '../src/store/gateDecisions.js';
import { allowRecord } from '../test/helpers/gateRecords.js';
import { Comparison, envInt, figure, rounds } from './method.js';

const ROUNDS = rounds(5);
const COMMITS = envInt('BENCH_AUDIT_COMMITS', 3000);
const PREFILL = envInt('BENCH_AUDIT_PREFILL', 20_000);
const MIGRATE_ROWS = envInt('BENCH_AUDIT_MIGRATE_ROWS', 1_000_000, 0);
const BEFORE_DIST = process.env.BENCH_AUDIT_BEFORE_DIST;

interface Build {
  openDatabase: typeof ours.openDatabase;
  GateDecisionStore: typeof oursStore.GateDecisionStore;
}

const load = async (dist: string): Promise<Build> => {
  const url = (file: string) => pathToFileURL(join(resolve(dist), file)).href;
  const database = (await import(url('store/database.js'))) as typeof ours;
  const store = (await import(url('store/gateDecisions.js'))) as typeof oursStore;
  return { openDatabase: database.openDatabase, GateDecisionStore: store.GateDecisionStore };
};

// Both sides as built (`npm run build` first): code run through tsx would not compare with built code.
const after = await load(join(import.meta.dirname, '..', 'dist'));
const before = BEFORE_DIST ? await load(BEFORE_DIST) : after;

const SERVICES = ['web', 'api', 'checkout'];
const START_MS = Date.now() - 3_600_000;

/** A decision as the gate records it (about 600 bytes of answer); a few a millisecond, three services. */
function decision(i: number, statuses: readonly SloStatus[]): oursStore.GateDecisionRecord {
  const id = `0190b1f2-${String(i).padStart(4, '0').slice(-4)}-7abc-8def-${String(i).padStart(12, '0')}`;
  return allowRecord(id, START_MS + Math.floor(i / 3), SERVICES[i % SERVICES.length]!, statuses);
}

const statuses = ['web-availability', 'web-latency'].map(
  (name) => ({ name, sli: 0.999 }) as unknown as SloStatus,
);

/** µs of CPU and WAL frames per decision committed alone, on a fresh database holding PREFILL decisions. */
function commitCost(build: Build): { cpuUs: number; frames: number } {
  const dir = mkdtempSync(join(tmpdir(), 'sloguard-bench-audit-'));
  const path = join(dir, 'sloguard.db');
  const db = build.openDatabase(path);
  try {
    const store = new build.GateDecisionStore(db);
    for (let i = 0; i < PREFILL; i++) store.append(decision(i, statuses));
    store.flush();
    db.pragma('wal_checkpoint(TRUNCATE)');
    // Nothing copied back while counting: the WAL's growth is what the commits wrote.
    db.pragma('wal_autocheckpoint = 0');
    const walBytes = statSync(`${path}-wal`).size;
    const cpu = process.cpuUsage();
    for (let i = PREFILL; i < PREFILL + COMMITS; i++) {
      store.append(decision(i, statuses));
      store.flush();
    }
    const used = process.cpuUsage(cpu);
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    return {
      cpuUs: (used.user + used.system) / COMMITS,
      frames: (statSync(`${path}-wal`).size - walBytes) / (pageSize + 24) / COMMITS,
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const baselineName = BEFORE_DIST ? 'before' : 'this tree again';
const cpu = new Comparison('CPU per decision committed alone', 'µs', baselineName, 'ours/baseline');
const frames = new Comparison(
  'WAL frames per decision committed alone',
  'frames',
  baselineName,
  'ours/baseline',
);
for (let round = 0; round < ROUNDS; round++) {
  // Alternating which side goes first, so a load that rises through a round falls on both alike.
  const [first, second] = round % 2 === 0 ? [before, after] : [after, before];
  const a = commitCost(first);
  const b = commitCost(second);
  const [then, now] = round % 2 === 0 ? [a, b] : [b, a];
  cpu.add(now.cpuUs, then.cpuUs);
  frames.add(now.frames, then.frames);
}
cpu.print();
frames.print();

/** A trail of `rows` decisions stored by `build` in groups of 10,000, in a new database at `path`. */
function fillTrail(build: Build, path: string, rows: number): void {
  const db = build.openDatabase(path);
  try {
    const store = new build.GateDecisionStore(db);
    for (let i = 0; i < rows; i++) {
      store.append(decision(i, statuses));
      if (i % 10_000 === 9_999) store.flush();
    }
    store.flush();
  } finally {
    db.close();
  }
}

if (MIGRATE_ROWS > 0) {
  const migrationMs: number[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sloguard-bench-audit-migrate-'));
  try {
    const sources = { before: join(dir, 'before.db'), after: join(dir, 'after.db') };
    fillTrail(before, sources.before, MIGRATE_ROWS);
    fillTrail(after, sources.after, MIGRATE_ROWS);
    /** A copy of a trail made without running any migration on it. */
    const copyOf = (source: string, name: string) => {
      const copy = join(dir, name);
      const original = new Database(source, { readonly: true });
      original.exec(`VACUUM INTO '${copy}'`);
      original.close();
      return copy;
    };
    // A retention pass on each build's own trail, over the cap by 10,000 (as an hour of steady calls leaves it).
    const pruneMs = (build: Build, source: string) => {
      const copy = copyOf(source, 'prune.db');
      const db = build.openDatabase(copy);
      try {
        const store = new build.GateDecisionStore(db);
        const started = performance.now();
        const removed = store.prune(0, MIGRATE_ROWS - 10_000);
        // Whole milliseconds go: up to two more than asked.
        if (removed.decisions < 10_000 || removed.decisions > 10_002)
          throw new Error(`retention removed ${removed.decisions}`);
        return performance.now() - started;
      } finally {
        db.close();
        rmSync(copy, { force: true });
      }
    };
    const retention = new Comparison('retention pass removing 10,000', 'ms', baselineName, 'ours/baseline');
    for (let round = 0; round < Math.min(ROUNDS, 3); round++) {
      const copy = copyOf(sources.before, 'migrate.db');
      const started = performance.now();
      after.openDatabase(copy).close();
      migrationMs.push(performance.now() - started);
      rmSync(copy, { force: true });
      retention.add(pruneMs(after, sources.after), pruneMs(before, sources.before));
    }
    retention.print();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  figure(`migration of ${MIGRATE_ROWS.toLocaleString('en-US')} decisions (openDatabase)`, migrationMs, 'ms');
}
