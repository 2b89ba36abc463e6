import { describe, expect, it, vi } from 'vitest';
import { type ChatMessage, formatAlert, formatNotice } from '../../src/alert/message.js';
import { PAYLOAD_BUILDERS } from '../../src/alert/notifiers/payloadBuilders.js';
import { send } from '../../src/alert/send.js';
import { transition } from '../../src/alert/state.js';
import type { TargetKind } from '../../src/config/notifications.js';
import { BURNS, episode, sloStatus, T0 } from '../helpers/alertFixtures.js';

const PUBLIC_URL = 'https://sloguard.example.com';
const DASHBOARD = `${PUBLIC_URL}/slo/profile-availability`;
const TITLE = '[PAGE] profile-availability: error budget burning fast (escalated from warning)';
const TEXT =
  'profile-availability (user-profile): error budget burning fast. SLI 99.980% against 99.950%; ' +
  '60.0% of the error budget left, gone in 20h10m at this rate.';
const FIELDS: Array<[string, string]> = [
  ['SLO', 'profile-availability'],
  ['Service', 'user-profile'],
  ['State', 'critical (page)'],
  ['SLI', '99.980% (objective 99.950%)'],
  ['Budget remaining', '60.0%'],
  ['Burn rates', '1h 20.00× and 5m 18.50× (page above 14×); 4d 1.20× and 6h 4.00× (ticket above 1×)'],
  ['Time to exhaustion', '20h10m'],
  ['Last deployment', 'v2.4.1 to production at 2026-11-23 09:50 UTC'],
  ['Runbook', 'https://runbooks.example.com/profile'],
  ['Owner', 'team-profiles'],
];
const LABELS = {
  team: 'profiles',
  alertname: 'SLOErrorBudget',
  slo: 'profile-availability',
  service: 'user-profile',
};
const ANNOTATIONS = {
  summary: TITLE,
  description: TEXT,
  dashboard: DASHBOARD,
  runbook_url: 'https://runbooks.example.com/profile',
  owner: 'team-profiles',
};

/** The escalation of profile-availability from ticket to page, ten minutes into its episode. */
function escalation(): ChatMessage {
  const { event } = transition(
    episode({ level: 'warning', notifiedLevel: 'warning' }),
    sloStatus({ burns: BURNS.page }),
    T0 + 600_000,
    4 * 3_600_000,
  );
  return formatAlert(event!, {
    publicUrl: PUBLIC_URL,
    labels: { team: 'profiles' },
    repeatIntervalMs: 4 * 3_600_000,
    deployment: { version: 'v2.4.1', environment: 'production', deployedAtMs: T0 - 600_000 },
    runbook: 'https://runbooks.example.com/profile',
    owner: 'team-profiles',
  });
}

/** Builds the payload for `kind`, sends it through a stubbed fetch and returns what went over the wire. */
async function sent(
  kind: TargetKind,
  message: ChatMessage,
  url = 'https://hooks.example.com/services/T0/B0/secret',
) {
  const fetchStub = vi.fn(
    async (_url: string | URL | Request, _init?: RequestInit) => new Response('ok', { status: 200 }),
  );
  const request = PAYLOAD_BUILDERS[kind](message, { target: 'oncall', publicUrl: PUBLIC_URL });
  const delivery = await send(url, request, { fetch: fetchStub as typeof fetch });
  expect(delivery).toEqual({ outcome: 'delivered', status: 200 });
  expect(fetchStub).toHaveBeenCalledTimes(1);
  const [calledUrl, init] = fetchStub.mock.calls[0]!;
  expect(init?.method).toBe('POST');
  expect(init?.headers).toEqual({ 'content-type': 'application/json; charset=utf-8' });
  return { url: String(calledUrl), body: JSON.parse(String(init?.body)) as unknown };
}

