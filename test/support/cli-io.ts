/**
 * Runs the `autoheal` CLI in-process, as an operator would from a terminal or
 * a script, with its output captured.
 */
import { PassThrough } from 'node:stream';
import { type CliIo, runCli } from '../../cli/autoheal';

/** What one run printed and its exit code. */
export interface CliRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A stream that remembers what was written to it. */
function capture(isTTY: boolean): PassThrough & { isTTY: boolean; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY: boolean; text: () => string };
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.isTTY = isTTY;
  stream.text = () => Buffer.concat(chunks).toString('utf8');
  return stream;
}

/**
 * Runs `autoheal ...argv` and returns what it printed.
 *
 * @param io clients, deployment, clock, env (`NO_COLOR`), TTY-ness
 * @example
 * ```ts
 * const run = await runAutoheal(['redrive', '--dry-run'], { clients, deployment: async () => deployment });
 * expect(run.exitCode).toBe(0);
 * ```
 */
export async function runAutoheal(
  argv: readonly string[],
  io: Omit<CliIo, 'stdout' | 'stderr'> & { readonly tty?: boolean } = {},
): Promise<CliRun> {
  const stdout = capture(io.tty === true);
  const stderr = capture(io.tty === true);
  const exitCode = await runCli(argv, { ...io, stdout, stderr });
  return { exitCode, stdout: stdout.text(), stderr: stderr.text() };
}
