import type { SourceLocation } from './location.js';
import type { TimeWindow } from './timeWindow.js';

/**
 * `exclude`: events in the window do not count at all (SLI, budget, burn rates, slices, history), as Datadog's
 * status corrections. `planned`: they count, and the budget they spent is reported apart (the SRE practice:
 * planned maintenance spends the budget, but a team wants to see how much).
 */
export type CorrectionMode = 'exclude' | 'planned';

/** Which SLOs a correction applies to: every field given must match (names, services: any of the list). */
export interface CorrectionScope {
  slos?: string[];
  services?: string[];
  labels?: Record<string, string>;
}

/** A correction, from a file (`kind: Correction`) or from the API. */
export interface Correction {
  /** The file's `metadata.name`, or the id the API gave it. */
  id: string;
  origin: 'file' | 'api';
  mode: CorrectionMode;
  window: TimeWindow;
  appliesTo: CorrectionScope;
  reason: string;
  /** Who added it through the API; null for files (git holds their history). */
  actor: string | null;
  createdAtMs: number | null;
  location?: SourceLocation;
  /** Where `spec.appliesTo.slos` is written, for unknown-SLO errors. */
  slosLocation?: SourceLocation;
}
