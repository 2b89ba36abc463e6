/**
 * `npm run demo`: a real `sloguard serve` on a temporary database with the example SLOs, fed by a traffic
 * generator, telling one story in about three minutes:
 *   - user-profile stays healthy;
 *   - checkout ships v2.8.0 through the gate, starts failing, burns its budget fast, pages (the page arrives
 *     at a local webhook sink printed here), the gate freezes and denies the next feature release, and a
 *     rollback (exempt from the freeze) ends the incident;
 *   - play-store's "Browse" composite combines four span-measured SLOs with weights.
 * Three days of history are backfilled first so budgets have a past. Ctrl-C stops everything.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { burnRateText, percentText } from '../evaluate/numbers.js';
import { latency, nginxLine, type Request, random, zipkinSpan } from './traffic.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MINUTE = 60_000;
const HISTORY_DAYS = 3;
const rand = random(8);

/** The story's beats, in seconds after live traffic starts (wall time, however slow the machine). */
const DEPLOY_AT = 45;
const SECOND_RELEASE_AT = 130;
const ROLLBACK_AT = 180;

/** Figures as the other outputs print them, with a dash where there is none yet. */
const times = (rate: number | null | undefined) => burnRateText(rate, 1, '—');
const say = (text: string) => console.log(`${new Date().toISOString().slice(11, 19)}  ${text}`);

interface ServiceTraffic {
  service: string;
  /** Requests per second. */
  rate: number;
  /** `quiet`: no background errors (the start of the history, while budgets have few events to spread them over). */
  request(atMs: number, incident: boolean, quiet?: boolean): Request;
}

const PROFILE: ServiceTraffic = {
  service: 'user-profile',
  rate: 12,
  request: (atMs, _incident, quiet) => {
    const roll = rand();
    return {
      atMs,
      method: 'GET',
      path: `/profile/${1000 + Math.floor(rand() * 9000)}${roll < 0.1 ? '?tab=games' : ''}`,
      status: roll < 0.03 ? 404 : roll < 0.0303 && !quiet ? 502 : 200,
      seconds: latency(rand, 0.09),
    };
  },
};

const CHECKOUT: ServiceTraffic = {
  service: 'checkout',
  rate: 10,
  request: (atMs, incident, quiet) => {
    const roll = rand();
    const order = roll < 0.3;
    return {
      atMs,
      method: order ? 'POST' : 'GET',
      path: order ? '/api/orders' : roll < 0.7 ? '/api/cart' : `/api/orders/${Math.floor(rand() * 1e6)}`,
      // The bad release: one request in twenty fails and everything slows down.
      status: incident ? (rand() < 0.05 ? 503 : 200) : rand() < 0.0001 && !quiet ? 500 : 200,
      seconds: latency(rand, incident ? 0.3 : 0.15),
    };
  },
};

/** The composite's components: the seed's "Browse" of a store app, reported as Zipkin server spans. */
const STORE_ROUTES = [
  { route: '/', path: () => '/' },
  {
    route: '/search',
    path: () => `/search?q=${['chess', 'maps', 'notes', 'music'][Math.floor(rand() * 4)]}`,
  },
  {
    route: '/category/:name',
    path: () => `/category/${['games', 'tools', 'social'][Math.floor(rand() * 3)]}`,
  },
  { route: '/apps/:id', path: () => `/apps/${Math.floor(rand() * 1e5)}` },
] as const;

function storeSpans(atMs: number, count: number, quiet = false) {
  return Array.from({ length: count }, (_, i) => {
    const { route, path } = STORE_ROUTES[i % STORE_ROUTES.length]!;
    const request = {
      atMs: atMs + Math.floor(rand() * 1000),
      method: 'GET',
      path: path(),
      status: rand() < 0.0003 && !quiet ? 503 : 200,
      seconds: latency(rand, route === '/search' ? 0.2 : 0.07),
    };
    return zipkinSpan('play-store', route, request);
  });
}

class Sloguard {
  constructor(
    readonly url: string,
    private readonly child: ChildProcess,
  ) {}

  async post(path: string, body: string, contentType: string): Promise<Response> {
    const response = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    if (response.status >= 400 && response.status !== 423) {
      throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
    }
    return response;
  }

  lines(service: string, lines: string[]) {
    return this.post(`/api/v1/ingest/lb?format=nginx&service=${service}`, lines.join('\n'), 'text/plain');
  }

