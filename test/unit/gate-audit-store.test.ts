import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { SloStatus } from '../../src/model/status.js';
import { openDatabase } from '../../src/store/database.js';
import { GateDecisionStore } from '../../src/store/gateDecisions.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { allowRecord } from '../helpers/gateRecords.js';
import { tempFolders } from '../helpers/tmp.js';

const folders = tempFolders();
afterEach(() => folders.cleanup());

const databasePath = () => join(folders.write({}), 'sloguard.db');

/** Status objects as the evaluator publishes them: only their identity and JSON matter to the audit trail. */
const statusesOf = (...names: string[]) =>
  names.map((name) => ({ name, sli: 0.999 }) as unknown as SloStatus);

const DAY_MS = 86_400_000;
const NOW = Date.UTC(2026, 11, 3, 12);

const decision = allowRecord;

/** The indexes SQLite keeps for gate_decisions, its own (a PRIMARY KEY's or UNIQUE's) included. */
const indexesOf = (db: Database.Database) =>
  db.prepare(`SELECT name FROM pragma_index_list('gate_decisions') ORDER BY name`).pluck().all() as string[];

/**
 * A database as it stood before the first migration whose SQL holds `marker`: every earlier migration applied by
 * hand, stamped with their count, as an older sloguard left it.
 */
function databaseBefore(marker: string): { path: string; old: Database.Database } {
  const path = databasePath();
  const upTo = MIGRATIONS.findIndex((migration) => migration.includes(marker));
  expect(upTo).toBeGreaterThan(0);
  const old = new Database(path);
  old.pragma('journal_mode = WAL');
  // The histogram recoding migration finds no rows to recode here.
  old.function('recode_histogram', (blob: unknown) => blob);
  for (const migration of MIGRATIONS.slice(0, upTo)) old.exec(migration);
  old.pragma(`user_version = ${upTo}`);
  old.pragma(`application_id = ${0x534c4f47}`);
  return { path, old };
}

