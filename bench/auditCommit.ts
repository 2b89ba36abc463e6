/**
 * The audit trail's commit, in process: CPU time and WAL frames per decision committed alone (as at a thousand
 * decisions a second, when each group commit holds one), this tree's GateDecisionStore against another build's
 * in the same rounds; then how long this tree's migrations take on a trail of the other build's schema.
 *
 *   BENCH_AUDIT_BEFORE_DIST=/path/to/older/dist BENCH_ROUNDS=5 npx tsx bench/auditCommit.ts
 *
 * BENCH_AUDIT_BEFORE_DIST is a built `dist` folder (e.g. main's, copied); without it both sides are this tree's
 * dist (run `npm run build` first).
 * BENCH_AUDIT_COMMITS decisions are timed per round after BENCH_AUDIT_PREFILL already stored; the migration is
 * timed on BENCH_AUDIT_MIGRATE_ROWS decisions (0 skips it).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { GatePolicies } from '../src/gate/policy.js';
import type { SloStatus } from '../src/model/status.js';
import type * as ours from '../src/store/database.js';
import type * as oursStore from '../src/store/gateDecisions.js';
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

const policy = new GatePolicies().resolve('web', 'production');
const SERVICES = ['web', 'api', 'checkout'];
const START_MS = Date.now() - 3_600_000;

/** A decision as the gate records it (about 600 bytes of answer); a few a millisecond, three services. */
function decision(i: number, statuses: readonly SloStatus[]): oursStore.GateDecisionRecord {
  const service = SERVICES[i % SERVICES.length]!;
  return {
    id: `0190b1f2-${String(i).padStart(4, '0').slice(-4)}-7abc-8def-${String(i).padStart(12, '0')}`,
    decidedAtMs: START_MS + Math.floor(i / 3),
    service,
    environment: 'production',
    version: 'v1',
    changeType: 'feature',
    decision: 'allow',
    reason: 'all 2 SLOs within budget',
    request: { service, environment: 'production', version: 'v1', changeType: 'feature' },
    answer: {
      decision: 'allow',
      reason: 'all 2 SLOs within budget',
      mode: 'enforce',
      would_block: false,
      exemption: null,
      override: null,
      frozen_before: false,
      frozen: false,
      stale: false,
      from_last_run: false,
      policy,
    },
    statuses,
  };
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

if (MIGRATE_ROWS > 0) {
  const migrationMs: number[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sloguard-bench-audit-migrate-'));
  try {
    // The trail as the older build leaves it, in groups of 10,000 decisions.
    const source = join(dir, 'before.db');
    const db = before.openDatabase(source);
    const store = new before.GateDecisionStore(db);
    for (let i = 0; i < MIGRATE_ROWS; i++) {
      store.append(decision(i, statuses));
      if (i % 10_000 === 9_999) store.flush();
    }
    store.flush();
    db.close();
    // Each round migrates its own copy, made without running any migration on it.
    for (let round = 0; round < Math.min(ROUNDS, 3); round++) {
      const copy = join(dir, `round-${round}.db`);
      const original = new Database(source, { readonly: true });
      original.exec(`VACUUM INTO '${copy}'`);
      original.close();
      const started = performance.now();
      after.openDatabase(copy).close();
      migrationMs.push(performance.now() - started);
      rmSync(copy, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  figure(`migration of ${MIGRATE_ROWS.toLocaleString('en-US')} decisions (openDatabase)`, migrationMs, 'ms');
}
