/**
 * Caps on the series request data can create. A series is a row read by every evaluation of its service, so
 * these bound both the store and the cost of a tick whatever clients send. Defaults in docs/security.md.
 */
export interface CardinalityLimits {
  /** Series in the store, every kind and service together. */
  maxSeries: number;
  /** Series of one service and kind: its sources × operations × methods. */
  maxSeriesPerService: number;
  /** Distinct services per kind (loadbalancer, traces). */
  maxServices: number;
}

export const DEFAULT_CARDINALITY_LIMITS: CardinalityLimits = {
  maxSeries: 50_000,
  maxSeriesPerService: 2_000,
  maxServices: 1_000,
};
