import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Registry } from 'prom-client';

/** What prom-client reads a family's series from (its histograms answer the text format's form apart). */
interface FamilySource {
  get(): Promise<{ values: unknown[] }>;
  getForPromString?(): Promise<{ values: unknown[] }>;
}

/** prom-client's formatter of one family, used by `registry.metrics()` (public in its code, untyped). */
type Formatter = { getMetricsAsString(source: FamilySource): Promise<string> };

/** Series formatted between two yields to the event loop: a few ms of work on a loaded core. */
const SERIES_PER_SLICE = 2_000;

/**
 * Visits every item, yielding to the event loop between slices: the per-SLO gauges' collects go through their
 * statuses with it, since setting 60,000 labelled series (10,000 SLOs × burn-rate windows) is itself a long hold.
 */
export async function forEachInSlices<T>(items: readonly T[], visit: (item: T) => void): Promise<void> {
  for (let start = 0; start < items.length; start += SERIES_PER_SLICE) {
    if (start > 0) await yieldToLoop();
    for (const item of items.slice(start, start + SERIES_PER_SLICE)) visit(item);
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
  const families: string[] = [];
  for (const metric of registry.getMetricsAsArray()) {
    await yieldToLoop();
    const source = metric as unknown as FamilySource;
    const family = await (source.getForPromString?.() ?? source.get());
    const parts: string[] = [];
    for (let start = 0; start === 0 || start < family.values.length; start += SERIES_PER_SLICE) {
      if (start > 0) await yieldToLoop();
      const slice = { ...family, values: family.values.slice(start, start + SERIES_PER_SLICE) };
      const text = await (registry as unknown as Formatter).getMetricsAsString({ get: async () => slice });
      // Every slice comes with the family's HELP and TYPE lines: only the first keeps them.
      parts.push(start === 0 ? text : text.slice(text.indexOf('\n', text.indexOf('\n') + 1) + 1));
    }
    families.push(parts.join('\n'));
  }
  return `${families.join('\n\n')}\n`;
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
