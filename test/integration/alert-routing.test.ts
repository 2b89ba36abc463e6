import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alerting } from '../../src/alert/alerting.js';
import type { AlertLog } from '../../src/alert/outbox.js';
import { resolveNotifications } from '../../src/config/notifications.js';
import { createAlerting } from '../../src/service.js';
import { AlertEpisodeStore } from '../../src/store/alertEpisodes.js';
import { StatusStore } from '../../src/store/statuses.js';
import { nginxLine, testApp } from '../helpers/app.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const NATIVE = `apiVersion: sloguard/v1
kind: SLO
metadata: { name: shop-availability, service: shop }
spec: { indicator: { source: loadbalancer }, objective: 99, window: 28d }
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: pay-availability, service: pay }
spec: { indicator: { source: loadbalancer }, objective: 99, window: 28d }
`;

/** An OpenSLO SLO whose AlertPolicy names the AlertNotificationTarget "search-team". */
const OPENSLO = `apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata: { name: search-team }
spec: { target: teams, description: the search team's channel }
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata: { name: search-burn }
spec:
  conditions:
    - kind: AlertCondition
      metadata: { name: fast-burn }
      spec:
        severity: page
        condition: { kind: burnrate, op: gte, threshold: 13.44, lookbackWindow: 1h, alertAfter: 5m }
  notificationTargets:
    - targetRef: search-team
---
apiVersion: openslo/v1
kind: SLI
metadata: { name: search-ok }
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        type: sloguard
        spec: { source: loadbalancer, operation: /search, good: { status: "< 500" } }
    total:
      metricSource:
        type: sloguard
        spec: { source: loadbalancer, operation: /search }
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: search-availability }
spec:
  service: play-store
  indicatorRef: search-ok
  timeWindow: [{ duration: 28d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ targetPercent: 99 }]
  alertPolicies: [{ alertPolicyRef: search-burn }]
