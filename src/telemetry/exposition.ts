import { Readable } from 'node:stream';
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
 * escaping and number formats stay its own. The slices' texts are handed out one by one and never joined: the
 * whole text is 9.4 MB at 10,000 SLOs, and a scrape that held it (and its copy in a Buffer for the socket)
 * raised the RSS by ~64 MB, most of it left to the next full collection (issue #23, rss10k).
 */
async function* exposeInParts(registry: Registry): AsyncGenerator<string> {
  let separator = '';
  for (const metric of registry.getMetricsAsArray()) {
    await yieldToLoop();
    let first = true;
    for await (const { family, values } of seriesSlices(metric)) {
      const slice = { ...family, values };
      const text = await (registry as unknown as Formatter).getMetricsAsString({ get: async () => slice });
      // Every slice comes with the family's HELP and TYPE lines: only the first keeps them.
      if (first) yield separator + text;
      else if (values.length > 0) yield `\n${text.slice(text.indexOf('\n', text.indexOf('\n') + 1) + 1)}`;
      first = false;
    }
    separator = '\n\n';
  }
  yield '\n';
}

/** How many scrapes may stream at once, and how long one may take before it is cut off. */
export interface ScrapeLimits {
  /** Each scrape builds its own text (about 2 s of CPU at 10,000 SLOs); one past this is refused. */
  inFlight: number;
  /** A client that stops reading would otherwise hold its slot, and the slice it paused on, for good. */
  deadlineMs: number;
}

/** Room for two Prometheus replicas and a person with curl, each scrape taking seconds at most. */
export const SCRAPE_LIMITS: ScrapeLimits = { inFlight: 4, deadlineMs: 60_000 };

/**
 * A scrape's text as a stream of its slices, read as the socket takes them (one slice ahead at most), or
 * undefined when `limits.inFlight` scrapes are streaming already. The stream's end, a client gone mid-scrape
 * (fastify destroys the stream) and the deadline all stop the build and free the slot.
 */
export function scrapeStreams(registry: Registry, limits: ScrapeLimits): () => Readable | undefined {
  let inFlight = 0;
  return () => {
    if (inFlight >= limits.inFlight) return undefined;
    inFlight++;
    const stream = Readable.from(exposeInParts(registry), { objectMode: true, highWaterMark: 1 });
    const deadline = setTimeout(
      () => stream.destroy(new Error(`scrape not read to its end in ${limits.deadlineMs} ms`)),
      limits.deadlineMs,
    );
    stream.once('close', () => {
      clearTimeout(deadline);
      inFlight--;
    });
    return stream;
  };
}