  spans(spans: unknown[]) {
    return this.post('/api/v2/spans', JSON.stringify(spans), 'application/json');
  }

  async gate(version: string, changeType = 'feature') {
    const query = new URLSearchParams({
      service: 'checkout',
      environment: 'production',
      version,
      change_type: changeType,
    });
    const response = await fetch(`${this.url}/api/v1/gate?${query}`);
    const answer = (await response.json()) as { decision: string; reason: string; decision_id: string };
    say(
      `gate  checkout ${version} (${changeType}) → HTTP ${response.status} ${answer.decision.toUpperCase()}: ${answer.reason}`,
    );
    return answer;
  }

  async deployed(version: string, decisionId: string) {
    const body = { service: 'checkout', environment: 'production', version, decision_id: decisionId };
    await this.post('/api/v1/deployments', JSON.stringify(body), 'application/json');
    say(`deploy checkout ${version} marked on the charts`);
  }

  /** Stops sloguard gracefully, and for good after five seconds, so its database can be removed. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((done) => this.child.once('exit', done));
    this.child.kill('SIGTERM');
    const force = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(force);
  }
}

/** A stand-in for a chat channel: prints each Alertmanager-style webhook the alerting sends. */
function startSink(): Promise<Server> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      response.writeHead(200).end();
      try {
        const message = JSON.parse(body) as {
          status?: string;
          alerts?: Array<{ labels?: Record<string, string>; annotations?: Record<string, string> }>;
        };
        for (const alert of message.alerts ?? []) {
          const summary =
            alert.annotations?.summary ?? alert.annotations?.description ?? JSON.stringify(alert.labels);
          say(`\x1b[1;31m📟 webhook (${message.status ?? '?'})\x1b[0m ${summary}`);
        }
      } catch {
        say(`📟 webhook: ${body.slice(0, 300)}`);
      }
    });
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

async function startSloguard(dir: string, sinkUrl: string): Promise<Sloguard> {
  const definitions = join(dir, 'slo-definitions');
  cpSync(join(ROOT, 'slo-definitions'), definitions, { recursive: true });
  cpSync(join(import.meta.dirname, 'play-store.yaml'), join(definitions, 'play-store.yaml'));
  const config = join(dir, 'sloguard.yaml');
  writeFileSync(
    config,
    `notifications:\n  targets:\n    demo-sink: { kind: webhook, url: "${sinkUrl}" }\n  routes:\n    - targets: [demo-sink]\n`,
  );
  const port = process.env.DEMO_PORT ?? '9411';
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve'], {
    // From the repository, so `--import tsx` resolves; every path it needs comes from the environment.
    cwd: ROOT,
    env: {
      ...process.env,
      SLOGUARD_PORT: port,
      SLOGUARD_DATABASE: join(dir, 'sloguard.db'),
      SLOGUARD_DEFINITIONS: definitions,
      SLOGUARD_CONFIG: config,
      SLOGUARD_EVALUATION_INTERVAL: '5s',
      SLOGUARD_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`sloguard exited with ${child.exitCode} (is port ${port} free? set DEMO_PORT)`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return new Sloguard(url, child);
    if (Date.now() > deadline) throw new Error('sloguard did not become ready in 30 s');
    await new Promise((done) => setTimeout(done, 200));
  }
}

/**
 * Three days of the same traffic at a lower rate, with a small checkout blip two days ago. The first day has
 * no background errors: the evaluator runs during the backfill, and one error among the first few hundred
 * events would exhaust a budget and page for history that is still arriving.
 */
async function backfill(sloguard: Sloguard, nowMs: number) {
  const start = nowMs - HISTORY_DAYS * 24 * 60 * MINUTE;
  const blip = nowMs - 2 * 24 * 60 * MINUTE;
  for (let hour = start; hour < nowMs - MINUTE; hour += 60 * MINUTE) {
    const batches = new Map<string, string[]>([
      ['user-profile', []],
      ['checkout', []],
    ]);
    const spans: unknown[] = [];
    for (let minute = hour; minute < Math.min(hour + 60 * MINUTE, nowMs - MINUTE); minute += MINUTE) {
      const inBlip = minute >= blip && minute < blip + 6 * MINUTE;
      const quiet = minute < start + 24 * 60 * MINUTE;
      for (const traffic of [PROFILE, CHECKOUT]) {
        for (let i = 0; i < 8; i++) {
          const request = traffic.request(
            minute + Math.floor(rand() * MINUTE),
            inBlip && rand() < 0.2,
            quiet,
          );
          batches.get(traffic.service)!.push(nginxLine(request, rand));
        }
      }
      spans.push(...storeSpans(minute, 8, quiet));
    }
    for (const [service, lines] of batches) await sloguard.lines(service, lines);
    await sloguard.spans(spans);
  }
}

