import { describe, expect, it } from 'vitest';
import { deliveryFigures, quantile } from '../../src/evaluate/delivery.js';
import { reliabilityFigures, serviceIncidents } from '../../src/evaluate/reliability.js';
import type { IncidentEpisode, Release } from '../../src/model/incident.js';

const MIN = 60_000;
const DAY = 1440 * MIN;

function episode(
  id: string,
  startMin: number,
  detectMin: number,
  resolveMin: number | null,
  budget: number | null,
  overrides: Partial<IncidentEpisode> = {},
): IncidentEpisode {
  return {
    id,
    slo: id.split('#')[0]!,
    service: 'shop',
    severity: 'ticket',
    burnStartedAtMs: startMin * MIN,
    detectedAtMs: detectMin * MIN,
    escalations: [],
    resolvedAtMs: resolveMin === null ? null : resolveMin * MIN,
    peakBurnRate: 3,
    budgetConsumed: budget,
    ...overrides,
  };
}

const release = (
  atMin: number,
  changeType: Release['changeType'] = 'feature',
  commitMin: number | null = null,
) =>
  ({
    service: 'shop',
    environment: 'production',
    deployedAtMs: atMin * MIN,
    changeType,
    commitAtMs: commitMin === null ? null : commitMin * MIN,
  }) satisfies Release;

describe('serviceIncidents', () => {
  it('joins episodes of a service that overlap, chains of them too, and keeps services apart', () => {
    const incidents = serviceIncidents(
      [
        episode('a#1', 0, 2, 30, 0.1),
        episode('b#1', 20, 25, 50, 0.3, { severity: 'page', peakBurnRate: 15 }),
        episode('c#1', 45, 45, 60, 0.05), // overlaps b only: still the same incident
        episode('a#2', 61, 62, 70, 0.01), // starts after the last resolution: a new incident
        episode('a#3', 10, 12, 20, 0.5, { service: 'pay' }),
      ],
      () => 0.2,
    );
    expect(incidents.map((i) => [i.service, i.id, i.episodes.length])).toEqual([
      ['shop', 'a#2', 1],
      ['pay', 'a#3', 1],
      ['shop', 'a#1', 3],
    ]);
    expect(incidents[2]).toMatchObject({
      startedAtMs: 0,
      detectedAtMs: 2 * MIN,
      resolvedAtMs: 60 * MIN,
      severity: 'page',
      peakBurnRate: 15,
      budgetConsumed: 0.3,
      postmortemRequired: true,
    });
  });

  it('keeps an incident open while any of its episodes is, and lets later burns join it', () => {
    const [incident] = serviceIncidents(
      [episode('a#1', 0, 1, null, 0.1), episode('b#1', 500, 501, 600, 0.1)],
      () => 0.2,
    );
    expect(incident).toMatchObject({ resolvedAtMs: null, postmortemRequired: false });
    expect(incident!.episodes).toHaveLength(2);
  });

  it('flags a postmortem at the threshold of the service policy, not below it', () => {
    const flags = (threshold: number) =>
      serviceIncidents([episode('a#1', 0, 1, 5, 0.25)], () => threshold).map((i) => i.postmortemRequired);
    expect(flags(0.25)).toEqual([true]);
    expect(flags(0.26)).toEqual([false]);
  });
});

describe('reliabilityFigures', () => {
  it('counts incidents that started in the range; an open one is down until the range ends', () => {
    const outages = [
      {
        startedAtMs: -10 * MIN,
        detectedAtMs: 0,
        resolvedAtMs: 5 * MIN,
        budgetConsumed: 0.9,
        postmortemRequired: true,
      },
      {
        startedAtMs: 100 * MIN,
        detectedAtMs: 110 * MIN,
        resolvedAtMs: null,
        budgetConsumed: null,
        postmortemRequired: false,
      },
    ];
    expect(reliabilityFigures(outages, 0, 200 * MIN)).toEqual({
      incidentCount: 1,
      mttrSeconds: { fromDetection: null, fromStart: null },
      mttfSeconds: 100 * 60, // 200 min minus the 100 still open
      mtbfSeconds: 200 * 60,
      meanTimeToDetectSeconds: 10 * 60,
      budgetConsumedPerIncident: null,
      postmortemsRequired: 0,
    });
    expect(reliabilityFigures([], 0, DAY)).toMatchObject({
      incidentCount: 0,
      mttfSeconds: null,
      mtbfSeconds: null,
    });
  });
});

describe('deliveryFigures', () => {
  it('fails a release followed by an incident within the window or by a rollback, even one after the range', () => {
    const incidents = serviceIncidents([episode('a#1', 130, 131, 140, 0.1)], () => 0.2);
    const releases = [
      release(0, 'feature', -60),
      release(100),
      release(200),
      release((2 * DAY) / MIN, 'rollback'),
    ];
    const [figures] = deliveryFigures(releases, incidents, 0, DAY, () => 60 * MIN);
    expect(figures).toEqual({
      service: 'shop',
      environment: 'production',
      deployments: 3,
      deploymentsPerDay: 3,
      leadTimeSeconds: { median: 3600, p90: 3600, samples: 1 },
      // 100: the incident began 30 min after it; 200: rolled back the next day. 0: neither.
      changeFailureRate: 2 / 3,
      failedDeployments: 2,
      timeToRestoreSeconds: 9 * 60,
    });
    // A window of 20 minutes no longer reaches the incident: only the rollback fails a release.
    expect(deliveryFigures(releases, incidents, 0, DAY, () => 20 * MIN)[0]!.failedDeployments).toBe(1);
  });

  it('ignores commit times after their deployment and groups environments apart', () => {
    const figures = deliveryFigures(
      [release(10, 'feature', 20), { ...release(30, 'feature', 0), environment: 'staging' }],
      [],
      0,
      DAY,
      () => 60 * MIN,
    );
    expect(figures.map((f) => [f.environment, f.leadTimeSeconds.samples, f.leadTimeSeconds.median])).toEqual([
      ['production', 0, null],
      ['staging', 1, 30 * 60],
    ]);
  });

  it('interpolates quantiles between neighbours', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([5], 0.9)).toBe(5);
    expect(quantile([1, 2], 0.5)).toBe(1.5);
    expect(quantile([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9)).toBe(90);
  });
});
