import type { SloStatus } from '../model/status.js';
import { retentionCutoff, type TrailQuery, trailParams } from './auditTrail.js';
import { BatchedCommit } from './batchedCommit.js';
import type { Db } from './database.js';

/** One row of the append-only audit trail of gate decisions. */
export interface GateDecisionRecord {
  id: string;
  decidedAtMs: number;
  service: string;
  environment: string | null;
  version: string | null;
  changeType: string;
  decision: string;
  reason: string;
  request: unknown;
  /** The answer given; `list()` returns it with the statuses it was based on as `answer.statuses`. */
  answer: Record<string, unknown>;
  /** The statuses the decision was based on, as the evaluator published them. */
  statuses: readonly SloStatus[];
}

/**
 * A decision's row is keyed by its time and its place among the decisions of that millisecond (migration 18):
 * decided_at_ms * KEYS_PER_MS + place, so the table's own b-tree is the trail's order by time.
 */
const KEY_PLACE_BITS = 20;
const KEYS_PER_MS = 2 ** KEY_PLACE_BITS;
/** The latest time a key holds within SQLite's 64-bit integers: 2^43 ms, the year 2248. */
const MAX_DECIDED_AT_MS = 2 ** (63 - KEY_PLACE_BITS) - 1;

/** A `gate_inputs` row and the status objects it was stored from. */
interface StoredInputs {
  statuses: readonly SloStatus[];
  id: number;
}

interface DecisionRow {
  id: string;
  decided_at_ms: number;
  service: string;
  environment: string | null;
  version: string | null;
  change_type: string;
  decision: string;
  reason: string;
  request: string;
  answer: string;
  /** Null for decisions stored before migration 6, whose answer holds their statuses. */
  inputs: string | null;
}

/**
 * Decisions are committed in groups: those made in one turn of the event loop share one transaction, and a
 * caller is answered only once its decision is committed (`committed()`), so the audit trail never misses
 * an answer CI acted on, while one commit per decision would cost the gate more than the decision itself.
 *
 * The statuses a decision was based on change only once per evaluation, while the gate may decide a thousand
 * times a second on them: they are stored once (`gate_inputs`) and every decision made on the same status
 * objects refers to that row.
 *
 * A decision committed alone writes a WAL page for each b-tree it touches: the table, keyed by time, and its
 * index by service. The id (a UUIDv7) has no index: nothing looks a decision up by it, and its 74 random bits
 * a millisecond make a repeat unlikely rather than refused. Decisions stored before migration 18 stay in
 * `gate_decisions_unkeyed` (by time and by service, as stored) until retention empties it. Retention of the
 * inputs rests on this store forgetting its stored inputs at each pass: one store per database.
 */
export class GateDecisionStore {
  private readonly queryAll;
  private readonly queryService;
  private readonly pruneAll;
  private readonly writer: BatchedCommit<GateDecisionRecord>;
  /** The last stored inputs of each list of SLOs, by the identity of the status objects. */
  private readonly storedInputs = new Map<string, StoredInputs>();

