/**
 * Where the notice digests keep their counts: the healing state table
 * ({@link STATE_TABLE}), under {@link stateKeys}' `digestPartition` and
 * `dueDigests` keys. Three kinds of item, all small (a few hundred bytes):
 *
 * - the **window counter** of one (subject, kind, reason) and fixed window
 *   (`pk` digestPartition, `sk` the window's start, ISO): how many notices the
 *   window recorded, the first and last time, how many of them earlier digests
 *   reported, and whether the window is registered for the flush. Every notice
 *   of the key updates it (one UpdateItem), so it carries no list that grows.
 * - **examples** (`sk` window start + `#` + the notice's ordinal): one item per
 *   example id, written only for the first `digestExamples` counted notices of
 *   a digest, so they never contend with the counter and never grow it.
 * - the **registry entry** of a window waiting for its digest (`pk` dueDigests,
 *   `sk` window end + digest pk + window start): the flush Queries the entries
 *   whose window has ended. It holds the flusher's claim (a token and a lease)
 *   and, between the claim and the publish, the digest to publish.
 *
 * Invariant: while the counter's `registered` flag is set, the registry entry
 * is `pending`. A sender sets the entry first, then the flag (conditional on
 * no flush having taken the window meanwhile); the flusher clears both in one
 * TransactWriteItems, conditional on the count it read. So a notice counted
 * after a flush read the window registers it again, and nothing counted goes
 * unreported.
 *
 * Raw DynamoDB commands, hand-marshalled like `lambda/appflow/healing-state.ts`:
 * no document client in the handler bundles. IAM: UpdateItem, PutItem, Query,
 * DeleteItem on the table (the flush's TransactWriteItems needs no action of
 * its own, only UpdateItem on each item it updates).
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { awsErrorName, rethrowClassified } from './aws-errors';
import { STATE_TABLE, stateKeys } from './contract';
import { RetryableError } from './errors';

/**
 * How long digest items outlive their window: the registry entry must outlast
 * any outage of the keeper that flushes it (a digest is late, never lost), and
 * the counter must outlast its registry entry.
 */
export const DIGEST_RETENTION_SECONDS = 15 * 24 * 60 * 60;

/** Attribute names of the digest items (besides pk, sk and expiration). */
const A = {
  subject: 'subject',
  kind: 'kind',
  reason: 'reason',
  windowStart: 'windowStart',
  windowEnd: 'windowEnd',
  notices: 'notices',
  firstAt: 'firstAt',
  lastAt: 'lastAt',
  digested: 'digested',
  reportedThrough: 'reportedThrough',
  registered: 'registered',
  example: 'example',
  at: 'at',
  digestPk: 'digestPk',
  windowSk: 'windowSk',
  pending: 'pending',
  claimToken: 'claimToken',
  claimedUntil: 'claimedUntil',
  snapshot: 'snapshot',
} as const;

type Item = Record<string, AttributeValue>;

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });
const num = (value: AttributeValue | undefined): number => Number(value?.N ?? 0);
const iso = (ms: number): string => new Date(ms).toISOString();
/** Ordinals sort as text in the example items' sort keys. */
const ordinal = (n: number): string => String(n).padStart(12, '0');

/** One (subject, kind, reason) in one fixed window. */
export interface DigestKey {
  readonly subject: string;
  readonly kind: string;
  readonly reason: string;
  /** Epoch ms, a multiple of the window length. */
  readonly windowStart: number;
  readonly windowEnd: number;
}

/** The window counter as one notice left it. */
export interface RecordedNotice {
  /** The notice's ordinal in its window: 1 for the first. */
  readonly ordinal: number;
  /** The ordinal of the last notice an earlier digest of this window reported (0: none). */
  readonly reportedThrough: number;
  /** The window is registered for the flush. */
  readonly registered: boolean;
}

/** What the flush read of one window. */
export interface WindowState extends DigestKey {
  readonly notices: number;
  readonly firstAt: number;
  readonly lastAt: number;
  /** Notices earlier digests of this window reported. */
  readonly digested: number;
  readonly reportedThrough: number;
  /** Example ids by ordinal, ascending. */
  readonly examples: readonly { readonly ordinal: number; readonly example: string }[];
}

