import type { CountingRule } from '../../model/eventRules.js';
import type { SeriesDelta } from '../../model/series.js';
import { BatchAggregate } from '../aggregate.js';
import type { TimeRange } from '../timeRange.js';
import type { BytesParser, LineParser } from './format.js';
import { ingestBytes, type LineContext, type LineSummary } from './lines.js';

/**
 * What one chunk of a file's lines came to, counted apart from the batch it joins: an import's chunks are
 * summed on parsing threads and on the importing thread alike, and merged in file order (importFile.ts).
 */
export interface ChunkSums {
  series: Map<string, SeriesDelta>;
  observations: number;
  /** Problems cite lines from the chunk's start: the importing thread adds the lines before it. */
  summary: LineSummary;
  lines: number;
}

/** How an import's chunks are read: the format's parsers, the line context and the batches' settings. */
export interface ChunkReader {
  parse: LineParser;
  fast: BytesParser | undefined;
  context: Omit<LineContext, 'position'>;
  thresholdsUs: readonly number[];
  countingRules: readonly CountingRule[];
  /** The times accepted when the import started. */
  accepted: TimeRange;
}

export function sumChunk(bytes: Buffer, reader: ChunkReader): ChunkSums {
  const batch = new BatchAggregate(reader.thresholdsUs, reader.accepted, reader.countingRules);
  const position = { lines: 0 };
  const summary = ingestBytes(bytes, reader.parse, reader.fast, { ...reader.context, position }, batch);
  return { series: batch.series, observations: batch.observations, summary, lines: position.lines };
}
