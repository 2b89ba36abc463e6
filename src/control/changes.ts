import type { ControlDatabase } from './database.js';

/** Rows one read copies at most, and reads one refresh makes at most: a long gap is caught up over refreshes. */
export const PAGE = 1_000;
export const PAGES_PER_REFRESH = 10;

/** The shared tables copied by change number (each write takes the table's next number into `changed`). */
type NumberedTable = 'control_incident_episodes' | 'control_corrections';

/**
 * Hands each row of `table` changed after `readUpTo` to `take`, in change order, at most PAGES_PER_REFRESH
 * pages; returns the last change number read and how many rows were copied.
 */
export async function copyChanges<Row extends { changed: string }>(
  db: ControlDatabase,
  table: NumberedTable,
  readUpTo: number,
  take: (row: Row) => void,
): Promise<{ readUpTo: number; copied: number }> {
  let copied = 0;
  for (let page = 0; page < PAGES_PER_REFRESH; page++) {
    const { rows } = await db.pool.query<Row>(
      `SELECT * FROM ${table} WHERE changed > $1 ORDER BY changed LIMIT $2`,
      [readUpTo, PAGE],
    );
    for (const row of rows) take(row);
    copied += rows.length;
    const last = rows.at(-1);
    if (last) readUpTo = Number(last.changed);
    if (rows.length < PAGE) break;
  }
  return { readUpTo, copied };
}
