/**
 * `npm run demo`: a real `sloguard serve` on a temporary database with the example SLOs, fed by a traffic
 * generator, telling one story in about three minutes:
 *   - user-profile stays healthy;
 *   - checkout ships v2.8.0 through the gate, starts failing, burns its budget fast, pages (the page arrives
 *     at a local webhook sink printed here), the gate freezes and denies the next feature release, and a
 *     rollback (exempt from the freeze) ends the incident;
 *   - play-store's "Browse" composite combines four span-measured SLOs with weights.
 * 28 days of history (history.ts) are sent first through the ingest routes, so budgets have a past and every
 * range shows a month's shape. Ctrl-C stops everything.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { burnRateText, percentText } from '../evaluate/numbers.js';
import { HISTORY_DAYS, historyChunks, RELEASES } from './history.js';
import { CHECKOUT, PROFILE, rand, storeSpans } from './services.js';
import { nginxLine } from './traffic.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** The story's beats, in seconds after live traffic starts (wall time, however slow the machine). */
const DEPLOY_AT = 45;
const SECOND_RELEASE_AT = 130;
const ROLLBACK_AT = 180;

/** Figures as the other outputs print them, with a dash where there is none yet. */
const times = (rate: number | null | undefined) => burnRateText(rate, 1, '—');
const say = (text: string) => console.log(`${new Date().toISOString().slice(11, 19)}  ${text}`);

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

/** The month of history (history.ts) through the public ingest routes, and its releases as deployment markers. */
async function backfill(sloguard: Sloguard, nowMs: number): Promise<number> {
  let events = 0;
  for (const chunk of historyChunks(nowMs)) {
    for (const [service, lines] of chunk.lines) {
      await sloguard.lines(service, lines);
      events += lines.length;
    }
    await sloguard.spans(chunk.spans);
    events += chunk.spans.length;
  }
  for (const release of RELEASES) {
    const time = new Date(nowMs - release.daysAgo * 86_400_000).toISOString();
    const body = { service: release.service, environment: 'production', version: release.version, time };
    await sloguard.post('/api/v1/deployments', JSON.stringify(body), 'application/json');
  }
  return events;
}

async function liveSecond(sloguard: Sloguard, atMs: number, checkoutIncident: boolean) {
  for (const traffic of [PROFILE, CHECKOUT]) {
    const lines = Array.from({ length: traffic.rate }, () =>
      nginxLine(
        traffic.request(atMs + Math.floor(rand() * 1000), {
          errors: traffic === CHECKOUT && checkoutIncident ? 0.05 : 0,
        }),
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
  const backfillStartedAt = Date.now();
  const events = await backfill(sloguard, backfillStartedAt);
  say(
    `${events.toLocaleString('en-US')} events of history in ${((Date.now() - backfillStartedAt) / 1000).toFixed(1)} s`,
  );
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
