import { parseAlbLine } from './alb.js';
import { parseEnvoyLine } from './envoy.js';
import type { LineParser } from './format.js';
import { parseGcpLine } from './gcp.js';
import { parseHaproxyLine } from './haproxy.js';
import { parseIngressNginxLine } from './ingressNginx.js';
import { parseJsonlLine } from './jsonl.js';
import { parseNginxLine } from './nginx.js';
import { parseNginxJsonLine } from './nginxJson.js';
import { parseTraefikLine } from './traefik.js';

/** Access-log formats by the name used in `?format=`, `sloguard import --format` and collectors. */
export const LOG_FORMATS: Record<string, LineParser> = {
  nginx: parseNginxLine,
  'nginx-json': parseNginxJsonLine,
  'ingress-nginx': parseIngressNginxLine,
  alb: parseAlbLine,
  gcp: parseGcpLine,
  haproxy: parseHaproxyLine,
  envoy: parseEnvoyLine,
  traefik: parseTraefikLine,
  jsonl: parseJsonlLine,
};

export function logFormatNames(): string[] {
  return Object.keys(LOG_FORMATS);
}
