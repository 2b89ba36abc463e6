import type { SourceSettings } from '../../config/config.js';
import type { BatchAggregate } from '../aggregate.js';
import { LabelRejected } from '../labels.js';
import { isServerError } from '../observation.js';
import type { ServiceRoutes } from '../routes.js';
import { TIME_OUT_OF_RANGE, TimeOutOfRange } from '../timeRange.js';
import { type LineParser, LineRejected, type StatusChoice } from './format.js';

export interface LineProblem {
  line: number;
  reason: string;
}

/** What became of a batch of lines. */
export interface LineSummary {
  accepted: number;
  rejected: number;
  skipped: number;
  /** Rejected lines by reason: `time_out_of_range` (see timeRange.ts), else `invalid_line`. */
  reasons: Record<string, number>;
  /** The first rejected or skipped lines with their reasons (1-based line numbers). */
  problems: LineProblem[];
}

const INVALID_LINE = 'invalid_line';

export interface LineContext {
  source: string;
  /** The service named by the request, which wins over the source's mapping. */
  service?: string;
  settings?: SourceSettings;
  routes: ServiceRoutes;
  /** Which status (and duration) counts; `edge` unless configured. */
  statusFrom?: StatusChoice;
  /**
   * Where the text continues a file: lines before it. Problems cite file line numbers, and the count is
   * advanced past the text, so the next chunk carries on.
   */
  position?: { lines: number };
}

const MAX_PROBLEMS = 20;

/** The service a line belongs to: the request's, else the source's host mapping, else its default. */
function serviceOf(context: LineContext, host: string | undefined): string | undefined {
  if (context.service) return context.service;
  const byHost = host === undefined ? undefined : context.settings?.hosts?.[host];
  return byHost ?? context.settings?.service;
}

/**
 * Parses access-log lines into the batch. A bad line is counted and reported; the good lines of the same
 * batch are kept. Blank lines are ignored.
 */
export function ingestLines(
  text: string,
  parse: LineParser,
  context: LineContext,
  batch: BatchAggregate,
): LineSummary {
  const summary = emptySummary();
  const byTarget = context.statusFrom === 'target';
  let lineNumber = context.position?.lines ?? 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNumber += 1;
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    if (line.length === 0 || (line.charCodeAt(0) <= 32 && line.trim() === '')) continue;
    try {
      const entry = parse(line);
      batch.admit(entry.timeMs);
      const service = serviceOf(context, entry.host);
      if (service === undefined) {
        throw new LineRejected(`no service for host "${entry.host ?? '-'}": pass service= or map the source`);
      }
      const status = byTarget ? (entry.targetStatus ?? entry.status) : entry.status;
      const durationUs = byTarget ? (entry.targetDurationUs ?? entry.durationUs) : entry.durationUs;
      const operation = context.routes.route(service, entry.path);
      const series = batch.seriesFor('loadbalancer', context.source, service, operation, entry.method);
      batch.count(series, entry.timeMs, isServerError(status), durationUs, status, entry.userAgent);
      summary.accepted += 1;
    } catch (error) {
      // A name with NUL or broken UTF-8 (LabelRejected) rejects its line like a malformed one.
      if (
        !(error instanceof LineRejected || error instanceof TimeOutOfRange || error instanceof LabelRejected)
      )
        throw error;
      if (error instanceof LineRejected && error.skipped) summary.skipped += 1;
      else {
        summary.rejected += 1;
        const reason = error instanceof TimeOutOfRange ? TIME_OUT_OF_RANGE : INVALID_LINE;
        summary.reasons[reason] = (summary.reasons[reason] ?? 0) + 1;
      }
      if (summary.problems.length < MAX_PROBLEMS)
        summary.problems.push({ line: lineNumber, reason: error.message });
    }
  }
  if (context.position) context.position.lines = lineNumber;
  return summary;
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
