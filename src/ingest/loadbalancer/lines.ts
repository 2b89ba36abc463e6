import { StringDecoder } from 'node:string_decoder';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import type { SourceSettings } from '../../config/config.js';
import type { StatusChoice } from '../../model/accessLog.js';
import { isServerError } from '../../model/observation.js';
import type { BatchAggregate } from '../aggregate.js';
import { LabelRejected } from '../labels.js';
import type { ServiceRoutes } from '../routeTemplates.js';
import { TIME_OUT_OF_RANGE, TimeOutOfRange } from '../timeRange.js';
import {
  type AccessLogEntry,
  type BytesEntry,
  type BytesParser,
  type LineParser,
  LineRejected,
} from './format.js';
import type { MinuteTable } from './minuteTable.js';
import { PathRoutes } from './pathRoutes.js';

export interface LineProblem {
  line: number;
  reason: string;
}

/** What became of a batch of lines. */
export interface LineSummary {
  accepted: number;
  rejected: number;
  skipped: number;
  /** Rejected lines by reason: `time_out_of_range` (see timeRange.ts), `line_too_long`, else `invalid_line`. */
  reasons: Record<string, number>;
  /** The first rejected or skipped lines with their reasons (1-based line numbers). */
  problems: LineProblem[];
}

export interface LineContext {
  source: string;
  /** The service named by the request, which wins over the source's mapping. */
  service?: string;
  settings?: SourceSettings;
  routes: ServiceRoutes;
  /** Routes of paths left in a file's bytes, kept across its chunks (made per call when absent). */
  pathRoutes?: PathRoutes;
  /** Where an import counts the lines read from bytes (see minuteTable.ts); the batch when absent. */
  minuteTable?: MinuteTable;
  /** Which status (and duration) counts; `edge` unless configured. */
  statusFrom?: StatusChoice;
  /**
   * Where the text continues a file: lines before it. Problems cite file line numbers, and the count is
   * advanced past the text, so the next chunk carries on.
   */
  position?: { lines: number };
}

const MAX_PROBLEMS = 20;
const INVALID_LINE = 'invalid_line';
const LINE_TOO_LONG = 'line_too_long';

/**
 * No access-log line of any format is longer (nginx's own limit on a request line is 8 KiB); a longer one is
 * rejected unread, so the cost of a line is bounded before any parser sees it.
 */
export const MAX_LINE_CHARS = 16 * 1024;

/** The service a line belongs to: the request's, else the source's host mapping, else its default. */
function serviceOf(context: LineContext, host: string | undefined): string | undefined {
  if (context.service) return context.service;
  const byHost = host === undefined ? undefined : context.settings?.hosts?.[host];
  return byHost ?? context.settings?.service;
}

class LineTooLong extends LineRejected {
  constructor(length: number) {
    super(`line of ${length} characters is longer than the limit of ${MAX_LINE_CHARS}`);
  }
}

/** Parses lines into a batch, a slice at a time; the summary is shared by every slice. */
class LineReader {
  readonly summary = emptySummary();
  private lineNumber: number;
  private readonly byTarget: boolean;

  constructor(
    private readonly parse: LineParser,
    private readonly context: LineContext,
    private readonly batch: BatchAggregate,
  ) {
    this.lineNumber = context.position?.lines ?? 0;
    this.byTarget = context.statusFrom === 'target';
  }

  /**
   * Reads `text[from, to)` as whole lines until `deadline` (performance.now()); answers where it stopped,
   * past `to` when done. A line ends at a newline or at `to`.
   */
  read(text: string, from: number, to: number, deadline = Number.POSITIVE_INFINITY): number {
    let start = from;
    let lines = 0;
    while (start <= to) {
      if ((++lines & 255) === 0 && performance.now() > deadline) return start;
      let end = text.indexOf('\n', start);
      if (end < 0 || end > to) end = to;
      this.lineNumber += 1;
      const length = text.charCodeAt(end - 1) === 13 ? end - 1 - start : end - start;
      const line = length > MAX_LINE_CHARS || length === 0 ? '' : text.slice(start, start + length);
      start = end + 1;
      if (length > MAX_LINE_CHARS) this.refuse(new LineTooLong(length));
      else if (length > 0 && !(line.charCodeAt(0) <= 32 && line.trim() === '')) this.take(line);
    }
    if (this.context.position) this.context.position.lines = this.lineNumber;
    return start;
  }

