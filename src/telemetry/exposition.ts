import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Registry } from 'prom-client';

/** What prom-client reads a family's series from (its histograms answer the text format's form apart). */
interface FamilySource {
  get(): Promise<{ values: unknown[] }>;
  getForPromString?(): Promise<{ values: unknown[] }>;
}

/**
 * A family that can also hand its series over a slice at a time (the per-SLO families, read from the statuses):
 * a scrape then holds one slice's series objects, not the whole family's (126,000 at 10,000 SLOs).
 */
export interface SlicedFamily<T> {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  slices(): AsyncIterable<T[]>;
}

/** prom-client's formatter of one family, used by `registry.metrics()` (public in its code, untyped). */
type Formatter = { getMetricsAsString(source: FamilySource): Promise<string> };

/** Series formatted between two yields to the event loop: a few ms of work on a loaded core. */
const SERIES_PER_SLICE = 2_000;

/**
 * What `visit` adds for each item, handed over in slices of about SERIES_PER_SLICE values, with a yield to the
 * event loop between slices: the per-SLO families go through their statuses with it, since making 60,000
 * labelled series (10,000 SLOs × burn-rate windows) in one go is itself a long hold.
 */
export async function* mapInSlices<T, U>(
  items: readonly T[],
  visit: (item: T, add: (value: U) => void) => void,
): AsyncGenerator<U[]> {
  let values: U[] = [];
  const add = (value: U) => values.push(value);
  for (let i = 0; i < items.length; i++) {
    visit(items[i]!, add);
    if (values.length >= SERIES_PER_SLICE || i === items.length - 1) {
      yield values;
      values = [];
      if (i < items.length - 1) await yieldToLoop();
    }
  }
}

/** The series of a family in slices of SERIES_PER_SLICE: a sliced family's own, or prom-client's read cut up. */
async function* seriesSlices(metric: unknown): AsyncGenerator<{ family: object; values: unknown[] }> {
  const sliced = metric as Partial<SlicedFamily<unknown>>;
  if (sliced.slices) {
    const { name, help, type, aggregator } = sliced;
    const family = { name, help, type, aggregator };
    let any = false;
    for await (const values of sliced.slices()) {
      any = true;
      yield { family, values };
    }
    if (!any) yield { family, values: [] };
    return;
  }
  const source = metric as FamilySource;
  const family = await (source.getForPromString?.() ?? source.get());
  for (let start = 0; start === 0 || start < family.values.length; start += SERIES_PER_SLICE) {
    if (start > 0) await yieldToLoop();
    yield { family, values: family.values.slice(start, start + SERIES_PER_SLICE) };
  }
}

/**
 * The registry's text exposition, byte for byte what `registry.metrics()` answers, built in slices with a yield
 * to the event loop between them: at 10,000 SLOs the per-SLO families hold tens of thousands of series, and
 * `registry.metrics()` formats them all in one hold of the loop (seconds under load, issue #23), which would
 * stall the deploy gate on every Prometheus scrape. Each slice is formatted by prom-client itself, so the
 * escaping and number formats stay its own.
 */
async function expose(registry: Registry): Promise<string> {
  // Every slice's text, with the separators between them, joined once at the end: a scrape at 10,000 SLOs is
  // 10 MB of text, and joining each family and then the families made it twice more.
  const parts: string[] = [];
  for (const metric of registry.getMetricsAsArray()) {
    await yieldToLoop();
    if (parts.length > 0) parts.push('\n\n');
    let first = true;
    for await (const { family, values } of seriesSlices(metric)) {
      const slice = { ...family, values };
      const text = await (registry as unknown as Formatter).getMetricsAsString({ get: async () => slice });
      // Every slice comes with the family's HELP and TYPE lines: only the first keeps them.
      if (first) parts.push(text);
      else if (values.length > 0)
        parts.push('\n', text.slice(text.indexOf('\n', text.indexOf('\n') + 1) + 1));
      first = false;
    }
  }
  parts.push('\n');
  return parts.join('');
}

/**
 * Scrapes share one build: a scrape that arrives while another's text is being built waits for that text
 * rather than starting a second build, so concurrent scrapes cost the work of one.
 */
export function sharedExposition(registry: Registry): () => Promise<string> {
  let building: Promise<string> | undefined;
  return () => {
    building ??= expose(registry).finally(() => {
      building = undefined;
    });
    return building;
  };
}
