const MINUTE_MS = 60_000;

/**
 * The share of a step ending at `atMs` that its counts cover, 0–1. Steps count minute slots whole by their
 * start, so a step ending inside the current minute counts that minute before it is over: the events from
 * the covered stretch, divided by the whole step. A chart that draws that step as it draws the others shows
 * a dip that is only the clock; the coverage lets it draw the step as partial (and its rate over the time
 * covered). Steps over finished minutes cover 1, also when `atMs` falls inside a minute (the whole minute is in).
 */
export function stepCoverage(atMs: number, stepMs: number, nowMs: number): number {
  const firstSlotMs = Math.ceil((atMs - stepMs) / MINUTE_MS) * MINUTE_MS;
  const lastSlotEndMs = Math.ceil(atMs / MINUTE_MS) * MINUTE_MS;
  const covered = Math.min(lastSlotEndMs, nowMs) - firstSlotMs;
  return Math.min(1, Math.max(0, covered / stepMs));
}