  /** A line longer than the limit that never arrived whole (its start was dropped as it came). */
  refuseLongLine(length: number): void {
    this.lineNumber += 1;
    this.refuse(new LineTooLong(length));
    if (this.context.position) this.context.position.lines = this.lineNumber;
  }

  /**
   * read() for the bytes of whole lines (UTF-8): the lines `fast` reads are never made into text; blank,
   * over-long and unusual ones are decoded and read as read() reads them.
   */
  readBytes(bytes: Buffer, fast: BytesParser): void {
    const pathRoutes = this.context.pathRoutes ?? new PathRoutes(this.context.routes);
    const to = bytes.length;
    let start = 0;
    while (start <= to) {
      let end = bytes.indexOf(10, start);
      if (end < 0) end = to;
      const length = end > start && bytes[end - 1] === 13 ? end - 1 - start : end - start;
      if (length === 0) this.lineNumber += 1;
      else if (length > MAX_LINE_CHARS || bytes[start]! <= 32) {
        const text = bytes.toString('utf8', start, end);
        this.read(text, 0, text.length);
      } else {
        this.lineNumber += 1;
        const entry = fast(bytes, start, start + length);
        if (entry) this.count(entry, bytes, pathRoutes);
        else this.take(bytes.toString('utf8', start, start + length));
      }
      start = end + 1;
    }
    if (this.context.position) this.context.position.lines = this.lineNumber;
  }

  private take(line: string): void {
    let entry: AccessLogEntry;
    try {
      entry = this.parse(line);
    } catch (error) {
      this.refuseOrThrow(error);
      return;
    }
    this.count(entry);
  }

  /** Counts a parsed line, its path kept as text or left in the file's `bytes` (routed by `pathRoutes`). */
  private count(entry: AccessLogEntry | BytesEntry, bytes?: Buffer, pathRoutes?: PathRoutes): void {
    try {
      this.batch.admit(entry.timeMs);
      const service = serviceOf(this.context, entry.host);
      if (service === undefined) {
        throw new LineRejected(`no service for host "${entry.host ?? '-'}": pass service= or map the source`);
      }
      const status = this.byTarget ? (entry.targetStatus ?? entry.status) : entry.status;
      const durationUs = this.byTarget ? (entry.targetDurationUs ?? entry.durationUs) : entry.durationUs;
      const operation =
        'path' in entry
          ? this.context.routes.route(service, entry.path)
          : pathRoutes!.route(service, bytes!, entry.pathStart, entry.pathEnd);
      const table = this.context.minuteTable;
      const error = isServerError(status);
      const { timeMs, method } = entry;
      if (
        !table ||
        durationUs === undefined ||
        !table.count(this.batch, service, operation, method, timeMs, error, durationUs)
      ) {
        const series = this.batch.seriesFor('loadbalancer', this.context.source, service, operation, method);
        // Only a counting rule reads the agent: one left in the bytes is decoded for that alone.
        const userAgent =
          'path' in entry
            ? entry.userAgent
            : series.rules.length > 0 && entry.agentStart >= 0
              ? bytes!.toString('utf8', entry.agentStart, entry.agentEnd)
              : undefined;
        this.batch.count(series, timeMs, error, durationUs, status, userAgent);
      }
      this.summary.accepted += 1;
    } catch (error) {
      this.refuseOrThrow(error);
    }
  }

  /** A bad line is counted and reported; anything else is a fault and goes on up. */
  private refuseOrThrow(error: unknown): void {
    // A name with NUL or broken UTF-8 (LabelRejected) rejects its line like a malformed one.
    if (!(error instanceof LineRejected || error instanceof TimeOutOfRange || error instanceof LabelRejected))
      throw error;
    this.refuse(error);
  }

  private refuse(error: LineRejected | TimeOutOfRange | LabelRejected): void {
    const { summary } = this;
    if (error instanceof LineRejected && error.skipped) summary.skipped += 1;
    else {
      summary.rejected += 1;
      const reason =
        error instanceof TimeOutOfRange
          ? TIME_OUT_OF_RANGE
          : error instanceof LineTooLong
            ? LINE_TOO_LONG
            : INVALID_LINE;
      summary.reasons[reason] = (summary.reasons[reason] ?? 0) + 1;
    }
    if (summary.problems.length < MAX_PROBLEMS)
      summary.problems.push({ line: this.lineNumber, reason: error.message });
  }
}

