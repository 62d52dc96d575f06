/**
 * Where the redrive handler and the sweeper get the live-healing clock's
 * document: inline in `AUTOHEAL_LIVE_SINCE` (small scopes: no AWS call), or,
 * when the document is too large for the environment (hundreds of scoped
 * ARNs), from the clock's record in the idempotency table, read once per
 * execution environment at the first event (one consistent GetItem on a
 * client and a grant the handlers already have).
 *
 * Why the record and not a grouped encoding kept in the environment: times
 * are per scope entry and entries join on different deploys, so no encoding
 * bounds the size; the record holds any scope DynamoDB's 400 KB item holds.
 * Caching for the execution environment's life is safe: every write of the
 * record comes with a new reference (its version), which changes the
 * function's environment and so starts fresh execution environments.
 */
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { HEALING_STATE, IDEMPOTENCY_TABLE } from '../shared/contract';
import type { NormalisedConfigSource } from '../shared/normalised-config';
import { type LiveSinceDocument, NOT_LIVE, parseLiveSinceDocument } from './live-healing';

/** The document, or a way to read it from the clock's record. */
export type LiveSinceSource =
  | { readonly document: LiveSinceDocument }
  | { readonly load: () => Promise<LiveSinceDocument> };

export interface LiveSinceRecordDeps {
  readonly dynamodb: DynamoDBClient;
  /** The idempotency table, where the clock keeps its record. */
  readonly tableName: string;
}

/**
 * Reads `AUTOHEAL_LIVE_SINCE`: a document, or a reference to the clock's
 * record. A record that is missing or holds another version's document reads
 * as {@link NOT_LIVE}, so a broken deployment can only stop redrives.
 * The reference's version only makes every write of the record change the
 * function's environment.
 *
 * @throws {Error} when the value is not a JSON object
 * @example
 * ```ts
 * const source = liveSinceSource(requireEnv(ENV.liveSince), { dynamodb, tableName });
 * const document = 'document' in source ? source.document : await source.load();
 * ```
 */
export function liveSinceSource(json: string, deps: LiveSinceRecordDeps): LiveSinceSource {
  const raw: unknown = JSON.parse(json);
  const reference = raw as { record?: unknown; version?: unknown };
  if (typeof reference?.record !== 'string' || typeof reference.version !== 'number') {
    return { document: parseLiveSinceDocument(json) };
  }
  const { record } = reference as { record: string };
  return {
    load: async () => {
      const { Item } = await deps.dynamodb.send(
        new GetItemCommand({
          TableName: deps.tableName,
          Key: { [IDEMPOTENCY_TABLE.partitionKey]: { S: record } },
          ConsistentRead: true,
          ProjectionExpression: '#document',
          ExpressionAttributeNames: { '#document': HEALING_STATE.clockDocument },
        }),
      );
      const document = Item?.[HEALING_STATE.clockDocument]?.S;
      // The processors check the document's config digest against their own
      // config: a record a later deploy (or a rollback) wrote for another config
      // reads as not live there, one for the same config is as good as this version's.
      return document === undefined ? NOT_LIVE : parseLiveSinceDocument(document);
    },
  };
}

/**
 * A handler built with the live-since document: at once when the document is
 * inline, else at the first event, after reading it (once; a failed read is
 * retried at the next event).
 *
 * @example
 * ```ts
 * export const handler = withLiveSince(source, (liveSince) => createRedriveHandler({ ...deps, liveSince }));
 * ```
 */
export function withLiveSince<A extends unknown[], R>(
  source: LiveSinceSource,
  build: (document: LiveSinceDocument) => (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  if ('document' in source) return build(source.document);
  let built: Promise<(...args: A) => Promise<R>> | undefined;
  return async (...args: A) => {
    built ??= source.load().then(build, (error: unknown) => {
      built = undefined;
      throw error;
    });
    return (await built)(...args);
  };
}

/**
 * {@link withLiveSince} for a handler that also needs its config section,
 * which may wait on the clock's config token records: built at once when both
 * are at hand (small scopes, as before), else at the first event after
 * reading what is missing (in parallel; a failed read is retried at the next).
 *
 * @example
 * ```ts
 * export const handler = withConfigAndLiveSince(configSource, liveSince, (config, liveSince) =>
 *   createRedriveHandler({ ...deps, config, liveSince }),
 * );
 * ```
 */
export function withConfigAndLiveSince<C, A extends unknown[], R>(
  config: NormalisedConfigSource<C>,
  source: LiveSinceSource,
  build: (config: C, document: LiveSinceDocument) => (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  if ('config' in config)
    return withLiveSince(source, (document) => build(config.config, document));
  let built: Promise<(...args: A) => Promise<R>> | undefined;
  return async (...args: A) => {
    built ??= Promise.all([
      config.load(),
      'document' in source ? source.document : source.load(),
    ]).then(
      ([loaded, document]) => build(loaded, document),
      (error: unknown) => {
        built = undefined;
        throw error;
      },
    );
    return (await built)(...args);
  };
}
