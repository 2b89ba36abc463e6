/** When a run starts: a fixed pause after the last run ends, or a pause computed then (aligned ticks). */
export type RepeatDelay = number | (() => number);

/**
 * The one way sloguard runs periodic work (tailer passes, scrapes, evaluation ticks, outbox polls): a run, then
 * the next one a delay after it ends, until stopped. Runs never overlap (each starts from what the last one
 * committed); a failed run is reported and the next one goes ahead. `stop` waits for the run under way. Fixed
 * wall-clock times (retention at :17, digests) are cron schedules instead.
 */
export class RepeatingJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private halted = false;

  constructor(
    private readonly job: () => Promise<unknown> | unknown,
    private readonly delayMs: RepeatDelay,
    private readonly onError: (error: unknown) => void,
    /** Run at once on `start` (default), or first wait a delay. */
    private readonly runFirst = true,
  ) {}

  /** True once `stop` was called: long runs check it to end early. */
  get stopped(): boolean {
    return this.halted;
  }

  private delay(): number {
    return typeof this.delayMs === 'number' ? this.delayMs : this.delayMs();
  }

  start(): void {
    const loop = async () => {
      this.running = (async () => {
        await this.job();
      })().catch(this.onError);
      await this.running;
      if (!this.halted) this.timer = setTimeout(loop, this.delay());
    };
    if (this.runFirst) void loop();
    else this.timer = setTimeout(loop, this.delay());
  }

  async stop(): Promise<void> {
    this.halted = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
