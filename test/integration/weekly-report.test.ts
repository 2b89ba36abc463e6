import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Alerting } from '../../src/alert/alerting.js';
import type { AlertLog } from '../../src/alert/outbox.js';
import type { WeeklyReportSources } from '../../src/alert/weeklyReport.js';
import { resolveNotifications } from '../../src/config/notifications.js';
import { createAlerting } from '../../src/service.js';
import { testApp } from '../helpers/app.js';
import { CaptureServer } from '../helpers/capture.js';
import { deliveryAnswer, incidentsAnswer, reliabilityAnswer } from '../helpers/incidentFixtures.js';

/** Monday 30 November 2026, 08:58:30 in Berlin (CET, UTC+1): a minute and a half before the report is due. */
const START = Date.parse('2026-11-30T07:58:30Z');
const FIRST = Date.parse('2026-11-30T08:00:00Z');
const WEEK = 7 * 86_400_000;

const iso = (ms: number) => new Date(ms).toISOString();

/** The contract's answers for the report's week in the history's terms, recorded per call. */
function contractSources(statuses: WeeklyReportSources['statuses'], asked: string[]): WeeklyReportSources {
  return {
    statuses,
    serviceReport: (service, fromMs, toMs, nowMs) => {
      asked.push(`${service} ${iso(fromMs)} ${iso(toMs)} ${iso(nowMs)}`);
      const reliability = reliabilityAnswer(service, iso(fromMs), iso(toMs));
      return {
        reliability: {
          incidentCount: reliability.incident_count,
          mttrSeconds: {
            fromDetection: reliability.mttr_seconds.from_detection,
            fromStart: reliability.mttr_seconds.from_start,
          },
        },
        delivery: deliveryAnswer(iso(fromMs), iso(toMs), service).services.map((row) => ({
          environment: row.environment,
          deployments: row.deployments,
          failedDeployments: row.failed_deployments,
          changeFailureRate: row.change_failure_rate,
        })),
        incidents: incidentsAnswer(toMs)
          .incidents.filter((incident) => incident.service === service)
          .map((incident) => ({
            id: incident.id,
            startedAtMs: Date.parse(incident.started_at),
            resolvedAtMs: incident.resolved_at === null ? null : Date.parse(incident.resolved_at),
            severity: incident.severity,
            budgetConsumed: incident.budget_consumed,
            postmortemRequired: incident.postmortem_required,
          })),
      };
    },
  };
}

describe('the weekly report on its schedule', () => {
  let harness: Awaited<ReturnType<typeof testApp>>;
  let capture: CaptureServer;
  let alerting: Alerting;
  const asked: string[] = [];
  const log: AlertLog = { info: () => {}, warn: () => {}, error: () => {} };

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
          timeZone: 'Europe/Berlin',
          targets: ['ops-slack', 'ops-hook'],
        },
      },
      {},
      (field, message) => {
        throw new Error(`${field}: ${message}`);
      },
    );
    harness = await testApp({ publicUrl: 'https://sloguard.example.com', notifications });
    asked.length = 0;
  });

  /**
   * The alerting on a fake clock from START: node-cron reads Date and setTimeout, and the outbox takes its
   * clock when built, so it is built after the clock is faked.
   */
  function startOnFakeClock(): void {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
      now: START,
    });
    alerting = createAlerting(harness.sloguard, log, {
      reportSources: contractSources(() => harness.sloguard.evaluator.current(), asked),
    });
    // The outbox polls once an hour here: what goes out is what the report wrote and woke it for.
    alerting.start(3_600_000);
  }
  afterEach(async () => {
    vi.useRealTimers();
    await alerting?.stop();
    await harness.close();
    await capture.stop();
  });

  it('reaches the chat targets once per week, Monday 09:00 in Berlin, with the API numbers', async () => {
    startOnFakeClock();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(capture.requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(60_000);
    await vi.waitFor(() => expect(capture.accepted()).toHaveLength(2), { timeout: 10_000 });
    // The week ending at the send time, asked of the API's functions per service with an SLO.
    expect(asked).toEqual([
      `checkout ${iso(FIRST - WEEK)} ${iso(FIRST)} ${iso(FIRST)}`,
      `user-profile ${iso(FIRST - WEEK)} ${iso(FIRST)} ${iso(FIRST)}`,
    ]);

    // Nothing more until the next Monday at 09:00 Berlin time, then exactly one more to each target.
    await vi.advanceTimersByTimeAsync(WEEK - 2 * 60_000);
    expect(capture.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    await vi.waitFor(() => expect(capture.accepted()).toHaveLength(4), { timeout: 10_000 });
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

    // The Slack message carries, per service, the figures the API answers for that week.
    const slack = capture.requests.find((request) => request.path === '/slack')!.body as {
      text: string;
      attachments: Array<{ blocks: Array<{ type: string; fields?: Array<{ text: string }> }> }>;
    };
    expect(slack.text).toBe('Weekly reliability report');
    const fields = slack.attachments[0]!.blocks.flatMap((block) => block.fields ?? []).map((f) => f.text);
    const checkout = fields.find((text) => text.startsWith('*checkout*'))!;
    const reliability = reliabilityAnswer('checkout', iso(FIRST - WEEK), iso(FIRST));
    expect(reliability.mttr_seconds).toEqual({ from_detection: 2700, from_start: 3000 });
    expect(checkout).toContain('Incidents: 1; MTTR 45m from detection, 50m from start');
    const [incident] = incidentsAnswer(FIRST).incidents.filter((i) => i.service === 'checkout');
    expect(checkout).toContain(
      `- page at ${incident!.started_at.slice(0, 16).replace('T', ' ')} UTC, restored in 50m, 31.0% of the budget, postmortem required`,
    );
    expect(checkout).toContain('3 deploys to production, change failure rate 33.3% (1 failed)');
    expect(checkout).toMatch(
      /checkout-availability: (n\/a|[\d.]+%) of 99\.900% \((met|missed|no data)\), budget/,
    );
    const profile = fields.find((text) => text.startsWith('*user-profile*'))!;
    expect(profile).toContain('- ticket at');
    expect(profile).toContain('still open');
  });

  it('stops with the alerting and sends nothing after', async () => {
    startOnFakeClock();
    await alerting.stop();
    await vi.advanceTimersByTimeAsync(WEEK);
    expect(asked).toEqual([]);
    expect(capture.requests).toEqual([]);
  });
});
