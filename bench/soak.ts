/**
 * `npm run soak [-- --minutes 30]` (not in CI): a real sloguard process under 10k spans/s, log ingest and gate
 * calls for N minutes. Every minute it prints the process RSS and the gate's p50/p99 (autocannon) so a leak or a
 * slowing gate shows as a trend. Load goes to 127.0.0.1 only and stops by itself.
 */
import autocannon from 'autocannon';
import { nginxLine } from '../test/helpers/app.js';
import { SloguardProcess } from '../test/helpers/service.js';
import { tempDir } from '../test/helpers/tmp.js';
import { processMemoryBytes } from './method.js';

const minutes = Number(process.argv[process.argv.indexOf('--minutes') + 1] || 30);
const SPANS_PER_SECOND = 10_000;
const SPAN_BATCH = 100;
const LOG_LINES_PER_SECOND = 2_000;
const GATE_RATE = 50;

const definitions = tempDir('sloguard-soak-');
definitions.file(
  'soak.yaml',
  `apiVersion: sloguard/v1
kind: SLO
metadata: { name: soak-traces, service: soak }
spec: { indicator: { source: traces }, objective: 99.9, window: 28d }
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: soak-lb, service: soak }
spec: { indicator: { source: loadbalancer, good: { latency: "<= 300ms" } }, objective: 99, window: 28d }
`,
);

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
let spanId = 1;
function spanBatch(): string {
  const nowUs = Date.now() * 1000;
  return JSON.stringify(
    Array.from({ length: SPAN_BATCH }, (_, i) => {
      const id = spanId++;
      return {
        traceId: hex(id, 16),
        id: hex(id, 16),
        name: 'get /checkout/:id',
        kind: 'SERVER',
        timestamp: nowUs - 1000 * i,
        duration: 1000 + ((id * 7919) % 400_000),
        localEndpoint: { serviceName: 'soak' },
        tags: {
          'http.method': 'GET',
          'http.route': '/checkout/:id',
          'http.status_code': id % 500 === 0 ? '503' : '200',
        },
      };
    }),
  );
}

function logBatch(lines: number): string {
  const t = Date.now();
  return Array.from({ length: lines }, (_, i) =>
    nginxLine(t, 'GET', `/orders/${i}`, i % 300 === 0 ? 502 : 200, ((i * 37) % 500) / 1000),
  ).join('\n');
}

/** Fires `perSecond` requests a second, spread in 10 ticks, until stopped; counts answers by status. */
function steady(perSecond: number, send: () => Promise<Response>) {
  const statuses = new Map<number | string, number>();
  const timer = setInterval(() => {
    for (let i = 0; i < perSecond / 10; i++) {
      send()
        .then(async (response) => {
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          await response.arrayBuffer();
        })
        .catch(() => statuses.set('error', (statuses.get('error') ?? 0) + 1));
    }
  }, 100);
  return { statuses, stop: () => clearInterval(timer) };
}

const service = await SloguardProcess.start({
  definitions: definitions.path,
  env: { SLOGUARD_EVALUATION_INTERVAL: '5s' },
});
const pid = service.pid!;
const rssMb = () => processMemoryBytes(pid, 'VmRSS') / 1024 / 1024;

const spans = steady(SPANS_PER_SECOND / SPAN_BATCH, () =>
  fetch(`${service.url}/api/v2/spans`, {
    method: 'POST',
    body: spanBatch(),
    headers: { 'content-type': 'application/json' },
  }),
);
const logs = steady(10, () =>
  fetch(`${service.url}/api/v1/ingest/lb?format=nginx&source=edge&service=soak`, {
    method: 'POST',
    body: logBatch(LOG_LINES_PER_SECOND / 10),
  }),
);

process.stdout.write(
  `soak: ${minutes} min, ${SPANS_PER_SECOND} spans/s, ${LOG_LINES_PER_SECOND} log lines/s, gate ${GATE_RATE}/s\n`,
);
process.stdout.write('minute  rss_mb  gate_p50_ms  gate_p99_ms  gate_requests\n');
const series: Array<{ minute: number; rss: number; p99: number }> = [];
for (let minute = 1; minute <= minutes; minute++) {
  const gate = await autocannon({
    url: `${service.url}/api/v1/gate?service=soak&codes=body`,
    connections: 4,
    overallRate: GATE_RATE,
    duration: 58,
  });
  const rss = rssMb();
  series.push({ minute, rss, p99: gate.latency.p99 });
  process.stdout.write(
    `${String(minute).padStart(6)}  ${rss.toFixed(1).padStart(6)}  ${String(gate.latency.p50).padStart(11)}  ${String(gate.latency.p99).padStart(11)}  ${gate.requests.total}\n`,
  );
}
spans.stop();
logs.stop();
const first = series[0]!;
const last = series.at(-1)!;
process.stdout.write(
  `RSS ${first.rss.toFixed(1)} → ${last.rss.toFixed(1)} MB; gate p99 ${first.p99} → ${last.p99} ms\n` +
    `span answers ${JSON.stringify(Object.fromEntries(spans.statuses))}; log answers ${JSON.stringify(Object.fromEntries(logs.statuses))}\n`,
);
await service.cleanup();
definitions.cleanup();
