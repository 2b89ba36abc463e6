/**
 * Spans per second through `POST /v1/traces` (OTLP protobuf, as the SDK's exporter-trace-otlp-proto serializes
 * them) against, in the same rounds: the Zipkin JSON path (`POST /api/v2/spans`) of the same `sloguard serve`
 * with the same 500 spans, and a bare single-threaded fastify route that only decodes the same protobuf body
 * (protobufjs, the receiver's own message types) and answers 200. Target (#22): OTLP ≥ 1.0× the Zipkin path
 * within each round. Autocannon with 10 connections; the three sides take turns in an order that rotates each
 * round, and each ratio is taken within its round (bench/method.ts). Each side's process CPU per batch, and
 * the event loop's part of it, are printed too: steadier than rates on a shared machine.
 *
 *   BENCH_ROUNDS=5 BENCH_SECONDS=4 npm run bench -- otlp
 */
import { join } from 'node:path';
import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { ExportTraceServiceRequest } from '../src/ingest/otlp/proto.js';
import { SloguardProcess } from '../test/helpers/service.js';
import { tempDir } from '../test/helpers/tmp.js';
import { serveBare, startBare } from './bareBaseline.js';
import {
  AS_IN_PRODUCTION,
  Comparison,
  envInt,
  formatSpread,
  processCpuMs,
  rounds,
  spread,
} from './method.js';

const SPANS_PER_BATCH = 500;
const SECONDS = envInt('BENCH_SECONDS', 5);
const ROUNDS = rounds(5);
const CONNECTIONS = 10;
const PROTOBUF = 'application/x-protobuf';

const SLO = `apiVersion: sloguard/v1
kind: SLO
metadata: { name: catalog-latency, service: catalog }
spec: { indicator: { source: traces, good: { latency: "<= 250ms" } }, objective: 99, window: 28d }
`;

const SERVICES = ['catalog', 'checkout', 'search', 'profile', 'gateway'];
const ROUTES = ['/api/items/:id', '/api/cart', '/api/search', '/api/users/:id', '/health'];

/** One request of the batch, rendered into both encodings. */
interface Request {
  service: string;
  route: string;
  server: boolean;
  status: number;
  startMs: number;
  durationMs: number;
  attributes: Record<string, string | number>;
}

/** The batch spans.bench.ts sends: mostly server spans of a few services and routes, OTel's stable attributes. */
function requests(nowMs: number): Request[] {
  return Array.from({ length: SPANS_PER_BATCH }, (_, i) => {
    const route = ROUTES[i % ROUTES.length]!;
    const status = i % 50 === 0 ? 503 : 200;
    return {
      service: SERVICES[i % SERVICES.length]!,
      route,
      server: i % 10 !== 9,
      status,
      startMs: nowMs - i,
      durationMs: 1 + ((i * 7331) % 400_000) / 1000,
      attributes: {
        'http.request.method': 'GET',
        'http.route': route,
        'url.path': route.replace(':id', String(i)),
        'url.scheme': 'http',
        'http.response.status_code': status,
        'server.address': 'catalog.internal',
        'network.protocol.version': '1.1',
        'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) bench',
      },
    };
  });
}

/** The batch as OTLP protobuf, made by the SDK (a tracer provider per service) and its own serializer. */
function otlpBody(batch: Request[]): Buffer {
  const spans: ReadableSpan[] = [];
  for (const service of SERVICES) {
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    }).getTracer('bench');
    for (const request of batch.filter((r) => r.service === service)) {
      const kind = request.server ? SpanKind.SERVER : SpanKind.CLIENT;
      const options = { kind, startTime: request.startMs, attributes: request.attributes };
      tracer
        .startSpan(`GET ${request.route}`, options, ROOT_CONTEXT)
        .end(request.startMs + request.durationMs);
    }
    spans.push(...exporter.getFinishedSpans());
  }
  return Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
}

/** The same batch as a Zipkin JSON_V2 list, as OpenTelemetry's Zipkin exporter writes it. */
function zipkinBody(batch: Request[]): string {
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  return JSON.stringify(
    batch.map((request, i) => ({
      traceId: `5af7183fb1d4cf5f${hex(i * 7919 + 1, 16)}`,
      id: hex(0x1000 + i, 16),
      kind: request.server ? 'SERVER' : 'CLIENT',
      name: `get ${request.route}`,
      timestamp: request.startMs * 1000,
      duration: Math.round(request.durationMs * 1000),
      localEndpoint: { serviceName: request.service },
      tags: Object.fromEntries(Object.entries(request.attributes).map(([k, v]) => [k, String(v)])),
    })),
  );
}