`;

const NOTIFICATIONS = {
  targets: {
    'shop-chat': { kind: 'slack' as const, url: 'https://hooks.example.com/shop-chat' },
    'pay-chat': {
      kind: 'discord' as const,
      url: 'https://hooks.example.com/pay-chat',
      digest: '*/1 * * * * *',
    },
    'search-team': { kind: 'teams' as const, url: 'https://hooks.example.com/search-team' },
    everyone: { kind: 'webhook' as const, url: 'https://hooks.example.com/everyone', digest: 'daily' },
  },
  routes: [
    { service: 'shop', targets: ['shop-chat'] },
    { slo: 'pay-availability', targets: ['pay-chat'] },
    { targets: ['everyone'] },
  ],
};

describe('routing, deployments, gate overrides and digests (in process, fetch stubbed)', () => {
  let harness: Awaited<ReturnType<typeof testApp>>;
  let definitions: ReturnType<typeof tempDir>;
  let alerting: Alerting;
  let sent: Array<{ target: string; body: unknown }>;
  let logged: string[];
  let registry: Registry;

  beforeEach(async () => {
    definitions = tempDir('sloguard-routing-');
    definitions.file('native.yaml', NATIVE);
    definitions.file('openslo.yaml', OPENSLO);
    const notifications = resolveNotifications(NOTIFICATIONS, {}, (field, message) => {
      throw new Error(`${field}: ${message}`);
    });
    harness = await testApp({
      definitionsPath: definitions.path,
      publicUrl: 'https://sloguard.example.com',
      notifications,
    });
    sent = [];
    logged = [];
    const log: AlertLog = {
      info: (object, message) => logged.push(JSON.stringify({ object, message })),
      warn: (object, message) => logged.push(JSON.stringify({ object, message })),
      error: (object, message) => logged.push(JSON.stringify({ object, message })),
    };
    const fetchStub = async (url: string | URL | Request, init?: RequestInit) => {
      const target = String(url).split('/').pop()!;
      sent.push({ target, body: JSON.parse(String(init?.body)) });
      // The pay channel's webhook was deleted: Discord answers 404 and the message is given up.
      return target === 'pay-chat' ? new Response('Unknown Webhook', { status: 404 }) : new Response('ok');
    };
    registry = new Registry();
    alerting = createAlerting(harness.sloguard, log, { fetch: fetchStub as typeof fetch, registry });
  });
  afterEach(async () => {
    await alerting.stop();
    await harness.close();
    definitions.cleanup();
  });

  async function burn(service: string, path: string): Promise<void> {
    const at = Date.now() - 1_000;
    const lines = Array.from({ length: 100 }, (_, i) => nginxLine(at, 'GET', path, i < 20 ? 503 : 200, 0.01));
    const response = await harness.app.inject({
      method: 'POST',
      url: `/api/v1/ingest/lb?format=nginx&source=edge&service=${service}`,
      payload: lines.join('\n'),
    });
    expect(response.statusCode).toBe(202);
    harness.sloguard.evaluator.evaluateAll();
    await alerting.dispatcher.drain();
  }

  const targets = () => sent.map((message) => message.target).sort();

  it('routes per service, per SLO and from OpenSLO alert policies, with a catch-all', async () => {
    await burn('shop', '/items');
    expect(targets()).toEqual(['everyone', 'shop-chat']);
    sent = [];
    await burn('pay', '/charge');
    expect(targets()).toEqual(['everyone', 'pay-chat']);
    sent = [];
    await burn('play-store', '/search');
    expect(targets()).toEqual(['everyone', 'search-team']);
    expect(JSON.stringify(logged)).not.toContain('hooks.example.com');
    const counted = await registry.getSingleMetricAsString('sloguard_notifications_total');
    expect(counted).toContain('sloguard_notifications_total{target="shop-chat",outcome="delivered"} 1');
    expect(counted).toContain('sloguard_notifications_total{target="pay-chat",outcome="given_up"} 1');
    expect(counted).toContain('sloguard_notifications_total{target="everyone",outcome="delivered"} 3');
    expect(counted).toContain('sloguard_notifications_total{target="search-team",outcome="given_up"} 0');
  });

  it('names the last deployment before the burn began', async () => {
    const deployedAtMs = Date.now() - 120_000;
    harness.sloguard.deployments.record({
      service: 'shop',
      environment: 'production',
      version: 'v9.1.0',
      deployedAtMs,
    });
    await burn('shop', '/items');
    const slack = sent.find((message) => message.target === 'shop-chat')!.body as {
      attachments: Array<{ blocks: Array<{ fields?: Array<{ text: string }> }> }>;
    };
    const fields = slack.attachments[0]!.blocks.flatMap((block) => block.fields ?? []).map((f) => f.text);
    const when = new Date(deployedAtMs).toISOString().slice(0, 16).replace('T', ' ');
    expect(fields).toContain(`*Last deployment*\nv9.1.0 to production at ${when} UTC`);
  });

  it("announces a gate override to the service's targets", async () => {
    await harness.sloguard.overrides.create(
      {
        service: 'shop',
        environment: 'production',
        reason: 'hotfix for the checkout outage',
        ticket: 'INC-42',
        expiresAtMs: Date.now() + 3_600_000,
      },
      'alice',
    );
    await alerting.dispatcher.drain();
    expect(targets()).toEqual(['everyone', 'shop-chat']);
    const slack = sent.find((message) => message.target === 'shop-chat')!.body as { text: string };
    expect(slack.text).toBe('Gate override created for shop');
  });

  /** An open page of an SLO that the definitions no longer hold. */
  function openRemovedEpisode() {
    const episodes = new AlertEpisodeStore(harness.sloguard.db);
    episodes.set('removed-slo', {
      slo: 'removed-slo',
      service: 'shop',
      id: 'removed-slo-1',
      level: 'critical',
      notifiedLevel: 'critical',
      startedAtMs: Date.now() - 60_000,
      lastNotifiedAtMs: Date.now() - 60_000,
      badEventsAtStart: 0,
    });
    return episodes;
  }

  // Before reloads, a removed SLO's open episode was dropped unannounced; it now resolves once (issue 16).
  it('resolves the open episode of an SLO no longer defined once, with its last status', async () => {
    const [last] = harness.sloguard.evaluator.evaluateAll();
    new StatusStore(harness.sloguard.db).saveAll([{ ...last!, name: 'removed-slo', service: 'shop' }]);
    const episodes = openRemovedEpisode();
    harness.sloguard.evaluator.evaluateAll();
    harness.sloguard.evaluator.evaluateAll();
    await alerting.dispatcher.drain();
    expect(episodes.get('removed-slo')).toBeUndefined();
    const resolves = sent.filter((message) => JSON.stringify(message.body).includes('removed-slo'));
    expect(resolves.length).toBeGreaterThan(0);
    expect(new Set(resolves.map((message) => message.target)).size).toBe(resolves.length);
    for (const message of resolves)
      expect(JSON.stringify(message.body)).toContain('[RESOLVED] removed-slo: no longer defined');
  });

  it('closes the episode of a removed SLO that left no status, telling no one', async () => {
    const episodes = openRemovedEpisode();
    harness.sloguard.evaluator.evaluateAll();
    await alerting.dispatcher.drain();
    expect(episodes.get('removed-slo')).toBeUndefined();
    expect(sent).toEqual([]);
    expect(logged.some((line) => line.includes('the removed SLO left no status'))).toBe(true);
  });

  it('runs digests on their cron schedule once started', async () => {
    alerting.start(60_000);
    const digest = await waitFor('a scheduled report', () =>
      sent.find((message) => message.target === 'pay-chat'),
    );
    const embed = (digest.body as { embeds: Array<{ title: string; fields: Array<{ name: string }> }> })
      .embeds[0]!;
    expect(embed.title).toBe('Scheduled SLO report');
    expect(embed.fields.map((field) => field.name)).toEqual(['pay-availability (pay)']);
  });

  it('writes a daily report of every routed SLO to a target with a digest', async () => {
    alerting.digest('everyone');
    alerting.digest('shop-chat'); // no digest configured: nothing
    await alerting.dispatcher.drain();
    expect(targets()).toEqual(['everyone']);
    const body = sent[0]!.body as {
      alerts: Array<{
        labels: Record<string, string>;
        annotations: { summary: string; description: string };
      }>;
    };
    expect(body.alerts[0]!.labels).toEqual({ alertname: 'SLOReport', severity: 'info' });
    expect(body.alerts[0]!.annotations.summary).toBe('Daily SLO report');
    for (const slo of ['shop-availability', 'pay-availability', 'search-availability']) {
      expect(body.alerts[0]!.annotations.description).toContain(slo);
    }
  });
});
