/**
 * Evaluating 1,000 native SLOs on the engine (issue #21): the same SLOs read from a real VictoriaMetrics
 * through the PromQL sloguard generates over the collectors' series, against the embedded store, in the same
 * round. Both sides hold the same two hours of traffic of 1,000 series (one per SLO, so no two SLOs share a
 * query): the store as the ingest code counts it, the engine as collectors would have written it
 * (test/helpers/contractSeries.ts). A round times one evaluation tick on each side (the engine's refresh
 * included) and checks that both give the same SLIs; the figure is the engine's time over the store's, and
 * the evaluator's own CPU time on the engine path (what it costs sloguard, the engine's work aside).
 *
 *   BENCH_ROUNDS=3 npm run bench -- engine
 *   npx tsx bench/engine.bench.ts --slices 5m   (ratio-timeslices of 5 minutes: one range query per SLO and query)
 *
 * With --slices a round also times a warm tick: an evaluator that ticked one slice earlier keeps its finished
 * slices (sources/promql/sliceCache.ts) and asks only the one that closed since; its time over a cold tick's
 * (a fresh evaluator asking the whole window's slices, what every tick cost before the cache) is the second
 * figure, and its answers must equal the store's too.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/config/duration.js';
import { SloRegistry } from '../src/definitions/registry.js';
import { BatchAggregate } from '../src/ingest/aggregate.js';
import type { PrometheusDataSource } from '../src/model/promql.js';
import type { SloDefinition } from '../src/model/slo.js';
import type { SloStatus } from '../src/model/status.js';
import { SloEvaluator } from '../src/schedule/scheduler.js';
import { enginePlan } from '../src/sources/engine/plan.js';
import { PrometheusCounts } from '../src/sources/promql/source.js';
import { StoreCounts } from '../src/sources/store/counts.js';
import { BucketStore } from '../src/store/buckets.js';
import { openDatabase } from '../src/store/database.js';
import { StatusStore } from '../src/store/statuses.js';
import { type CollectedObservation, contractSeries, importLines } from '../test/helpers/contractSeries.js';
import { VictoriaMetricsServer } from '../test/helpers/victoriametrics.js';
import { Comparison, figure, rounds } from './method.js';

const { values } = parseArgs({ options: { slices: { type: 'string' } } });
const SLICE_MS = values.slices === undefined ? undefined : parseDuration(values.slices);
const SLOS = 1_000;
const MINUTE_MS = 60_000;
const GRID_MS = 60_000;
const HOURS = 2;
const ROUNDS = rounds(3);
const AT_MS = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - MINUTE_MS;

function definitions(): SloDefinition[] {
  return Array.from({ length: SLOS }, (_, i) => ({
    name: `slo-${i}`,
    service: `svc-${i % 100}`,
    labels: {},
    indicator: {
      source: 'loadbalancer' as const,
      select: { route: `/r/${i}`, method: 'GET' },
      good: { kind: 'availability' as const },
    },
    objective: 0.999,
    objectivePercent: 99.9,
    windowMs: 28 * 86_400_000,
    window: '28d',
    windowSpec: { kind: 'rolling' as const, ms: 28 * 86_400_000 },
    ...(SLICE_MS === undefined
      ? { budgeting: 'occurrences' as const }
      : { budgeting: 'ratio-timeslices' as const, timeslices: { sliceMs: SLICE_MS } }),
    format: 'native' as const,
    location: { file: 'bench', line: 1, column: 1 },
  }));
}

/** Four requests a minute per series for two hours; one in 50 of series i's requests fails when i is odd. */
function traffic(): CollectedObservation[] {
  const observations: CollectedObservation[] = [];
  for (let i = 0; i < SLOS; i++) {
    for (let m = HOURS * 60; m > 0; m--) {
      for (let k = 0; k < 4; k++) {
        const error = i % 2 === 1 && (m * 4 + k) % 50 === 0;
        observations.push({
          timeMs: AT_MS - m * MINUTE_MS + k * 15_000 + 1_000,
          kind: 'loadbalancer',
          source: 'edge',
          service: `svc-${i % 100}`,
          operation: `/r/${i}`,
          method: 'GET',
          status: error ? 503 : 200,
          error,
          collector: `c${k % 2}`,
        });
      }
    }
  }
  return observations;
}

