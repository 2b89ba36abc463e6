import { hostname } from 'node:os';
import Type, { type Static } from 'typebox';
import { parseDuration } from './duration.js';

/**
 * The `collector:` block of sloguard.yaml (issue #21): with `remoteWriteUrl` set, `sloguard serve` is a
 * collector. It ingests as usual but keeps no buckets: observations become counters sent to an engine with
 * Prometheus remote write, through a bounded on-disk buffer (docs/scaling.md#collectors-and-an-engine).
 */
export const CollectorFile = Type.Object(
  {
    remoteWriteUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    flushInterval: Type.Optional(Type.String()),
    timeout: Type.Optional(Type.String()),
    buffer: Type.Optional(
      Type.Object(
        {
          path: Type.Optional(Type.String({ minLength: 1 })),
          maxBytes: Type.Optional(Type.Integer({ minimum: 1_048_576 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export interface CollectorRole {
  /** The engine's remote-write endpoint (`/api/v1/write`). */
  remoteWriteUrl: string;
  /** The `collector` label: separates collectors side by side and the runs of one (default host-pid). */
  id: string;
  /** Samples are stamped on this grid and a write is made at every grid point. */
  flushIntervalMs: number;
  /** How long one remote-write request may take before it is retried. */
  timeoutMs: number;
  /** The SQLite file of writes not yet delivered. */
  bufferPath: string;
  /** Past this many bytes of undelivered writes, the oldest are dropped (and counted). */
  bufferMaxBytes: number;
  /** Bearer token for the engine (SLOGUARD_COLLECTOR_TOKEN only: secrets stay out of files). */
  token?: string;
}

export const DEFAULT_FLUSH_INTERVAL = '15s';
export const DEFAULT_BUFFER_MAX_BYTES = 256 * 1_048_576;

/** The collector settings from the file and SLOGUARD_COLLECTOR_* variables (which win); none: not a collector. */
export function resolveCollectorRole(
  file: Static<typeof CollectorFile> | undefined,
  env: NodeJS.ProcessEnv,
  databasePath: string,
  fail: (field: string, message: string) => never,
): CollectorRole | undefined {
  const remoteWriteUrl = env.SLOGUARD_COLLECTOR_REMOTE_WRITE_URL ?? file?.remoteWriteUrl;
  if (remoteWriteUrl === undefined || remoteWriteUrl === '') return undefined;
  if (!/^https?:\/\/[^/]/.test(remoteWriteUrl))
    fail(
      'collector.remoteWriteUrl',
      `expected an http(s) URL like http://vm:8428/api/v1/write, got "${remoteWriteUrl}"`,
    );
  const duration = (field: string, text: string, maxMs: number): number => {
    const ms = parseDuration(text);
    if (ms === undefined || ms % 1000 !== 0 || ms > maxMs)
      return fail(field, `expected whole seconds up to ${maxMs / 1000}s (e.g. 15s), got "${text}"`);
    return ms;
  };
  const flushIntervalMs = duration(
    'collector.flushInterval',
    env.SLOGUARD_COLLECTOR_FLUSH_INTERVAL ?? file?.flushInterval ?? DEFAULT_FLUSH_INTERVAL,
    300_000,
  );
  const maxBytesText =
    env.SLOGUARD_COLLECTOR_BUFFER_MAX_BYTES ?? String(file?.buffer?.maxBytes ?? DEFAULT_BUFFER_MAX_BYTES);
  const bufferMaxBytes = Number(maxBytesText);
  if (!Number.isSafeInteger(bufferMaxBytes) || bufferMaxBytes < 1_048_576)
    fail(
      'collector.buffer.maxBytes',
      `expected a whole number of bytes of at least 1048576, got "${maxBytesText}"`,
    );
  const id = env.SLOGUARD_COLLECTOR_ID ?? file?.id ?? `${hostname()}-${process.pid}`;
  if (id.length === 0 || id.length > 128) fail('collector.id', 'expected 1 to 128 characters');
  return {
    remoteWriteUrl,
    id,
    flushIntervalMs,
    timeoutMs: duration(
      'collector.timeout',
      env.SLOGUARD_COLLECTOR_TIMEOUT ?? file?.timeout ?? '10s',
      120_000,
    ),
    bufferPath: env.SLOGUARD_COLLECTOR_BUFFER_PATH ?? file?.buffer?.path ?? `${databasePath}.remote-write`,
    bufferMaxBytes,
    ...(env.SLOGUARD_COLLECTOR_TOKEN && { token: env.SLOGUARD_COLLECTOR_TOKEN }),
  };
}
