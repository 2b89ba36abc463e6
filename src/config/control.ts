import Type, { type Static } from 'typebox';
import { parseDuration } from './duration.js';

/**
 * `control:` in sloguard.yaml: the replicated control plane (docs/scaling.md#a-replicated-control-plane).
 * With `postgres.url` set, several `sloguard serve` replicas share one PostgreSQL: one of them at a time
 * (the holder of the evaluator lease) evaluates and alerts, every one answers the gate from the state there.
 */
export const ControlFile = Type.Object(
  {
    postgres: Type.Object(
      {
        url: Type.Optional(Type.String({ pattern: '^postgres(?:ql)?://' })),
        poolSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
        statementTimeout: Type.Optional(Type.String()),
        connectTimeout: Type.Optional(Type.String()),
        leaseCheckInterval: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** The PostgreSQL the replicas share. */
export interface ControlPostgres {
  /** `postgres://user@host:5432/database`; the password is best given apart (SLOGUARD_CONTROL_POSTGRES_PASSWORD). */
  url: string;
  /** From SLOGUARD_CONTROL_POSTGRES_PASSWORD only: secrets stay out of files. */
  password?: string;
  /** Connections a replica opens at most for gate state and statuses (the lease holds one more of its own). */
  poolSize: number;
  /** A statement running longer is cancelled by the server: nothing waits on a stuck database for ever. */
  statementTimeoutMs: number;
  /** How long opening a connection (or waiting for a free one in the pool) may take. */
  connectTimeoutMs: number;
  /** How often a replica without the lease tries to take it, and the holder checks it still holds it. */
  leaseCheckMs: number;
}

export interface ControlSettings {
  postgres: ControlPostgres;
}

export const DEFAULT_CONTROL_POOL_SIZE = 10;

type Fail = (field: string, message: string) => never;

function milliseconds(text: string, field: string, minMs: number, maxMs: number, fail: Fail): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < minMs || ms > maxMs)
    return fail(field, `expected a duration from ${minMs} ms to ${maxMs / 1000}s (e.g. 2s), got "${text}"`);
  return ms;
}

/** The control settings from the file and SLOGUARD_CONTROL_POSTGRES_* variables (which win); none: one process. */
export function resolveControl(
  file: Static<typeof ControlFile> | undefined,
  env: NodeJS.ProcessEnv,
  fail: Fail,
): ControlSettings | undefined {
  const postgres = file?.postgres;
  const url = env.SLOGUARD_CONTROL_POSTGRES_URL ?? postgres?.url;
  if (url === undefined || url === '') return undefined;
  // Only the scheme and host are shown: the URL may carry a password.
  if (!/^postgres(?:ql)?:\/\/[^/]/.test(url))
    fail('control.postgres.url', 'expected a URL like postgres://sloguard@db:5432/sloguard');
  const poolText =
    env.SLOGUARD_CONTROL_POSTGRES_POOL_SIZE ?? String(postgres?.poolSize ?? DEFAULT_CONTROL_POOL_SIZE);
  const poolSize = Number(poolText);
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 100)
    fail('control.postgres.poolSize', `expected a whole number from 1 to 100, got "${poolText}"`);
  return {
    postgres: {
      url,
      ...(env.SLOGUARD_CONTROL_POSTGRES_PASSWORD && { password: env.SLOGUARD_CONTROL_POSTGRES_PASSWORD }),
      poolSize,
      statementTimeoutMs: milliseconds(
        env.SLOGUARD_CONTROL_POSTGRES_STATEMENT_TIMEOUT ?? postgres?.statementTimeout ?? '2s',
        'control.postgres.statementTimeout',
        100,
        60_000,
        fail,
      ),
      connectTimeoutMs: milliseconds(
        env.SLOGUARD_CONTROL_POSTGRES_CONNECT_TIMEOUT ?? postgres?.connectTimeout ?? '2s',
        'control.postgres.connectTimeout',
        100,
        60_000,
        fail,
      ),
      leaseCheckMs: milliseconds(
        env.SLOGUARD_CONTROL_LEASE_CHECK_INTERVAL ?? postgres?.leaseCheckInterval ?? '1s',
        'control.postgres.leaseCheckInterval',
        100,
        30_000,
        fail,
      ),
    },
  };
}
