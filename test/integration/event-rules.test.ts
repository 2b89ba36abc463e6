import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimatedWarning } from '../../src/evaluate/inputs.js';
import type { SloStatus } from '../../src/model/status.js';
import { nginxLine } from '../helpers/app.js';
import { databaseIn, gateApp, INGEST_TOKEN } from '../helpers/gateFixtures.js';
import { NGINX_BINARY, NginxServer, requireBinary } from '../helpers/nginx.js';
import { tempDir } from '../helpers/tmp.js';
import { Upstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';

/** One request of the plan: what nginx is asked, and what the test counts by itself. */
interface Planned {
  method: 'GET' | 'POST' | 'OPTIONS';
  path: '/healthz' | '/checkout' | '/products/7';
  status: number;
  userAgent: string;
}

const USER_AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64)',
  'Googlebot/2.1 (+http://www.google.com/bot.html)',
  'kube-probe/1.29',
];
const PLAN: Planned[] = [];
for (const path of ['/healthz', '/checkout', '/products/7'] as const)
  for (const method of ['GET', 'POST', 'OPTIONS'] as const)
    for (const status of [200, 301, 404, 429, 499, 500, 503])
      for (const userAgent of USER_AGENTS) PLAN.push({ method, path, status, userAgent });

/** Each rule kind, written as a team would, and the same rule as the test counts it. */
const RULES: Array<{
  name: string;
  yaml: string;
  valid: (r: Planned) => boolean;
  bad: (r: Planned) => boolean;
}> = [
  {
    name: 'bad-5xx-and-429',
    yaml: 'bad: { status: ["5xx", 429] }',
    valid: () => true,
    bad: (r) => r.status >= 500 || r.status === 429,
  },
  {
    name: 'good-2xx-3xx',
    yaml: 'good: { status: ["2xx", "3xx"] }',
    valid: () => true,
    bad: (r) => r.status < 200 || r.status >= 400,
  },
  {
    name: 'bad-ge-500-and-499',
    yaml: 'bad: { status: [">= 500", "499"] }',
    valid: () => true,
    bad: (r) => r.status >= 500 || r.status === 499,
  },
  {
    name: 'no-health-bots-options',
    yaml: 'exclude: [{ route: /healthz }, { userAgent: "*bot*" }, { method: options }]',
    valid: (r) =>
      r.path !== '/healthz' && !r.userAgent.toLowerCase().includes('bot') && r.method !== 'OPTIONS',
    bad: (r) => r.status >= 500,
  },
  {
    name: 'no-404-nor-probes',
    yaml: 'bad: { status: [429, "500-599"] }\n    exclude: [{ status: 404 }, { userAgent: "kube-probe/*", route: "/heal*" }]',
    valid: (r) => r.status !== 404 && !(r.userAgent.startsWith('kube-probe/') && r.path === '/healthz'),
    bad: (r) => r.status === 429 || r.status >= 500,
  },
  {
    name: 'checkout-posts',
    yaml: 'select: { route: /checkout, method: POST }\n    bad: { status: ["5xx", 429] }',
    valid: (r) => r.path === '/checkout' && r.method === 'POST',
    bad: (r) => r.status >= 500 || r.status === 429,
  },
  // The seed's rule, for comparison: 5xx are bad, nothing left out.
  { name: 'seed', yaml: '', valid: () => true, bad: (r) => r.status >= 500 },
];

function definitions(source: 'loadbalancer' | 'traces'): string {
  return RULES.map(
    (rule) => `apiVersion: sloguard/v1
kind: SLO
metadata: { name: ${source === 'traces' ? 'spans' : 'lb'}-${rule.name}, service: shop }
spec:
  indicator:
    source: ${source}
    ${rule.yaml}
  objective: 99
  window: 28d
`,
  ).join('---\n');
}

/** What the test counts for a rule: good and valid events of the plan. */
function expected(rule: (typeof RULES)[number], plan: readonly Planned[]) {
  const valid = plan.filter(rule.valid);
  return { good: valid.filter((r) => !rule.bad(r)).length, valid: valid.length };
}

const counted = (statuses: SloStatus[], prefix: string) =>
  Object.fromEntries(
    statuses
      .filter((s) => s.name.startsWith(prefix))
      .map((s) => [s.name.slice(prefix.length), { good: s.good, valid: s.valid }]),
  );
const expectedAll = (plan: readonly Planned[]) =>
  Object.fromEntries(RULES.map((rule) => [rule.name, expected(rule, plan)]));

