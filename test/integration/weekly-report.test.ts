import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Alerting } from '../../src/alert/alerting.js';
import { humanDuration } from '../../src/alert/message.js';
import type { AlertLog } from '../../src/alert/outbox.js';
import { resolveNotifications } from '../../src/config/notifications.js';
import { percentText } from '../../src/evaluate/numbers.js';
import { createAlerting } from '../../src/service.js';
import { testApp } from '../helpers/app.js';
import { CaptureServer } from '../helpers/capture.js';
import { scriptHistory } from '../helpers/incidentHistory.js';

const MIN = 60_000;
const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** Monday 1 January 2024, 03:30 UTC: 09:00 in Kolkata (UTC+05:30, no daylight saving). */
const A_MONDAY_0900_KOLKATA = Date.UTC(2024, 0, 1, 3, 30);
/** The first report: the latest Monday 09:00 Kolkata at least eight days ago, so both sends lie in the past. */
const FIRST =
  A_MONDAY_0900_KOLKATA + Math.floor((Date.now() - 8 * DAY - A_MONDAY_0900_KOLKATA) / WEEK) * WEEK;
/** The clock starts a minute and a half before it. */
const START = FIRST - 90_000;

const iso = (ms: number) => new Date(ms).toISOString();
const log: AlertLog = { info: () => {}, warn: () => {}, error: () => {} };

interface Reliability {
  incident_count: number;
  mttr_seconds: { from_detection: number | null; from_start: number | null };
}
interface Delivery {
  services: Array<{
    environment: string;
    deployments: number;
    failed_deployments: number;
    change_failure_rate: number | null;
  }>;
}

describe('the weekly report on its schedule', () => {
  let harness: Awaited<ReturnType<typeof testApp>>;
  let capture: CaptureServer;
  let alerting: Alerting | undefined;

  beforeEach(async () => {
    capture = await CaptureServer.start();
    const notifications = resolveNotifications(
      {
        targets: {
          'ops-slack': { kind: 'slack', url: `${capture.url}/slack` },
          'ops-hook': { kind: 'webhook', url: `${capture.url}/hook` },
          quiet: { kind: 'teams', url: `${capture.url}/teams` },
        },
        weeklyReport: {
          day: 'monday',
          time: '09:00',
          timeZone: 'Asia/Kolkata',
          targets: ['ops-slack', 'ops-hook'],
        },
      },
      {},
      (field, message) => {
        throw new Error(`${field}: ${message}`);
      },
    );
    harness = await testApp({ publicUrl: 'https://sloguard.example.com', notifications });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await alerting?.stop();
    alerting = undefined;
    await harness.close();
    await capture.stop();
  });

  /** The week before the first report: checkout's release three days before, user-profile's open ticket. */
  const RELEASE = FIRST - 3 * DAY;
  const scriptWeek = () =>
    scriptHistory(harness.app, harness.sloguard.stores.incidents, RELEASE, FIRST - DAY);

  /** The alerting on a fake clock from START: node-cron reads Date and setTimeout, the outbox its clock when built. */
  function startOnFakeClock(): Alerting {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
      now: START,
    });
    alerting = createAlerting(harness.sloguard, log);
    // The outbox polls once an hour here: what goes out is what the report wrote and woke it for.
    alerting.start(3_600_000);
    return alerting;
  }

  async function api<T>(url: string): Promise<T> {
    const response = await harness.app.inject({ method: 'GET', url });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as T;
  }

  it('reaches the chat targets once per week, Monday 09:00 in its zone, with the numbers of the API', async () => {
    await scriptWeek();
    startOnFakeClock();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(capture.requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(60_000);
    await vi.waitFor(() => expect(capture.accepted()).toHaveLength(2), { timeout: 10_000 });
    // Nothing more until the next Monday 09:00 in Kolkata, then exactly one more to each report target.
    await vi.advanceTimersByTimeAsync(WEEK - 2 * 60_000);
    expect(capture.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    await vi.waitFor(() => expect(capture.accepted()).toHaveLength(4), { timeout: 10_000 });
    vi.useRealTimers();
    expect(capture.requests.map((request) => request.path).sort()).toEqual([
      '/hook',
      '/hook',
      '/slack',
      '/slack',
    ]);
    const hooks = capture.requests.filter((request) => request.path === '/hook');
    expect(
      hooks.map((request) => (request.body as { alerts: Array<{ startsAt: string }> }).alerts[0]!.startsAt),
    ).toEqual([iso(FIRST), iso(FIRST + WEEK)]);

    // The first Slack message: per service, what the API answers for the week it covers.
    const slack = capture.requests.find((request) => request.path === '/slack')!.body as {
      text: string;
      attachments: Array<{ blocks: Array<{ type: string; fields?: Array<{ text: string }> }> }>;
    };
    expect(slack.text).toBe('Weekly reliability report');
    const fields = slack.attachments[0]!.blocks.flatMap((block) => block.fields ?? []).map((f) => f.text);
    const week = `from=${iso(FIRST - WEEK)}&to=${iso(FIRST)}`;
    const reliability = await api<Reliability>(`/api/v1/services/checkout/reliability?${week}`);
    const [delivery] = (await api<Delivery>(`/api/v1/delivery?service=checkout&${week}`)).services;
    // The API's figures are the hand-computed ones (helpers/incidentHistory.ts): one incident (the
    // overlapping pair) restored 55 minutes after detection, an hour after the burn began; three deploys,
    // v2.0.0 failed (an incident within the hour after it, and rolled back).
    expect(reliability.incident_count).toBe(1);
    expect(reliability.mttr_seconds).toEqual({ from_detection: 55 * 60, from_start: 60 * 60 });
    expect(delivery).toMatchObject({ environment: 'production', deployments: 3, failed_deployments: 1 });
    const checkout = fields.find((text) => text.startsWith('*checkout*'))!;
    const mttr = reliability.mttr_seconds;
    expect(checkout).toContain(
      `Incidents: ${reliability.incident_count}; MTTR ${humanDuration(mttr.from_detection! * 1000)} from detection, ` +
        `${humanDuration(mttr.from_start! * 1000)} from start`,
    );
    expect(checkout).toContain(
      `${delivery!.deployments} deploys to production, change failure rate ` +
        `${percentText(delivery!.change_failure_rate, 1)} (${delivery!.failed_deployments} failed)`,
    );
    expect(checkout).toContain('3 deploys to production, change failure rate 33.3% (1 failed)');
    expect(checkout).toContain(
      `- page at ${iso(RELEASE + 10 * MIN)
        .slice(0, 16)
        .replace('T', ' ')} UTC, restored in 1h, 31.0% of the budget, postmortem required`,
    );
    expect(checkout).toMatch(
      /checkout-availability: (n\/a|[\d.]+%) of 99\.900% \((met|missed|no data)\), budget/,
    );
    const profile = fields.find((text) => text.startsWith('*user-profile*'))!;
    expect(profile).toContain('Incidents: 1; MTTR n/a from detection, n/a from start');
    expect(profile).toContain('still open, 4.0% of the budget');
    expect(profile).toContain('No deploys');
  });

  it('stops with the alerting and sends nothing after', async () => {
    await startOnFakeClock().stop();
    await vi.advanceTimersByTimeAsync(WEEK);
    expect(capture.requests).toEqual([]);
  });
});
