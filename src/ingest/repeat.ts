/**
 * Runs a job now, then again `intervalMs` after each run ends, until stopped. Runs never overlap (each
 * tailer pass or scrape starts from what the last one committed); a failed run is reported and the next
 * one goes ahead. `stop` waits for the run under way.
 */
export class RepeatingJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private halted = false;

  constructor(
    private readonly job: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** True once `stop` was called: long runs check it to end early. */
  get stopped(): boolean {
    return this.halted;
  }

  start(): void {
    const loop = async () => {
      this.running = this.job().catch(this.onError);
      await this.running;
      if (!this.halted) this.timer = setTimeout(loop, this.intervalMs);
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.halted = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