describe('payload builders send exactly this JSON', () => {
  it('slack: Block Kit header, summary, fields, dashboard button, colour on the attachment', async () => {
    const { url, body } = await sent('slack', escalation());
    expect(url).toBe('https://hooks.example.com/services/T0/B0/secret');
    expect(body).toEqual({
      text: TITLE,
      attachments: [
        {
          color: '#D92D20',
          blocks: [
            { type: 'header', text: { type: 'plain_text', text: TITLE, emoji: true } },
            { type: 'section', text: { type: 'mrkdwn', text: TEXT } },
            {
              type: 'section',
              fields: FIELDS.map(([label, value]) => ({ type: 'mrkdwn', text: `*${label}*\n${value}` })),
            },
            {
              type: 'actions',
              elements: [
                { type: 'button', text: { type: 'plain_text', text: 'Open dashboard' }, url: DASHBOARD },
              ],
            },
          ],
        },
      ],
    });
  });

  it('teams: a workflow webhook message with one Adaptive Card', async () => {
    const { body } = await sent('teams', escalation());
    expect(body).toEqual({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            msteams: { width: 'Full' },
            body: [
              {
                type: 'TextBlock',
                text: TITLE,
                size: 'Large',
                weight: 'Bolder',
                color: 'Attention',
                wrap: true,
              },
              { type: 'TextBlock', text: TEXT, wrap: true },
              { type: 'FactSet', facts: FIELDS.map(([title, value]) => ({ title, value })) },
            ],
            actions: [{ type: 'Action.OpenUrl', title: 'Open dashboard', url: DASHBOARD }],
          },
        },
      ],
    });
  });

  it("googlechat: cardsV2 in the episode's thread, replying to it", async () => {
    const { url, body } = await sent(
      'googlechat',
      escalation(),
      'https://chat.googleapis.com/v1/spaces/AAA/messages?key=k&token=t',
    );
    expect(url).toBe(
      'https://chat.googleapis.com/v1/spaces/AAA/messages?key=k&token=t&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD',
    );
    expect(body).toEqual({
      cardsV2: [
        {
          cardId: 'sloguard',
          card: {
            header: { title: TITLE },
            sections: [
              {
                widgets: [
                  { textParagraph: { text: `<font color="#D92D20">${TEXT}</font>` } },
                  ...FIELDS.map(([topLabel, text]) => ({
                    decoratedText: { topLabel, text, wrapText: true },
                  })),
                  {
                    buttonList: {
                      buttons: [{ text: 'Open dashboard', onClick: { openLink: { url: DASHBOARD } } }],
                    },
                  },
                ],
              },
            ],
          },
        },
      ],
      thread: { threadKey: `profile-availability-${T0}` },
    });
  });

  it('discord: one embed with colour, fields and timestamp, mentions off', async () => {
    const { body } = await sent('discord', escalation());
    expect(body).toEqual({
      allowed_mentions: { parse: [] },
      embeds: [
        {
          title: TITLE,
          description: TEXT,
          url: DASHBOARD,
          color: 0xd92d20,
          fields: FIELDS.map(([name, value]) => ({ name, value, inline: value.length <= 40 })),
          footer: { text: 'sloguard' },
          timestamp: '2026-11-23T10:10:00.000Z',
        },
      ],
    });
    expect(
      (body as { embeds: Array<{ fields: Array<{ inline: boolean }> }> }).embeds[0]!.fields[5]!.inline,
    ).toBe(false);
  });

  it('webhook: Alertmanager webhook v4, the old ticket resolved and the page firing in one group', async () => {
    const { body } = await sent('webhook', escalation());
    expect(body).toEqual({
      version: '4',
      groupKey: '{}:{slo="profile-availability"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'oncall',
      groupLabels: { slo: 'profile-availability' },
      commonLabels: LABELS,
      commonAnnotations: ANNOTATIONS,
      externalURL: PUBLIC_URL,
      alerts: [
        {
          status: 'resolved',
          labels: { ...LABELS, severity: 'ticket', condition: 'warning' },
          annotations: ANNOTATIONS,
          startsAt: '2026-11-23T10:00:00.000Z',
          endsAt: '2026-11-23T10:10:00.000Z',
          generatorURL: DASHBOARD,
          fingerprint: '72b5d30a1a3ea488',
        },
        {
          status: 'firing',
          labels: { ...LABELS, severity: 'page', condition: 'critical' },
          annotations: ANNOTATIONS,
          startsAt: '2026-11-23T10:00:00.000Z',
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: DASHBOARD,
          fingerprint: '2bec6a4f03655846',
        },
      ],
    });
  });

  it('alertmanager: postable alerts to /api/v2/alerts, the page lasting two repeat intervals', async () => {
    const { url, body } = await sent('alertmanager', escalation(), 'http://alertmanager.internal:9093/');
    expect(url).toBe('http://alertmanager.internal:9093/api/v2/alerts');
    expect(body).toEqual([
      {
        labels: { ...LABELS, severity: 'ticket', condition: 'warning' },
        annotations: ANNOTATIONS,
        startsAt: '2026-11-23T10:00:00.000Z',
        endsAt: '2026-11-23T10:10:00.000Z',
        generatorURL: DASHBOARD,
      },
      {
        labels: { ...LABELS, severity: 'page', condition: 'critical' },
        annotations: ANNOTATIONS,
        startsAt: '2026-11-23T10:00:00.000Z',
        endsAt: '2026-11-23T18:10:00.000Z',
        generatorURL: DASHBOARD,
      },
    ]);
  });
});

