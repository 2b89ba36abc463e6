import type { SourceKind } from '../ingest/observation.js';
import type { SourceLocation } from './yamlSource.js';

/** What makes an event good. Availability: status < 500 (the seed). Latency: duration ≤ threshold. */
export type GoodCondition = { kind: 'availability' } | { kind: 'latency'; thresholdUs: number; text: string };

export interface SeriesSelector {
  /** Route template (operation); omitted matches all. */
  route?: string;
  /** Upper-case HTTP method; omitted matches all. */
  method?: string;
  /** Trace data only: the span kinds that count (series `source`); omitted means server spans. */
  spanKinds?: readonly string[];
}

/** A validated SLO, whatever file format it came from. */
export interface SloDefinition {
  name: string;
  service: string;
  displayName?: string;
  description?: string;
  labels: Record<string, string>;
  indicator: { source: SourceKind; select: SeriesSelector; good: GoodCondition };
  /** Target as a ratio (0.9995), and as written (99.95). */
  objective: number;
  objectivePercent: number;
  windowMs: number;
  window: string;
  budgeting: 'occurrences';
  location: SourceLocation;
}