/** A registry entry the flush claimed. */
export interface ClaimedEntry {
  readonly registrySk: string;
  readonly digestPk: string;
  readonly windowSk: string;
  readonly token: string;
  /** The digest a previous flush took but may not have published (JSON), if any. */
  readonly snapshot?: string;
}

/** True when DynamoDB refused the write for its condition. */
function isConditionFailure(error: unknown): boolean {
  const name = awsErrorName(error);
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException';
}

/**
 * The digest items of one installation (key prefix) in one table.
 *
 * @example
 * ```ts
 * const store = new NoticeDigestStore(new DynamoDBClient({}), 'autoheal-state', 'autoheal');
 * const recorded = await store.record(key, Date.now());
 * ```
 */
export class NoticeDigestStore {
  private readonly keys: ReturnType<typeof stateKeys>;

  public constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    keyPrefix?: string,
  ) {
    this.keys = stateKeys(keyPrefix || undefined);
  }

  private counterKey(key: DigestKey): Item {
    return {
      [STATE_TABLE.partitionKey]: S(this.keys.digestPartition(key.subject, key.kind, key.reason)),
      [STATE_TABLE.sortKey]: S(iso(key.windowStart)),
    };
  }

  private registryKey(digestPk: string, windowStart: number, windowEnd: number): Item {
    return {
      [STATE_TABLE.partitionKey]: S(this.keys.dueDigests),
      [STATE_TABLE.sortKey]: S(`${iso(windowEnd)}#${digestPk}#${iso(windowStart)}`),
    };
  }

  private expiration(key: { windowEnd: number }): AttributeValue {
    return N(Math.ceil(key.windowEnd / 1000) + DIGEST_RETENTION_SECONDS);
  }

  /** Counts one notice in its window (one UpdateItem) and returns its ordinal. */
  public async record(key: DigestKey, now: number): Promise<RecordedNotice> {
    try {
      const result = await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.counterKey(key),
          UpdateExpression:
            'ADD #notices :one SET #firstAt = if_not_exists(#firstAt, :now), #lastAt = :now, ' +
            '#subject = :subject, #kind = :kind, #reason = :reason, #windowStart = :ws, #windowEnd = :we, #exp = :exp',
          ExpressionAttributeNames: {
            '#notices': A.notices,
            '#firstAt': A.firstAt,
            '#lastAt': A.lastAt,
            '#subject': A.subject,
            '#kind': A.kind,
            '#reason': A.reason,
            '#windowStart': A.windowStart,
            '#windowEnd': A.windowEnd,
            '#exp': STATE_TABLE.timeToLive,
          },
          ExpressionAttributeValues: {
            ':one': N(1),
            ':now': N(now),
            ':subject': S(key.subject),
            ':kind': S(key.kind),
            ':reason': S(key.reason),
            ':ws': N(key.windowStart),
            ':we': N(key.windowEnd),
            ':exp': this.expiration(key),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const item = result.Attributes ?? {};
      return {
        ordinal: num(item[A.notices]),
        reportedThrough: num(item[A.reportedThrough]),
        registered: item[A.registered]?.BOOL === true,
      };
    } catch (error) {
      if (awsErrorName(error) === 'TransactionConflictException') {
        // A flush's transaction held the counter (a notice late for its window): try again later.
        throw new RetryableError('Counting the notice met a flush of its window; retried later', {
          cause: error,
        });
      }
      rethrowClassified(error, 'Counting the notice (DynamoDB UpdateItem)');
    }
  }

  /**
   * Takes back a count whose notice could not be published, so the retry of
   * the same notice is not counted twice. Best effort: if this fails too, the
   * window counts one notice more than happened (never one less).
   */
  public async unrecord(key: DigestKey): Promise<void> {
    try {
      await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.counterKey(key),
          UpdateExpression: 'ADD #notices :minusOne',
          ConditionExpression: '#notices > :zero',
          ExpressionAttributeNames: { '#notices': A.notices },
          ExpressionAttributeValues: { ':minusOne': N(-1), ':zero': N(0) },
        }),
      );
    } catch {
      // Best effort, see above: the original error is the one the caller rethrows.
    }
  }

  /** Keeps one example id of a counted notice (its own small item; no contention with the counter). */
  public async putExample(key: DigestKey, ordinalOfNotice: number, example: string, now: number) {
    try {
      await this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            [STATE_TABLE.partitionKey]: S(
              this.keys.digestPartition(key.subject, key.kind, key.reason),
            ),
            [STATE_TABLE.sortKey]: S(`${iso(key.windowStart)}#${ordinal(ordinalOfNotice)}`),
            [A.example]: S(example),
            [A.at]: N(now),
            [STATE_TABLE.timeToLive]: this.expiration(key),
          },
        }),
      );
    } catch (error) {
      rethrowClassified(error, 'Keeping an example of the counted notice (DynamoDB PutItem)');
    }
  }

  /**
   * Registers the window for the flush: first the registry entry `pending`,
   * then the counter `registered` (two UpdateItems; no transaction, so the
   * hot counter never conflicts with one). The second write is conditional on
   * no flush having taken the window since `recorded` was read: if one did,
   * it took this notice too, and the window must stay unregistered so the
   * next notice registers it again. Idempotent.
   */
  public async register(key: DigestKey, recorded: RecordedNotice): Promise<void> {
    const digestPk = this.keys.digestPartition(key.subject, key.kind, key.reason);
    try {
      await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.registryKey(digestPk, key.windowStart, key.windowEnd),
          UpdateExpression:
            'SET #pending = :true, #digestPk = :digestPk, #windowSk = :windowSk, #exp = :exp',
          ExpressionAttributeNames: {
            '#pending': A.pending,
            '#digestPk': A.digestPk,
            '#windowSk': A.windowSk,
            '#exp': STATE_TABLE.timeToLive,
          },
          ExpressionAttributeValues: {
            ':true': { BOOL: true },
            ':digestPk': S(digestPk),
            ':windowSk': S(iso(key.windowStart)),
            ':exp': this.expiration(key),
          },
        }),
      );
    } catch (error) {
      rethrowClassified(error, 'Registering the notice digest (DynamoDB UpdateItem)');
    }
    try {
      await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.counterKey(key),
          UpdateExpression: 'SET #registered = :true',
          ConditionExpression:
            recorded.reportedThrough === 0
              ? 'attribute_exists(#notices) AND attribute_not_exists(#through)'
              : 'attribute_exists(#notices) AND #through = :through',
          ExpressionAttributeNames: {
            '#registered': A.registered,
            '#notices': A.notices,
            '#through': A.reportedThrough,
          },
          ExpressionAttributeValues: {
            ':true': { BOOL: true },
            ...(recorded.reportedThrough !== 0 && { ':through': N(recorded.reportedThrough) }),
          },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return;
      rethrowClassified(error, 'Registering the notice digest (DynamoDB UpdateItem)');
    }
  }

  /** Sort keys of the registry entries whose window ended by `endedBy`, oldest first (paginated). */
  public async dueEntries(endedBy: number): Promise<string[]> {
    const sortKeys: string[] = [];
    let exclusiveStartKey: Item | undefined;
    do {
      try {
        const page = await this.dynamodb.send(
          new QueryCommand({
            TableName: this.tableName,
            // '$' sorts right after '#': every entry whose window end is at or before `endedBy`.
            KeyConditionExpression: '#pk = :pk AND #sk < :upper',
            ExpressionAttributeNames: {
              '#pk': STATE_TABLE.partitionKey,
              '#sk': STATE_TABLE.sortKey,
            },
            ExpressionAttributeValues: {
              ':pk': S(this.keys.dueDigests),
              ':upper': S(`${iso(endedBy)}$`),
            },
            ProjectionExpression: '#sk',
            ExclusiveStartKey: exclusiveStartKey,
          }),
        );
        for (const item of page.Items ?? []) {
          const sk = item[STATE_TABLE.sortKey]?.S;
          if (sk !== undefined) sortKeys.push(sk);
        }
        exclusiveStartKey = page.LastEvaluatedKey;
      } catch (error) {
        rethrowClassified(error, 'Reading the due notice digests (DynamoDB Query)');
      }
    } while (exclusiveStartKey !== undefined);
    return sortKeys;
  }

  /**
   * Claims a registry entry for `leaseMs` (conditional write): undefined when
   * another flush holds it or it is gone.
   */
  public async claim(
    registrySk: string,
    token: string,
    now: number,
    leaseMs: number,
  ): Promise<ClaimedEntry | undefined> {
    try {
      const result = await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: {
            [STATE_TABLE.partitionKey]: S(this.keys.dueDigests),
            [STATE_TABLE.sortKey]: S(registrySk),
          },
          UpdateExpression: 'SET #token = :token, #until = :until',
          ConditionExpression:
            'attribute_exists(#pk) AND (attribute_not_exists(#until) OR #until < :now)',
          ExpressionAttributeNames: {
            '#pk': STATE_TABLE.partitionKey,
            '#token': A.claimToken,
            '#until': A.claimedUntil,
          },
          ExpressionAttributeValues: {
            ':token': S(token),
            ':until': N(now + leaseMs),
            ':now': N(now),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const item = result.Attributes ?? {};
      const digestPk = item[A.digestPk]?.S;
      const windowSk = item[A.windowSk]?.S;
      if (digestPk === undefined || windowSk === undefined) return undefined;
      return { registrySk, digestPk, windowSk, token, snapshot: item[A.snapshot]?.S };
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      rethrowClassified(error, 'Claiming the notice digest (DynamoDB UpdateItem)');
    }
  }

  /** The window's counter and examples (one consistent Query); undefined when the counter is gone. */
  public async readWindow(entry: ClaimedEntry): Promise<WindowState | undefined> {
    const items: Item[] = [];
    let exclusiveStartKey: Item | undefined;
    do {
      try {
        const page = await this.dynamodb.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
            ExpressionAttributeNames: {
              '#pk': STATE_TABLE.partitionKey,
              '#sk': STATE_TABLE.sortKey,
            },
            ExpressionAttributeValues: {
              ':pk': S(entry.digestPk),
              ':from': S(entry.windowSk),
              ':to': S(`${entry.windowSk}#~`),
            },
            ConsistentRead: true,
            ExclusiveStartKey: exclusiveStartKey,
          }),
        );
        items.push(...(page.Items ?? []));
        exclusiveStartKey = page.LastEvaluatedKey;
      } catch (error) {
        rethrowClassified(error, 'Reading the notice digest (DynamoDB Query)');
      }
    } while (exclusiveStartKey !== undefined);
    const counter = items.find((item) => item[STATE_TABLE.sortKey]?.S === entry.windowSk);
    if (counter === undefined) return undefined;
    const examples = items
      .filter((item) => item[A.example]?.S !== undefined)
      .map((item) => ({
        ordinal: Number((item[STATE_TABLE.sortKey]?.S ?? '').slice(entry.windowSk.length + 1)),
        example: item[A.example]?.S ?? '',
      }))
      .sort((a, b) => a.ordinal - b.ordinal);
    return {
      subject: counter[A.subject]?.S ?? '',
      kind: counter[A.kind]?.S ?? '',
      reason: counter[A.reason]?.S ?? '',
      windowStart: num(counter[A.windowStart]),
      windowEnd: num(counter[A.windowEnd]),
      notices: num(counter[A.notices]),
      firstAt: num(counter[A.firstAt]),
      lastAt: num(counter[A.lastAt]),
      digested: num(counter[A.digested]),
      reportedThrough: num(counter[A.reportedThrough]),
      examples,
    };
  }

  /**
   * Takes the window's notices up to `state.notices` into the digest
   * `snapshot` (one TransactWriteItems): the counter records them as reported
   * and leaves the flush registry; the claimed entry keeps the digest until it
   * is published. False when the window changed since it was read (a late
   * notice) or the claim was lost: read again.
   */
  public async takeIntoDigest(
    entry: ClaimedEntry,
    state: WindowState,
    digested: number,
    snapshot: string | undefined,
  ): Promise<boolean> {
    const counterKey = {
      [STATE_TABLE.partitionKey]: S(entry.digestPk),
      [STATE_TABLE.sortKey]: S(entry.windowSk),
    };
    const registryKey = {
      [STATE_TABLE.partitionKey]: S(this.keys.dueDigests),
      [STATE_TABLE.sortKey]: S(entry.registrySk),
    };
    try {
      await this.dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: counterKey,
                UpdateExpression:
                  'SET #through = :through, #digested = :digested REMOVE #registered',
                ConditionExpression:
                  '#notices = :notices AND (attribute_not_exists(#through) OR #through = :oldThrough)',
                ExpressionAttributeNames: {
                  '#through': A.reportedThrough,
                  '#digested': A.digested,
                  '#registered': A.registered,
                  '#notices': A.notices,
                },
                ExpressionAttributeValues: {
                  ':through': N(state.notices),
                  ':digested': N(digested),
                  ':notices': N(state.notices),
                  ':oldThrough': N(state.reportedThrough),
                },
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: registryKey,
                UpdateExpression:
                  snapshot === undefined
                    ? 'REMOVE #pending'
                    : 'SET #snapshot = :snapshot REMOVE #pending',
                ConditionExpression: '#token = :token',
                ExpressionAttributeNames: {
                  '#pending': A.pending,
                  '#token': A.claimToken,
                  ...(snapshot !== undefined && { '#snapshot': A.snapshot }),
                },
                ExpressionAttributeValues: {
                  ':token': S(entry.token),
                  ...(snapshot !== undefined && { ':snapshot': S(snapshot) }),
                },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      rethrowClassified(error, 'Taking the notices into the digest (DynamoDB TransactWriteItems)');
    }
  }

  /**
   * Ends the claimed entry after its digest went out: deleted, unless a late
   * notice registered the window again meanwhile; then only the published
   * digest and the claim are removed, and the next flush reports the rest.
   */
  public async finish(entry: ClaimedEntry): Promise<void> {
    const key = {
      [STATE_TABLE.partitionKey]: S(this.keys.dueDigests),
      [STATE_TABLE.sortKey]: S(entry.registrySk),
    };
    try {
      await this.dynamodb.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: key,
          ConditionExpression: '#token = :token AND attribute_not_exists(#pending)',
          ExpressionAttributeNames: { '#token': A.claimToken, '#pending': A.pending },
          ExpressionAttributeValues: { ':token': S(entry.token) },
        }),
      );
      return;
    } catch (error) {
      if (!isConditionFailure(error)) {
        rethrowClassified(error, 'Removing the sent notice digest (DynamoDB DeleteItem)');
      }
    }
    await this.release(entry, true);
  }

  /**
   * Gives up the claim so the next flush takes the entry at once (no lease to
   * wait for); with `published`, also drops the digest that went out.
   */
  public async release(entry: ClaimedEntry, published = false): Promise<void> {
    try {
      await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: {
            [STATE_TABLE.partitionKey]: S(this.keys.dueDigests),
            [STATE_TABLE.sortKey]: S(entry.registrySk),
          },
          UpdateExpression: published
            ? 'REMOVE #token, #until, #snapshot'
            : 'REMOVE #token, #until',
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: {
            '#token': A.claimToken,
            '#until': A.claimedUntil,
            ...(published && { '#snapshot': A.snapshot }),
          },
          ExpressionAttributeValues: { ':token': S(entry.token) },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return;
      rethrowClassified(error, 'Releasing the notice digest (DynamoDB UpdateItem)');
    }
  }

  /** Deletes a claimed entry whose window counter is gone (expired): nothing is left to report. */
  public async drop(entry: ClaimedEntry): Promise<void> {
    try {
      await this.dynamodb.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: {
            [STATE_TABLE.partitionKey]: S(this.keys.dueDigests),
            [STATE_TABLE.sortKey]: S(entry.registrySk),
          },
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: { '#token': A.claimToken },
          ExpressionAttributeValues: { ':token': S(entry.token) },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return;
      rethrowClassified(error, 'Removing the expired notice digest (DynamoDB DeleteItem)');
    }
  }
}
