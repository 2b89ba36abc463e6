import type { CountingRule } from '../../model/eventRules.js';
import type { SeriesDelta } from '../../model/series.js';
import { BatchAggregate } from '../aggregate.js';
import type { TimeRange } from '../timeRange.js';
import type { BytesParser, LineParser } from './format.js';
import { ingestBytes, type LineContext, type LineSummary } from './lines.js';
import type { MinuteTable, TakenRows } from './minuteTable.js';

/**
 * What one chunk of a file's lines came to, counted apart from the batch it joins: an import's chunks are
 * summed on parsing threads and on the importing thread alike, and merged in file order (importFile.ts).
 */
export interface ChunkSums {
  /** Lines counted as rows of a MinuteTable: all but those of series with counting rules. */
  rows: TakenRows;
  /** The other lines' series (with counting rules, or past what a MinuteTable holds), and their count. */
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

/**
 * Sums a chunk's lines into `table` (empty, of the reader's thresholds; it is left empty) and takes its rows
 * out, into `spare` when it has room. The table is kept from chunk to chunk for its series lookups.
 */
export function sumChunk(
  bytes: Buffer,
  reader: ChunkReader,
  table: MinuteTable,
  spare?: ArrayBuffer,
): ChunkSums {
  const batch = new BatchAggregate(reader.thresholdsUs, reader.accepted, reader.countingRules);
  const position = { lines: 0 };
  const context = { ...reader.context, position, minuteTable: table };
  const summary = ingestBytes(bytes, reader.parse, reader.fast, context, batch);
  // The table makes a series in the batch for each it meets first: those counted as rows stay empty here.
  const series = new Map([...batch.series].filter(([, delta]) => delta.minutes.size > 0));
  return {
    rows: table.takeRows(spare),
    series,
    observations: batch.observations,
    summary,
    lines: position.lines,
  };
}

/** The memory of a chunk's sums that moves to the importing thread instead of being copied. */
export const movedSums = (sums: ChunkSums): ArrayBuffer[] => [sums.rows.cells.buffer as ArrayBuffer];
