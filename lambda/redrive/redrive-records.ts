/**
 * Reading the redrive path's idempotency records: what the redrive handler
 * recorded about one failure. The sweeper reads them before it enqueues a
 * failure; `autoheal explain` shows them. The lookup goes through the
 * Powertools persistence layer, configured exactly as `makeIdempotent`
 * configures the redrive handler's, so the record key (`PREFIX-redrive#` and
 * the hash of the idempotency key) cannot drift from the one the handler writes.
 */
import { IdempotencyItemNotFoundError } from '@aws-lambda-powertools/idempotency';
import type {
  BasePersistenceLayer,
  IdempotencyRecord,
} from '@aws-lambda-powertools/idempotency/persistence';
import { idempotencyKeyPrefixes } from '../shared/contract';
import { autohealIdempotencyConfig } from '../shared/idempotency';

/** Reads the record of one idempotency key; undefined when there is none. Other errors are thrown. */
export type RedriveRecordReader = (
  idempotencyKey: string,
) => Promise<IdempotencyRecord | undefined>;

/**
 * Configures `persistenceStore` as the redrive handler's and returns its
 * record reader. The store is then used for nothing else (Powertools
 * configures a layer once per idempotency config).
 *
 * @param idempotencyKeyPrefix the installation's prefix (`AUTOHEAL_IDEMPOTENCY_KEY_PREFIX`)
 * @default idempotencyKeyPrefix 'autoheal'
 * @example
 * ```ts
 * const read = redriveRecordReader(autohealPersistenceStore(table, dynamodb), 'autoheal');
 * const record = await read(redriveIdempotencyKey(failureKey(executionArn, 0), false));
 * record?.getStatus(); // 'COMPLETED'
 * ```
 */
export function redriveRecordReader(
  persistenceStore: BasePersistenceLayer,
  idempotencyKeyPrefix?: string,
): RedriveRecordReader {
  persistenceStore.configure({
    config: autohealIdempotencyConfig('idempotencyKey'),
    keyPrefix: idempotencyKeyPrefixes(idempotencyKeyPrefix).redrive,
  });
  return async (idempotencyKey) => {
    try {
      return await persistenceStore.getRecord({ idempotencyKey });
    } catch (error) {
      if (
        error instanceof IdempotencyItemNotFoundError ||
        (error as Error).name === 'IdempotencyItemNotFoundError'
      ) {
        return undefined;
      }
      throw error;
    }
  };
}