describe('gate decisions audit trail', () => {
  it('moves the decisions of the five-b-tree trail into the new table, each listed with its statuses', () => {
    const { path, old } = databaseBefore('gate_decisions_kept');
    expect(indexesOf(old)).toHaveLength(4);
    old.exec(`INSERT INTO gate_inputs (id, statuses) VALUES (7, '[{"name":"web-availability"}]')`);
    const put = old.prepare(
      `INSERT INTO gate_decisions (id, decided_at_ms, service, change_type, decision, reason, request, answer, inputs_id)
       VALUES (?, ?, ?, 'feature', ?, 'r', '{"service":"web"}', ?, ?)`,
    );
    // Before migration 6 the statuses were part of the answer.
    put.run(
      'before-inputs',
      NOW - 3000,
      'web',
      'deny',
      '{"decision":"deny","statuses":[{"name":"kept"}]}',
      null,
    );
    put.run('with-inputs', NOW - 2000, 'web', 'allow', '{"decision":"allow"}', 7);
    put.run('other-service', NOW - 1000, 'api', 'warn', '{"decision":"warn"}', 7);
    old.close();

    const db = openDatabase(path);
    try {
      // A later migration keeps these rows under another name and keys new ones by time (no index by time).
      expect(indexesOf(db)).toEqual(['gate_decisions_by_service_and_key']);
      const store = new GateDecisionStore(db);
      const listed = store.list({ limit: 10 });
      expect(listed.map((d) => [d.id, d.decision, d.service])).toEqual([
        ['other-service', 'warn', 'api'],
        ['with-inputs', 'allow', 'web'],
        ['before-inputs', 'deny', 'web'],
      ]);
      expect(listed.map((d) => d.answer.statuses)).toEqual([
        [{ name: 'web-availability' }],
        [{ name: 'web-availability' }],
        [{ name: 'kept' }],
      ]);
      expect(store.list({ service: 'web', limit: 1 }).map((d) => d.id)).toEqual(['with-inputs']);
      // Still append-only, and the inputs a decision refers to cannot go before the first retention pass.
      expect(() => db.prepare(`UPDATE gate_decisions_unkeyed SET decision = 'allow'`).run()).toThrow(
        'append-only',
      );
      expect(() => db.prepare('DELETE FROM gate_decisions_unkeyed').run()).toThrow('append-only');
      expect(() => db.prepare('DELETE FROM gate_inputs').run()).toThrow('referred to');
    } finally {
      db.close();
    }
  });

  it('writes at most three WAL pages per decision committed alone, as at a thousand decisions a second', () => {
    const path = databasePath();
    const db = openDatabase(path);
    try {
      // Nothing copied back while counting: the WAL's growth is what the commits wrote.
      db.pragma('wal_autocheckpoint = 0');
      const store = new GateDecisionStore(db);
      const statuses = statusesOf('web-availability', 'web-latency');
      const commitOne = (i: number) => {
        store.append(decision(`d-${i}`, NOW + i, i % 3 === 0 ? 'web' : 'api', statuses));
        store.flush();
      };
      for (let i = 0; i < 100; i++) commitOne(i);
      const walBytes = () => statSync(`${path}-wal`).size;
      const before = walBytes();
      const COMMITS = 600;
      for (let i = 100; i < 100 + COMMITS; i++) commitOne(i);
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      const pagesPerCommit = (walBytes() - before) / (pageSize + 24) / COMMITS;
      // Five b-trees (the table, the id's primary key, by service, by time, by inputs) wrote 5.9, three 3.6.
      expect(pagesPerCommit).toBeLessThanOrEqual(3);
      expect(store.list({ limit: 1000 })).toHaveLength(100 + COMMITS);
    } finally {
      db.close();
    }
  });

  it("stores each answer as JSON.stringify writes it, a kept policy's text spliced in or not", () => {
    const db = openDatabase(':memory:');
    try {
      const store = new GateDecisionStore(db);
      const statuses = statusesOf('web-availability');
      const kept = decision('kept', NOW, 'web', statuses);
      // The same frozen policy again (its text reused), a policy not last, a mutable one, and none.
      const again = decision('again', NOW + 1, 'web', statuses);
      const { policy, ...rest } = kept.answer;
      const records = [
        kept,
        again,
        { ...again, id: 'not-last', answer: { policy, ...rest } },
        { ...again, id: 'mutable', answer: { ...rest, policy: { ...policy, mode: 'observe' } } },
        { ...again, id: 'none', answer: rest },
      ];
      for (const record of records) store.append(record);
      store.flush();
      const stored = db.prepare('SELECT id, answer FROM gate_decisions ORDER BY rowid').all();
      expect(stored).toEqual(records.map((r) => ({ id: r.id, answer: JSON.stringify(r.answer) })));
    } finally {
      db.close();
    }
  });

  it('keeps the inputs of every kept decision through retention, and drops those of a pass whose decisions are gone', () => {
    const db = openDatabase(':memory:');
    try {
      const store = new GateDecisionStore(db);
      const storedInputs = () =>
        db.prepare('SELECT id FROM gate_inputs ORDER BY id').pluck().all() as number[];
      const [first, second, third] = [statusesOf('a'), statusesOf('a'), statusesOf('a')];
      store.append(decision('old-1', NOW - 3 * DAY_MS, 'web', first!));
      store.append(decision('old-2', NOW - 2 * DAY_MS, 'web', second!));
      store.append(decision('kept-1', NOW - 1000, 'web', third!));
      store.flush();
      expect(storedInputs()).toEqual([1, 2, 3]);

      // The first pass knows of no earlier pass: its decisions go, their inputs stay until the next.
      expect(store.prune(NOW - DAY_MS, 1000)).toEqual({ decisions: 2, inputs: 0 });
      // After a pass the same statuses are stored again; a decision from a clock stepped back refers to them too.
      store.append(decision('kept-2', NOW, 'web', third!));
      store.append(decision('stepped-back', NOW - 2000, 'web', third!));
      store.flush();
      expect(storedInputs()).toEqual([1, 2, 3, 4]);
      expect(store.list({ limit: 10 }).map((d) => [d.id, d.answer.statuses])).toEqual([
        ['kept-2', [{ name: 'a', sli: 0.999 }]],
        ['kept-1', [{ name: 'a', sli: 0.999 }]],
        ['stepped-back', [{ name: 'a', sli: 0.999 }]],
      ]);
      // kept-1, the newest decision of the first pass, stays: so do the inputs up to that pass's newest.
      expect(store.prune(NOW - 1500, 1000)).toEqual({ decisions: 1, inputs: 0 });
      expect(() => db.prepare('DELETE FROM gate_inputs').run()).toThrow('referred to');
      // Once it goes, they go; kept-2's stay.
      expect(store.prune(NOW - 500, 1000)).toEqual({ decisions: 1, inputs: 3 });
      expect(storedInputs()).toEqual([4]);
      expect(store.list({ limit: 10 }).map((d) => [d.id, d.answer.statuses])).toEqual([
        ['kept-2', [{ name: 'a', sli: 0.999 }]],
      ]);

      // Past every decision, the newest inputs stay (new ones are numbered above them) and nothing breaks.
      expect(store.prune(NOW + 1, 0)).toEqual({ decisions: 1, inputs: 0 });
      expect(storedInputs()).toEqual([4]);
      store.append(decision('after', NOW + 2, 'web', statusesOf('a')));
      store.flush();
      expect(storedInputs()).toEqual([4, 5]);
      expect(store.list({ limit: 10 }).map((d) => [d.id, d.answer.statuses])).toEqual([
        ['after', [{ name: 'a', sli: 0.999 }]],
      ]);
      // The passes whose decisions are all gone are forgotten: one is left per pass not yet passed.
      expect(db.prepare('SELECT count(*) FROM gate_audit_passes').pluck().get()).toBe(1);
    } finally {
      db.close();
    }
  });

  it('keeps the decisions of the three-b-tree trail where they are, listed and retained with the keyed ones', () => {
    const { path, old } = databaseBefore('gate_decisions_unkeyed');
    expect(indexesOf(old)).toEqual(['gate_decisions_by_service', 'gate_decisions_by_time']);
    old.exec(`INSERT INTO gate_inputs (id, statuses) VALUES (7, '[{"name":"web-availability"}]')`);
    const put = old.prepare(
      `INSERT INTO gate_decisions (id, decided_at_ms, service, change_type, decision, reason, request, answer, inputs_id)
       VALUES (?, ?, ?, 'feature', 'allow', 'r', '{}', '{"decision":"allow"}', 7)`,
    );
    put.run('old-1', NOW - 4000, 'web');
    put.run('old-2', NOW - 3000, 'api');
    put.run('old-3', NOW - 2000, 'web');
    old.close();

    const db = openDatabase(path);
    try {
      expect(indexesOf(db)).toEqual(['gate_decisions_by_service_and_key']);
      expect(db.prepare('SELECT id FROM gate_decisions_unkeyed ORDER BY rowid').pluck().all()).toEqual([
        'old-1',
        'old-2',
        'old-3',
      ]);
      const store = new GateDecisionStore(db);
      const inputsOf = statusesOf('b');
      // Keyed decisions after, between and in the same millisecond as the unkeyed ones.
      store.append(decision('new-1', NOW - 3500, 'web', inputsOf));
      store.append(decision('new-2', NOW - 2000, 'api', inputsOf));
      store.append(decision('new-3', NOW - 1000, 'web', inputsOf));
      store.flush();
      const ids = (query: Parameters<GateDecisionStore['list']>[0]) => store.list(query).map((d) => d.id);
      expect(ids({ limit: 10 })).toEqual(['new-3', 'new-2', 'old-3', 'old-2', 'new-1', 'old-1']);
      expect(ids({ limit: 3 })).toEqual(['new-3', 'new-2', 'old-3']);
      expect(ids({ service: 'web', limit: 10 })).toEqual(['new-3', 'old-3', 'new-1', 'old-1']);
      expect(ids({ fromMs: NOW - 3000, toMs: NOW - 1000, limit: 10 })).toEqual(['new-2', 'old-3', 'old-2']);
      expect(store.list({ service: 'api', limit: 10 }).map((d) => d.answer.statuses)).toEqual([
        [{ name: 'b', sli: 0.999 }],
        [{ name: 'web-availability' }],
      ]);
      // Both tables append-only; a keyed row's key is its time.
      for (const table of ['gate_decisions', 'gate_decisions_unkeyed']) {
        expect(() => db.prepare(`UPDATE ${table} SET decision = 'deny'`).run()).toThrow('append-only');
        expect(() => db.prepare(`DELETE FROM ${table}`).run()).toThrow('append-only');
      }
      expect(() =>
        db
          .prepare(
            `INSERT INTO gate_decisions (id, decided_at_ms, service, change_type, decision, reason, request, answer)
             VALUES ('unkeyed', 1, 'web', 'feature', 'allow', 'r', '{}', '{}')`,
          )
          .run(),
      ).toThrow('CHECK constraint failed');
      // Retention by count across both: the newest four stay; the inputs of the unkeyed ones stay with them.
      expect(store.prune(0, 4)).toEqual({ decisions: 2, inputs: 0 });
      expect(ids({ limit: 10 })).toEqual(['new-3', 'new-2', 'old-3', 'old-2']);
      // By age: the unkeyed rows go; their inputs go once the decisions of the pass before are gone too.
      expect(store.prune(NOW - 1500, 1000)).toEqual({ decisions: 3, inputs: 0 });
      expect(ids({ limit: 10 })).toEqual(['new-3']);
      expect(store.prune(NOW, 1000)).toEqual({ decisions: 1, inputs: 1 });
      expect(db.prepare('SELECT id FROM gate_inputs').pluck().all()).toEqual([8]);
    } finally {
      db.close();
    }
  });

  it('numbers decisions within a millisecond in the order they were made, after a clock that steps back too', () => {
    const db = openDatabase(':memory:');
    try {
      const store = new GateDecisionStore(db);
      const statuses = statusesOf('a');
      const times = [NOW, NOW, NOW + 5, NOW, NOW + 5, NOW - 7];
      for (const [i, ms] of times.entries()) store.append(decision(`d${i}`, ms, 'web', statuses));
      store.flush();
      // One more in a later commit, in a millisecond an earlier commit filled.
      store.append(decision('d6', NOW, 'web', statuses));
      store.flush();
      expect(store.list({ limit: 10 }).map((d) => [d.id, d.decidedAtMs])).toEqual([
        ['d4', NOW + 5],
        ['d2', NOW + 5],
        ['d6', NOW],
        ['d3', NOW],
        ['d1', NOW],
        ['d0', NOW],
        ['d5', NOW - 7],
      ]);
      // A new store (a restart) continues after the newest stored.
      const restarted = new GateDecisionStore(db);
      restarted.append(decision('d7', NOW + 5, 'web', statuses));
      restarted.flush();
      expect(restarted.list({ limit: 2 }).map((d) => d.id)).toEqual(['d7', 'd4']);
    } finally {
      db.close();
    }
  });

  it('refuses a decision time no key holds, failing only that commit', () => {
    const db = openDatabase(':memory:');
    try {
      const store = new GateDecisionStore(db);
      for (const ms of [NOW + 0.5, -1, 2 ** 43, Number.NaN]) {
        store.append(decision('bad', ms, 'web', statusesOf('a')));
        expect(() => store.flush()).toThrow(RangeError);
      }
      store.append(decision('good', NOW, 'web', statusesOf('a')));
      store.flush();
      expect(store.list({ limit: 10 }).map((d) => d.id)).toEqual(['good']);
      expect(store.list({ fromMs: 2 ** 60, limit: 10 })).toEqual([]);
      expect(store.list({ toMs: Number.MAX_SAFE_INTEGER, limit: 10 })).toHaveLength(1);
    } finally {
      db.close();
    }
  });

  it('keeps exactly the newest decisions by count, counting from the oldest end', () => {
    const db = openDatabase(':memory:');
    try {
      const store = new GateDecisionStore(db);
      const statuses = statusesOf('a');
      for (let i = 0; i < 50; i++) store.append(decision(`d${i}`, NOW + i, i % 2 ? 'web' : 'api', statuses));
      store.flush();
      // Under the cap: only age counts.
      expect(store.prune(NOW + 10, 1000).decisions).toBe(10);
      expect(store.prune(0, 40).decisions).toBe(0);
      expect(store.prune(0, 25).decisions).toBe(15);
      expect(store.list({ limit: 100 }).map((d) => d.id)).toEqual(
        Array.from({ length: 25 }, (_, i) => `d${49 - i}`),
      );
      // Rows past the cutoff stay append-only.
      expect(() => db.prepare('DELETE FROM gate_decisions').run()).toThrow('append-only');
    } finally {
      db.close();
    }
  });
});
