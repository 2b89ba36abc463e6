import { describe, expect, it } from 'vitest';
import { PAYLOAD_BUILDERS } from '../../src/alert/notifiers/payloadBuilders.js';
import { formatWeeklyReport, type ServiceWeek } from '../../src/alert/weeklyReport.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { resolveNotifications, TARGET_KINDS } from '../../src/config/notifications.js';
import type { WeeklyReportFile } from '../../src/config/weeklyReport.js';
import { sloStatus, T0 } from '../helpers/alertFixtures.js';
import { tempDir } from '../helpers/tmp.js';

const PUBLIC_URL = 'https://sloguard.example.com';
const WEEK = 7 * 86_400_000;

function profileWeek(): ServiceWeek {
  return {
    service: 'user-profile',
    statuses: [sloStatus()],
    incidents: [
      {
        id: 'inc-1',
        startedAtMs: T0 - 2 * 86_400_000,
        resolvedAtMs: T0 - 2 * 86_400_000 + 3_000_000,
        severity: 'page',
        budgetConsumed: 0.25,
        postmortemRequired: true,
      },
      {
        id: 'inc-2',
        startedAtMs: T0 - 3_600_000,
        resolvedAtMs: null,
        severity: 'ticket',
        budgetConsumed: 0.02,
        postmortemRequired: false,
      },
    ],
    reliability: { incidentCount: 2, mttrSeconds: { fromDetection: 2700, fromStart: 3000 } },
    delivery: [{ environment: 'production', deployments: 4, failedDeployments: 1, changeFailureRate: 0.25 }],
  };
}

const PROFILE_TEXT = [
  'profile-availability: 99.980% of 99.950% (met), budget 60.0% left',
  'Incidents: 2; MTTR 45m from detection, 50m from start',
  '- page at 2026-11-21 10:00 UTC, restored in 50m, 25.0% of the budget, postmortem required',
  '- ticket at 2026-11-23 09:00 UTC, still open, 2.0% of the budget',
  '4 deploys to production, change failure rate 25.0% (1 failed)',
].join('\n');

describe('the weekly report message', () => {
  it('gives per service the attainment, budget, incidents with MTTR, deploys and change failure rate', () => {
    const quiet: ServiceWeek = {
      service: 'search',
      statuses: [],
      incidents: [],
      reliability: { incidentCount: 0, mttrSeconds: { fromDetection: null, fromStart: null } },
      delivery: [],
    };
    const message = formatWeeklyReport([quiet, profileWeek()], { fromMs: T0 - WEEK, toMs: T0 }, PUBLIC_URL);
    const text = '2 services, 2 incidents and 4 deploys from 2026-11-16 10:00 UTC to 2026-11-23 10:00 UTC.';
    expect(message).toEqual({
      title: 'Weekly reliability report',
      text,
      tone: 'warning',
      fields: [
        {
          label: 'search',
          value: 'Incidents: 0; MTTR n/a from detection, n/a from start\nNo deploys',
        },
        { label: 'user-profile', value: PROFILE_TEXT },
      ],
      link: { label: 'Open incidents', url: `${PUBLIC_URL}/incidents?range=7d` },
      atMs: T0,
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'SLOWeeklyReport', severity: 'info' },
          annotations: {
            summary: 'Weekly reliability report',
            description: `${text}\nsearch: Incidents: 0; MTTR n/a from detection, n/a from start\nNo deploys\nuser-profile: ${PROFILE_TEXT}`,
          },
          startsAtMs: T0,
          endsAtMs: T0 + 5 * 60_000,
        },
      ],
    });
  });

  it('lists five incidents of a service and counts the rest', () => {
    const week = profileWeek();
    const incident = week.incidents[0]!;
    week.incidents = Array.from({ length: 8 }, (_, i) => ({ ...incident, id: `inc-${i}` }));
    const value = formatWeeklyReport([week], { fromMs: T0 - WEEK, toMs: T0 }, PUBLIC_URL).fields[0]!.value;
    expect(value.split('\n').filter((line) => line.startsWith('- page'))).toHaveLength(5);
    expect(value).toContain('- and 3 more');
  });

  it('is laid out by every chat kind with the services as fields', () => {
    const message = formatWeeklyReport([profileWeek()], { fromMs: T0 - WEEK, toMs: T0 }, PUBLIC_URL);
    expect(PAYLOAD_BUILDERS.slack(message, { target: 'ops', publicUrl: PUBLIC_URL }).body).toEqual({
      text: 'Weekly reliability report',
      attachments: [
        {
          color: '#F79009',
          blocks: [
            { type: 'header', text: { type: 'plain_text', text: 'Weekly reliability report', emoji: true } },
            { type: 'section', text: { type: 'mrkdwn', text: message.text } },
            { type: 'section', fields: [{ type: 'mrkdwn', text: `*user-profile*\n${PROFILE_TEXT}` }] },
            {
              type: 'actions',
              elements: [
                {
                  type: 'button',
                  text: { type: 'plain_text', text: 'Open incidents' },
                  url: `${PUBLIC_URL}/incidents?range=7d`,
                },
              ],
            },
          ],
        },
      ],
    });
    for (const kind of TARGET_KINDS) {
      const body = JSON.stringify(
        PAYLOAD_BUILDERS[kind](message, { target: 'ops', publicUrl: PUBLIC_URL }).body,
      );
      expect(body, kind).toContain('Weekly reliability report');
      expect(body, kind).toContain('MTTR 45m from detection');
      expect(body, kind).toContain('change failure rate 25.0%');
    }
  });
});