/**
 * Parses access-log lines into the batch. A bad line is counted and reported; the good lines of the same
 * batch are kept. Blank lines are ignored; lines past MAX_LINE_CHARS are rejected unread.
 */
export function ingestLines(
  text: string,
  parse: LineParser,
  context: LineContext,
  batch: BatchAggregate,
): LineSummary {
  const reader = new LineReader(parse, context, batch);
  reader.read(text, 0, text.length);
  return reader.summary;
}

/**
 * ingestLines for the bytes of whole lines (UTF-8, as `sloguard import` reads a file): with a BytesParser the
 * usual lines are read without being decoded.
 */
export function ingestBytes(
  bytes: Buffer,
  parse: LineParser,
  fast: BytesParser | undefined,
  context: LineContext,
  batch: BatchAggregate,
): LineSummary {
  if (!fast) return ingestLines(bytes.toString('utf8'), parse, context, batch);
  const reader = new LineReader(parse, context, batch);
  reader.readBytes(bytes, fast);
  return reader.summary;
}

/** The event loop is held at most this long at a time by one body's lines. */
const SLICE_MS = 2;

/** Reads text[0, to] in slices of SLICE_MS, yielding to the event loop between them. */
async function readSliced(reader: LineReader, text: string, to: number): Promise<void> {
  let at = 0;
  while (at <= to) {
    at = reader.read(text, at, to, performance.now() + SLICE_MS);
    if (at <= to) await yieldTurn();
  }
}

/** ingestLines in slices of SLICE_MS, for text read on the event loop (a tailed file's new lines). */
export async function ingestLinesSliced(
  text: string,
  parse: LineParser,
  context: LineContext,
  batch: BatchAggregate,
): Promise<LineSummary> {
  const reader = new LineReader(parse, context, batch);
  await readSliced(reader, text, text.length);
  return reader.summary;
}

/**
 * ingestLines for text that arrives in chunks (a request body, inflated or not), holding the event loop at
 * most SLICE_MS at a time: between slices other requests (the gate) are answered. A line split across chunks
 * is joined; one that grows past MAX_LINE_CHARS is dropped as it arrives, so memory stays bounded too.
 */
export async function ingestChunks(
  chunks: AsyncIterable<Buffer>,
  parse: LineParser,
  context: LineContext,
  batch: BatchAggregate,
): Promise<LineSummary> {
  const reader = new LineReader(parse, context, batch);
  const decoder = new StringDecoder('utf8');
  let carry = '';
  /** Characters of an over-long line dropped so far (0: none being dropped). */
  let dropped = 0;
  for await (const chunk of chunks) {
    const decoded = decoder.write(chunk);
    const newline = decoded.indexOf('\n');
    if (dropped > 0) {
      if (newline < 0) {
        dropped += decoded.length;
        continue;
      }
      reader.refuseLongLine(dropped + newline);
      dropped = 0;
      carry = '';
      const rest = decoded.slice(newline + 1);
      const last = rest.lastIndexOf('\n');
      await readSliced(reader, rest, last);
      carry = rest.slice(last + 1);
    } else {
      const text = carry + decoded;
      const last = newline < 0 ? -1 : text.lastIndexOf('\n');
      if (last >= 0) await readSliced(reader, text, last);
      carry = text.slice(last + 1);
    }
    if (carry.length > MAX_LINE_CHARS) {
      dropped = carry.length;
      carry = '';
    }
    await yieldTurn();
  }
  if (dropped > 0) reader.refuseLongLine(dropped);
  else {
    const text = carry + decoder.end();
    if (text.length > 0) await readSliced(reader, text, text.length);
  }
  return reader.summary;
}

/** Adds one chunk's summary to a running one (problems stay the first MAX_PROBLEMS). */
export function addSummary(into: LineSummary, from: LineSummary): void {
  into.accepted += from.accepted;
  into.rejected += from.rejected;
  into.skipped += from.skipped;
  for (const [reason, count] of Object.entries(from.reasons))
    into.reasons[reason] = (into.reasons[reason] ?? 0) + count;
  for (const problem of from.problems) if (into.problems.length < MAX_PROBLEMS) into.problems.push(problem);
}

export function emptySummary(): LineSummary {
  return { accepted: 0, rejected: 0, skipped: 0, reasons: {}, problems: [] };
}
