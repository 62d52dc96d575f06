/**
 * Typed errors. Each says what happened and what to do about it, and which
 * of the two handling paths it takes:
 *
 * - {@link RetryableError}: thrown so the platform retries (SQS redelivers).
 * - {@link InvalidInputError}: permanent; the message is parked with its reason.
 */

/** A transient failure (throttling, 5xx, network, quota): retry later, nothing is lost. */
export class RetryableError extends Error {
  public override readonly name = 'RetryableError';

  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Input that can never be processed as it is: names the offending field. */
export class InvalidInputError extends Error {
  public override readonly name = 'InvalidInputError';

  /**
   * @param field dotted path of the offending field, e.g. `detail.executionArn`
   * @param problem what is wrong and what is allowed
   */
  public constructor(
    public readonly field: string,
    public readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** Configuration that fails validation, at synth time or on Lambda start. */
export class ConfigError extends Error {
  public override readonly name: string = 'ConfigError';

  /**
   * @param field dotted path of the offending option, e.g. `redrive.delay.factor`
   * @param problem what is wrong and what is allowed
   */
  public constructor(
    public readonly field: string,
    public readonly problem: string,
  ) {
    super(`Invalid Autoheal config at ${field}: ${problem}`);
  }
}

/**
 * Several independent problems in one config, so a user fixes them in one go.
 * It is a {@link ConfigError} (field and problem of the first), so one `catch`
 * serves both; its message is one line per problem.
 *
 * @example
 * ```ts
 * try {
 *   parseAutohealConfig(raw);
 * } catch (error) {
 *   if (error instanceof ConfigError) for (const p of configProblemsOf(error)) console.error(p.message);
 * }
 * ```
 */
export class ConfigErrors extends ConfigError {
  public override readonly name: string = 'ConfigErrors';

  /** @param errors at least two problems, each naming its field */
  public constructor(public readonly errors: readonly ConfigError[]) {
    super(errors[0].field, errors[0].problem);
    this.message = errors.map((error) => error.message).join('\n');
  }
}

/** The single problems in a config error: its list, or itself. */
export function configProblemsOf(error: ConfigError): readonly ConfigError[] {
  return error instanceof ConfigErrors ? error.errors : [error];
}

/** Reads a required environment variable, failing with a message that says who sets it. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `Environment variable ${name} is not set. The Autoheal construct sets it on deploy; ` +
        'set it yourself when running the handler outside Lambda.',
    );
  }
  return value;
}
