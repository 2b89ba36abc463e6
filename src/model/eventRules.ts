/** Good, bad and valid rules of an availability indicator; definitions/eventRules.ts reads and judges them. */
import type { SourceKind } from './observation.js';

/** An inclusive range of HTTP statuses. */
export interface StatusRange {
  from: number;
  to: number;
}

/** Leaves an event out of the valid events when every field given matches. */
export interface Exclusion {
  /** Route template (the series operation); `*` matches any run of characters. */
  route?: string;
  method?: string;
  /** User agent; `*` matches any run of characters, case-insensitive (`*bot*`). */
  userAgent?: string;
  status?: StatusRange[];
}

export interface EventRules {
  /** Statuses that are bad, sorted and merged (`good: { status }` is kept as its complement, so one rule has one form). */
  bad: StatusRange[];
  exclude: Exclusion[];
}

/** A rule set as ingest counts it: for series of one kind and service, under a stable id. */
export interface CountingRule {
  /** From the rules' canonical text, so it is the same across restarts and processes. */
  id: number;
  kind: SourceKind;
  service: string;
  rules: EventRules;
}

/** What a request is under a rule set. */
export type EventVerdict = 'good' | 'bad' | 'excluded';

/** The parts of a request the rules read. */
export interface JudgedEvent {
  operation: string;
  method: string;
  status?: number;
  error: boolean;
  userAgent?: string;
}
