import Type, { type Static } from 'typebox';
import { isLogFormatName, LOG_FORMAT_NAMES, type StatusChoice } from '../model/accessLog.js';
import { parseDuration } from './duration.js';

/** One `collectors:` entry of sloguard.yaml: log files to tail. */
export const CollectorsFile = Type.Array(
  Type.Object(
    {
      path: Type.String({ minLength: 1 }),
      format: Type.String(),
      source: Type.String({ minLength: 1, maxLength: 128 }),
      service: Type.Optional(Type.String({ minLength: 1 })),
      hosts: Type.Optional(Type.Record(Type.String(), Type.String({ minLength: 1 }))),
      status: Type.Optional(Type.Union([Type.Literal('edge'), Type.Literal('target')])),
      pollInterval: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
);

export interface CollectorSettings {
  /** A file or a glob (`/var/log/nginx/*.access.log`). */
  path: string;
  format: string;
  source: string;
  service?: string;
  hosts?: Record<string, string>;
  status: StatusChoice;
  pollIntervalMs: number;
}

/** Checks and completes the entries; `fail(field, message)` throws the caller's ConfigError. */
export function resolveCollectors(
  file: Static<typeof CollectorsFile> | undefined,
  fail: (field: string, message: string) => never,
): CollectorSettings[] {
  return (file ?? []).map((collector, index) => {
    const field = `collectors.${index}`;
    if (!isLogFormatName(collector.format)) {
      fail(
        `${field}.format`,
        `unknown format "${collector.format}"; allowed: ${LOG_FORMAT_NAMES.join(', ')}`,
      );
    }
    const pollIntervalMs = parseDuration(collector.pollInterval ?? '250ms');
    if (pollIntervalMs === undefined) {
      fail(`${field}.pollInterval`, `expected a duration like 250ms or 1s, got "${collector.pollInterval}"`);
    }
    return { ...collector, status: collector.status ?? 'edge', pollIntervalMs };
  });
}
