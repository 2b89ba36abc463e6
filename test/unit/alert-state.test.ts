import { describe, expect, it } from 'vitest';
import { alertLevel, transition } from '../../src/alert/state.js';
import { BURNS, episode, sloStatus, T0 } from '../helpers/alertFixtures.js';

const HOUR = 3_600_000;
const REPEAT = 4 * HOUR;

describe('alertLevel', () => {
  it('maps firing tiers, a spent budget and lost data onto one level per SLO', () => {
    expect(alertLevel(sloStatus({ burns: BURNS.page }))).toBe('critical');
    expect(alertLevel(sloStatus({ burns: BURNS.ticket }))).toBe('warning');
    expect(alertLevel(sloStatus({ burns: BURNS.calm, good: 999_000 }))).toBe('exhausted');
    expect(alertLevel(sloStatus({ burns: BURNS.calm }))).toBe('ok');
  });

  it('pages rather than tickets when both kinds of tier fire (the page carries the SLO)', () => {
    const status = sloStatus({ burns: BURNS.page });
    expect(status.alerts.filter((tier) => tier.state === 'firing').map((tier) => tier.severity)).toEqual([
      'page',
      'ticket',
    ]);
    expect(alertLevel(status)).toBe('critical');
  });

  it('alerts on no data only for an SLO that has had data, silent for an hour', () => {
    const silent = (ms: number | null) =>
      sloStatus({ valid: 0, good: 0, lastObservationMs: ms === null ? null : T0 - ms });
    expect(alertLevel(silent(40 * 86_400_000))).toBe('no-data');
    expect(alertLevel(silent(3_600_000))).toBe('no-data');
    expect(alertLevel(silent(null))).toBe('ok');
    // A calendar month that began a minute ago, traffic still flowing: not an incident.
    expect(alertLevel(silent(30_000))).toBe('ok');
  });
});

describe('transition', () => {
  it('opens an episode with a firing event when an SLO starts burning', () => {
    const { episode: opened, event } = transition(undefined, sloStatus({ burns: BURNS.ticket }), T0, REPEAT);
    // The history's fields: a ticket whose 1h burn (the fastest tier's long window) peaks at 3.4×.
    expect(opened).toEqual(
      episode({ level: 'warning', notifiedLevel: 'warning', severity: 'ticket', peakBurnRate: 3.4 }),
    );
    expect(event).toMatchObject({ kind: 'firing', level: 'warning', previousLevel: 'ok', atMs: T0 });
  });

  it('says nothing while the level holds and the repeat interval has not passed', () => {
    const open = episode({
      level: 'warning',
      notifiedLevel: 'warning',
      severity: 'ticket',
      peakBurnRate: 3.4,
    });
    const { episode: next, event } = transition(
      open,
      sloStatus({ burns: BURNS.ticket }),
      T0 + REPEAT - 1,
      REPEAT,
    );
    expect(event).toBeUndefined();
    expect(next).toEqual(open);
  });

  it('escalates a ticket to a page once, and not again on the next evaluations', () => {
    const open = episode({ level: 'warning', notifiedLevel: 'warning' });
    const first = transition(open, sloStatus({ burns: BURNS.page }), T0 + 60_000, REPEAT);
    expect(first.event).toMatchObject({ kind: 'escalated', level: 'critical', previousLevel: 'warning' });
    expect(first.episode).toMatchObject({
      notifiedLevel: 'critical',
      lastNotifiedAtMs: T0 + 60_000,
      startedAtMs: T0,
    });
    const second = transition(first.episode, sloStatus({ burns: BURNS.page }), T0 + 120_000, REPEAT);
    expect(second.event).toBeUndefined();
  });

  it('announces neither a drop from page to ticket nor the rise back to the page already announced', () => {
    const open = episode();
    const dropped = transition(open, sloStatus({ burns: BURNS.ticket }), T0 + HOUR, REPEAT);
    expect(dropped.event).toBeUndefined();
    expect(dropped.episode).toMatchObject({ level: 'warning', notifiedLevel: 'critical' });
    const back = transition(dropped.episode, sloStatus({ burns: BURNS.page }), T0 + 2 * HOUR, REPEAT);
    expect(back.event).toBeUndefined();
  });

  it('repeats a still-firing alert after the repeat interval, with its current level', () => {
    const open = episode();
    const { episode: next, event } = transition(
      open,
      sloStatus({ burns: BURNS.ticket }),
      T0 + REPEAT,
      REPEAT,
    );
    expect(event).toMatchObject({ kind: 'repeat', level: 'warning', previousLevel: 'critical' });
    expect(next).toMatchObject({ notifiedLevel: 'warning', lastNotifiedAtMs: T0 + REPEAT });
  });

  it('resolves once with the episode duration and the share of the budget it spent', () => {
    const open = episode({ badEventsAtStart: 200 });
    // 250 bad of 1,100,000 at 99.95%: 550 allowed; the episode added 50 bad events, 9.09% of the budget.
    const status = sloStatus({ burns: BURNS.calm, valid: 1_100_000, good: 1_099_750 });
    const { episode: closed, event } = transition(open, status, T0 + 30 * 60_000, REPEAT);
    expect(closed).toBeUndefined();
    expect(event).toMatchObject({ kind: 'resolved', level: 'critical', durationMs: 30 * 60_000 });
    expect(event?.budgetSpent).toBeCloseTo(50 / 550, 12);
    expect(transition(closed, status, T0 + 31 * 60_000, REPEAT).event).toBeUndefined();
  });

  it('never reports a negative spend when old failures leave the window during the episode', () => {
    const status = sloStatus({ burns: BURNS.calm, good: 999_900 });
    expect(transition(episode({ badEventsAtStart: 200 }), status, T0 + HOUR, REPEAT).event?.budgetSpent).toBe(
      0,
    );
  });
});
