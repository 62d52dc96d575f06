/**
 * Runs one bench part on its own (`npx ts-node --transpile-only bench/brake.ts`):
 * the environment `npm run bench` sets, its own DynamoDB Local unless
 * `AWS_ENDPOINT_URL_DYNAMODB` points at one, and the part's results printed
 * as `{ key: results }`. One copy for every part that can run alone.
 */
import { startDynamoDbLocal, stopDynamoDbLocal } from '../test/support/dynamodb-local-setup';

/** Options of {@link runStandalone}. */
export interface StandaloneOptions {
  /**
   * Silence the handlers' Powertools logs.
   * @default true
   */
  readonly silenceLogs?: boolean;
  /**
   * Print `bench: KEY done in N s` to stderr at the end.
   * @default false
   */
  readonly timed?: boolean;
}

/**
 * @param key the part's key in bench/results.json
 * @param measure the part's measurement; `log` writes a line to stderr
 * @example
 * ```ts
 * if (require.main === module) runStandalone('scale', () => measureScaleRuntime(), { silenceLogs: false });
 * ```
 */
export function runStandalone(
  key: string,
  measure: (log: (line: string) => void) => Promise<unknown>,
  options: StandaloneOptions = {},
): void {
  (async () => {
    process.env.AWS_REGION ??= 'eu-central-1';
    process.env.AWS_ACCESS_KEY_ID ??= 'bench';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
    if (options.silenceLogs ?? true) process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    process.env.DDB_LOCAL_TELEMETRY = '0';
    const own = process.env.AWS_ENDPOINT_URL_DYNAMODB ? undefined : await startDynamoDbLocal();
    if (own) process.env.AWS_ENDPOINT_URL_DYNAMODB = own.endpoint;
    try {
      const started = Date.now();
      const results = await measure((line) => process.stderr.write(`${line}\n`));
      console.log(JSON.stringify({ [key]: results }, null, 2));
      if (options.timed) {
        process.stderr.write(
          `bench: ${key} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
        );
      }
    } finally {
      if (own) await stopDynamoDbLocal(own.process);
    }
  })().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
