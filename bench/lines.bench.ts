/**
 * Log import as whole processes, each timed from spawn to exit (start-up included) on the same generated
 * nginx access log (1M lines over 2 days and 19 routes by default): `node dist/cli/main.js import` into a
 * fresh database, against mtail (`--one_shot`, Debian `mtail`) and GoAccess (JSON report, Debian
 * `goaccess`), taking turns in each round. Every tool's counts (requests and 5xx) must equal the
 * generator's. Also each tool's start-up (the same command on an empty file) and peak RSS. The import with
 * `--threads 1` (one parsing thread, which the default starts only from 3 cores) runs as one more baseline, so
 * each round shows what a parsing thread gains or costs.
 * Targets (#23): ≥ 5× mtail and ≥ GoAccess, start-up ≤ 300 ms, peak RSS ≤ 150 MB.
 *
 *   BENCH_LINES=200000 BENCH_ROUNDS=2 npm run bench -- lines
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../test/helpers/tmp.js';
import { Comparison, envInt, figure, type ProcessRun, rounds, timeProcess } from './method.js';
import { ROUTES, type Truth, writeNginxLog } from './nginxLog.js';

const LINES = envInt('BENCH_LINES', 1_000_000);
const ROUNDS = rounds(5);
const DAYS = 2;
const cli = join(import.meta.dirname, '../dist/cli/main.js');
const definitions = join(import.meta.dirname, '../slo-definitions');

interface Tool {
  name: string;
  /** Runs the tool on a file as a whole process; checks its counts against `truth` when given. */
  run(file: string, truth?: Truth): ProcessRun;
}

function check(tool: string, counted: Truth, truth: Truth): void {
  if (counted.lines !== truth.lines || counted.serverErrors !== truth.serverErrors) {
    throw new Error(`${tool} counted ${JSON.stringify(counted)}; the file holds ${JSON.stringify(truth)}`);
  }
}

/** `sloguard import` with its default parsing threads, or with `threads` of them. */
function sloguard(dir: string, threads?: number): Tool {
  let runs = 0;
  const options = threads === undefined ? [] : ['--threads', String(threads)];
  return {
    name: ['sloguard import', ...options].join(' '),
    run(file, truth) {
      runs += 1;
      const database = join(dir, `sloguard-${threads ?? 'default'}-${runs}.db`);
      const run = timeProcess(
        process.execPath,
        [cli, 'import', '--format', 'nginx', '--service', 'shop', ...options, file],
        {
          ...process.env,
          SLOGUARD_DATABASE: database,
          SLOGUARD_DEFINITIONS: definitions,
        },
      );
      if (truth) {
        const db = new Database(database, { readonly: true });
        const stored = db
          .prepare('SELECT SUM(total) AS lines, SUM(errors) AS serverErrors FROM hour_buckets')
          .get() as Truth;
        const series = (db.prepare('SELECT COUNT(*) AS n FROM series').get() as { n: number }).n;
        db.close();
        check('sloguard', stored, truth);
        if (series !== ROUTES.length)
          throw new Error(`sloguard stored ${series} series, not ${ROUTES.length}`);
      }
      return run;
    },
  };
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

function mtail(dir: string): Tool {
  const progs = join(dir, 'progs');
  mkdirSync(progs);
  writeFileSync(join(progs, 'nginx.mtail'), MTAIL_PROGRAM);
  return {
    name: 'mtail --one_shot',
    run(file, truth) {
      const run = timeProcess('/usr/bin/mtail', [
        '--one_shot',
        '--one_shot_format',
        'prometheus',
        '--progs',
        progs,
        '--logs',
        file,
        '--address',
        '127.0.0.1',
        '--port',
        '0',
        '--logtostderr',
      ]);
      if (truth) {
        const counted = { lines: 0, serverErrors: 0 };
        for (const m of run.stdout.matchAll(/^requests_total\{[^}]*status="(\d+)"[^}]*\} (\d+)/gm)) {
          counted.lines += Number(m[2]);
          if (m[1]!.startsWith('5')) counted.serverErrors += Number(m[2]);
        }
        check('mtail', counted, truth);
      }
      return run;
    },
  };
}

