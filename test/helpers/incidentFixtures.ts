/**
 * A scripted history in the #19 API contract's shapes (docs/incidents.md): three checkout deployments (the
 * second causes a page-tier incident ended by a rollback of the first), and a ticket-tier user-profile
 * incident with no deployment before it, still open. Times are relative to `nowMs`.
 */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const iso = (ms: number) => new Date(ms).toISOString();

export interface ScriptedDeployment {
  service: string;
  environment: string;
  version: string;
  deployedAtMs: number;
}

export function scriptedDeployments(nowMs: number): ScriptedDeployment[] {
  return [
    { service: 'checkout', environment: 'production', version: 'v1.0.0', deployedAtMs: nowMs - 3 * DAY },
    { service: 'checkout', environment: 'production', version: 'v1.1.0', deployedAtMs: nowMs - 2 * DAY },
    {
      service: 'checkout',
      environment: 'production',
      version: 'v1.0.0',
      deployedAtMs: nowMs - 2 * DAY + 40 * MINUTE,
    },
  ];
}

function deploymentView(d: ScriptedDeployment, index: number, changeType: string) {
  return {
    id: `dep-${index}`,
    service: d.service,
    environment: d.environment,
    version: d.version,
    deployed_at: iso(d.deployedAtMs),
    source: 'api',
    decision_id: null,
    change_type: changeType,
    commit_at: iso(d.deployedAtMs - 3 * HOUR),
  };
}

export function incidentsAnswer(nowMs: number) {
  const [, faulty, rollback] = scriptedDeployments(nowMs);
  const checkoutStart = faulty!.deployedAtMs + 5 * MINUTE;
  const profileStart = nowMs - DAY;
  return {
    total: 2,
    incidents: [
      {
        id: 'inc-profile',
        service: 'user-profile',
        started_at: iso(profileStart),
        detected_at: iso(profileStart + 20 * MINUTE),
        resolved_at: null,
        duration_seconds: null,
        severity: 'ticket' as const,
        peak_burn_rate: 3.2,
        budget_consumed: 0.08,
        postmortem_required: false,
        runbook: null,
        owner: 'profiles-team',
        episodes: [
          {
            id: 'ep-3',
            slo: 'profile-availability',
            severity: 'ticket',
            burn_started_at: iso(profileStart),
            detected_at: iso(profileStart + 20 * MINUTE),
            escalations: [{ severity: 'ticket', at: iso(profileStart + 20 * MINUTE) }],
            resolved_at: null,
            peak_burn_rate: 3.2,
            budget_consumed: 0.08,
          },
        ],
        suspected_deployments: [],
        following_deployments: [],
      },
      {
        id: 'inc-checkout',
        service: 'checkout',
        started_at: iso(checkoutStart),
        detected_at: iso(checkoutStart + 5 * MINUTE),
        resolved_at: iso(checkoutStart + 50 * MINUTE),
        duration_seconds: 50 * 60,
        severity: 'page' as const,
        peak_burn_rate: 21.5,
        budget_consumed: 0.31,
        postmortem_required: true,
        runbook: 'https://runbooks.example.com/checkout',
        owner: 'payments-team',
        episodes: ['checkout-availability', 'checkout-submit-latency'].map((slo, index) => ({
          id: `ep-${index + 1}`,
          slo,
          severity: index === 0 ? 'page' : 'ticket',
          burn_started_at: iso(checkoutStart + index * 10 * MINUTE),
          detected_at: iso(checkoutStart + 5 * MINUTE + index * 10 * MINUTE),
          escalations: [{ severity: index === 0 ? 'page' : 'ticket', at: iso(checkoutStart + 5 * MINUTE) }],
          resolved_at: iso(checkoutStart + 50 * MINUTE - index * 10 * MINUTE),
          peak_burn_rate: index === 0 ? 21.5 : 4,
          budget_consumed: index === 0 ? 0.31 : 0.05,
        })),
        suspected_deployments: [deploymentView(faulty!, 1, 'standard')],
        following_deployments: [deploymentView(rollback!, 2, 'rollback')],
      },
    ],
  };
}

export function reliabilityAnswer(service: string, from: string, to: string) {
  const checkout = service === 'checkout';
  const figures = {
    incident_count: 1,
    mttr_seconds: checkout
      ? { from_detection: 45 * 60, from_start: 50 * 60 }
      : { from_detection: null, from_start: null },
    mttf_seconds: checkout ? 2 * 86_400 : null,
    mtbf_seconds: null,
    mean_time_to_detect_seconds: checkout ? 300 : 1200,
    budget_consumed_per_incident: checkout ? 0.31 : 0.08,
    postmortems_required: checkout ? 1 : 0,
  };
  return { service, from, to, ...figures, slos: [] };
}

export function deliveryAnswer(from: string, to: string, service?: string) {
  const rows = [
    {
      service: 'checkout',
      environment: 'production',
      deployments: 3,
      deployments_per_day: 3 / 28,
      lead_time_seconds: { median: 3 * 3600, p90: 3 * 3600, samples: 3 },
      change_failure_rate: 1 / 3,
      failed_deployments: 1,
      time_to_restore_seconds: 45 * 60,
    },
    {
      service: 'user-profile',
      environment: 'production',
      deployments: 0,
      deployments_per_day: 0,
      lead_time_seconds: { median: null, p90: null, samples: 0 },
      change_failure_rate: null,
      failed_deployments: 0,
      time_to_restore_seconds: null,
    },
  ];
  return { from, to, services: rows.filter((row) => !service || row.service === service) };
}
