import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SloRegistry } from '../../src/definitions/registry.js';
import { burnWindows } from '../../src/evaluate/math.js';
import type { EvaluationInput } from '../../src/evaluate/status.js';
import type { Correction } from '../../src/model/correction.js';
import type { SloDefinition } from '../../src/model/slo.js';
import type { SloStatus } from '../../src/model/status.js';
import { EVALUATION_SLICE_MS, SloEvaluator } from '../../src/schedule/scheduler.js';
import type { CountsRead, CountsSource } from '../../src/sources/counts.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { StatusStore } from '../../src/store/statuses.js';
import { tempDir } from '../helpers/tmp.js';

const NOW = Date.UTC(2026, 10, 23, 10, 0, 0);
const DAY = 86_400_000;

function slo(name: string): SloDefinition {
  return {
    name,
    service: 'shop',
    labels: {},
    indicator: { source: 'loadbalancer', select: {}, good: { kind: 'availability' } },
    objective: 0.99,
    objectivePercent: 99,
    windowMs: 28 * DAY,
    window: '28d',
    windowSpec: { kind: 'rolling', ms: 28 * DAY },
    budgeting: 'occurrences',
    format: 'native',
    location: { file: 'test', line: 1, column: 1 },
  };
}

/** The same good and valid events in every window. */
function counted(good: number, valid: number): EvaluationInput {
  const counts = { good, valid, errorBound: 0 };
  return {
    window: counts,
    burnWindows: Object.fromEntries(burnWindows(28 * DAY).map(([name]) => [name, counts])),
    lastObservationMs: NOW,
    windowStartMs: NOW - 28 * DAY,
  };
}

/** A source that answers from a table and records how it was asked. */
class RecordingSource implements CountsSource {
  readonly asked: Array<{ slo: string; corrections: readonly Correction[]; inPass: boolean }> = [];
  readonly refreshed: string[][] = [];
  passes = 0;
  private inPass = false;

  constructor(
    private readonly answers: Map<string, CountsRead> | ((name: string) => CountsRead),
    private readonly readsAll = false,
  ) {}

  reads(definition: SloDefinition): boolean {
    return this.readsAll || (this.answers instanceof Map && this.answers.has(definition.name));
  }

  async refresh(definitions: readonly SloDefinition[]): Promise<void> {
    this.refreshed.push(definitions.map((d) => d.name));
  }

  read(definition: SloDefinition, _nowMs: number, corrections: readonly Correction[]): CountsRead {
    this.asked.push({ slo: definition.name, corrections, inPass: this.inPass });
    return this.answers instanceof Map ? this.answers.get(definition.name)! : this.answers(definition.name);
  }

  readPass<T>(reads: () => T): T {
    this.passes += 1;
    this.inPass = true;
    try {
      return reads();
    } finally {
      this.inPass = false;
    }
  }
}

const dbs: Db[] = [];
const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const dir of dirs.splice(0)) dir.cleanup();
});

function evaluatorOf(store: CountsSource, ...others: CountsSource[]) {
  return evaluatorOver([slo('checkout'), slo('search')], store, ...others);
}

function freshDb(): Db {
  const dir = tempDir();
  dirs.push(dir);
  const db = openDatabase(join(dir.path, 'sloguard.db'));
  dbs.push(db);
  return db;
}

function evaluatorOver(definitions: SloDefinition[], store: CountsSource, ...others: CountsSource[]) {
  const registry = new SloRegistry(definitions);
  const evaluator = new SloEvaluator(store, new StatusStore(freshDb()), { registry }, 60_000);
  for (const source of others) evaluator.addSource(source);
  return evaluator;
}

describe('the scheduler asks the count sources', () => {
  it('reads each SLO from the first source that reads it and the rest from the store, inside every pass', () => {
    const store = new RecordingSource(() => counted(999, 1000), true);
    const engine = new RecordingSource(new Map([['checkout', counted(90, 100)]]));
    const evaluator = evaluatorOf(store, engine);
    const planned: Correction[] = [];
    evaluator.useCorrections(() => planned);
    const statuses = evaluator.evaluateAll(NOW);
    expect(statuses.map((s) => [s.name, s.sli])).toEqual([
      ['checkout', 0.9],
      ['search', 0.999],
    ]);
    expect(engine.asked.map((r) => r.slo)).toEqual(['checkout']);
    expect(store.asked.map((r) => r.slo)).toEqual(['search']);
    expect([...engine.asked, ...store.asked].every((r) => r.inPass)).toBe(true);
    expect([engine.passes, store.passes]).toEqual([1, 1]);
    expect(store.asked[0]!.corrections).toBe(planned);
  });

  it('refreshes every source with the SLOs before a tick reads them', async () => {
    const store = new RecordingSource(() => counted(1, 1), true);
    const engine = new RecordingSource(new Map([['checkout', counted(1, 1)]]));
    await evaluatorOf(store, engine).tick(NOW);
    expect(engine.refreshed).toEqual([['checkout', 'search']]);
    expect(store.refreshed).toEqual([['checkout', 'search']]);
  });

  it('keeps the last numbers of an SLO whose source failed, marked stale with the reason', () => {
    const answers = new Map<string, CountsRead>([['checkout', counted(95, 100)]]);
    const evaluator = evaluatorOf(
      new RecordingSource(() => counted(1, 1), true),
      new RecordingSource(answers),
    );
    evaluator.evaluateAll(NOW);
    answers.set('checkout', { failure: 'engine: no answer within 5000 ms' });
    const [checkout] = evaluator.evaluateAll(NOW + 60_000);
    expect(checkout!.sli).toBe(0.95);
    expect(checkout!.staleReason).toBe('engine: no answer within 5000 ms');
    expect(evaluator.isStale(checkout!, NOW + 60_000)).toBe(true);
  });
});

