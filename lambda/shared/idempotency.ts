/**
 * One idempotency setup for every Autoheal handler: a key taken from an
 * explicit field (never the whole event), an error when it is missing, records
 * kept for {@link IDEMPOTENCY_RECORD_TTL_SECONDS}, and replays marked so the
 * handler can count duplicates.
 */
import type { JSONValue } from '@aws-lambda-powertools/commons/types';
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IDEMPOTENCY_RECORD_TTL_SECONDS, IDEMPOTENCY_TABLE } from './contract';

/** Marks a result replayed from an idempotency record: the work had already been done. */
export interface MaybeReplayed {
  readonly replayed?: boolean;
}

/**
 * @param keyField name of the payload field that holds the idempotency key
 * @example
 * ```ts
 * const config = autohealIdempotencyConfig('idempotencyKey');
 * const actOnce = makeIdempotent(act, { persistenceStore, config, keyPrefix: 'autoheal-redrive' });
 * ```
 */
export function autohealIdempotencyConfig(keyField: string): IdempotencyConfig {
  return new IdempotencyConfig({
    eventKeyJmesPath: keyField,
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: IDEMPOTENCY_RECORD_TTL_SECONDS,
    responseHook: (response: JSONValue) => ({ ...(response as object), replayed: true }),
  });
}

/**
 * The idempotency table as Powertools' persistence layer, with the key and
 * expiry attributes the table construct declares (`IDEMPOTENCY_TABLE`).
 *
 * @example
 * ```ts
 * const persistenceStore = autohealPersistenceStore(requireEnv(ENV.idempotencyTable), dynamodb);
 * ```
 */
export function autohealPersistenceStore(
  tableName: string,
  dynamodb: DynamoDBClient,
): DynamoDBPersistenceLayer {
  return new DynamoDBPersistenceLayer({
    tableName,
    keyAttr: IDEMPOTENCY_TABLE.partitionKey,
    expiryAttr: IDEMPOTENCY_TABLE.timeToLive,
    awsSdkV3Client: dynamodb,
  });
}
