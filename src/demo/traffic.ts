import { randomBytes } from 'node:crypto';

/**
 * Traffic for the demo: nginx access-log lines as a load balancer writes them (combined + request_time +
 * upstream fields, varied clients) and Zipkin v2 server spans as an instrumented app reports them.
 */

const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15',
  'okhttp/4.12.0',
  'curl/8.5.0',
];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A small seeded PRNG (mulberry32), so a demo run tells the same story each time. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Latency in seconds: log-normal around `medianSeconds`, the long tail real services have. */
export function latency(rand: () => number, medianSeconds: number, spread = 0.6): number {
  const gaussian = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return medianSeconds * Math.exp(spread * gaussian);
}

function timeLocal(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

export interface Request {
  atMs: number;
  method: string;
  path: string;
  status: number;
  seconds: number;
}

/** One nginx line in the format the README documents (combined + $request_time + upstream fields). */
export function nginxLine(request: Request, rand: () => number): string {
  const ip = `10.${Math.floor(rand() * 4)}.${Math.floor(rand() * 250)}.${1 + Math.floor(rand() * 250)}`;
  const agent = AGENTS[Math.floor(rand() * AGENTS.length)]!;
  const bytes = request.status >= 500 ? 157 : 300 + Math.floor(rand() * 9000);
  const seconds = request.seconds.toFixed(3);
  return `${ip} - - [${timeLocal(request.atMs)}] "${request.method} ${request.path} HTTP/1.1" ${request.status} ${bytes} "-" "${agent}" ${seconds} "${request.status}" "${seconds}"`;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** A Zipkin v2 server span (JSON v2 shape) for one request handled by `service`. */
export function zipkinSpan(service: string, route: string, request: Request) {
  return {
    traceId: hex(16),
    id: hex(8),
    kind: 'SERVER',
    name: `${request.method.toLowerCase()} ${route}`,
    timestamp: request.atMs * 1000,
    duration: Math.max(1, Math.round(request.seconds * 1e6)),
    localEndpoint: { serviceName: service, ipv4: '10.1.0.7' },
    tags: {
      'http.method': request.method,
      'http.route': route,
      'http.path': request.path,
      'http.status_code': String(request.status),
    },
  };
}
