export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `promise`, but no longer than `ms`. */
export async function settledWithin(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([promise, timeout]);
  clearTimeout(timer);
}

export interface Overlap {
  /** Lasts at least 200 ms, and until `oneFinished` was called (at most 2 s). */
  hold(): Promise<void>;
  /** Call when either invocation has finished. */
  oneFinished(): void;
}

/**
 * Makes two concurrent invocations truly overlap, however slow the machine is:
 * a mocked call that awaits `hold()` is held until one of them has finished.
 */
export function overlap(): Overlap {
  let oneFinished: () => void = () => undefined;
  const otherFinished = new Promise<void>((resolve) => {
    oneFinished = resolve;
  });
  return {
    hold: async () => {
      await Promise.all([sleep(200), settledWithin(otherFinished, 2_000)]);
    },
    oneFinished: () => oneFinished(),
  };
}