/** The bare baseline's server mode: prints its URL on stdout, then serves until killed. */
async function serveBaseline(): Promise<void> {
  const app = Fastify({ bodyLimit: 16 * 1024 * 1024 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(PROTOBUF, { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, ExportTraceServiceRequest.decode(body as Buffer)),
  );
  app.post('/v1/traces', async (_request, reply) => reply.code(200).type(PROTOBUF).send(Buffer.alloc(0)));
  await serveBare(app);
}

interface Side {
  name: string;
  url: string;
  path: string;
  contentType: string;
  body: string | Buffer;
  pid: number;
  /** Batches answered in all rounds, warm-up included. */
  answered: number;
  /** Process CPU per batch in each measured round (all threads, ms). */
  cpuMsPerBatch: number[];
  /** The event loop's share of it (the main thread alone; the parsing threads do the rest). */
  loopCpuMsPerBatch: number[];
}

/** One run of a side: batches answered; every answer must be 2xx. */
async function run(side: Side, seconds: number): Promise<number> {
  const result = await autocannon({
    url: `${side.url}${side.path}`,
    method: 'POST',
    headers: { 'content-type': side.contentType },
    body: side.body,
    connections: CONNECTIONS,
    duration: seconds,
  });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(
      `${side.name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  return result.requests.total;
}

if (process.argv[2] === 'serve') {
  await serveBaseline();
} else {
  const batch = requests(Date.now());
  const dir = tempDir('sloguard-bench-otlp-');
  const definitions = tempDir('sloguard-bench-otlp-definitions-');
  definitions.file('catalog.yaml', SLO);
  const stops: Array<() => Promise<void>> = [];
  try {
    const baseline = await startBare(import.meta.filename);
    stops.push(baseline.stop);
    // The database beside the watched definitions folder, not in it (see spans.bench.ts); no evaluation.
    const service = await SloguardProcess.start({
      definitions: definitions.path,
      databasePath: join(dir.path, 'sloguard.db'),
      env: { ...AS_IN_PRODUCTION, SLOGUARD_EVALUATION_INTERVAL: '1h' },
    });
    stops.push(() => service.cleanup());
    const protobuf = otlpBody(batch);
    const side = (
      name: string,
      url: string,
      pid: number,
      path: string,
      contentType: string,
      body: string | Buffer,
    ) =>
      ({
        name,
        url,
        pid,
        path,
        contentType,
        body,
        answered: 0,
        cpuMsPerBatch: [] as number[],
        loopCpuMsPerBatch: [] as number[],
      }) satisfies Side;
    const otlp = side('OTLP protobuf', service.url, service.pid!, '/v1/traces', PROTOBUF, protobuf);
    const zipkin = side(
      'Zipkin JSON',
      service.url,
      service.pid!,
      '/api/v2/spans',
      'application/json',
      zipkinBody(batch),
    );
    const bare = side('bare protobuf route', baseline.url, baseline.pid, '/v1/traces', PROTOBUF, protobuf);
    const sides = [otlp, zipkin, bare];
    process.stdout.write(
      `  bodies: OTLP protobuf ${protobuf.length} B, Zipkin JSON ${zipkin.body.length} B\n`,
    );
    for (const s of sides) s.answered += await run(s, 2);
    const label = `${SPANS_PER_BATCH}-span batches, ${CONNECTIONS} connections`;
    const vsZipkin = new Comparison(
      `POST /v1/traces (OTLP protobuf) vs POST /api/v2/spans (Zipkin JSON), ${label}`,
      'spans/s',
      'Zipkin JSON path',
      'ours/baseline',
    );
    const vsBare = new Comparison(
      `POST /v1/traces (OTLP protobuf) vs a bare decoding route, ${label}`,
      'spans/s',
      'bare protobuf route',
      'ours/baseline',
    );
    for (let i = 0; i < ROUNDS; i++) {
      const rate = new Map<Side, number>();
      // The order rotates, so no side always follows the same one.
      for (const s of [...sides.slice(i % 3), ...sides.slice(0, i % 3)]) {
        const cpuBefore = processCpuMs(s.pid);
        const loopBefore = processCpuMs(s.pid, s.pid);
        const batches = await run(s, SECONDS);
        s.cpuMsPerBatch.push((processCpuMs(s.pid) - cpuBefore) / batches);
        s.loopCpuMsPerBatch.push((processCpuMs(s.pid, s.pid) - loopBefore) / batches);
        s.answered += batches;
        rate.set(s, (batches / SECONDS) * SPANS_PER_BATCH);
      }
      vsZipkin.add(rate.get(otlp)!, rate.get(zipkin)!);
      vsBare.add(rate.get(otlp)!, rate.get(bare)!);
    }
    await service.stop();
    // Every span of every answered batch of both sloguard paths must be in the committed buckets.
    const db = new Database(join(dir.path, 'sloguard.db'), { readonly: true });
    const stored = (db.prepare('SELECT SUM(total) AS n FROM minute_buckets').get() as { n: number }).n;
    db.close();
    const sent = (otlp.answered + zipkin.answered) * SPANS_PER_BATCH;
    if (stored < sent) throw new Error(`${stored} spans stored of ${sent} answered`);
    vsZipkin.print();
    vsBare.print();
    for (const s of sides) {
      process.stdout.write(
        `  ${s.name}: ${formatSpread(spread(s.cpuMsPerBatch), ' ms')} process CPU per batch, ${formatSpread(spread(s.loopCpuMsPerBatch), ' ms')} of it on the event loop\n`,
      );
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
    dir.cleanup();
    definitions.cleanup();
  }
}
