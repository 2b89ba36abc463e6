import { afterAll, expect, it } from 'vitest';
import { BatchAggregate } from '../../src/ingest/aggregate.js';
import { ServiceRoutes } from '../../src/ingest/routeTemplates.js';
import { decodeSpansInto } from '../../src/ingest/zipkin/decode.js';
import { SpanDecoder } from '../../src/ingest/zipkin/decoder.js';
import { CLIENT_SPANS, SERVER_SPANS, shopSpans } from '../helpers/shopSlos.js';

/**
 * A body read in pieces goes to the parsing thread as those pieces: a piece that owns its memory moves there
 * (the event loop keeps no copy and no external memory of it), one that shares its memory with other data is
 * copied and left intact, and the thread counts the joined body exactly as the event loop would.
 */
const routes = new ServiceRoutes(() => []);
const setup = { templates: {}, thresholdsUs: [100_000], countingRules: [] };
const decoder = new SpanDecoder(routes, setup, 1);
afterAll(() => decoder.close());

it('moves the pieces that own their memory to the thread, copies those that share it, and counts the whole body', async () => {
  const json = Buffer.from(JSON.stringify(shopSpans(Date.now() * 1000)));
  const third = Math.floor(json.length / 3);
  const owned = [Buffer.from(json.subarray(0, third)), Buffer.from(json.subarray(third, 2 * third))];
  const shared = Buffer.concat([json.subarray(2 * third), Buffer.from('other data')]);
  const sharedPiece = shared.subarray(0, json.length - 2 * third);

  const threaded = new BatchAggregate(setup.thresholdsUs);
  const summary = await decoder.decode([...owned, sharedPiece], false, undefined, threaded);
  expect(owned.map((piece) => piece.buffer.byteLength)).toEqual([0, 0]);
  expect(shared.toString('utf8', shared.length - 'other data'.length)).toBe('other data');
  expect(sharedPiece.length).toBe(json.length - 2 * third);

  const inline = new BatchAggregate(setup.thresholdsUs);
  expect(summary).toEqual(decodeSpansInto(json, false, undefined, routes, inline));
  expect(threaded.observations).toBe(SERVER_SPANS + CLIENT_SPANS);
  expect([...threaded.series.keys()].sort()).toEqual([...inline.series.keys()].sort());
});
