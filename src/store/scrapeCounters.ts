import type { Db } from './database.js';

/** The counters of a scrape target's last good scrape, so the next one (even after a restart) gives deltas. */
export interface StoredScrape {
  counters: Map<string, number>;
  scrapedMs: number;
}

export class ScrapeCounterStore {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      load: db.prepare<[string], { series: string; value: number; scraped_ms: number }>(
        `SELECT series, value, scraped_ms FROM scrape_counters WHERE target = ?`,
      ),
      clear: db.prepare<[string]>(`DELETE FROM scrape_counters WHERE target = ?`),
      put: db.prepare<[string, string, number, number]>(
        `INSERT INTO scrape_counters (target, series, value, scraped_ms) VALUES (?, ?, ?, ?)`,
      ),
    };
  }

  load(target: string): StoredScrape | undefined {
    const rows = this.statements.load.all(target);
    if (rows.length === 0) return undefined;
    return { counters: new Map(rows.map((row) => [row.series, row.value])), scrapedMs: rows[0]!.scraped_ms };
  }

  /** Call inside the transaction that commits the scrape's buckets (BatchAggregate.alsoInTransaction). */
  replace(target: string, counters: Map<string, number>, scrapedMs: number): void {
    this.statements.clear.run(target);
    for (const [series, value] of counters) this.statements.put.run(target, series, value, scrapedMs);
  }
}
