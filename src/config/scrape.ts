import Type, { type Static } from 'typebox';
import { parseDuration } from './duration.js';

export type ScrapeKind = 'haproxy' | 'envoy' | 'traefik' | 'ingress-nginx';

/** The `scrape:` list of sloguard.yaml: load-balancer Prometheus endpoints to read on an interval. */
export const ScrapeFile = Type.Array(
  Type.Object(
    {
      url: Type.String({ pattern: '^https?://' }),
      kind: Type.Union([
        Type.Literal('haproxy'),
        Type.Literal('envoy'),
        Type.Literal('traefik'),
        Type.Literal('ingress-nginx'),
      ]),
      source: Type.String({ minLength: 1, maxLength: 128 }),
      service: Type.Optional(Type.String({ minLength: 1 })),
      services: Type.Optional(Type.Record(Type.String(), Type.String({ minLength: 1 }))),
      interval: Type.Optional(Type.String()),
      maxGap: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
);

export interface ScrapeSettings {
  url: string;
  kind: ScrapeKind;
  source: string;
  /** Service for LB backends (clusters, services) not named in `services`. */
  service?: string;
  /** LB backend / cluster / service name → sloguard service. */
  services: Record<string, string>;
  intervalMs: number;
  /** Past this long between two good scrapes the increase is not attributed to any minute. */
  maxGapMs: number;
}

/** Checks and completes the entries; `fail(field, message)` throws the caller's ConfigError. */
export function resolveScrapeTargets(
  file: Static<typeof ScrapeFile> | undefined,
  fail: (field: string, message: string) => never,
): ScrapeSettings[] {
  return (file ?? []).map((target, index) => {
    const duration = (key: 'interval' | 'maxGap', fallback: string) => {
      const ms = parseDuration(target[key] ?? fallback);
      return ms ?? fail(`scrape.${index}.${key}`, `expected a duration like 15s, got "${target[key]}"`);
    };
    return {
      ...target,
      services: target.services ?? {},
      intervalMs: duration('interval', '15s'),
      maxGapMs: duration('maxGap', '10m'),
    };
  });
}
