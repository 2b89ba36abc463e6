/**
 * The Prometheus text exposition format (version 0.0.4), read as plain samples: enough for a scraper that
 * needs counters and histogram buckets. `# HELP` / `# TYPE` lines and comments are skipped; timestamps are
 * ignored (the scrape time is what counts). No npm parser handles labelled histograms correctly on Node 20
 * (parse-prometheus-text-format 1.1.1 drops their labels), so this is a small careful one.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class ExpositionError extends Error {
  override name = 'ExpositionError';
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string, lineNumber: number): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  const value = Number(text);
  if (text === '' || Number.isNaN(value))
    throw new ExpositionError(`line ${lineNumber}: bad value "${text}"`);
  return value;
}

/** Reads `{a="x",b="y\"z"}` from `line` at `start` (the `{`); returns the labels and the index after `}`. */
function parseLabels(line: string, start: number, lineNumber: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let at = start + 1;
  const fail = (why: string): never => {
    throw new ExpositionError(`line ${lineNumber}: ${why} in labels`);
  };
  for (;;) {
    while (line[at] === ' ') at++;
    if (line[at] === '}') return [labels, at + 1];
    const name = LABEL_NAME.exec(line.slice(at))?.[0] ?? fail('bad label name');
    at += name.length;
    while (line[at] === ' ') at++;
    if (line[at] !== '=' || line[at + 1] !== '"') fail(`expected =" after ${name}`);
    at += 2;
    let value = '';
    for (;;) {
      const char = line[at];
      if (char === undefined) fail('unterminated label value');
      if (char === '"') break;
      if (char === '\\') {
        const next = line[at + 1];
        value += next === 'n' ? '\n' : (next ?? '');
        at += 2;
      } else {
        value += char;
        at += 1;
      }
    }
    labels[name] = value;
    at += 1;
    while (line[at] === ' ') at++;
    if (line[at] === ',') at += 1;
    else if (line[at] !== '}') fail('expected , or }');
  }
}

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const name = NAME.exec(line)?.[0];
    if (!name) throw new ExpositionError(`line ${index + 1}: no metric name`);
    let labels: Record<string, string> = {};
    let at = name.length;
    if (line[at] === '{') [labels, at] = parseLabels(line, at, index + 1);
    const [value] = line.slice(at).trim().split(/\s+/);
    samples.push({ name, labels, value: parseValue(value ?? '', index + 1) });
  }
  return samples;
}
