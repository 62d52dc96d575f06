/**
 * The little state the flow healer keeps between events, stored in the
 * idempotency table beside Powertools' records (under key prefixes Powertools
 * never uses, with the same TTL attribute):
 *
 * - rerun lineage: which original failed run a re-run's execution re-runs, and
 *   which re-run it is, so the re-run's own failure counts towards `maxReruns`
 *   instead of starting a fresh count (which would re-run forever);
 * - recent re-activations of a flow, counted against `maxReactivations`.
 *
 * Raw DynamoDB commands, hand-marshalled, and only GetItem and PutItem: the
 * healer's IAM grants GetItem, PutItem, UpdateItem and DeleteItem on the table
 * and nothing else.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { awsErrorName, rethrowClassified } from '../shared/aws-errors';
import {
  HEALING_STATE,
  IDEMPOTENCY_RECORD_TTL_SECONDS,
  IDEMPOTENCY_TABLE,
  idempotencyKeyPrefixes,
} from '../shared/contract';
import { RetryableError } from '../shared/errors';

/** Where a re-run's execution comes from. */
export interface RerunLineage {
  /** Execution id of the original failed run. */
  readonly originExecutionId: string;
  /** Which re-run of the original this execution is (1 for the first). */
  readonly rerunNumber: number;
}

/** Read-modify-write attempts of the re-activation list before giving the message back to SQS. */
const MAX_WRITE_ATTEMPTS = 3;

type Item = Record<string, AttributeValue>;

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

function readNumber(value: AttributeValue | undefined): number | undefined {
  if (value?.N === undefined) return undefined;
  const number = Number(value.N);
  return Number.isFinite(number) ? number : undefined;
}

/**
 * The healing state of one idempotency table.
 *
 * @example
 * ```ts
 * const state = new HealingStateStore(new DynamoDBClient({}), tableName);
 * const lineage = await state.getRerunLineage(executionId);
 * ```
 */
export class HealingStateStore {
  /**
   * @param now epoch milliseconds; injectable for tests
   */
  public constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
    private readonly prefixes: Pick<
      ReturnType<typeof idempotencyKeyPrefixes>,
      'rerunLineage' | 'reactivations'
    > = idempotencyKeyPrefixes(),
  ) {}

  /** The lineage of a re-run's execution; undefined for a run Autoheal did not start. */
  public async getRerunLineage(executionId: string): Promise<RerunLineage | undefined> {
    const item = await this.get(this.prefixes.rerunLineage + executionId, 'lineage');
    if (!item) return undefined;
    const origin = item[HEALING_STATE.originExecutionId]?.S;
    const rerunNumber = readNumber(item[HEALING_STATE.rerunNumber]);
    if (origin === undefined || rerunNumber === undefined) return undefined;
    return { originExecutionId: origin, rerunNumber };
  }

  /** Records that `newExecutionId` is re-run number `rerunNumber` of `originExecutionId`. */
  public async putRerunLineage(
    newExecutionId: string,
    originExecutionId: string,
    rerunNumber: number,
  ): Promise<void> {
    await this.put(
      {
        [IDEMPOTENCY_TABLE.partitionKey]: S(this.prefixes.rerunLineage + newExecutionId),
        [HEALING_STATE.originExecutionId]: S(originExecutionId),
        [HEALING_STATE.rerunNumber]: N(rerunNumber),
        [IDEMPOTENCY_TABLE.timeToLive]: N(this.nowSeconds() + IDEMPOTENCY_RECORD_TTL_SECONDS),
      },
      'Recording the re-run lineage (DynamoDB PutItem)',
    );
  }

  /** Epoch seconds of the flow's recorded re-activations (not filtered by any window). */
  public async getRecentReactivations(flowName: string): Promise<number[]> {
    const item = await this.get(this.prefixes.reactivations + flowName, 're-activations');
    return item ? reactivationTimes(item) : [];
  }

  /**
   * Adds a re-activation at `atEpochSeconds`, dropping entries older than the
   * window. An optimistic read-modify-write: the put only succeeds if the list
   * is still what was read, so concurrent re-activations never overwrite each
   * other; contention is retried, then thrown as {@link RetryableError}.
   */
  public async recordReactivation(
    flowName: string,
    atEpochSeconds: number,
    windowSeconds: number,
  ): Promise<void> {
    const key = this.prefixes.reactivations + flowName;
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      // Read even an expired item: the conditional put must see what is physically there.
      const item = await this.get(key, 're-activations', { includeExpired: true });
      const previous = item?.[HEALING_STATE.reactivatedAt];
      const kept = (item ? reactivationTimes(item) : []).filter(
        (at) => at > atEpochSeconds - windowSeconds,
      );
      const reactivatedAt = [...kept, atEpochSeconds];
      // The record must outlive its oldest entry's window, even when the window exceeds the TTL.
      const expiration = Math.max(
        this.nowSeconds() + IDEMPOTENCY_RECORD_TTL_SECONDS,
        Math.max(...reactivatedAt) + windowSeconds,
      );
      try {
        await this.dynamodb.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: {
              [IDEMPOTENCY_TABLE.partitionKey]: S(key),
              [HEALING_STATE.reactivatedAt]: { L: reactivatedAt.map(N) },
              [IDEMPOTENCY_TABLE.timeToLive]: N(expiration),
            },
            ...(previous === undefined
              ? {
                  ConditionExpression: 'attribute_not_exists(#list)',
                  ExpressionAttributeNames: { '#list': HEALING_STATE.reactivatedAt },
                }
              : {
                  ConditionExpression: '#list = :previous',
                  ExpressionAttributeNames: { '#list': HEALING_STATE.reactivatedAt },
                  ExpressionAttributeValues: { ':previous': previous },
                }),
          }),
        );
        return;
      } catch (error) {
        if (awsErrorName(error) !== 'ConditionalCheckFailedException') {
          rethrowClassified(error, 'Recording the re-activation (DynamoDB PutItem)');
        }
      }
    }
    throw new RetryableError(
      `Recording the re-activation of ${flowName} met ${MAX_WRITE_ATTEMPTS} concurrent writes; retrying later`,
    );
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  private async get(
    id: string,
    what: string,
    { includeExpired = false } = {},
  ): Promise<Item | undefined> {
    try {
      const { Item: item } = await this.dynamodb.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { [IDEMPOTENCY_TABLE.partitionKey]: S(id) },
          ConsistentRead: true,
        }),
      );
      if (!item || includeExpired) return item;
      // TTL deletion lags by up to days: an expired item is treated as gone.
      const expiration = readNumber(item[IDEMPOTENCY_TABLE.timeToLive]);
      return expiration !== undefined && expiration <= this.nowSeconds() ? undefined : item;
    } catch (error) {
      return rethrowClassified(error, `Reading the ${what} (DynamoDB GetItem)`);
    }
  }

  private async put(item: Item, what: string): Promise<void> {
    try {
      await this.dynamodb.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
    } catch (error) {
      rethrowClassified(error, what);
    }
  }
}

function reactivationTimes(item: Item): number[] {
  return (item[HEALING_STATE.reactivatedAt]?.L ?? [])
    .map(readNumber)
    .filter((at): at is number => at !== undefined);
}
