import type { NotificationRoute } from '../config/notifications.js';
import type { OpenSloObjects } from '../definitions/openslo/load.js';

/** The part of an inlined OpenSLO AlertPolicy routing reads. */
interface InlinedPolicy {
  spec?: { notificationTargets?: Array<{ metadata?: { name?: string } }> };
}

/**
 * Routes from OpenSLO: an SLO whose AlertPolicies name AlertNotificationTargets is routed to the
 * sloguard.yaml targets of the same names (the OpenSLO object names the target; its URL, a secret, stays
 * in the config).
 */
export function openSloRoutes(objects: OpenSloObjects): NotificationRoute[] {
  return objects.slos.flatMap((slo) => {
    const policies = (slo.inlined.spec.alertPolicies ?? []) as InlinedPolicy[];
    const names = policies
      .flatMap((policy) => policy.spec?.notificationTargets ?? [])
      .flatMap((target) => target.metadata?.name ?? []);
    return names.length > 0 ? [{ slo: slo.inlined.metadata.name, targets: [...new Set(names)] }] : [];
  });
}
