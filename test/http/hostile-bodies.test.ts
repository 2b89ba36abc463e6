import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LINE_CHARS } from '../../src/ingest/loadbalancer/lines.js';
import { MAX_SPANS_PER_BATCH } from '../../src/ingest/zipkin/span.js';
import { nginxLine } from '../helpers/app.js';
import { SloguardProcess } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue #15 finding 12 (and the line limit of finding 5) against the built service, whose span parsing runs
 * on worker threads as in production: big or hostile bodies must neither stall the event loop nor grow
 * memory by hundreds of MB. Memory is the process's resident set (VmRSS) and its peak (VmHWM) from /proc.
 */
const MB = 1024 * 1024;
let service: SloguardProcess;

/** Starts the peak (VmHWM) again from the current resident set. */
function resetPeak(): void {
  writeFileSync(`/proc/${service.pid}/clear_refs`, '5');
}

function memoryMb(field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${service.pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) / 1024;
}

/** Sends requests one after another until `done` settles; answers the slowest (ms, wall clock). */
async function slowestProbe(done: Promise<unknown>): Promise<number> {
  let finished = false;
  void done.finally(() => {
    finished = true;
  });
  let slowest = 0;
  while (!finished) {
    const start = performance.now();
    await fetch(`${service.url}/healthz`);
    slowest = Math.max(slowest, performance.now() - start);
  }
  return slowest;
}

function ingest(body: Buffer | string, headers: Record<string, string> = {}) {
  return fetch(`${service.url}/api/v1/ingest/lb?format=nginx&service=user-profile`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'text/plain', ...headers },
  });
}

beforeAll(async () => {
  service = await SloguardProcess.start();
});
afterAll(() => service.cleanup());

describe('hostile bodies (finding 12)', () => {
  it('200 clients pipelining chart.js without reading do not grow memory; readers still get the file', async () => {
    const path = '/vendor/chart.js/chart.umd.min.js';
    const before = memoryMb('VmRSS');
    const requests = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`.repeat(200);
    const sockets: Socket[] = [];
    for (let i = 0; i < 200; i++) {
      const socket = connect(service.port, '127.0.0.1');
      socket.pause();
      socket.on('error', () => {});
      socket.write(requests);
      sockets.push(socket);
    }
    const closedByService = () => service.logs.join('').split('too many pipelined requests').length - 1;
    try {
      // Before: no connection was ever closed, and RSS grew from 131 MB to 1.1 GB.
      await waitFor('the service to close every pipelining connection', () => closedByService() === 200, {
        timeoutMs: 20_000,
      }).catch(() => undefined);
      // What remains is the heap grown by the requests already read from each socket (parsed before the close
      // takes effect, then garbage): 5–140 MB measured, where answers held for unread sockets took 734 MB.
      const grown = memoryMb('VmRSS') - before;
      expect(grown, `RSS grew ${grown.toFixed(0)} MB`).toBeLessThan(200);
      expect(closedByService()).toBe(200);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    const file = readFileSync(
      join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js'),
    );
    const served = await fetch(`${service.url}${path}`);
    expect(Buffer.from(await served.arrayBuffer()).equals(file)).toBe(true);
    const etag = served.headers.get('etag')!;
    expect((await fetch(`${service.url}${path}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
  });

  it('a 116 KB gzip of 120 MB newlines is read in slices: the event loop keeps answering', async () => {
    const bomb = gzipSync(Buffer.alloc(120 * MB, '\n'), { level: 9 });
    expect(bomb.length).toBeLessThan(200 * 1024);
    const response = ingest(bomb, { 'content-encoding': 'gzip' });
    const slowest = await slowestProbe(response);
    const answer = await response;
    expect(answer.status).toBe(202);
    expect(await answer.json()).toMatchObject({ accepted: 0, rejected: 0 });
    // Before: one synchronous inflate and parse, 3–8 s without an answer.
    expect(slowest, `slowest /healthz during the body: ${slowest.toFixed(0)} ms`).toBeLessThan(1_000);
  }, 120_000);

  it('refuses 1M spans in one body before parsing them, saying how to split, without growing memory', async () => {
    const hex = (i: number) => (i + 1).toString(16).padStart(16, '0');
    const json = gzipSync(
      `[${Array.from({ length: 1_000_000 }, (_, i) => `{"traceId":"${hex(i)}","id":"${hex(i)}"}`).join(',')}]`,
    );
    // proto3: a million empty Span messages (tag 0x0a, length 0), 2 MB on the wire.
    const proto = Buffer.alloc(2_000_000);
    for (let i = 0; i < proto.length; i += 2) proto[i] = 0x0a;
    const cases = [
      {
        body: json,
        type: 'application/json',
        gzip: true,
        error: 'body_too_large',
        says: 'send smaller batches',
      },
      {
        body: proto,
        type: 'application/x-protobuf',
        gzip: false,
        error: 'too_many_spans',
        says: `split the list into requests of ${MAX_SPANS_PER_BATCH} spans or fewer`,
      },
    ];
    for (const { body, type, gzip, error, says } of cases) {
      resetPeak();
      const before = memoryMb('VmRSS');
      const response = await fetch(`${service.url}/api/v2/spans`, {
        method: 'POST',
        body,
        headers: { 'content-type': type, ...(gzip && { 'content-encoding': 'gzip' }) },
      });
      expect(response.status, type).toBe(413);
      const answer = (await response.json()) as { error: string; message: string };
      expect(answer.error).toBe(error);
      expect(answer.message).toContain(says);
      // Before: 1.07 GB resident.
      const grown = memoryMb('VmHWM') - before;
      expect(grown, `${type}: peak RSS grew ${grown.toFixed(0)} MB`).toBeLessThan(300);
    }
  }, 120_000);

  it('rejects a line past the limit with its reason and counts it in /metrics, keeping the good lines', async () => {
    const now = Date.now();
    const long = nginxLine(now, 'GET', `/${'a'.repeat(MAX_LINE_CHARS)}`, 200, 0.1);
    const good = nginxLine(now, 'GET', '/profile/1', 200, 0.1);
    const response = await ingest(`${good}\n${long}\n${good}\n`);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({
      accepted: 2,
      rejected: 1,
      skipped: 0,
      reasons: { line_too_long: 1 },
      problems: [
        {
          line: 2,
          reason: `line of ${long.length} characters is longer than the limit of ${MAX_LINE_CHARS}`,
        },
      ],
    });
    // A 64 MB line with no newline at all, gzip'ed: dropped as it arrives, never held whole.
    const endless = await ingest(gzipSync(Buffer.alloc(64 * MB, 'x')), { 'content-encoding': 'gzip' });
    expect(await endless.json()).toMatchObject({ accepted: 0, rejected: 1, reasons: { line_too_long: 1 } });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toContain(
      'sloguard_ingest_rejected_total{source="loadbalancer",reason="line_too_long"} 2',
    );
  });
});
