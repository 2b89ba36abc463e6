import type { Sloguard } from '../../sloguard.js';
import { ScrapeCounterStore } from '../../store/scrapeCounters.js';
import { LbScraper, type ScrapeLog } from './scraper.js';

/** Starts a scraper per `scrape:` entry; `stop` ends them after their current scrape. */
export function startScrapers(
  sloguard: Sloguard,
  log: ScrapeLog,
): { scrapers: LbScraper[]; stop(): Promise<void> } {
  const store = new ScrapeCounterStore(sloguard.db);
  const scrapers = sloguard.config.scrapeTargets.map(
    (settings) =>
      new LbScraper(settings, { pipeline: sloguard.pipeline, routes: sloguard.routes, store, log }),
  );
  for (const scraper of scrapers) scraper.start();
  return {
    scrapers,
    async stop() {
      await Promise.all(scrapers.map((scraper) => scraper.stop()));
    },
  };
}
