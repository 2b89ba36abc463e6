import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { judgeEvent } from '../../src/definitions/eventRules.js';
import type { SloRegistry } from '../../src/definitions/registry.js';
import { COLLECTOR_METRICS } from '../../src/model/collectorSeries.js';
import type { Observation } from '../../src/model/observation.js';
import { leSpellings, promQlString } from '../../src/sources/engine/queries.js';
import { EngineProcess, PROMETHEUS_BINARY, PROMTOOL_BINARY } from './prometheus.js';

/** An observation as one collector instance (`collector` label) counted it. */
export interface CollectedObservation extends Observation {
  collector: string;
}

/** One counter series of the contract: its sample text without value and time, and its increments by grid point. */
interface CounterSeries {
  text: string;
  collector: string;
  increments: Map<number, number>;
}

/**
 * The series collectors write (docs/scaling.md, "Series the collectors write"), made by the test itself from
 * its observations, as a collector flushing on time would: an observation at `t` lands on the first grid point
 * after it, each series starts with a 0 one grid point before its first increment and is written at every grid
 * point up to `untilMs`, or up to when its collector was killed (`killedMs`: the last grid point it wrote).
 * Returns samples per series, as `[text, [timeMs, value][]]`.
 */
export function contractSeries(
  observations: readonly CollectedObservation[],
  registry: SloRegistry,
  gridMs: number,
  untilMs: number,
  killedMs: Record<string, number> = {},
): Array<[string, Array<[number, number]>]> {
  const series = new Map<string, CounterSeries>();
  const add = (metric: string, labels: Record<string, string>, stampMs: number) => {
    const text = `${metric}{${Object.entries(labels)
      .map(([name, value]) => `${name}=${promQlString(value)}`)
      .join(',')}}`;
    let counter = series.get(text);
    if (!counter) {
      counter = { text, collector: labels.collector!, increments: new Map() };
      series.set(text, counter);
    }
    counter.increments.set(stampMs, (counter.increments.get(stampMs) ?? 0) + 1);
  };
  for (const o of observations) {
    const stampMs = Math.floor(o.timeMs / gridMs) * gridMs + gridMs;
    const labels = {
      kind: o.kind,
      source: o.source,
      service: o.service,
      operation: o.operation,
      method: o.method,
      collector: o.collector,
    };
    add(COLLECTOR_METRICS.requests, labels, stampMs);
    if (o.error) add(COLLECTOR_METRICS.errors, labels, stampMs);
    for (const rule of registry.countingRules) {
      if (rule.kind !== o.kind || rule.service !== o.service) continue;
      const verdict = judgeEvent(rule.rules, o);
      const ruleLabels = { ...labels, rule: String(rule.id) };
      if (verdict === 'excluded') continue;
      add(COLLECTOR_METRICS.ruleEvents, { ...ruleLabels, verdict: 'valid' }, stampMs);
      if (verdict === 'bad') add(COLLECTOR_METRICS.ruleEvents, { ...ruleLabels, verdict: 'bad' }, stampMs);
    }
    if (o.durationUs === undefined) continue;
    add(COLLECTOR_METRICS.durationCount, labels, stampMs);
    for (const thresholdUs of registry.thresholdsUs)
      if (o.durationUs <= thresholdUs)
        add(COLLECTOR_METRICS.durationBucket, { ...labels, le: leSpellings(thresholdUs / 1e6)[0]! }, stampMs);
    add(COLLECTOR_METRICS.durationBucket, { ...labels, le: '+Inf' }, stampMs);
  }
  return [...series.values()].map(({ text, collector, increments }) => {
    const firstMs = Math.min(...increments.keys()) - gridMs;
    const lastMs = killedMs[collector] ?? untilMs;
    const samples: Array<[number, number]> = [];
    let value = 0;
    for (let atMs = firstMs; atMs <= lastMs; atMs += gridMs) {
      value += increments.get(atMs) ?? 0;
      samples.push([atMs, value]);
    }
    return [text, samples];
  });
}

/** The samples as Prometheus text lines with millisecond times (VictoriaMetrics' import API). */
export const importLines = (all: ReturnType<typeof contractSeries>): string[] =>
  all.flatMap(([text, samples]) => samples.map(([atMs, value]) => `${text} ${value} ${atMs}`));

/**
 * A real Prometheus (Debian package) whose TSDB holds the given series before it starts: written as OpenMetrics
 * and turned into blocks by `promtool tsdb create-blocks-from openmetrics`, as one backfills history.
 */
export class BackfilledPrometheus extends EngineProcess {
  static async start(all: ReturnType<typeof contractSeries>): Promise<BackfilledPrometheus> {
    const started = await EngineProcess.launch(
      PROMETHEUS_BINARY,
      (dir, port) => {
        const lines = all.flatMap(([text, samples]) =>
          samples.map(([atMs, value]) => `${text} ${value} ${(atMs / 1000).toFixed(3)}`),
        );
        const input = dir.file('series.om', `${lines.join('\n')}\n# EOF\n`);
        const data = join(dir.path, 'data');
        const backfill = spawnSync(
          PROMTOOL_BINARY,
          ['tsdb', 'create-blocks-from', 'openmetrics', input, data],
          {
            encoding: 'utf8',
          },
        );
        if (backfill.status !== 0) throw new Error(`promtool: ${backfill.stderr}`);
        return [
          `--config.file=${dir.file('prometheus.yml', stringify({ global: { scrape_interval: '15s' } }))}`,
          `--storage.tsdb.path=${data}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--log.level=warn',
        ];
      },
      '/-/ready',
    );
    return new BackfilledPrometheus(started.child, started.dir, started.port, started.logs);
  }
}
