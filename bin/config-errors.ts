import { ConfigError, configProblemsOf } from '../lambda/shared/errors';

/**
 * Runs the app's construction; a config error ends the process with one line
 * per problem on stderr and exit code 1. A stack trace would point into
 * Autoheal's source, while the fix is in the user's config.
 * Other errors are bugs and keep their stack trace.
 *
 * @example
 * ```ts
 * exitOnConfigError(() => new AutohealStack(app, 'Autoheal', { config: loadAutohealConfig(app.node) }));
 * ```
 */
export function exitOnConfigError(build: () => void): void {
  try {
    build();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of configProblemsOf(error)) process.stderr.write(`${problem.message}\n`);
    // Exit now: the App would otherwise synthesise the half-built tree on exit.
    process.exit(1);
  }
}