async function liveSecond(sloguard: Sloguard, atMs: number, checkoutIncident: boolean) {
  for (const traffic of [PROFILE, CHECKOUT]) {
    const lines = Array.from({ length: traffic.rate }, () =>
      nginxLine(
        traffic.request(atMs + Math.floor(rand() * 1000), traffic === CHECKOUT && checkoutIncident),
        rand,
      ),
    );
    await sloguard.lines(traffic.service, lines);
  }
  await sloguard.spans(storeSpans(atMs, 12));
}

/** Prints checkout's SLO when its state or alert changes; statuses from before the backfill ended do not count. */
async function watchCheckout(
  sloguard: Sloguard,
  last: { firing: string | null; state: string },
  sinceMs: number,
) {
  const status = (await (await fetch(`${sloguard.url}/api/v1/slos/checkout-availability`)).json()) as {
    evaluated_at: string;
    firing: string | null;
    state: string;
    budget: { remaining_ratio: number | null };
    burn_rates: Record<string, number | null>;
  };
  if (Date.parse(status.evaluated_at) < sinceMs) return;
  if (status.firing !== last.firing || status.state !== last.state) {
    const budget = percentText(status.budget.remaining_ratio, 1, '—');
    say(
      `slo   checkout-availability: ${status.state}, alert ${status.firing ?? 'none'}, budget ${budget}, burn 5m ${times(status.burn_rates['5m'])} 1h ${times(status.burn_rates['1h'])}`,
    );
    last.firing = status.firing;
    last.state = status.state;
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'sloguard-demo-'));
  const sink = await startSink();
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/alerts`;
  const sloguard = await startSloguard(dir, sinkUrl).catch((error: unknown) => {
    sink.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await sloguard.stop();
    sink.close();
    rmSync(dir, { recursive: true, force: true });
    say('demo stopped; temporary database removed');
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  say(`sloguard on ${sloguard.url} (database in ${dir}); alerts go to the sink on ${sinkUrl}`);
  say(`backfilling ${HISTORY_DAYS} days of history…`);
  await backfill(sloguard, Date.now());
  say('live traffic started. Open:');
  say(`  ${sloguard.url}/                                   overview`);
  say(`  ${sloguard.url}/slo/checkout-availability?range=15m  the incident`);
  say(`  ${sloguard.url}/slo/store-browse?range=1d            the composite`);
  say(`  ${sloguard.url}/gate                               gate decisions`);

  const last = { firing: null as string | null, state: '' };
  const startedAt = Date.now();
  const beats = [
    {
      at: DEPLOY_AT,
      run: async () => {
        const answer = await sloguard.gate('v2.8.0');
        await sloguard.deployed('v2.8.0', answer.decision_id);
        incident = true;
        say('incident: checkout v2.8.0 fails 5% of requests and is slower');
      },
    },
    { at: SECOND_RELEASE_AT, run: () => sloguard.gate('v2.8.1') },
    {
      at: ROLLBACK_AT,
      run: async () => {
        const answer = await sloguard.gate('v2.7.9', 'rollback');
        await sloguard.deployed('v2.7.9', answer.decision_id);
        incident = false;
        say('rolled back: checkout healthy again; the freeze lifts once the budget recovers');
      },
    },
  ];
  let incident = false;
  let watched = 0;
  while (!stopping) {
    const tick = Date.now();
    const elapsed = (tick - startedAt) / 1000;
    while (beats[0] && elapsed >= beats[0].at) await beats.shift()!.run();
    await liveSecond(sloguard, tick, incident);
    if (tick - watched >= 5_000) {
      watched = tick;
      await watchCheckout(sloguard, last, startedAt);
    }
    await new Promise((done) => setTimeout(done, Math.max(0, 1000 - (Date.now() - tick))));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
