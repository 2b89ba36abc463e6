import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alertMessages,
  chatNotifications,
  deliveredAlertKeys,
  describeMessage,
  evaluatedAt,
  ingest,
  SHOP_SLOS,
} from '../helpers/alertScenario.js';
import { CaptureServer } from '../helpers/capture.js';
import { GATE_DEFINITIONS } from '../helpers/gateFixtures.js';
import { HaproxyServer } from '../helpers/haproxy.js';
import { hasPostgres, PostgresServer, TEST_DATABASE } from '../helpers/postgres.js';
import { SloguardProcess } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** Gate calls per second through the balancer, and for how long at least. */
const RATE_PER_S = 200;
const LOAD_MS = 20_000;
/** How far into the load the SLO at least burns before it pages (and the holder is killed). */
const KILL_AT_MS = 6_000;
/**
 * The chat's Retry-After while it is down: the holder waits this long after a refused send, so a kill in that
 * wait finds the page queued and unclaimed, and the survivor sends it (a kill mid-send would leave a claim of
 * 60 s, which test/integration/pg-alert-outbox.test.ts covers).
 */
const CHAT_RETRY_AFTER_S = 5;
/**
 * The takeover bound docs/scaling.md gives for a holder killed on a live host: its socket closes, PostgreSQL
 * frees the lock at once and the next try (every 1 s) takes it. Generous for a loaded machine.
 */
const TAKEOVER_BOUND_MS = 10_000;

interface Outcome {
  status?: number;
  decision?: string;
  /** The audit trail's id of the decision answered. */
  id?: string;
  error?: string;
}

