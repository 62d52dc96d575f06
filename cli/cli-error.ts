/**
 * An error the operator can act on: printed as one line, without a stack
 * trace (`--debug` shows one), and the command exits non-zero.
 */
export class CliError extends Error {
  /**
   * @param message one line: what is wrong and what to do
   * @param exitCode the process exit code
   * @default exitCode 1
   */
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
