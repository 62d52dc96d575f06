/**
 * What the CLI prints, and how: tables (cli-table3), progress bars
 * (cli-progress), JSON, confirmations. Colour only on a TTY and never when
 * `NO_COLOR` is set (https://no-color.org); progress bars only on a TTY (a
 * script or a CI log gets one line per tenth of the work instead).
 */
import * as readline from 'node:readline/promises';
import cliProgress from 'cli-progress';
import Table from 'cli-table3';

/** Counters a progress bar shows beside done/total and the ETA. */
export type ProgressCounts = Readonly<Record<string, number>>;

/** A running piece of work with a known size. */
export interface Progress {
  /** Moves the bar by `by` and replaces the counters it shows. */
  tick(counts: ProgressCounts, by?: number): void;
  /** Stops the bar (idempotent). */
  stop(): void;
}

/** Where a command's output goes. */
export interface Output {
  /** True when colour codes may be written. */
  readonly color: boolean;
  /** True when stdout is an interactive terminal. */
  readonly interactive: boolean;
  /** Writes one line to stdout. */
  line(text?: string): void;
  /** Writes one line to stderr (warnings, errors, progress on a non-TTY). */
  warn(text: string): void;
  /** Writes a table to stdout. */
  table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): void;
  /** Writes a value as indented JSON to stdout. */
  json(value: unknown): void;
  /** Starts a progress display on stderr. */
  progress(total: number, label: string): Progress;
  /** Asks a yes/no question on the terminal; false when stdin is not one. */
  confirm(question: string): Promise<boolean>;
  /** Colour helpers: identity when colour is off. */
  readonly paint: Readonly<
    Record<'ok' | 'warn' | 'bad' | 'dim' | 'bold', (text: string) => string>
  >;
}

/** The streams and environment an {@link Output} writes to. */
export interface OutputStreams {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly env?: NodeJS.ProcessEnv;
}

const ANSI = { ok: 32, warn: 33, bad: 31, dim: 2, bold: 1 } as const;

/**
 * Creates the output for the given streams.
 *
 * @example
 * ```ts
 * const out = createOutput({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
 * out.table(['reason', 'count'], [['eligible', 3]]);
 * ```
 */
export function createOutput(streams: OutputStreams): Output {
  const env = streams.env ?? process.env;
  const interactive = streams.stdout.isTTY === true;
  const color = interactive && !('NO_COLOR' in env && env.NO_COLOR !== '');
  const paint = Object.fromEntries(
    Object.entries(ANSI).map(([name, code]) => [
      name,
      (text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text),
    ]),
  ) as Output['paint'];
  const line = (text = '') => void streams.stdout.write(`${text}\n`);
  const warn = (text: string) => void streams.stderr.write(`${text}\n`);
  return {
    color,
    interactive,
    paint,
    line,
    warn,
    table(head, rows) {
      const table = new Table({
        head: [...head],
        // cli-table3 colours the head itself; plain when colour is off.
        style: color ? {} : { head: [], border: [] },
      });
      for (const row of rows) table.push(row.map(String));
      line(table.toString());
    },
    json(value) {
      line(JSON.stringify(value, null, 2));
    },
    progress(total, label) {
      const counterText = (counts: ProgressCounts) =>
        Object.entries(counts)
          .map(([name, n]) => `${name} ${n}`)
          .join(' | ');
      if (streams.stderr.isTTY === true) {
        const bar = new cliProgress.SingleBar(
          {
            format: `${label} [{bar}] {value}/{total} | {counters} | ETA {eta_formatted}`,
            stream: streams.stderr as NodeJS.WritableStream,
            hideCursor: true,
            noTTYOutput: false,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, { counters: '' });
        let stopped = false;
        return {
          tick: (counts, by = 1) => bar.increment(by, { counters: counterText(counts) }),
          stop: () => {
            if (!stopped) bar.stop();
            stopped = true;
          },
        };
      }
      // Not a terminal: one line per tenth, so a log shows progress without a line per item.
      let done = 0;
      let lastTenth = 0;
      return {
        tick(counts, by = 1) {
          done += by;
          const tenth = total === 0 ? 10 : Math.floor((done * 10) / total);
          if (tenth > lastTenth) {
            lastTenth = tenth;
            warn(`${label}: ${done}/${total} | ${counterText(counts)}`);
          }
        },
        stop() {},
      };
    },
    async confirm(question) {
      const stdin = streams.stdin;
      if (stdin?.isTTY !== true) return false;
      const rl = readline.createInterface({ input: stdin, output: streams.stderr });
      try {
        const answer = await rl.question(`${question} [y/N] `);
        return /^y(es)?$/i.test(answer.trim());
      } finally {
        rl.close();
      }
    },
  };
}