describe('threads', () => {
  it("google chat posts an episode's firing and its resolve into the same thread", () => {
    const context = { publicUrl: PUBLIC_URL, labels: {}, repeatIntervalMs: 4 * 3_600_000 };
    const fired = transition(undefined, sloStatus({ burns: BURNS.page }), T0, context.repeatIntervalMs);
    const resolved = transition(fired.episode, sloStatus(), T0 + 3_600_000, context.repeatIntervalMs);
    const threadOf = (message: ChatMessage) =>
      (
        PAYLOAD_BUILDERS.googlechat(message, { target: 'g', publicUrl: PUBLIC_URL }).body as {
          thread: unknown;
        }
      ).thread;
    expect(threadOf(formatAlert(fired.event!, context))).toEqual({ threadKey: `profile-availability-${T0}` });
    expect(threadOf(formatAlert(resolved.event!, context))).toEqual({
      threadKey: `profile-availability-${T0}`,
    });
    expect(resolved.event?.kind).toBe('resolved');
  });
});

describe('limits and escaping', () => {
  const long = (n: number, char = 'x') => char.repeat(n);

  it('discord cuts every part to its limit and keeps the embed within 6000 characters', () => {
    const fields = Array.from({ length: 30 }, (_, i) => ({ label: `${i}${long(300)}`, value: long(2000) }));
    const message = formatNotice('SloguardTest', long(300), long(5000), fields, PUBLIC_URL, T0);
    const body = PAYLOAD_BUILDERS.discord(message, { target: 'd', publicUrl: PUBLIC_URL }).body as {
      embeds: Array<{ title: string; description: string; fields: Array<{ name: string; value: string }> }>;
    };
    const embed = body.embeds[0]!;
    expect(embed.title).toBe(`${long(255)}…`);
    expect(embed.description).toBe(`${long(4095)}…`);
    expect(embed.fields[0]).toEqual({ name: `0${long(254)}…`, value: `${long(1023)}…`, inline: false });
    const total =
      embed.title.length +
      embed.description.length +
      'sloguard'.length +
      embed.fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
    expect(total).toBeLessThanOrEqual(6000);
    // 256 + 4096 + 8 leaves room for exactly one 256 + 1024 field.
    expect(embed.fields).toHaveLength(1);
  });

  it('discord sums up fields past 25 in the last one', () => {
    const fields = Array.from({ length: 30 }, (_, i) => ({ label: `slo-${i}`, value: 'ok' }));
    const message = formatNotice('SLOReport', 'Daily SLO report', '30 SLOs', fields, PUBLIC_URL, T0);
    const body = PAYLOAD_BUILDERS.discord(message, { target: 'd', publicUrl: PUBLIC_URL }).body as {
      embeds: Array<{ fields: Array<{ name: string; value: string; inline: boolean }> }>;
    };
    const sentFields = body.embeds[0]!.fields;
    expect(sentFields).toHaveLength(25);
    expect(sentFields[23]).toEqual({ name: 'slo-23', value: 'ok', inline: true });
    expect(sentFields[24]).toEqual({ name: '…', value: '6 more not shown', inline: false });
  });

  it('slack cuts the header to 150 characters and escapes mrkdwn control characters', () => {
    const message = formatNotice(
      'SloguardTest',
      long(200),
      'a <b> & c',
      [{ label: 'x>y', value: '<@here>' }],
      PUBLIC_URL,
      T0,
    );
    const body = PAYLOAD_BUILDERS.slack(message, { target: 's', publicUrl: PUBLIC_URL }).body as {
      attachments: Array<{ blocks: Array<Record<string, unknown>> }>;
    };
    const [header, section, fields] = body.attachments[0]!.blocks;
    expect(header).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: `${long(149)}…`, emoji: true },
    });
    expect(section).toEqual({ type: 'section', text: { type: 'mrkdwn', text: 'a &lt;b&gt; &amp; c' } });
    expect(fields).toEqual({
      type: 'section',
      fields: [{ type: 'mrkdwn', text: '*x&gt;y*\n&lt;@here&gt;' }],
    });
  });

  it('google chat starts no thread for a notice outside an alert episode', () => {
    const message = formatNotice('SloguardTest', 'Test', 'hello', [], PUBLIC_URL, T0);
    const request = PAYLOAD_BUILDERS.googlechat(message, { target: 'g', publicUrl: PUBLIC_URL });
    expect(request.query).toBeUndefined();
    expect(request.body).not.toHaveProperty('thread');
  });
});
