/**
 * Spacing calls at a steady rate, for the bulk redrive and its describes.
 *
 * The sweeper's pacer (`createPacer`, sweep-plan.ts) starts the next interval
 * when the previous wait ends, so each timer's lateness adds up: at 200 calls
 * a second (5 ms apart) a timer about 1 ms late makes it 15-20 % slow. That is
 * harmless at the sweeper's one list call a second, but the bulk redrive must
 * hold its rate within 5 % of the quota-limited optimum. So here the slots lie
 * on a fixed grid (slot k at start + k × interval): a late timer shortens the
 * next wait instead of shifting every later slot. Slots are never closer than
 * the interval, and an idle caller starts a fresh grid (no burst to catch up).
 */

/** Hands out call slots at a rate. Safe to call from concurrent workers. */
export interface RateSchedule {
  /** Waits for the next slot and takes it. */
  take(): Promise<void>;
}

/** What a {@link RateSchedule} runs on. */
export interface RateScheduleOptions {
  /** Calls per second, above 0. */
  readonly perSecond: number;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** @default a setTimeout promise */
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates a schedule of slots `1000 / perSecond` ms apart.
 *
 * @example
 * ```ts
 * const schedule = createRateSchedule({ perSecond: 50 });
 * for (const item of items) { await schedule.take(); void redrive(item); }
 * ```
 */
export function createRateSchedule(options: RateScheduleOptions): RateSchedule {
  if (!(options.perSecond > 0)) {
    throw new RangeError(`perSecond must be above 0, got ${options.perSecond}`);
  }
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const intervalMs = 1000 / options.perSecond;
  let nextSlot = Number.NEGATIVE_INFINITY;
  // Concurrent takers queue up, so each one reserves its own slot.
  let queue: Promise<void> = Promise.resolve();
  const takeInTurn = async (): Promise<void> => {
    const slot = Math.max(nextSlot, now());
    nextSlot = slot + intervalMs;
    const wait = slot - now();
    if (wait > 0) await sleep(wait);
  };
  return {
    take: () => {
      const turn = queue.then(takeInTurn);
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}
