import { workerData } from 'node:worker_threads';
import type { CountingRule } from '../../model/eventRules.js';
import { answerRequests } from '../../workers.js';
import { ServiceRoutes } from '../routeTemplates.js';
import type { TimeRange } from '../timeRange.js';
import { type ChunkReader, type ChunkSums, movedSums, sumChunk } from './chunkSums.js';
import { BYTES_PARSERS, LOG_FORMATS } from './formats.js';
import type { LineContext } from './lines.js';
import { MinuteTable } from './minuteTable.js';
import { PathRoutes } from './pathRoutes.js';

/** What the importing thread tells a parsing worker once. */
export interface ImportWorkerSetup {
  format: string;
  context: Omit<LineContext, 'routes' | 'pathRoutes' | 'position'>;
  /** Route templates of every service the lines may name. */
  templates: Record<string, readonly string[]>;
  thresholdsUs: readonly number[];
  countingRules: readonly CountingRule[];
  /** The times accepted when the import started. */
  accepted: TimeRange;
}

/** One chunk of whole lines (UTF-8, without the final newline) to parse. */
export interface ImportChunk {
  bytes: Uint8Array;
  /** A buffer of rows the importing thread has added, for this chunk's rows (see ParsePool). */
  spareRows?: ArrayBuffer;
}

/** A chunk's sums, and its bytes moved back for the importing thread to fill with a next chunk. */
export interface ParsedChunk {
  sums: ChunkSums;
  bytes: Uint8Array;
}

/**
 * A parsing thread of `sloguard import`: turns chunks of lines into per-series bucket sums and sends them
 * back; the importing thread merges them in file order and commits. Parsing is the cost of an import, so
 * it runs on the cores beside the importing thread.
 */
const setup = workerData as ImportWorkerSetup;
const routes = new ServiceRoutes((service) => setup.templates[service] ?? []);
const reader: ChunkReader = {
  parse: LOG_FORMATS[setup.format]!,
  fast: BYTES_PARSERS[setup.format],
  context: { ...setup.context, routes, pathRoutes: new PathRoutes(routes) },
  thresholdsUs: setup.thresholdsUs,
  countingRules: setup.countingRules,
  accepted: setup.accepted,
};
const table = new MinuteTable(setup.context.source, setup.thresholdsUs);
answerRequests(
  ({ bytes, spareRows }: ImportChunk): ParsedChunk => ({
    sums: sumChunk(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), reader, table, spareRows),
    bytes,
  }),
  ({ sums, bytes }) => [...movedSums(sums), bytes.buffer as ArrayBuffer],
);