/** Holds the thread for `ms` of CPU work, as a read of a large store does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('a tick over many SLOs', () => {
  const many = Array.from({ length: 40 }, (_, i) => slo(`slo-${i}`));

  it('evaluates in slices that yield to the event loop, and publishes the statuses together at the end', async () => {
    const evaluator = evaluatorOver(
      many,
      new RecordingSource(() => {
        busy(2);
        return counted(999, 1000);
      }, true),
    );
    // What other work (the gate) sees while the tick runs: how many turns it got, and the statuses then.
    const seen: number[] = [];
    let done = false;
    const turn = () => {
      seen.push(evaluator.current().length);
      if (!done) setImmediate(turn);
    };
    setImmediate(turn);
    const tick = evaluator.tick(NOW).then((statuses) => {
      done = true;
      return statuses;
    });
    expect(await tick).toHaveLength(40);
    // 80 ms of reads, 2 ms each, in slices of EVALUATION_SLICE_MS (1 ms): every read overruns its slice, so
    // other work ran between each two of the 40 slices, and never saw half a tick.
    expect(EVALUATION_SLICE_MS).toBeLessThan(2);
    expect(seen.length).toBeGreaterThanOrEqual(many.length - 1);
    expect(seen.every((count) => count === 0)).toBe(true);
    expect(evaluator.current()).toHaveLength(40);
    expect(evaluator.hasEvaluated).toBe(true);
  });

  it('answers what a turn queued before the next slice: a gate request rarely waits for more than the slice under way', async () => {
    let read = 0;
    const evaluator = evaluatorOver(
      many,
      new RecordingSource(() => {
        read += 1;
        busy(2);
        return counted(999, 1000);
      }, true),
    );
    // A request read in a turn (a timer here, as a socket read in the poll phase) queues its answer with
    // setImmediate, as the gate's decision commit does: how many SLOs were read between the two.
    const readBetween: number[] = [];
    let done = false;
    const request = () => {
      const at = read;
      setImmediate(() => readBetween.push(read - at));
      if (!done) setTimeout(request, 0);
    };
    setTimeout(request, 0);
    await evaluator.tick(NOW);
    done = true;
    expect(readBetween.length).toBeGreaterThanOrEqual(many.length / 2);
    // Yielding once, nine in ten waited for the next slice too; now only one read in the turn the slice starts.
    const waited = readBetween.filter((between) => between > 0);
    expect(waited.length).toBeLessThan(readBetween.length / 3);
  });

  it('saves the statuses in slices too, yielding between them, and publishes them only once all are saved', async () => {
    const db = freshDb();
    /** A store whose every save slice holds the thread 2 ms (a large status, a slow disk) and saves one status. */
    class SlowStatusStore extends StatusStore {
      override saveFrom(statuses: readonly SloStatus[], from: number, untilMs: number): number {
        busy(2);
        return super.saveFrom(statuses, from, untilMs);
      }
    }
    let read = 0;
    const source = new RecordingSource(() => {
      read += 1;
      return counted(999, 1000);
    }, true);
    const evaluator = new SloEvaluator(
      source,
      new SlowStatusStore(db),
      { registry: new SloRegistry(many) },
      60_000,
    );
    // The turns other work got once every SLO was read, and what it saw of the statuses then.
    const seenWhileSaving: number[] = [];
    let done = false;
    const turn = () => {
      if (read === many.length) seenWhileSaving.push(evaluator.current().length);
      if (!done) setImmediate(turn);
    };
    setImmediate(turn);
    await evaluator.tick(NOW);
    done = true;
    // 40 saves of at least 2 ms, each in a slice of its own: the loop turned between them.
    expect(seenWhileSaving.length).toBeGreaterThanOrEqual(many.length / 2);
    expect(seenWhileSaving.every((count) => count === 0)).toBe(true);
    expect(evaluator.current()).toHaveLength(many.length);
    const saved = new StatusStore(db).loadAll();
    expect(saved.map((status) => status.name).sort()).toEqual(many.map((d) => d.name).sort());
    expect(saved.every((status) => status.evaluatedAtMs === NOW)).toBe(true);
  });

  it('yields between listeners that spend a slice, once the statuses are current, and resolves after the last', async () => {
    const evaluator = evaluatorOver(many, new RecordingSource(() => counted(999, 1000), true));
    const events: string[] = [];
    for (const name of ['alerting', 'freezes'])
      evaluator.onEvaluated((statuses) => {
        events.push(`${name}: ${statuses.length} evaluated, ${evaluator.current().length} current`);
        busy(EVALUATION_SLICE_MS);
        // What a gate request read during this listener queues (its decision's commit): done before the next.
        setImmediate(() => events.push(`answered after ${name}`));
      });
    await evaluator.tick(NOW);
    events.push('tick resolved');
    expect(events.slice(0, 3)).toEqual([
      'alerting: 40 evaluated, 40 current',
      'answered after alerting',
      'freezes: 40 evaluated, 40 current',
    ]);
    expect(events.indexOf('tick resolved')).toBeGreaterThan(2);
    // evaluateAll (tests, benches) still tells every listener at once.
    events.length = 0;
    evaluator.evaluateAll(NOW + 60_000);
    expect(events).toEqual(['alerting: 40 evaluated, 40 current', 'freezes: 40 evaluated, 40 current']);
  });

  it('runs a listener given as steps in slices, the loop turning between them, with the result it has in one piece', async () => {
    const evaluator = evaluatorOver(many, new RecordingSource(() => counted(999, 1000), true));
    /** A listener over every status, 0.5 ms a status (alerting at scale): what it saw, and when. */
    const passes: Array<{ names: string[]; turnsAtStart: number; turnsAtEnd: number }> = [];
    let turns = 0;
    evaluator.onEvaluatedInSteps(function* listener(statuses) {
      const pass = { names: [] as string[], turnsAtStart: turns, turnsAtEnd: turns };
      for (const status of statuses) {
        busy(0.5);
        pass.names.push(`${status.name} ${status.evaluatedAtMs - NOW}`);
        yield;
      }
      pass.turnsAtEnd = turns;
      passes.push(pass);
    });
    let counting = true;
    const count = () => {
      turns += 1;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    // A second tick asked at once waits for the first's listener to finish: the passes never interleave.
    await Promise.all([evaluator.tick(NOW), evaluator.tick(NOW + 60_000)]);
    counting = false;
    expect(passes.map((pass) => pass.names)).toEqual([
      many.map((d) => `${d.name} 0`),
      many.map((d) => `${d.name} 60000`),
    ]);
    // 20 ms of steps in 1 ms slices: the loop turned between them (two turns a yield).
    for (const pass of passes) expect(pass.turnsAtEnd - pass.turnsAtStart).toBeGreaterThanOrEqual(10);
    // evaluateAll (tests, benches) runs it in one piece, with the same result.
    passes.length = 0;
    const before = turns;
    evaluator.evaluateAll(NOW + 120_000);
    expect(passes.map((pass) => pass.names)).toEqual([many.map((d) => `${d.name} 120000`)]);
    expect(turns).toBe(before);
  });

  it('completes a tick whose evaluation and listeners fit one slice in the turn it began', async () => {
    const evaluator = evaluatorOf(new RecordingSource(() => counted(999, 1000), true));
    const seen: string[] = [];
    evaluator.onEvaluatedInSteps(function* listener(statuses) {
      for (const status of statuses) {
        seen.push(status.name);
        yield;
      }
    });
    evaluator.onEvaluated((statuses) => seen.push(`whole ${statuses.length}`));
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    await evaluator.tick(NOW);
    expect(seen).toEqual(['checkout', 'search', 'whole 2']);
    expect(turned).toBe(false);
  });

  it('runs ticks one after another: a second tick asked during the first reads only after it is published', async () => {
    const order: string[] = [];
    const evaluator = evaluatorOver(
      many,
      new RecordingSource((name) => {
        busy(1);
        order.push(name);
        return counted(999, 1000);
      }, true),
    );
    evaluator.onEvaluated((statuses) => order.push(`published ${statuses[0]!.evaluatedAtMs - NOW}`));
    await Promise.all([evaluator.tick(NOW), evaluator.tick(NOW + 60_000)]);
    const names = many.map((d) => d.name);
    expect(order).toEqual([...names, 'published 0', ...names, 'published 60000']);
  });
});
