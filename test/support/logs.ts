export interface CapturedLogs {
  /** Everything written so far, one entry a line, joined by newlines. */
  text(): string;
  /** Every entry written so far: a console call's arguments, or one chunk written to a stream. */
  lines(): string[];
  /** Stops capturing (also done by `jest.restoreAllMocks()`). */
  restore(): void;
}

/**
 * Captures what is logged from now on: every console method (silenced), and
 * every write to stdout and stderr (passed on). Non-string console arguments
 * are kept as JSON.
 */
export function captureLogs(): CapturedLogs {
  const written: string[] = [];
  const capture = (...args: unknown[]) => {
    written.push(
      args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '),
    );
  };
  const spies: jest.SpyInstance[] = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    spies.push(jest.spyOn(console, method).mockImplementation(capture));
  }
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    spies.push(
      jest.spyOn(stream, 'write').mockImplementation((...args: unknown[]) => {
        capture(String(args[0]));
        return write(...args);
      }),
    );
  }
  return {
    text: () => written.join('\n'),
    lines: () => [...written],
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}
