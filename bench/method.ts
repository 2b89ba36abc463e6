/**
 * The one method every bench follows, so no figure favours sloguard: both sides are timed the same way in
 * each round, a ratio is taken within the round (never the best of one side over the best of the other),
 * and a figure is min / median / max over the rounds, printed with the load average the rounds ran under
 * (this 2-core machine is shared, so the load says how far to trust it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Settings for a `sloguard serve` under measurement that the tests' helper (test/helpers/service.ts) sets
 * otherwise: it checks every answer against its schema, which production does not.
 */
export const AS_IN_PRODUCTION = { SLOGUARD_CHECK_RESPONSES: '0' } as const;

/** A whole number from the environment (BENCH_ROUNDS=2 for a short run), or the fallback. */
export function envInt(name: string, fallback: number, min = 1): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name}=${text}: expected a whole number ≥ ${min}`);
  return value;
}

/** Rounds each bench measures; each bench names its own default. */
export const rounds = (fallback: number) => envInt('BENCH_ROUNDS', fallback);

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('no values');
  return { min: Math.min(...values), median: median(values), max: Math.max(...values) };
}

export function formatNumber(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  return value >= 10 ? value.toFixed(1) : value.toPrecision(3);
}

export const formatSpread = (s: Spread, unit = '') =>
  `${formatNumber(s.min)} / ${formatNumber(s.median)} / ${formatNumber(s.max)}${unit ? ` ${unit}` : ''}`;

/** The 1-minute load average now, and the 1/5/15-minute triple for a figure's line. */
export const loadNow = () => loadavg()[0]!;
export const loadText = () =>
  `load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;

/** One round's measurement of sloguard and its baseline, and the 1-minute load average at its end. */
export interface Round {
  ours: number;
  baseline: number;
  load: number;
}

/**
 * Collects the rounds of one figure: each round prints as it ends (so a stalled machine shows in which
 * round), and `print` gives min / median / max of each side and of the within-round ratio.
 */
export class Comparison {
  readonly rounds: Round[] = [];

  constructor(
    readonly label: string,
    readonly unit: string,
    readonly baselineName: string,
    /** How the ratio reads: `ours/baseline` for throughput and p99 ratios, `baseline/ours` for a speed-up. */
    readonly ratioKind: 'ours/baseline' | 'baseline/ours',
  ) {}

  ratio(round: Pick<Round, 'ours' | 'baseline'>): number {
    return this.ratioKind === 'ours/baseline' ? round.ours / round.baseline : round.baseline / round.ours;
  }

  /** `load`: the load at the round's end, when the round is added after it (default: now). */
  add(ours: number, baseline: number, load = loadNow()): Round {
    const round = { ours, baseline, load };
    this.rounds.push(round);
    process.stdout.write(
      `  round ${this.rounds.length} ${this.label}: sloguard ${formatNumber(ours)} ${this.unit}, ${this.baselineName} ${formatNumber(baseline)} ${this.unit}, ratio ${this.ratio(round).toFixed(2)} (load ${round.load.toFixed(2)})\n`,
    );
    return round;
  }

  summary(): { ours: Spread; baseline: Spread; ratio: Spread; load: Spread } {
    return {
      ours: spread(this.rounds.map((r) => r.ours)),
      baseline: spread(this.rounds.map((r) => r.baseline)),
      ratio: spread(this.rounds.map((r) => this.ratio(r))),
      load: spread(this.rounds.map((r) => r.load)),
    };
  }

  print(): void {
    const s = this.summary();
    process.stdout.write(
      `${this.label} (min / median / max over ${this.rounds.length} rounds, 1-minute load ${formatSpread(s.load)}; ${loadText()}):\n` +
        `  sloguard ${formatSpread(s.ours, this.unit)} | ${this.baselineName} ${formatSpread(s.baseline, this.unit)} | ratio ${this.ratioKind} ${s.ratio.min.toFixed(2)} / ${s.ratio.median.toFixed(2)} / ${s.ratio.max.toFixed(2)}\n`,
    );
  }
}

/** A figure with no baseline (a size, a count), with the load average it was measured under. */
export function figure(label: string, values: readonly number[], unit: string): void {
  const s = spread(values);
  process.stdout.write(
    `${label}: ${formatSpread(s, unit)} (min / median / max of ${values.length}; ${loadText()})\n`,
  );
}

export interface ProcessRun {
  /** Spawn to exit, start-up and teardown included. */
  ms: number;
  /** Peak resident set (the kernel's maxrss of the process, by /usr/bin/time). */
  peakRssMb: number;
  /** CPU time of the process, all its threads, user and system: steadier than `ms` on a loaded machine. */
  cpuMs: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command as a whole process under /usr/bin/time, which reports the peak RSS the kernel recorded
 * (polling /proc would miss a peak between polls). /usr/bin/time's own start-up (about a millisecond) falls on
 * every tool alike. Throws unless the process exits 0.
 */
export function timeProcess(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): ProcessRun {
  const dir = mkdtempSync(join(tmpdir(), 'sloguard-bench-time-'));
  try {
    const rssFile = join(dir, 'rss');
    const started = process.hrtime.bigint();
    const run = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', rssFile, command, ...args], {
      encoding: 'utf8',
      env: env ?? process.env,
      maxBuffer: 256 * 1024 * 1024,
      timeout: 15 * 60_000,
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (run.status !== 0) {
      throw new Error(
        `${command} ${args.join(' ')} exited ${run.status ?? run.signal}: ${run.stderr.slice(-2000)}`,
      );
    }
    const [user, system, kb] = readFileSync(rssFile, 'utf8')
      .trim()
      .split('\n')
      .at(-1)!
      .split(' ')
      .map(Number);
    return {
      ms,
      peakRssMb: kb! / 1024,
      cpuMs: (user! + system!) * 1000,
      stdout: run.stdout,
      stderr: run.stderr,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * CPU time (user + system) a live process has used, all threads, or with `thread` one of them (its event loop's
 * is the process id), from /proc (clock ticks of 10 ms).
 */
export function processCpuMs(pid: number, thread?: number): number {
  const stat = thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`;
  const fields = readFileSync(stat, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** A memory figure of a live process in bytes, from /proc/<pid>/status: `VmRSS` now or `VmHWM` its peak. */
export function processMemoryBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
}
