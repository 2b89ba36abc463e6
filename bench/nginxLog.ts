import { createWriteStream } from 'node:fs';

/**
 * A seeded nginx access log of short lines over `days` days and 19 routes, the same on every run: the lines
 * bench imports it with each tool, and test/integration/import-lean.test.ts bounds the import's memory on it.
 */

const HOUR_MS = 3_600_000;

/** 19 routes of a mid-size service; `:id` becomes a number in the log and a template again in sloguard. */
export const ROUTES = [
  '/',
  '/login',
  '/logout',
  '/search',
  '/cart',
  '/checkout',
  '/health',
  '/api/users/:id',
  '/api/users/:id/orders',
  '/api/orders/:id',
  '/api/orders/:id/items',
  '/api/products/:id',
  '/api/products/:id/reviews',
  '/api/categories/:id',
  '/api/payments/:id',
  '/api/invoices/:id',
  '/api/shipments/:id',
  '/api/sessions',
  '/api/recommendations',
];
const STATUSES = [200, 200, 200, 200, 200, 200, 201, 204, 301, 404, 500, 503];

export interface Truth {
  lines: number;
  serverErrors: number;
}

/** Writes the log (seeded, so every run has the same lines) and returns what it holds. */
export async function writeNginxLog(path: string, lines: number, days: number): Promise<Truth> {
  const out = createWriteStream(path);
  const end = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const start = end - days * 24 * HOUR_MS;
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  let serverErrors = 0;
  let chunk = '';
  for (let i = 0; i < lines; i++) {
    const t = new Date(start + Math.floor((i / lines) * (end - start)));
    const time = `${pad(t.getUTCDate())}/${months[t.getUTCMonth()]}/${t.getUTCFullYear()}:${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())} +0000`;
    const route = ROUTES[Math.floor(random() * ROUTES.length)]!;
    const path = route.replaceAll(':id', () => String(1 + Math.floor(random() * 100_000)));
    const status = STATUSES[Math.floor(random() * STATUSES.length)]!;
    if (status >= 500) serverErrors += 1;
    const seconds = (random() * random() * 2).toFixed(3);
    chunk += `10.0.${i % 256}.${(i >> 8) % 256} - - [${time}] "GET ${path} HTTP/1.1" ${status} ${Math.floor(random() * 5000)} "-" "Mozilla/5.0 (X11; Linux x86_64) bench" ${seconds}\n`;
    if (chunk.length > 1_000_000) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = '';
    }
  }
  out.end(chunk);
  await new Promise<void>((r) => out.once('finish', () => r()));
  return { lines, serverErrors };
}
