/** Access-log formats by the name used in `?format=`, `sloguard import --format` and collectors. */
export const LOG_FORMAT_NAMES = [
  'nginx',
  'nginx-json',
  'ingress-nginx',
  'alb',
  'gcp',
  'haproxy',
  'envoy',
  'traefik',
  'jsonl',
] as const;
export type LogFormatName = (typeof LOG_FORMAT_NAMES)[number];

/**
 * Which status (and duration) a request is judged by: `edge` is what the load balancer sent the client,
 * `target` what the upstream answered (falling back to the edge status when no target answered).
 */
export type StatusChoice = 'edge' | 'target';

export const isLogFormatName = (name: string): name is LogFormatName =>
  (LOG_FORMAT_NAMES as readonly string[]).includes(name);
