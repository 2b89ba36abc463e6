/**
 * Lines per second importing a 1M-line nginx access log end to end (read, parse, route normalisation,
 * buckets committed to SQLite), beside mtail (Google's log-to-metrics tool, Debian `mtail`) counting the same
 * file by status and latency bucket with `--one_shot`, in the same run. Target: ≥ 500k lines/s and ≥ 5× mtail.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { report } from './report.js';

// The build, as `sloguard import` runs it (npm run bench builds first): its parsing threads load dist/.
const dist = (path: string) => new URL(`../dist/${path}`, import.meta.url).href;
const { loadConfig } = (await import(dist('config/config.js'))) as typeof import('../src/config/config.js');
const { importLogFile } = (await import(
  dist('ingest/loadbalancer/importFile.js')
)) as typeof import('../src/ingest/loadbalancer/importFile.js');
const { createSloguard } = (await import(dist('service.js'))) as typeof import('../src/service.js');

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
/** The time the file covers: one busy hour of a mid-size service. */
const SPAN_MS = 3_600_000;
const dir = mkdtempSync(join(tmpdir(), 'sloguard-bench-lines-'));
const logPath = join(dir, 'access.log');

/** An hour of traffic (about 280 requests/s at 1M lines) over a few routes with ids, a mix of statuses and latencies, in nginx's sloguard format. */
async function writeLog(): Promise<void> {
  const out = createWriteStream(logPath);
  const routes = ['/profile/', '/search?q=', '/api/orders/', '/static/', '/'];
  const statuses = [200, 200, 200, 200, 201, 204, 301, 404, 500, 503];
  const start = Date.UTC(2026, 10, 22, 0, 0, 0);
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  let chunk = '';
  for (let i = 0; i < LINES; i++) {
    const t = new Date(start + Math.floor((i / LINES) * SPAN_MS));
    const time = `${pad(t.getUTCDate())}/${months[t.getUTCMonth()]}/${t.getUTCFullYear()}:${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())} +0000`;
    const route = routes[Math.floor(random() * routes.length)]!;
    const id = Math.floor(random() * 100_000);
    const path = route === '/' ? '/' : route === '/static/' ? `/static/app.${id % 40}.js` : `${route}${id}`;
    const status = statuses[Math.floor(random() * statuses.length)]!;
    const seconds = (random() * random() * 2).toFixed(3);
    chunk += `10.0.${i % 256}.${(i >> 8) % 256} - - [${time}] "GET ${path} HTTP/1.1" ${status} ${Math.floor(random() * 5000)} "-" "Mozilla/5.0 (X11; Linux x86_64) bench" ${seconds}\n`;
    if (chunk.length > 1_000_000) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = '';
    }
  }
  out.end(chunk);
  await new Promise<void>((r) => out.once('finish', () => r()));
}

async function sloguardLinesPerSecond(round: number): Promise<number> {
  const config = {
    ...loadConfig({}),
    databasePath: join(dir, `sloguard-${round}.db`),
    definitionsPath: resolve(import.meta.dirname, '../slo-definitions'),
  };
  const sloguard = createSloguard(config);
  const started = process.hrtime.bigint();
  const summary = await importLogFile(
    logPath,
    'nginx',
    { source: 'bench', service: 'user-profile', routes: sloguard.routes },
    sloguard.pipeline,
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const stored = sloguard.db.prepare('SELECT SUM(total) AS n FROM minute_buckets').get() as { n: number };
  // The WAL checkpoint thread keeps the process alive until it is stopped.
  await sloguard.stopThreads();
  sloguard.close();
  if (summary.accepted !== LINES || stored.n !== LINES) {
    throw new Error(
      `sloguard counted ${summary.accepted} lines, stored ${stored.n}; expected ${LINES}: ${JSON.stringify(summary.problems.slice(0, 3))}`,
    );
  }
  return LINES / seconds;
}

/** mtail program: requests by status, and a request_time histogram by status. */
const MTAIL_PROGRAM = `
counter requests_total by status
histogram request_seconds by status buckets 0.05, 0.1, 0.25, 0.5, 1, 2.5
/\\[[^\\]]+\\] "[A-Z]+ \\S+ [^"]*" (?P<status>\\d{3}) \\d+ "[^"]*" "[^"]*" (?P<rt>\\d+\\.\\d+)$/ {
  requests_total[$status]++
  request_seconds[$status] = $rt
}
`;

function mtailLinesPerSecond(): number | undefined {
  if (!existsSync('/usr/bin/mtail')) {
    console.warn('*** mtail is missing (apt-get install -y mtail): no baseline ***');
    return undefined;
  }
  const progs = join(dir, 'progs');
  rmSync(progs, { recursive: true, force: true });
  spawnSync('mkdir', ['-p', progs]);
  writeFileSync(join(progs, 'nginx.mtail'), MTAIL_PROGRAM);
  const started = process.hrtime.bigint();
  const run = spawnSync(
    '/usr/bin/mtail',
    [
      '--one_shot',
      '--one_shot_format',
      'prometheus',
      '--progs',
      progs,
      '--logs',
      logPath,
      '--address',
      '127.0.0.1',
      '--port',
      '0',
      '--logtostderr',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const counted = [...run.stdout.matchAll(/^requests_total\{[^}]*\} (\d+)/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
  if (counted !== LINES)
    throw new Error(`mtail counted ${counted} of ${LINES} lines: ${run.stderr.slice(-2000)}`);
  return LINES / seconds;
}

/** Runs per tool, alternating; the best of each is reported (the machine is shared, so the noise is all slowdown). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

try {
  await writeLog();
  let mtail: number | undefined;
  let ours = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const mtailRun = mtailLinesPerSecond();
    if (mtailRun !== undefined) mtail = Math.max(mtail ?? 0, mtailRun);
    ours = Math.max(ours, await sloguardLinesPerSecond(round));
  }
  report(
    `sloguard import, ${LINES.toLocaleString('en-US')}-line nginx file, end to end`,
    ours,
    'lines/s',
    mtail === undefined ? undefined : { name: 'mtail --one_shot', value: mtail },
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
