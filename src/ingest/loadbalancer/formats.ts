import { LOG_FORMAT_NAMES, type LogFormatName } from '../../model/accessLog.js';
import { parseAlbLine } from './alb.js';
import { parseEnvoyLine } from './envoy.js';
import type { BytesParser, LineParser } from './format.js';
import { parseGcpLine } from './gcp.js';
import { parseHaproxyLine } from './haproxy.js';
import { parseIngressNginxLine } from './ingressNginx.js';
import { parseJsonlLine } from './jsonl.js';
import { parseNginxLine } from './nginx.js';
import { parseNginxBytes } from './nginxBytes.js';
import { parseNginxJsonLine } from './nginxJson.js';
import { parseTraefikLine } from './traefik.js';

/** The parser of each format the model names (model/accessLog.ts), no more and no fewer. */
const PARSERS = {
  nginx: parseNginxLine,
  'nginx-json': parseNginxJsonLine,
  'ingress-nginx': parseIngressNginxLine,
  alb: parseAlbLine,
  gcp: parseGcpLine,
  haproxy: parseHaproxyLine,
  envoy: parseEnvoyLine,
  traefik: parseTraefikLine,
  jsonl: parseJsonlLine,
} satisfies Record<LogFormatName, LineParser>;

/**
 * Looked up by the name a request or a file gives: any string. Without a prototype, so `constructor` or
 * `__proto__` find nothing rather than Object's own members.
 */
export const LOG_FORMATS: Record<string, LineParser> = Object.assign(Object.create(null), PARSERS);

/** Formats whose usual lines `sloguard import` reads from bytes (the others are decoded and parsed as text). */
export const BYTES_PARSERS: Record<string, BytesParser> = Object.assign(Object.create(null), {
  nginx: parseNginxBytes,
});

export function logFormatNames(): string[] {
  return [...LOG_FORMAT_NAMES];
}
