/**
 * A simulated clock for scenarios that span simulated minutes: it runs with
 * real time at the rig's `timeScale` (real ms per simulated second), and a
 * driver may skip it ahead over spans in which nothing can happen (every
 * message delayed, no execution running), as a discrete-event simulation does.
 * Busy spans so run at the pace the rig's parts really have, and the idle
 * minutes between redrive waves cost no real time.
 */
export class SimulatedClock {
  private readonly realStart = performance.now();
  private skippedMs = 0;

  /**
   * @param start the simulated epoch ms at construction
   * @param timeScale real ms per simulated second @default 1000 (real time)
   */
  constructor(
    private readonly start: number,
    private readonly timeScale = 1000,
  ) {
    if (!(timeScale > 0)) throw new Error('timeScale must be above 0');
  }

  /** Simulated epoch ms, monotonic. */
  readonly now = (): number =>
    this.start + this.skippedMs + ((performance.now() - this.realStart) * 1000) / this.timeScale;

  /** Simulated ms skipped so far. */
  get skipped(): number {
    return this.skippedMs;
  }

  /** Skips ahead to `at` (simulated epoch ms); a time already past is a no-op. */
  skipTo(at: number): void {
    const ahead = at - this.now();
    if (ahead > 0) this.skippedMs += ahead;
  }
}