  constructor(db: Db) {
    const insert = db.prepare<
      [
        number,
        number,
        string,
        number,
        string,
        string | null,
        string | null,
        string,
        string,
        string,
        string,
        string,
        number,
      ]
    >(
      `INSERT INTO gate_decisions (decision_key, id, decided_at_ms, service, environment, version, change_type, decision, reason, request, answer, inputs_id)
       VALUES (CAST(? AS INTEGER) * ${KEYS_PER_MS} + CAST(? AS INTEGER), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // The next place within a millisecond that already holds decisions (the clock repeats or steps back).
    const nextPlace = db
      .prepare<[number, number, number], number>(
        `SELECT coalesce(max(decision_key) - CAST(? AS INTEGER) * ${KEYS_PER_MS} + 1, 0) FROM gate_decisions
         WHERE decision_key >= CAST(? AS INTEGER) * ${KEYS_PER_MS} AND decision_key <= CAST(? AS INTEGER) * ${KEYS_PER_MS} + ${KEYS_PER_MS - 1}`,
      )
      .pluck(true);
    // Decisions later than the newest stored take the first place of their millisecond. Never below the newest
    // stored (a rolled back commit may leave it above, which only costs a lookup).
    let newestMs =
      db
        .prepare<[], number | null>(`SELECT max(decision_key) >> ${KEY_PLACE_BITS} FROM gate_decisions`)
        .pluck(true)
        .get() ?? null;
    const placeOf = (decidedAtMs: number): number => {
      if (!Number.isSafeInteger(decidedAtMs) || decidedAtMs < 0 || decidedAtMs > MAX_DECIDED_AT_MS)
        throw new RangeError(
          `decidedAtMs ${decidedAtMs}: expected whole milliseconds in [0, ${MAX_DECIDED_AT_MS}]`,
        );
      const place =
        newestMs === null || decidedAtMs > newestMs
          ? 0
          : nextPlace.get(decidedAtMs, decidedAtMs, decidedAtMs)!;
      if (place >= KEYS_PER_MS)
        throw new RangeError(`more than ${KEYS_PER_MS} decisions at ${decidedAtMs} ms`);
      newestMs = Math.max(newestMs ?? decidedAtMs, decidedAtMs);
      return place;
    };
    const insertInputs = db.prepare<[string]>(`INSERT INTO gate_inputs (statuses) VALUES (?)`);
    const insertAll = db.transaction((records: readonly GateDecisionRecord[]) => {
      // Kept apart until the commit succeeds: a rolled back row id must not be referred to later.
      const added = new Map<string, StoredInputs>();
      let last: StoredInputs | undefined;
      for (const record of records) {
        const { statuses } = record;
        // Most decisions in a row are made on the statuses of the one before.
        let inputs = last !== undefined && sameStatuses(last.statuses, statuses) ? last : undefined;
        if (inputs === undefined) {
          const key = statuses.map((s) => s.name).join('\u0000');
          inputs = added.get(key) ?? this.storedInputs.get(key);
          if (inputs === undefined || !sameStatuses(inputs.statuses, statuses)) {
            inputs = { statuses, id: Number(insertInputs.run(JSON.stringify(statuses)).lastInsertRowid) };
            added.set(key, inputs);
          }
        }
        last = inputs;
        insert.run(
          record.decidedAtMs,
          placeOf(record.decidedAtMs),
          record.id,
          record.decidedAtMs,
          record.service,
          record.environment,
          record.version,
          record.changeType,
          record.decision,
          record.reason,
          JSON.stringify(record.request),
          JSON.stringify(record.answer),
          inputs.id,
        );
      }
      return added;
    });
    this.writer = new BatchedCommit((records) => {
      for (const [key, inputs] of insertAll(records)) this.storedInputs.set(key, inputs);
    });
    // count(*) reads an index by service, far smaller than a table; the newest beyond `keep` is then counted from
    // the oldest row, a short walk when retention runs often enough to keep the trail near its cap. While
    // decisions stored before migration 18 remain, the walk merges them (by time) with the keyed ones.
    const count = (table: string) => db.prepare<[], number>(`SELECT count(*) FROM ${table}`).pluck(true);
    const [countUnkeyed, countKeyed] = [count('gate_decisions_unkeyed'), count('gate_decisions')];
    const oldestFirst = (table: string, order: string) =>
      db.prepare<[], number>(`SELECT decided_at_ms FROM ${table} ORDER BY ${order}`).pluck(true);
    const unkeyedTimes = oldestFirst('gate_decisions_unkeyed', 'decided_at_ms');
    const keyedTimes = oldestFirst('gate_decisions', 'decision_key');
    const newestBeyond = (keep: number): number | undefined => {
      const beyond = countUnkeyed.get()! + countKeyed.get()! - keep - 1;
      return beyond < 0 ? undefined : nthOfMerged(unkeyedTimes.iterate(), keyedTimes.iterate(), beyond);
    };
    const setCutoff = db.prepare<[number]>(`UPDATE gate_audit_cutoff SET cutoff_ms = ?`);
    const deleteUnkeyed = db.prepare<[number]>(`DELETE FROM gate_decisions_unkeyed WHERE decided_at_ms < ?`);
    const deleteKeyed = db.prepare<[number]>(
      `DELETE FROM gate_decisions WHERE decision_key < CAST(? AS INTEGER) * ${KEYS_PER_MS}`,
    );
    // The inputs below the newest of the last pass whose decisions are all gone (migration 18), and below every
    // inputs a decision stored before migration 18 refers to (read from them while they last); never past the
    // newest inputs, so that new ones are numbered above the cutoff (gate_inputs reuses the highest id + 1).
    const firstReferred = db
      .prepare<[number], number>(
        `SELECT min(coalesce((SELECT max(inputs_id) + 1 FROM gate_audit_passes
                              WHERE decision_key < CAST(? AS INTEGER) * ${KEYS_PER_MS}), 0),
                    coalesce((SELECT min(inputs_id) FROM gate_decisions_unkeyed), max(id)),
                    max(id))
         FROM gate_inputs`,
      )
      .pluck(true);
    const forgetPasses = db.prepare<[number]>(
      `DELETE FROM gate_audit_passes WHERE decision_key < CAST(? AS INTEGER) * ${KEYS_PER_MS}`,
    );
    // A later pass with the same newest decision has the same or newer inputs.
    const recordPass = db.prepare(
      `INSERT OR REPLACE INTO gate_audit_passes (decision_key, inputs_id)
       VALUES (coalesce((SELECT max(decision_key) FROM gate_decisions), -1), coalesce((SELECT max(id) FROM gate_inputs), 0))`,
    );
    const setInputsCutoff = db.prepare<[number]>(`UPDATE gate_audit_cutoff SET inputs_cutoff = ?`);
    const deleteInputs = db.prepare<[number]>(`DELETE FROM gate_inputs WHERE id < ?`);
    this.pruneAll = db.transaction((beforeMs: number, keep: number) => {
      const cutoff = retentionCutoff(beforeMs, newestBeyond(keep));
      // The delete triggers let only rows older than these cutoffs go.
      setCutoff.run(cutoff);
      const decisions = deleteUnkeyed.run(cutoff).changes + deleteKeyed.run(cutoff).changes;
      const inputsCutoff = firstReferred.get(cutoff) ?? 0;
      setInputsCutoff.run(inputsCutoff);
      const inputs = deleteInputs.run(inputsCutoff).changes;
      forgetPasses.run(cutoff);
      // prune() forgets the stored inputs right after this commits.
      recordPass.run();
      return { decisions, inputs };
    });
    // One statement for all services and one for a service, so that the latter reads the index by service.
    const listing = (table: string, services: string, range: string, order: string) =>
      db.prepare<ReturnType<typeof trailParams>, DecisionRow>(
        `SELECT d.id, d.decided_at_ms, d.service, d.environment, d.version, d.change_type, d.decision, d.reason,
           d.request, d.answer, i.statuses AS inputs
         FROM ${table} d LEFT JOIN gate_inputs i ON i.id = d.inputs_id
         WHERE ${services} AND ${range} ORDER BY ${order} LIMIT @limit`,
      );
    const keyed = (services: string) =>
      listing(
        'gate_decisions',
        services,
        `d.decision_key >= CAST(@from AS INTEGER) * ${KEYS_PER_MS}
           AND d.decision_key <= (CAST(@to AS INTEGER) - 1) * ${KEYS_PER_MS} + ${KEYS_PER_MS - 1}`,
        'd.decision_key DESC',
      );
    const unkeyed = (services: string) =>
      listing(
        'gate_decisions_unkeyed',
        services,
        'd.decided_at_ms >= @from AND d.decided_at_ms < @to',
        'd.decided_at_ms DESC, d.id DESC',
      );
    this.queryAll = [keyed('@service IS NULL'), unkeyed('@service IS NULL')] as const;
    this.queryService = [keyed('d.service = @service'), unkeyed('d.service = @service')] as const;
  }

  append(record: GateDecisionRecord): void {
    this.writer.add(record);
  }

  /** Resolves once every decision appended so far is committed. */
  committed(): Promise<void> {
    return this.writer.committed();
  }

  /** Commits the decisions not yet written, in one transaction; throws if that fails. */
  flush(): void {
    const failure = this.writer.flush();
    if (failure !== undefined) throw failure;
  }

  /**
   * Retention: drops decisions older than `beforeMs` and all but the newest `keep`, and the stored inputs up to
   * the newest of the last pass whose decisions are all gone (so inputs outlive their decisions by a pass).
   */
  prune(beforeMs: number, keep: number): { decisions: number; inputs: number } {
    this.flush();
    const removed = this.pruneAll(beforeMs, keep);
    // What the pass just recorded rests on: decisions from now on refer only to inputs stored from now on.
    this.storedInputs.clear();
    return removed;
  }

  list(query: TrailQuery): GateDecisionRecord[] {
    this.flush();
    const params = trailParams(query);
    // Keys past the last whole millisecond would not be whole numbers.
    params.from = Math.min(Math.max(params.from, 0), MAX_DECIDED_AT_MS + 1);
    params.to = Math.min(Math.max(params.to, 0), MAX_DECIDED_AT_MS + 1);
    const [keyed, unkeyed] = params.service === null ? this.queryAll : this.queryService;
    const rows = newestFirst(keyed.all(params), unkeyed.all(params), params.limit);
    // Decisions on the same evaluation share their statuses: parse them once.
    const parsed = new Map<string, unknown>();
    return rows.map((row) => {
      const answer = JSON.parse(row.answer) as Record<string, unknown>;
      if (row.inputs !== null) {
        if (!parsed.has(row.inputs)) parsed.set(row.inputs, JSON.parse(row.inputs));
        answer.statuses = parsed.get(row.inputs);
      }
      return {
        id: row.id,
        decidedAtMs: row.decided_at_ms,
        service: row.service,
        environment: row.environment,
        version: row.version,
        changeType: row.change_type,
        decision: row.decision,
        reason: row.reason,
        request: JSON.parse(row.request) as unknown,
        answer,
        statuses: answer.statuses as SloStatus[],
      };
    });
  }
}

/** The `n`th (from 0) of the values of two ascending iterators taken together, which hold more than `n`. */
function nthOfMerged(a: IterableIterator<number>, b: IterableIterator<number>, n: number): number {
  try {
    let [x, y] = [a.next(), b.next()];
    for (let i = 0; ; i++) {
      if (x.done && y.done) throw new Error(`fewer than ${n + 1} decisions to count`);
      const fromA = y.done || (!x.done && x.value <= y.value);
      const value = (fromA ? x.value : y.value) as number;
      if (i === n) return value;
      if (fromA) x = a.next();
      else y = b.next();
    }
  } finally {
    // Ends the statements' reads, which would otherwise hold them busy.
    a.return?.();
    b.return?.();
  }
}

/**
 * The newest `limit` of two listings, each newest first; a keyed decision comes before an unkeyed one of the
 * same millisecond (stored after it).
 */
function newestFirst(keyed: DecisionRow[], unkeyed: DecisionRow[], limit: number): DecisionRow[] {
  if (unkeyed.length === 0) return keyed;
  const rows: DecisionRow[] = [];
  let [k, u] = [0, 0];
  while (rows.length < limit && (k < keyed.length || u < unkeyed.length)) {
    const takeKeyed =
      u === unkeyed.length || (k < keyed.length && keyed[k]!.decided_at_ms >= unkeyed[u]!.decided_at_ms);
    rows.push(takeKeyed ? keyed[k++]! : unkeyed[u++]!);
  }
  return rows;
}

/** The same status objects: the evaluator publishes new ones on each evaluation and never changes them. */
function sameStatuses(stored: readonly SloStatus[], statuses: readonly SloStatus[]): boolean {
  return stored.length === statuses.length && stored.every((s, i) => s === statuses[i]);
}