function goaccess(dir: string): Tool {
  const report = join(dir, 'goaccess.json');
  return {
    name: 'GoAccess',
    run(file, truth) {
      const run = timeProcess('/usr/bin/goaccess', [
        file,
        '--log-format',
        '%h %^[%d:%t %^] "%r" %s %b "%R" "%u" %T',
        '--date-format',
        '%d/%b/%Y',
        '--time-format',
        '%H:%M:%S',
        '--no-global-config',
        '--no-progress',
        '-o',
        report,
      ]);
      if (truth) {
        const json = JSON.parse(readFileSync(report, 'utf8')) as {
          general: { valid_requests: number };
          status_codes: { data: Array<{ data: string; hits: { count: number } }> };
        };
        const serverErrors = json.status_codes.data
          .filter((group) => group.data.startsWith('5'))
          .reduce((sum, group) => sum + group.hits.count, 0);
        check('GoAccess', { lines: json.general.valid_requests, serverErrors }, truth);
      }
      return run;
    },
  };
}

const dir = tempDir('sloguard-bench-lines-');
try {
  const log = join(dir.path, 'access.log');
  const empty = dir.file('empty.log', '');
  const truth = await writeNginxLog(log, LINES, DAYS);
  // The import with one parsing thread is a baseline too: what the thread gains or costs, within each round.
  const tools = [sloguard(dir.path), sloguard(dir.path, 1), mtail(dir.path)];
  if (existsSync('/usr/bin/goaccess')) tools.push(goaccess(dir.path));
  else
    process.stdout.write('*** goaccess is missing (apt-get install -y goaccess): no GoAccess baseline ***\n');
  if (!existsSync('/usr/bin/mtail')) throw new Error('mtail is missing (apt-get install -y mtail)');
  const [ours, ...baselines] = tools as [Tool, ...Tool[]];
  const label = `${LINES.toLocaleString('en-US')}-line ${DAYS}-day ${ROUTES.length}-route nginx file, whole process`;
  const rates = baselines.map((b) => new Comparison(`import, ${label}`, 'lines/s', b.name, 'ours/baseline'));
  // CPU time per line (all threads): what the rates above cost, steadier than wall time on a loaded machine.
  const cpuRates = baselines.map(
    (b) => new Comparison(`import, lines per CPU second, ${label}`, 'lines/CPU s', b.name, 'ours/baseline'),
  );
  const startups = baselines.map(
    (b) => new Comparison('start-up (empty file)', 'ms', b.name, 'ours/baseline'),
  );
  const peaks = new Map(tools.map((t) => [t.name, [] as number[]]));
  /** Start-up's CPU time, which a loaded machine does not stretch (/usr/bin/time counts in 10 ms steps). */
  const startupCpus = new Map(tools.map((t) => [t.name, [] as number[]]));
  for (let round = 0; round < ROUNDS; round++) {
    // Turns rotate so no tool always runs right after the file was written or right after another's teardown.
    const order = tools.map((_, i) => tools[(i + round) % tools.length]!);
    const runs = new Map<string, { rate: number; cpuRate: number; startupMs: number }>();
    for (const tool of order) {
      const full = tool.run(log, truth);
      const start = tool.run(empty);
      peaks.get(tool.name)!.push(full.peakRssMb);
      runs.set(tool.name, {
        rate: LINES / (full.ms / 1000),
        cpuRate: LINES / (full.cpuMs / 1000),
        startupMs: start.ms,
      });
      startupCpus.get(tool.name)!.push(start.cpuMs);
    }
    baselines.forEach((b, i) => {
      rates[i]!.add(runs.get(ours.name)!.rate, runs.get(b.name)!.rate);
      cpuRates[i]!.add(runs.get(ours.name)!.cpuRate, runs.get(b.name)!.cpuRate);
      startups[i]!.add(runs.get(ours.name)!.startupMs, runs.get(b.name)!.startupMs);
    });
  }
  for (const c of [...rates, ...cpuRates, ...startups]) c.print();
  for (const [name, values] of peaks) figure(`peak RSS of ${name}, whole file`, values, 'MB');
  for (const [name, values] of startupCpus) figure(`start-up CPU time of ${name} (empty file)`, values, 'ms');
  process.stdout.write('every tool counted the lines and 5xx answers the generator wrote, in every round\n');
} finally {
  dir.cleanup();
}
