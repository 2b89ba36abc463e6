import Type, { type Static } from 'typebox';
import { parseDuration } from './duration.js';

/**
 * `data:` in sloguard.yaml: where the data of native SLOs lives. Absent, in sloguard's own store (the one
 * process shape); `engine: <DataSource>`, in a Prometheus-compatible engine that collectors write to, read
 * through PromQL sloguard generates (docs/scaling.md#the-evaluator-on-the-engine).
 */
export const DataFile = Type.Object(
  {
    engine: Type.String({ minLength: 1, maxLength: 256 }),
    /** The collectors' write grid: their `collector.flushInterval`. */
    interval: Type.Optional(Type.String()),
    /** How old a grid point must be before it is read; default one interval. */
    delay: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
type DataFile = Static<typeof DataFile>;

/** The engine native SLOs are read from. */
export interface EngineSettings {
  /** The DataSource (a `kind: DataSource` document of the definitions folder). */
  dataSource: string;
  gridMs: number;
  delayMs: number;
}

export const DEFAULT_ENGINE_GRID_MS = 15_000;
const MAX_DELAY_MS = 600_000;

type Fail = (field: string, message: string) => never;

function duration(text: string | undefined, field: string, fallback: number, fail: Fail): number {
  if (text === undefined) return fallback;
  const ms = text === '0s' ? 0 : parseDuration(text);
  if (ms === undefined || ms % 1000 !== 0)
    fail(field, `expected a duration in whole seconds like 15s, got "${text}"`);
  return ms!;
}

/** The engine setting checked: a grid that divides a minute (so every window, whole minutes, lies on it), a bounded delay. */
export function resolveEngine(file: DataFile | undefined, fail: Fail): EngineSettings | undefined {
  if (file === undefined) return undefined;
  const gridMs = duration(file.interval, 'data.interval', DEFAULT_ENGINE_GRID_MS, fail);
  if (gridMs <= 0 || 60_000 % gridMs !== 0)
    fail(
      'data.interval',
      `expected a duration that divides a minute (5s, 15s, 30s, 1m), got "${file.interval}"`,
    );
  const delayMs = duration(file.delay, 'data.delay', gridMs, fail);
  if (delayMs > MAX_DELAY_MS) fail('data.delay', `expected at most 10m, got "${file.delay}"`);
  return { dataSource: file.engine, gridMs, delayMs };
}
