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

/** Resolved policies kept at most (all of them dropped past it): far above services × named environments. */
const MAX_RESOLVED_POLICIES = 4096;

/** The loaded policies; a service without one gets the documented defaults. */
export class GatePolicies {
  private readonly byService: Map<string, GatePolicy>;

  /**
   * Resolved policies by service, then environment: the gate resolves one on every answer, and builds none
   * anew for a scope it knows. Callers name any environment, so the cache is bounded; a reload makes a new
   * GatePolicies, and with it a new cache.
   */
  private readonly resolved = new Map<string, Map<string | null, ResolvedPolicy>>();
  private resolvedCount = 0;

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

  /** The policy in force for a service and environment; the same frozen object for the same pair. */
  resolve(service: string, environment: string | null): ResolvedPolicy {
    const known = this.resolved.get(service)?.get(environment);
    if (known !== undefined) return known;
    if (this.resolvedCount >= MAX_RESOLVED_POLICIES) {
      this.resolved.clear();
      this.resolvedCount = 0;
    }
    const resolved = Object.freeze(this.resolveAfresh(service, environment));
    const byEnvironment = this.resolved.get(service) ?? new Map<string | null, ResolvedPolicy>();
    byEnvironment.set(environment, resolved);
    this.resolved.set(service, byEnvironment);
    this.resolvedCount += 1;
    return resolved;
  }

  private resolveAfresh(service: string, environment: string | null): ResolvedPolicy {
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
      exempt: Object.freeze([
        ...ALWAYS_EXEMPT,
        ...(['hotfix', 'config'] as const).filter((type) => exemptions[type] === true),
      ]),
      changeFreezes: settings.changeFreezes ?? [],
    };
  }
}
