import type { RouteOptions } from 'fastify';

type HookName = 'onRequest' | 'preValidation' | 'preSerialization';
type HookOf<N extends HookName> =
  NonNullable<RouteOptions[N]> extends infer H ? (H extends unknown[] ? H[number] : H) : never;

/** A route option's hooks (none, one or a list) as a list. */
const hooksOf = <T>(hooks: T | T[] | undefined): T[] =>
  hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];

/**
 * Gives one route a hook (from an onRoute hook): a route-level hook runs only for the routes that need it,
 * where a global one runs for every request. `first` puts it before the route's other hooks of that kind.
 */
export function addRouteHook<N extends HookName>(
  route: RouteOptions,
  name: N,
  hook: HookOf<N>,
  first = false,
): void {
  const hooks = hooksOf(route[name] as HookOf<N> | HookOf<N>[] | undefined);
  // RouteOptions types each hook option apart; the list is of that option's own type.
  (route as unknown as Record<N, HookOf<N>[]>)[name] = first ? [hook, ...hooks] : [...hooks, hook];
}