/** One gate call: its HTTP status and the decision its JSON body names, or the connection error. */
async function gateCall(url: string): Promise<Outcome> {
  try {
    const response = await fetch(`${url}/api/v1/gate?service=web&environment=production`, {
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    try {
      const body = JSON.parse(text) as { decision?: string; decision_id?: string };
      return { status: response.status, decision: body.decision, id: body.decision_id };
    } catch {
      return { status: response.status, error: `not a sloguard answer: ${text.slice(0, 80)}` };
    }
  } catch (error) {
    // fetch's own message is "fetch failed": the socket's error, in its cause, says what happened.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { error: `${String(error)}${cause ? ` (${cause.code ?? cause.message})` : ''}` };
  }
}

/** Gate calls through `url` at RATE_PER_S from now; `stop()` ends them and waits for every outcome. */
function gateLoad(url: string) {
  const startedAt = Date.now();
  const calls: Promise<Outcome>[] = [];
  const timer = setInterval(() => calls.push(gateCall(url)), 1000 / RATE_PER_S);
  return {
    elapsedMs: () => Date.now() - startedAt,
    stop(): Promise<Outcome[]> {
      clearInterval(timer);
      return Promise.all(calls);
    },
  };
}

describe.runIf(hasPostgres())('two replicas on one PostgreSQL behind HAProxy', () => {
  const dir = tempDir('sloguard-replicas-');
  let postgres: PostgresServer;
  let a: SloguardProcess;
  let b: SloguardProcess;
  let haproxy: HaproxyServer;
  let capture: CaptureServer;

  beforeAll(async () => {
    postgres = await PostgresServer.start();
    capture = await CaptureServer.start();
    const definitions = join(dir.path, 'definitions');
    mkdirSync(definitions);
    // Production denies while web has too little traffic: the deny an override lets through.
    dir.file(
      'definitions/web.yaml',
      GATE_DEFINITIONS.replace(
        'staging: { mode: observe }',
        'staging: { mode: observe }\n    production: { onInsufficientData: deny }',
      ),
    );
    // The SLO that burns during the kill run, alerting to a chat.
    dir.file('definitions/shop.yaml', SHOP_SLOS);
    // The load is one client: no per-client gate limit here.
    const config = dir.file(
      'sloguard.yaml',
      `rateLimits: { gatePerMinute: 0 }\npublicUrl: https://sloguard.example.com\nnotifications:\n${chatNotifications(capture.url)}`,
    );
    const env = { SLOGUARD_CONFIG: config, SLOGUARD_CONTROL_POSTGRES_URL: postgres.url };
    a = await SloguardProcess.start({ definitions, env });
    // a, alone, takes the lease; b starts once it is taken, as a follower.
    await waitFor('replica a to hold the evaluator lease', () => postgres.leaseHolder());
    b = await SloguardProcess.start({ definitions, env });
    haproxy = await HaproxyServer.start({
      upstreamPort: a.port,
      moreUpstreamPorts: [b.port],
      healthPath: '/readyz',
    });
  });
  afterAll(async () => {
    await haproxy?.stop();
    await a?.cleanup();
    await b?.cleanup();
    await capture?.stop();
    await postgres?.stop();
    dir.cleanup();
  });

  it('a follower answers from the statuses the holder shares', async () => {
    const { status, body } = await b.json<{ stale: boolean; name: string }>('/api/v1/slos/web-availability');
    expect(status).toBe(200);
    expect(body.name).toBe('web-availability');
    expect(body.stale).toBe(false);
  });

  it('an override granted through one replica is honoured by the other on its next call', async () => {
    expect(await gateCall(b.url)).toMatchObject({ status: 423, decision: 'deny' });
    const json = { 'content-type': 'application/json' };
    const granted = await a.json<{ id: string }>('/api/v1/gate/overrides', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        service: 'web',
        environment: 'production',
        reason: 'replica test',
        ticket: 'INC-21',
        expires_in: '1h',
      }),
    });
    expect(granted.status).toBe(201);
    expect(await gateCall(b.url)).toMatchObject({ status: 200, decision: 'allow' });
    const listed = await b.json<{ overrides: Array<{ id: string }> }>('/api/v1/gate/overrides?active=true');
    expect(listed.body.overrides.map((o) => o.id)).toEqual([granted.body.id]);
    const revoked = await b.json<{ active: boolean; revoked_by: string | null }>(
      `/api/v1/gate/overrides/${granted.body.id}/revoke`,
      { method: 'POST', headers: { 'x-sloguard-actor': 'bob' } },
    );
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ active: false, revoked_by: 'bob' });
    expect(await gateCall(a.url)).toMatchObject({ status: 423, decision: 'deny' });
    const seen = await a.json<{ active: boolean }>(`/api/v1/gate/overrides/${granted.body.id}`);
    expect(seen.body.active).toBe(false);
  });

  it("lists both replicas' decisions from either", async () => {
    const ids = [(await gateCall(a.url)).id, (await gateCall(b.url)).id];
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    for (const replica of [a, b]) {
      const listed = await replica.json<{ decisions: Array<{ decision_id: string }> }>(
        '/api/v1/gate/decisions?service=web&limit=1000',
      );
      expect(listed.status).toBe(200);
      expect(listed.body.decisions.map((d) => d.decision_id)).toEqual(expect.arrayContaining(ids));
    }
  });

  it("an allowed release through one replica is listed by the other's deployments, and so is CI's report", async () => {
    // Staging only observes: the call is allowed and marks the release.
    const response = await fetch(`${a.url}/api/v1/gate?service=web&environment=staging&version=v21`);
    const answer = (await response.json()) as { allowed: boolean; decision_id: string };
    expect(answer.allowed).toBe(true);
    type Listed = { deployments: Array<{ version: string; source: string; decision_id: string | null }> };
    const listed = (replica: SloguardProcess) =>
      replica.json<Listed>('/api/v1/deployments?service=web').then(({ body }) => body.deployments);
    const marker = await waitFor("a's marker on b", async () =>
      (await listed(b)).find((d) => d.decision_id === answer.decision_id),
    );
    expect(marker).toMatchObject({ version: 'v21', source: 'gate' });

    // CI reports the release through b: a's marker is replaced there too.
    const reported = await b.json<{ id: string }>('/api/v1/deployments', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        service: 'web',
        environment: 'staging',
        version: 'v21',
        decision_id: answer.decision_id,
      }),
    });
    expect(reported.status).toBe(201);
    const onA = await waitFor("b's report on a", async () => {
      const ofDecision = (await listed(a)).filter((d) => d.decision_id === answer.decision_id);
      return ofDecision.length === 1 && ofDecision[0]?.source === 'api' && ofDecision;
    });
    expect(onA).toHaveLength(1);
  });

  it('the holder killed under load with a page queued: every call answered, takeover in bound, each alert sent once', async () => {
    const holderBefore = await postgres.leaseHolder();
    expect(holderBefore).toBeDefined();
    const load = gateLoad(haproxy.url);
    let killedAt = 0;
    let outcomes: Outcome[];
    try {
      // Under the load, an SLO burns on both replicas (each has its own buckets, fed the same traffic).
      for (const replica of [a, b]) await ingest(replica, 96, 4); // 4% errors: 4× burn, a ticket
      await waitFor('the ticket', () => alertMessages(capture).length >= 1);
      await waitFor('the kill time', () => load.elapsedMs() >= KILL_AT_MS, { intervalMs: 20 });

      // The chat goes down and the burn rises to a page: the holder commits the escalation, is refused, and
      // waits the chat's Retry-After. It is killed in that wait, with the page queued.
      capture.respond(() => ({ status: 503, headers: { 'retry-after': String(CHAT_RETRY_AFTER_S) } }));
      for (const replica of [a, b]) await ingest(replica, 64, 36); // 40 of 200: 20× burn, a page
      const queued = await waitFor(
        'the page queued after a refused send',
        async () => {
          const { rows } = await postgres.query(
            TEST_DATABASE,
            "SELECT subject, attempts, claim_owner, next_attempt_ms FROM control_outbox WHERE state = 'pending'",
          );
          const [page] = rows as Array<{ subject: string; attempts: number; claim_owner: string | null }>;
          const waiting = Number(rows[0]?.next_attempt_ms) - Date.now();
          return (
            rows.length === 1 && page!.attempts >= 1 && page!.claim_owner === null && waiting > 1_000 && page
          );
        },
        { intervalMs: 20 },
      );
      expect(queued.subject).toBe('shop-availability escalated critical');
      killedAt = Date.now();
      await a.stop('SIGKILL');
      capture.respond(() => ({ status: 200 }));
      const newHolder = await waitFor(
        'replica b to take the evaluator lease',
        async () => {
          const pid = await postgres.leaseHolder();
          return pid !== undefined && pid !== holderBefore && pid;
        },
        { intervalMs: 20 },
      );
      const takeoverMs = Date.now() - killedAt;
      console.info(`evaluator lease taken over ${takeoverMs} ms after the holder was killed`);
      expect(newHolder).toBeGreaterThan(0);
      expect(takeoverMs).toBeLessThan(TAKEOVER_BOUND_MS);

      // The survivor sends the queued page once it is due, then sees the SLO recover and resolves it.
      await waitFor('the page, sent by the survivor', () => alertMessages(capture).length >= 2);
      // 40 of 6200: under 1× burn, every tier stops. In small posts: b alone answers the load meanwhile.
      for (let n = 0; n < 12; n++) await ingest(b, 500, 0);
      await waitFor('the resolve', () => alertMessages(capture).length >= 3);
      await waitFor('the end of the load', () => load.elapsedMs() >= LOAD_MS, { timeoutMs: LOAD_MS * 2 });
    } finally {
      outcomes = await load.stop();
      capture.respond(() => ({ status: 200 }));
    }
    const byStatus = new Map<string, number>();
    for (const o of outcomes)
      byStatus.set(String(o.status ?? o.error), (byStatus.get(String(o.status ?? o.error)) ?? 0) + 1);
    console.info(
      `${outcomes.length} gate calls in ${load.elapsedMs()} ms: ${[...byStatus].map(([key, n]) => `${key} × ${n}`).join(', ')}`,
    );
    // The rate is a target: a loaded machine's timers run late, but most calls must have been made.
    expect(outcomes.length).toBeGreaterThan((RATE_PER_S * LOAD_MS) / 1000 / 4);
    const failed = outcomes.filter((o) => o.error !== undefined);
    expect(failed.slice(0, 5)).toEqual([]);
    for (const outcome of outcomes) expect(['allow', 'warn', 'deny', 'error']).toContain(outcome.decision);
    expect(outcomes.filter((o) => ![200, 423, 503].includes(o.status!))).toEqual([]);
    // Each answer was sent only after its decision was committed: the killed holder's answers too.
    const answered = outcomes.flatMap((o) => o.id ?? []);
    const { rows: recorded } = await postgres.query(
      TEST_DATABASE,
      'SELECT count(*)::int AS n FROM control_gate_decisions WHERE id = ANY($1)',
      [answered],
    );
    expect(recorded[0]?.n).toBe(answered.length);
    // b evaluates now: the statuses in PostgreSQL move on past the kill.
    await waitFor('statuses evaluated by the new holder', async () => {
      const { rows } = await postgres.query(
        TEST_DATABASE,
        'SELECT max(evaluated_at_ms) AS at FROM control_statuses',
      );
      return Number(rows[0]?.at) > killedAt;
    });
    const { status, body } = await b.json<{ stale: boolean }>('/api/v1/slos/web-availability');
    expect(status).toBe(200);
    expect(body.stale).toBe(false);

    // Three more evaluations on the survivor bring nothing more: each alert change reached the chat once.
    const resolvedAt = await evaluatedAt(b);
    await waitFor('three more evaluations', async () => (await evaluatedAt(b)) >= resolvedAt + 3_000);
    expect(alertMessages(capture).map(describeMessage)).toEqual([
      'firing warning',
      'escalated critical',
      'resolved critical',
    ]);
    expect(deliveredAlertKeys(capture)).toEqual({
      'shop-availability warning firing': 1,
      'shop-availability warning resolved': 1,
      'shop-availability critical firing': 1,
      'shop-availability critical resolved': 1,
    });
    // The page was refused while a held it, and taken only after a was killed; the outbox agrees.
    const [page] = alertMessages(capture).filter(
      (request) => describeMessage(request) === 'escalated critical',
    );
    expect(page!.atMs).toBeGreaterThan(killedAt);
    expect(capture.requests.filter((request) => request.status === 503).length).toBeGreaterThan(0);
    // A resolve's subject names the episode's last level, which may have eased to a ticket on the way down.
    const { rows: sent } = await postgres.query(
      TEST_DATABASE,
      "SELECT split_part(subject, ' ', 2) AS kind, state FROM control_outbox WHERE subject LIKE 'shop-availability %' ORDER BY id",
    );
    expect(sent).toEqual([
      { kind: 'firing', state: 'delivered' },
      { kind: 'escalated', state: 'delivered' },
      { kind: 'resolved', state: 'delivered' },
    ]);
  }, 240_000);
});
