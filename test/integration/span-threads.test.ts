import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SloguardProcess } from '../helpers/service.js';
import { CLIENT_SPANS, ONE_BATCH, SERVER_SPANS, SHOP_TRACE_SLOS, shopSpans } from '../helpers/shopSlos.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { protoSpans } from '../helpers/zipkinProto.js';

/**
 * The built service parses big span batches (≥ 16 KiB) on worker threads. These batches go through that
 * path and must count exactly what the batch says, including route templates only the SLO files know.
 */
const dir = tempDir('sloguard-span-threads-');
let service: SloguardProcess;

beforeAll(async () => {
  dir.file('shop.yaml', SHOP_TRACE_SLOS);
  service = await SloguardProcess.start({ definitions: dir.path });
});
afterAll(async () => {
  await service.cleanup();
  dir.cleanup();
});

const post = (body: Buffer, headers: Record<string, string>) =>
  fetch(`${service.url}/api/v2/spans`, { method: 'POST', body, headers });

/** Waits until an evaluation shows `copies` batches counted in every SLO. */
async function expectCounted(copies: number): Promise<void> {
  const counted = async () => {
    const counts: Record<string, { good: number; valid: number }> = {};
    for (const name of Object.keys(ONE_BATCH)) {
      const { good, valid } = (await service.json<{ good: number; valid: number }>(`/api/v1/slos/${name}`))
        .body;
      counts[name] = { good, valid };
    }
    return counts;
  };
  const expected = Object.fromEntries(
    Object.entries(ONE_BATCH).map(([name, c]) => [name, { good: c.good * copies, valid: c.valid * copies }]),
  );
  await waitFor('counts after evaluation', async () => {
    const counts = await counted();
    return JSON.stringify(counts) === JSON.stringify(expected);
  }).catch(async (error) => {
    expect(await counted()).toEqual(expected);
    throw error;
  });
}

describe('span batches parsed on worker threads (built service)', () => {
  it('counts big JSON, gzip JSON and proto3 batches exactly, with the SLO files’ route templates', async () => {
    const spans = shopSpans(Date.now() * 1000);
    const json = Buffer.from(JSON.stringify(spans));
    const proto = protoSpans(spans);
    expect(json.length).toBeGreaterThan(16 * 1024);
    expect(proto.length).toBeGreaterThan(16 * 1024);
    const bodies: Array<[Buffer, Record<string, string>]> = [
      [json, { 'content-type': 'application/json' }],
      [gzipSync(json), { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
      [proto, { 'content-type': 'application/x-protobuf' }],
    ];
    for (const [body, headers] of bodies) {
      const response = await post(body, headers);
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({
        received: SERVER_SPANS + CLIENT_SPANS,
        counted: SERVER_SPANS + CLIENT_SPANS,
      });
    }
    await expectCounted(bodies.length);
  });

  it('runs the parse and checkpoint threads in the idle scheduling class, the event loop in the normal one', () => {
    // Field 41 of /proc/<pid>/task/<tid>/stat is the policy: 0 SCHED_OTHER, 5 SCHED_IDLE.
    const policies = new Map(
      readdirSync(`/proc/${service.pid}/task`).map((tid) => {
        const stat = readFileSync(`/proc/${service.pid}/task/${tid}/stat`, 'utf8');
        return [Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38])];
      }),
    );
    expect(policies.get(service.pid!)).toBe(0);
    // The checkpointing thread and at least one parse thread (the batches above started the pool).
    expect([...policies.values()].filter((policy) => policy === 5).length).toBeGreaterThanOrEqual(2);
  });

  it("refuses a big batch whole with Zipkin's message when one span deep inside is invalid", async () => {
    const spans: object[] = shopSpans(Date.now() * 1000);
    spans.splice(1_500, 0, { traceId: '1', id: '2', timestamp: 1.5 });
    const response = await post(Buffer.from(JSON.stringify(spans)), { 'content-type': 'application/json' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'invalid_spans',
      message: 'Expected a long but was 1.5 at path $[1500].timestamp reading List<Span> from json',
      field: '$[1500].timestamp',
    });
    // Still exactly the three batches of the test before.
    await expectCounted(3);
  });
});
