import type { NotificationSettings } from '../config/notifications.js';

/**
 * The targets that hear about an SLO: the union of every route naming the SLO, its service, or neither
 * (a catch-all). Without routes every target hears about every SLO.
 */
export function targetsFor(
  settings: Pick<NotificationSettings, 'targets' | 'routes'>,
  slo: { name: string; service: string },
): string[] {
  if (settings.routes.length === 0) return [...settings.targets.keys()];
  const names = new Set<string>();
  for (const route of settings.routes) {
    const matches =
      (!route.slo || route.slo === slo.name) && (!route.service || route.service === slo.service);
    if (matches) for (const target of route.targets) names.add(target);
  }
  return [...names];
}

/** The targets that hear about a service as a whole (gate overrides): routes for it, its SLOs, or all. */
export function targetsForService(
  settings: Pick<NotificationSettings, 'targets' | 'routes'>,
  service: string,
  slosOfService: readonly string[],
): string[] {
  const names = new Set<string>();
  for (const slo of slosOfService.length > 0 ? slosOfService : ['']) {
    for (const target of targetsFor(settings, { name: slo, service })) names.add(target);
  }
  return [...names];
}
