import type { GatePolicy, GatePolicySettings } from '../definitions/gatePolicy.js';
import { activeAt } from '../definitions/timeWindows.js';
import { DEFAULT_FAILURE_WINDOW_MS } from '../evaluate/delivery.js';
import { DEFAULT_POSTMORTEM_THRESHOLD } from '../evaluate/reliability.js';
import type { ActiveChangeFreeze, ChangeFreeze, ChangeType, ResolvedPolicy } from '../model/gate.js';
import type { IncidentPolicy } from '../model/incident.js';

/** Change types that always pass a frozen gate: undoing harm and closing holes must never wait for budget. */
export const ALWAYS_EXEMPT: readonly ChangeType[] = ['rollback', 'security'];

/** The first calendar change freeze in force at `atMs`, or null. */
export function activeChangeFreeze(
  freezes: readonly ChangeFreeze[],
  atMs: number,
): ActiveChangeFreeze | null {
  for (const freeze of freezes) {
    const interval = activeAt(freeze.window, atMs);
    if (interval) return { name: freeze.name, ...(freeze.reason && { reason: freeze.reason }), ...interval };
  }
  return null;
}

export const DEFAULT_WARN_BELOW = 25;
export const DEFAULT_RECOVERY_MARGIN = 10;
const PRODUCTION = new Set(['production', 'prod']);

/** Missing data blocks a release to production (nothing proves it is safe) and only warns elsewhere. */
export const defaultOnNoData = (environment: string | null): 'deny' | 'warn' =>
  environment !== null && PRODUCTION.has(environment.toLowerCase()) ? 'deny' : 'warn';

/** The loaded policies; a service without one gets the documented defaults. */
export class GatePolicies {
  private readonly byService: Map<string, GatePolicy>;

  constructor(readonly policies: readonly GatePolicy[] = []) {
    this.byService = new Map(policies.map((p) => [p.service, p]));
  }

  /** Environments a policy names for a service (the gate keeps freeze state for each). */
  environmentsOf(service: string): string[] {
    return Object.keys(this.byService.get(service)?.environments ?? {});
  }

  /** The service's incident policy and its runbook and owner (docs/incidents.md). */
  incidentPolicy(service: string): IncidentPolicy {
    const policy = this.byService.get(service);
    return {
      postmortemThreshold: policy?.postmortemThreshold ?? DEFAULT_POSTMORTEM_THRESHOLD,
      failureWindowMs: policy?.failureWindowMs ?? DEFAULT_FAILURE_WINDOW_MS,
      runbook: policy?.runbook ?? null,
      owner: policy?.owner ?? null,
    };
  }

  resolve(service: string, environment: string | null): ResolvedPolicy {
    const policy = this.byService.get(service);
    const settings: GatePolicySettings = {
      ...policy?.defaults,
      ...(environment !== null ? policy?.environments[environment] : undefined),
    };
    const exemptions = settings.exemptions ?? {};
    return {
      name: policy?.name ?? null,
      service,
      environment,
      slos: policy?.slos ?? 'all',
      warnBelow: (settings.warnBelow ?? DEFAULT_WARN_BELOW) / 100,
      recoveryMargin: (settings.recoveryMargin ?? DEFAULT_RECOVERY_MARGIN) / 100,
      mode: settings.mode ?? 'enforce',
      onNoData: settings.onNoData ?? defaultOnNoData(environment),
      onInsufficientData: settings.onInsufficientData ?? 'warn',
      minValidEvents: settings.minValidEvents ?? null,
      denyOnPageAlert: settings.denyOnPageAlert ?? true,
      exempt: [
        ...ALWAYS_EXEMPT,
        ...(['hotfix', 'config'] as const).filter((type) => exemptions[type] === true),
      ],
      changeFreezes: settings.changeFreezes ?? [],
    };
  }
}