describe('notifications.weeklyReport settings', () => {
  const resolve = (weeklyReport: unknown) =>
    resolveNotifications(
      {
        targets: { ops: { kind: 'slack', url: 'https://hooks.example.com/ops' } },
        weeklyReport: weeklyReport as WeeklyReportFile,
      },
      {},
      (field, message) => {
        throw new Error(`${field}: ${message}`);
      },
    );

  it('is off unless configured, and turns day, time and zone into a cron line in that zone', () => {
    expect(resolve(undefined).weeklyReport).toBeUndefined();
    expect(resolve({ day: 'friday', time: '16:30', timeZone: 'America/New_York' }).weeklyReport).toEqual({
      cron: '30 16 * * 5',
      timeZone: 'America/New_York',
      targets: ['ops'],
    });
    expect(resolve({ day: 'sunday', time: '00:05' }).weeklyReport).toEqual({
      cron: '5 0 * * 0',
      timeZone: 'UTC',
      targets: ['ops'],
    });
  });

  it('refuses an unknown time zone or target, naming the field', () => {
    expect(() => resolve({ day: 'monday', time: '09:00', timeZone: 'Mars/Olympus' })).toThrow(
      'notifications.weeklyReport.timeZone: unknown IANA time zone "Mars/Olympus"',
    );
    expect(() => resolve({ day: 'monday', time: '09:00', targets: ['nobody'] })).toThrow(
      'notifications.weeklyReport.targets: no target named "nobody"',
    );
  });

  it.each([
    ['a day that is no weekday', 'day: mondays, time: "09:00"', 'notifications.weeklyReport.day:'],
    ['a time past 23:59', 'day: monday, time: "24:00"', 'notifications.weeklyReport.time:'],
    ['a time without minutes', 'day: monday, time: "9"', 'notifications.weeklyReport.time:'],
    ['an unknown field', 'day: monday, time: "09:00", hour: 9', 'notifications.weeklyReport.hour:'],
  ])('refuses %s in sloguard.yaml, naming the field', (_, block, field) => {
    const dir = tempDir();
    let error: unknown;
    try {
      loadConfig({
        SLOGUARD_CONFIG: dir.file(
          'sloguard.yaml',
          `notifications:\n  targets: { ops: { kind: slack, url: "https://x" } }\n  weeklyReport: { ${block} }\n`,
        ),
      });
    } catch (caught) {
      error = caught;
    } finally {
      dir.cleanup();
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(field);
  });
});
