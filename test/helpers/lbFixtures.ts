import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { type AccessLogEntry, type LineParser, LineRejected } from '../../src/ingest/loadbalancer/format.js';
import { normalisePath } from '../../src/ingest/routeTemplates.js';

/** What a fixture line must become: fields of the entry (plus its route template), or a refusal with its reason. */
export type Expected = (Partial<AccessLogEntry> & { route?: string; time?: string }) | Refusal;
export interface Refusal {
  skipped?: string;
  rejected?: string;
}

export function fixtureLines(file: string): string[] {
  return readFileSync(new URL(`../fixtures/lb/${file}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
}

function refusalOf(parse: LineParser, line: string): LineRejected {
  try {
    parse(line);
  } catch (error) {
    if (error instanceof LineRejected) return error;
    throw error;
  }
  throw new Error('expected the line to be refused');
}

/** Checks one line against its expectation; only the fields named are compared (`undefined` = must be absent). */
export function expectLine(parse: LineParser, line: string, want: Expected): void {
  if ('skipped' in want || 'rejected' in want) {
    const refusal = refusalOf(parse, line);
    const reason = (want as Refusal).skipped ?? (want as Refusal).rejected!;
    expect(refusal.message).toContain(reason);
    expect(refusal.skipped).toBe('skipped' in want);
    return;
  }
  const entry = parse(line);
  const actual: Record<string, unknown> = {
    ...entry,
    route: normalisePath(entry.path),
    time: new Date(entry.timeMs).toISOString(),
  };
  const picked = Object.fromEntries(Object.keys(want).map((key) => [key, actual[key]]));
  expect(picked).toEqual(want);
}

/** One test per line of a fixture file, plus one that every line has an expectation. */
export function fixtureTable(
  parse: LineParser,
  file: string,
  expected: readonly Expected[],
  prepare = (l: string) => l,
) {
  const lines = fixtureLines(file);
  it(`${file}: an expectation for every line`, () => {
    expect(lines).toHaveLength(expected.length);
  });
  it.each(lines.map((line, index) => [index + 1, line, expected[index]!] as const))(
    `${file} line %i`,
    (_n, line, want) => expectLine(parse, prepare(line), want),
  );
}