describe.runIf(requireBinary(NGINX_BINARY, 'nginx'))('good, bad and valid rules through real nginx', () => {
  let upstream: Upstream;
  let nginx: NginxServer;
  beforeAll(async () => {
    upstream = await Upstream.start();
    nginx = await NginxServer.start({ upstreamPort: upstream.port });
  });
  afterAll(async () => {
    await nginx?.stop();
    await upstream?.stop();
  });

  it('counts 429s, 499s, health checks, bots and OPTIONS as each rule says', async () => {
    for (const request of PLAN) {
      const response = await fetch(`${nginx.url}${request.path}?status=${request.status}`, {
        method: request.method,
        headers: { 'user-agent': request.userAgent },
        redirect: 'manual',
        ...(request.method === 'POST' && { body: '{}' }),
      });
      await response.arrayBuffer();
      expect(response.status).toBe(request.status);
    }
    // nginx writes a request's line in its log phase, after the client has the answer: wait for the last one.
    const log = await waitFor('every request in the access log', () => {
      const text = nginx.accessLog().trim();
      return text.split('\n').length >= PLAN.length && text;
    });
    expect(log.split('\n')).toHaveLength(PLAN.length);

    const ctx = await gateApp({}, definitions('loadbalancer'));
    try {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/ingest/lb?format=nginx&service=shop',
        payload: log,
        headers: { authorization: `Bearer ${INGEST_TOKEN}` },
      });
      expect(response.json()).toMatchObject({ accepted: PLAN.length, rejected: 0 });
      const statuses = ctx.sloguard.evaluator.evaluateAll();
      expect(counted(statuses, 'lb-')).toEqual(expectedAll(PLAN));
      for (const status of statuses) expect(status.warnings).toEqual([]);
    } finally {
      await ctx.close();
    }
  });
});

describe('good, bad and valid rules through Zipkin spans', () => {
  it('judges spans by http.status_code or http.response.status_code, and by the error tag without one', async () => {
    const nowUs = (Date.now() - 5_000) * 1000;
    const spans = PLAN.map((r, i) => ({
      traceId: (0x10000 + i).toString(16),
      id: (0x20000 + i).toString(16),
      kind: 'SERVER',
      name: r.method.toLowerCase(),
      timestamp: nowUs - i * 1000,
      duration: 1_000,
      localEndpoint: { serviceName: 'shop' },
      tags: {
        'http.method': r.method,
        'http.route': r.path,
        [i % 2 ? 'http.status_code' : 'http.response.status_code']: String(r.status),
        [i % 3 ? 'http.user_agent' : 'user_agent.original']: r.userAgent,
      },
    }));
    // Without a status, the error tag decides (bad) and status rules and exclusions cannot apply.
    const flagged = { method: 'GET', path: '/products/7', userAgent: 'Mozilla/5.0' } as const;
    spans.push({
      ...spans[0]!,
      id: 'ffff1',
      traceId: 'ffff1',
      tags: {
        'http.method': 'GET',
        'http.route': flagged.path,
        error: 'timeout',
        'http.user_agent': flagged.userAgent,
      },
    });
    const ctx = await gateApp({}, definitions('traces'));
    try {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/v2/spans',
        payload: spans,
        headers: { authorization: `Bearer ${INGEST_TOKEN}` },
      });
      expect(response.statusCode).toBe(202);
      const statuses = ctx.sloguard.evaluator.evaluateAll();
      const want = expectedAll(PLAN);
      for (const rule of RULES) {
        if (rule.name === 'checkout-posts') continue;
        // The flagged span is valid for every rule that does not select another route, and bad.
        want[rule.name] = { good: want[rule.name]!.good, valid: want[rule.name]!.valid + 1 };
      }
      expect(counted(statuses, 'spans-')).toEqual(want);
      // History charts count by the same rules: the last point is the status.
      for (const rule of ['no-health-bots-options', 'good-2xx-3xx']) {
        const chart = (await ctx.app.inject(`/api/v1/slos/spans-${rule}/timeseries?step=1h`)).json();
        expect(chart.points.at(-1)).toMatchObject(want[rule]!);
      }
    } finally {
      await ctx.close();
    }
  });
});

describe('rules declared after the data arrived', () => {
  it('counts older buckets by status < 500 and says how many events are estimated', async () => {
    const dir = tempDir('sloguard-rules-late-');
    const databasePath = databaseIn(dir.path);
    const line = (r: Planned, atMs: number) =>
      nginxLine(atMs, r.method, r.path, r.status, 0.01).replace('"test"', `"${r.userAgent}"`);
    const ingest = async (ctx: Awaited<ReturnType<typeof gateApp>>, lines: string[]) => {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/ingest/lb?format=nginx&service=shop',
        payload: lines.join('\n'),
        headers: { authorization: `Bearer ${INGEST_TOKEN}` },
      });
      expect(response.json()).toMatchObject({ accepted: lines.length });
    };
    const rule = RULES.find((r) => r.name === 'no-health-bots-options')!;
    const seedOnly = definitions('loadbalancer').split('---\n').at(-1)!;
    // Two hours ago, with only the seed's SLO loaded: no rule counts exist for these buckets.
    const before = await gateApp({ databasePath }, seedOnly);
    await ingest(
      before,
      PLAN.map((r) => line(r, Date.now() - 2 * 3_600_000)),
    );
    await before.close();
    const after = await gateApp({ databasePath }, definitions('loadbalancer'));
    try {
      await ingest(
        after,
        PLAN.map((r) => line(r, Date.now() - 60_000)),
      );
      const status = after.sloguard.evaluator.evaluateAll().find((s) => s.name === `lb-${rule.name}`)!;
      const exact = expected(rule, PLAN);
      const seedCounted = PLAN.filter((r) => r.status < 500).length;
      expect({ good: status.good, valid: status.valid }).toEqual({
        good: exact.good + seedCounted,
        valid: exact.valid + PLAN.length,
      });
      expect(status.warnings).toEqual([estimatedWarning(PLAN.length)]);
    } finally {
      await after.close();
      dir.cleanup();
    }
  });
});
