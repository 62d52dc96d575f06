/**
 * A simulated clock for scenarios that span simulated minutes: it runs with
 * real time at the rig's `timeScale` (real ms per simulated second, which a
 * driver may change as it goes), and a driver may skip it ahead over spans in which nothing can happen (every
 * message delayed, no execution running), as a discrete-event simulation does.
 * Busy spans so run at the pace the rig's parts really have, and the idle
 * minutes between redrive waves cost no real time.
 */
export class SimulatedClock {
  /** The simulated time at `realAnchor`, skips included. */
  private anchor: number;
  private realAnchor = performance.now();
  private skippedMs = 0;

  /**
   * @param start the simulated epoch ms at construction
   * @param timeScale real ms per simulated second @default 1000 (real time)
   */
  constructor(
    start: number,
    private timeScale = 1000,
  ) {
    if (!(timeScale > 0)) throw new Error('timeScale must be above 0');
    this.anchor = start;
  }

  /** Simulated epoch ms, monotonic. */
  readonly now = (): number =>
    this.anchor + ((performance.now() - this.realAnchor) * 1000) / this.timeScale;

  /** Real ms per simulated second from now on. */
  setTimeScale(timeScale: number): void {
    if (!(timeScale > 0)) throw new Error('timeScale must be above 0');
    if (timeScale === this.timeScale) return;
    this.anchor = this.now();
    this.realAnchor = performance.now();
    this.timeScale = timeScale;
  }

  /** Simulated ms skipped so far. */
  get skipped(): number {
    return this.skippedMs;
  }

  /** Skips ahead to `at` (simulated epoch ms); a time already past is a no-op. */
  skipTo(at: number): void {
    const ahead = at - this.now();
    if (ahead > 0) {
      this.skippedMs += ahead;
      this.anchor += ahead;
    }
  }
}
