import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { IncidentEpisode } from '../../src/model/incident.js';
import type { IncidentStore } from '../../src/store/incidents.js';

const MIN = 60_000;
const DAY = 86_400_000;

/** A GatePolicy giving checkout a runbook and an owner: add it to a copy of the example definitions. */
export const CHECKOUT_POLICY = `apiVersion: sloguard/v1
kind: GatePolicy
metadata: { name: checkout }
spec:
  service: checkout
  runbook: https://runbooks.example.com/checkout
  owner: payments-team
`;

function episode(
  id: string,
  slo: string,
  service: string,
  burnMs: number,
  minutes: { detected: number; resolved: number | null },
  severity: 'page' | 'ticket',
  budgetConsumed: number,
): IncidentEpisode {
  const detectedAtMs = burnMs + minutes.detected * MIN;
  return {
    id,
    slo,
    service,
    severity,
    burnStartedAtMs: burnMs,
    detectedAtMs,
    escalations: [{ severity, atMs: detectedAtMs }],
    resolvedAtMs: minutes.resolved === null ? null : burnMs + minutes.resolved * MIN,
    peakBurnRate: severity === 'page' ? 21.5 : 3.2,
    budgetConsumed,
  };
}

/**
 * A scripted history around `releaseMs`, the release of checkout v2.0.0: v1.9.0 two days before it, v2.0.0,
 * and the rollback to v1.9.0 an hour after (each committed two hours before it ships), through
 * POST /api/v1/deployments. Into the incident store: a page of checkout-availability burning from ten
 * minutes after the release (detected 5 minutes later, resolved after an hour) overlapping a ticket of
 * checkout-submit-latency (burning from +30m, detected at +55m, resolved at +60m): one incident that
 * started at +10m, was detected at +15m, resolved at +70m (MTTR 55m from detection, 1h from start) and used
 * 31% of the budget (a postmortem); and a ticket of user-profile from `profileMs`, still open.
 */
export async function scriptHistory(
  app: FastifyInstance,
  incidents: IncidentStore,
  releaseMs: number,
  profileMs: number,
): Promise<void> {
  const deploys: Array<[number, string, string]> = [
    [releaseMs - 2 * DAY, 'v1.9.0', 'feature'],
    [releaseMs, 'v2.0.0', 'feature'],
    [releaseMs + 60 * MIN, 'v1.9.0', 'rollback'],
  ];
  for (const [atMs, version, changeType] of deploys) {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/deployments',
      payload: {
        service: 'checkout',
        environment: 'production',
        version,
        change_type: changeType,
        time: new Date(atMs).toISOString(),
        commit_at: new Date(atMs - 120 * MIN).toISOString(),
      },
    });
    expect(response.statusCode, response.body).toBe(201);
  }
  const burn = releaseMs + 10 * MIN;
  incidents.save(
    episode('ep-a', 'checkout-availability', 'checkout', burn, { detected: 5, resolved: 60 }, 'page', 0.31),
  );
  incidents.save(
    episode(
      'ep-b',
      'checkout-submit-latency',
      'checkout',
      burn + 20 * MIN,
      { detected: 25, resolved: 30 },
      'ticket',
      0.05,
    ),
  );
  incidents.save(
    episode(
      'ep-c',
      'profile-availability',
      'user-profile',
      profileMs,
      { detected: 20, resolved: null },
      'ticket',
      0.04,
    ),
  );
}
