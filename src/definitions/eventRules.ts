import { createHash } from 'node:crypto';
import Type, { type Static } from 'typebox';
import type { EventRules, EventVerdict, Exclusion, JudgedEvent, StatusRange } from '../model/eventRules.js';

/**
 * Good, bad and valid rules of an availability indicator (docs/slo-definitions.md): which statuses are good
 * or bad, and which events are left out of the valid events altogether (health checks, bots, OPTIONS). Ingest
 * counts each declared rule set exactly per bucket; matching is linear time (no user regex).
 */

const StatusItem = Type.Union([
  Type.Integer({ minimum: 100, maximum: 599 }),
  Type.String({ minLength: 1, maxLength: 16 }),
]);
/** `"5xx"`, `429`, `"499"`, `">= 500"`, `"400-499"`, or a list of them. */
export const StatusSpec = Type.Union([StatusItem, Type.Array(StatusItem, { minItems: 1, maxItems: 50 })]);
export type StatusSpec = Static<typeof StatusSpec>;

const Pattern = Type.String({ minLength: 1, maxLength: 256 });
export const ExclusionSpec = Type.Object(
  {
    route: Type.Optional(Pattern),
    method: Type.Optional(Type.String({ pattern: '^[A-Za-z]+$', maxLength: 16 })),
    userAgent: Type.Optional(Pattern),
    status: Type.Optional(StatusSpec),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ExclusionSpec = Static<typeof ExclusionSpec>;
export const ExclusionsSpec = Type.Array(ExclusionSpec, { minItems: 1, maxItems: 50 });

/** A wrong status or pattern, with the reason (the caller knows the field). */
export class RuleError extends Error {}

const COMPARISON = /^(<=|>=|<|>)\s*(\d{3})$/;
const CLASS = /^([1-5])xx$/i;
const RANGE = /^(\d{3})\s*-\s*(\d{3})$/;
const MIN_STATUS = 100;
const MAX_STATUS = 599;

function statusItem(item: number | string): StatusRange {
  const text = String(item).trim();
  const inRange = (n: number) => n >= MIN_STATUS && n <= MAX_STATUS;
  if (/^\d{3}$/.test(text) && inRange(Number(text))) return { from: Number(text), to: Number(text) };
  const klass = CLASS.exec(text);
  if (klass) return { from: Number(klass[1]) * 100, to: Number(klass[1]) * 100 + 99 };
  const range = RANGE.exec(text);
  if (range && inRange(Number(range[1])) && inRange(Number(range[2])) && Number(range[1]) <= Number(range[2]))
    return { from: Number(range[1]), to: Number(range[2]) };
  const comparison = COMPARISON.exec(text);
  if (comparison && inRange(Number(comparison[2]))) {
    const n = Number(comparison[2]);
    const bounds: Record<string, StatusRange> = {
      '<': { from: MIN_STATUS, to: n - 1 },
      '<=': { from: MIN_STATUS, to: n },
      '>': { from: n + 1, to: MAX_STATUS },
      '>=': { from: n, to: MAX_STATUS },
    };
    return bounds[comparison[1]!]!;
  }
  throw new RuleError(
    `expected a status (429), a class ("5xx"), a range ("400-499") or a comparison (">= 500"), got "${text}"`,
  );
}

/** Statuses from their written form, sorted and merged. */
export function statusRanges(spec: StatusSpec): StatusRange[] {
  const ranges = (Array.isArray(spec) ? spec : [spec]).map(statusItem).sort((a, b) => a.from - b.from);
  const merged: StatusRange[] = [];
  for (const range of ranges) {
    const last = merged.at(-1);
    if (last && range.from <= last.to + 1) last.to = Math.max(last.to, range.to);
    else merged.push({ ...range });
  }
  return merged;
}

const inRanges = (ranges: readonly StatusRange[], status: number) =>
  ranges.some((r) => status >= r.from && status <= r.to);

/** The seed's rule: 5xx are bad, nothing is left out. Counted as total and errors, no rule counts needed. */
export const DEFAULT_RULES: EventRules = { bad: [{ from: 500, to: 599 }], exclude: [] };

/** The statuses (100–599) not in sorted, merged `ranges`. */
export function complement(ranges: readonly StatusRange[]): StatusRange[] {
  const left: StatusRange[] = [];
  let from = MIN_STATUS;
  for (const range of ranges) {
    if (range.from > from) left.push({ from, to: range.from - 1 });
    from = Math.max(from, range.to + 1);
  }
  if (from <= MAX_STATUS) left.push({ from, to: MAX_STATUS });
  return left;
}

/**
 * Whether `text` matches a pattern where `*` stands for any run of characters. Linear: the literal parts
 * are found left to right, each at its first place after the previous one (the leftmost match is always
 * safe for `*` patterns, so no backtracking is needed).
 */
export function globMatch(pattern: string, text: string, ignoreCase = false): boolean {
  const subject = ignoreCase ? text.toLowerCase() : text;
  const parts = (ignoreCase ? pattern.toLowerCase() : pattern).split('*');
  if (parts.length === 1) return subject === parts[0];
  const first = parts[0]!;
  const last = parts.at(-1)!;
  if (!subject.startsWith(first) || subject.length < first.length + last.length) return false;
  let at = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const found = subject.indexOf(parts[i]!, at);
    if (found < 0) return false;
    at = found + parts[i]!.length;
  }
  return subject.length - last.length >= at && subject.endsWith(last);
}

function excluded(exclusion: Exclusion, event: JudgedEvent): boolean {
  return (
    (exclusion.route === undefined || globMatch(exclusion.route, event.operation)) &&
    (exclusion.method === undefined || exclusion.method === event.method) &&
    (exclusion.userAgent === undefined ||
      (event.userAgent !== undefined && globMatch(exclusion.userAgent, event.userAgent, true))) &&
    (exclusion.status === undefined ||
      (event.status !== undefined && inRanges(exclusion.status, event.status)))
  );
}

/**
 * Good, bad or left out. A request without a status (a span with only an error flag) is bad when flagged:
 * status rules cannot judge it.
 */
export function judgeEvent(rules: EventRules, event: JudgedEvent): EventVerdict {
  if (rules.exclude.some((exclusion) => excluded(exclusion, event))) return 'excluded';
  if (event.status === undefined) return event.error ? 'bad' : 'good';
  return inRanges(rules.bad, event.status) ? 'bad' : 'good';
}

/** The rules' canonical text: what the id is made from, and what slicings are told apart by. */
export function rulesText(rules: EventRules): string {
  return JSON.stringify(rules);
}

/** A stable id of 48 bits: two keys (valid, bad) per rule set fit a bucket's sparse counts. */
export function ruleId(rules: EventRules): number {
  return createHash('sha256').update(rulesText(rules)).digest().readUIntBE(0, 6);
}

export const isDefaultRules = (rules: EventRules): boolean => rulesText(rules) === rulesText(DEFAULT_RULES);

/** Sparse-count keys of a rule's valid and bad events in a bucket. */
export const validKey = (id: number): number => id * 2;
export const badKey = (id: number): number => id * 2 + 1;
