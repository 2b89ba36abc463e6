/** The pause before a failed write is tried again: doubled at each failure in a row, from the first to the last. */
export const RETRY_PAUSE_MS = { first: 250, max: 30_000 } as const;

/** The pause after `failures` failures in a row. */
export const retryPause = (failures: number): number =>
  Math.min(RETRY_PAUSE_MS.first * 2 ** Math.max(failures - 1, 0), RETRY_PAUSE_MS.max);

/**
 * A write to the control database of what waits locally, run soon after each `poke` and one at a time. A run
 * that fails is run again after a pause growing with each failure in a row (RETRY_PAUSE_MS); one that leaves
 * something waiting runs again at once. What waits, and its bound, is the caller's.
 */
export class RetriedWrite {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private failures = 0;
  private pokedWhileWriting = false;
  private stopped = false;

  constructor(
    /** Writes what waits; resolves whether something is still waiting. */
    private readonly attempt: () => Promise<boolean>,
    private readonly onFailure: (error: unknown, failuresInARow: number) => void,
  ) {}

  /** Something new waits: written at once, or by the retry already scheduled after a failure. */
  poke(): void {
    this.schedule(0);
  }

  /** Failed runs since the last that succeeded. */
  get failuresInARow(): number {
    return this.failures;
  }

  /** Resolves once the run under way (if any) has ended. */
  async settled(): Promise<void> {
    await this.writing;
  }

  /** No more runs; waits for the one under way. */
  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.settled();
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.timer) return;
    if (this.writing) {
      this.pokedWhileWriting = true;
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, delayMs);
    // A pending retry does not keep a stopping process alive.
    this.timer.unref();
  }

  private run(): void {
    this.pokedWhileWriting = false;
    this.writing = this.attempt()
      .then(
        (waiting) => {
          this.failures = 0;
          return waiting;
        },
        (error: unknown) => {
          this.failures++;
          this.onFailure(error, this.failures);
          return true;
        },
      )
      .then((waiting) => {
        this.writing = undefined;
        if (this.failures > 0) this.schedule(retryPause(this.failures));
        else if (waiting || this.pokedWhileWriting) this.schedule(0);
      });
  }
}
