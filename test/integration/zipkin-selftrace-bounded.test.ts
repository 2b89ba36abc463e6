import { readFileSync } from 'node:fs';
import { tracing } from '@opentelemetry/sdk-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ANSWER_DETAIL_BYTES } from '../../src/net/boundedBody.js';
import { BoundedZipkinExporter } from '../../src/telemetry/zipkinExport.js';
import { AnswerServer } from '../helpers/answerServer.js';
import { SloguardProcess } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Self-tracing against a tracing endpoint that answers badly (docs/security.md, answers from other servers): a
 * real `sloguard serve` exporting its own spans to a server on 127.0.0.1 that answers 500 with an endless body,
 * then never answers at all, then recovers. The library's sender read the endless answer whole: ~600 MB in a
 * second, then an uncaught RangeError on every export; a silent endpoint held each export forever.
 */

/** What the endpoint may have written before the exporter's cancel closed the connection (sockets' buffers). */
const WRITTEN_AT_MOST = 32 * 1024 * 1024;
/** How much the process's peak memory may grow over the whole test; reading one endless answer took ~600 MB. */
const PEAK_GROWTH_AT_MOST = 128 * 1024 * 1024;
const EXPORT_TIMEOUT_MS = 1_000;
const DROPPED = 'self-tracing export failed; its spans are dropped';

interface Warning {
  msg: string;
  spans: number;
  status?: number;
  answer?: string;
  err?: { message: string };
}

/** The process's peak resident memory so far (VmHWM), in bytes. */
function peakMemory(pid: number): number {
  const kilobytes = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kilobytes === undefined) throw new Error(`no VmHWM for process ${pid}`);
  return Number(kilobytes) * 1024;
}

describe('self-tracing to an endpoint that answers with an endless 500, then never, then recovers', () => {
  const state = {} as { endpoint: AnswerServer; service: SloguardProcess };
  afterAll(async () => {
    await state.service?.cleanup();
    await state.endpoint?.stop();
  });

  const warnings = (): Warning[] =>
    state.service.logs
      .join('')
      .split('\n')
      .filter((line) => line.includes(DROPPED))
      .map((line) => JSON.parse(line) as Warning);

  /** Requests /healthz (a span to export) until the endpoint has been sent `count` exports in all. */
  const untilExports = (count: number) =>
    waitFor(
      `${count} exports`,
      async () => {
        expect((await fetch(`${state.service.url}/healthz`)).status).toBe(200);
        return state.endpoint.answered.length >= count;
      },
      { intervalMs: 100 },
    );

  it('drops the spans with a warning, stays within bounded memory, and exports again once the endpoint answers', async () => {
    const endpoint = await AnswerServer.start({ status: 500, head: 'collector overloaded: ', endless: true });
    state.endpoint = endpoint;
    const service = await SloguardProcess.start({
      env: {
        SLOGUARD_TRACING_URL: `${endpoint.url}/api/v2/spans`,
        OTEL_BSP_SCHEDULE_DELAY: '200',
        OTEL_EXPORTER_ZIPKIN_TIMEOUT: String(EXPORT_TIMEOUT_MS),
      },
    });
    state.service = service;
    const pid = service.pid!;
    const peakAtStart = peakMemory(pid);

    // An endless 500: each export reads the start of the answer, closes the connection and drops its spans.
    await untilExports(3);
    const endless = await waitFor('three warnings naming the 500', () => {
      const found = warnings().filter((warning) => warning.status === 500);
      return found.length >= 3 && found;
    });
    for (const warning of endless) {
      expect(warning.spans).toBeGreaterThan(0);
      expect(warning.answer).toMatch(/^collector overloaded: x+…$/);
      expect(Buffer.byteLength(warning.answer!.replace(/…$/, ''))).toBe(ANSWER_DETAIL_BYTES);
    }
    await waitFor('the endpoint to see those connections closed', () =>
      endpoint.answered.slice(0, 3).every((answered) => answered.closed),
    );
    for (const answered of endpoint.answered) expect(answered.bytesWritten).toBeLessThan(WRITTEN_AT_MOST);

    // Silent: each export is aborted at its timeout, closing its connection, and its spans dropped.
    endpoint.answer = { silent: true };
    const firstSilent = endpoint.answered.length;
    await untilExports(firstSilent + 2);
    const silent = endpoint.answered.slice(firstSilent, firstSilent + 2);
    await waitFor('the exporter to give up on both silent exports', () =>
      silent.every((answered) => answered.closed),
    );
    const timedOut = await waitFor('two warnings naming the timeout', () => {
      const found = warnings().filter((warning) => /timeout/i.test(warning.err?.message ?? ''));
      return found.length >= 2 && found;
    });
    for (const warning of timedOut) expect(warning.status).toBeUndefined();

    // Recovered: later spans go out as Zipkin v2 JSON again.
    endpoint.answer = { status: 202, body: '' };
    const firstRecovered = endpoint.answered.length;
    const delivered = await waitFor('a /healthz span delivered after recovery', async () => {
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
      return endpoint.answered
        .slice(firstRecovered)
        .flatMap((answered) => JSON.parse(answered.request ?? '[]') as Array<Record<string, unknown>>)
        .find((span) => (span.tags as Record<string, string>)['http.route'] === '/healthz');
    });
    expect(delivered).toMatchObject({
      kind: 'SERVER',
      localEndpoint: { serviceName: 'sloguard' },
      tags: { 'http.request.method': 'GET', 'http.response.status_code': '200' },
    });
    expect(delivered.traceId).toMatch(/^[0-9a-f]{32}$/);

    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    const logs = service.logs.join('');
    expect(logs).not.toMatch(/RangeError|Invalid string length|uncaught/i);
    expect(peakMemory(pid) - peakAtStart).toBeLessThan(PEAK_GROWTH_AT_MOST);
  }, 180_000);
});

describe('the bounded Zipkin sender given a URL with a user and password', () => {
  let endpoint: AnswerServer | undefined;
  afterAll(() => endpoint?.stop());

  it('sends them as Basic auth (fetch refuses such a URL; the library sender took it) with the spans', async () => {
    endpoint = await AnswerServer.start({ status: 202, body: '' });
    const warned: object[] = [];
    const exporter = new BoundedZipkinExporter({
      url: `${endpoint.url.replace('://', '://tracer:p%40ss@')}/api/v2/spans`,
      headers: {},
      serviceName: 'sloguard',
      timeoutMs: 30_000,
      log: { warn: (details) => warned.push(details) },
    });
    const provider = new tracing.BasicTracerProvider({
      spanProcessors: [new tracing.SimpleSpanProcessor(exporter)],
    });
    provider.getTracer('test').startSpan('probe').end();
    await provider.shutdown();

    expect(warned).toEqual([]);
    const [answered] = endpoint.answered;
    expect(answered?.headers.authorization).toBe(`Basic ${Buffer.from('tracer:p@ss').toString('base64')}`);
    const body = await waitFor('the request body', () => answered?.request);
    expect(JSON.parse(body)).toEqual([
      expect.objectContaining({ name: 'probe', traceId: expect.any(String) }),
    ]);
  });
});