const registry = new SloRegistry(definitions());
const observations = traffic();
const db = openDatabase(':memory:');
const buckets = new BucketStore(db, 1);
const batch = new BatchAggregate();
for (const observation of observations) batch.add(observation);
buckets.commit(batch);
const embedded = new SloEvaluator(new StoreCounts(buckets), new StatusStore(db), { registry }, MINUTE_MS);

const victoria = await VictoriaMetricsServer.start();
try {
  const lines = importLines(contractSeries(observations, registry, GRID_MS, AT_MS));
  for (let from = 0; from < lines.length; from += 50_000)
    await victoria.importPrometheus(lines.slice(from, from + 50_000));
  const dataSource: PrometheusDataSource = { name: 'engine', url: victoria.url, timeoutMs: 60_000 };
  const engineEvaluator = () => {
    const emptyDb = openDatabase(':memory:');
    const evaluator = new SloEvaluator(
      new StoreCounts(new BucketStore(emptyDb, 1)),
      new StatusStore(emptyDb),
      { registry },
      MINUTE_MS,
    );
    evaluator.addSource(
      new PrometheusCounts(
        process.env,
        enginePlan(
          { dataSource: 'engine', gridMs: GRID_MS, delayMs: 0 },
          () => new Map([['engine', dataSource]]),
        ),
      ),
    );
    return evaluator;
  };
  process.stdout.write(`${SLOS} SLOs, ${lines.length.toLocaleString('en-US')} samples in VictoriaMetrics\n`);
  const comparison = new Comparison(
    `tick of ${SLOS} native SLOs${SLICE_MS ? ` (ratio-timeslices of ${values.slices})` : ''}, engine vs embedded`,
    'ms',
    'embedded',
    'ours/baseline',
  );
  const warmVsCold = new Comparison(
    `tick of ${SLOS} native SLOs (ratio-timeslices of ${values.slices}), warm slice cache vs cold`,
    'ms',
    'cold',
    'ours/baseline',
  );
  const cpu: number[] = [];
  const timed = async (tick: () => Promise<SloStatus[]>) => {
    const started = performance.now();
    const statuses = await tick();
    return { statuses, ms: performance.now() - started };
  };
  const same = (read: readonly SloStatus[], stored: readonly SloStatus[]) => {
    const differ = read.filter(
      (s, i) =>
        s.sli !== stored[i]!.sli ||
        s.staleReason !== undefined ||
        s.slices?.valid !== stored[i]!.slices?.valid,
    ).length;
    if (differ > 0) throw new Error(`${differ} SLOs differ between the engine and the store`);
  };
  for (let round = 0; round < ROUNDS; round++) {
    const stored = await timed(() => embedded.tick(AT_MS));
    // A fresh evaluator each round: its tick asks everything, as the first tick after a start does.
    const onEngine = engineEvaluator();
    const cpuBefore = process.cpuUsage();
    const cold = await timed(() => onEngine.tick(AT_MS));
    const used = process.cpuUsage(cpuBefore);
    cpu.push((used.user + used.system) / 1000);
    same(cold.statuses, stored.statuses);
    comparison.add(cold.ms, stored.ms);
    if (SLICE_MS === undefined) continue;
    const warmed = engineEvaluator();
    await warmed.tick(AT_MS - SLICE_MS);
    const warm = await timed(() => warmed.tick(AT_MS));
    same(warm.statuses, stored.statuses);
    warmVsCold.add(warm.ms, cold.ms);
  }
  comparison.print();
  if (SLICE_MS !== undefined) warmVsCold.print();
  figure('evaluator CPU time per tick on the engine path', cpu, 'ms');
} finally {
  await victoria.stop();
}
