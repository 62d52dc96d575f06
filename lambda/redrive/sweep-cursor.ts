/**
 * The sweeper's cursor: where the last sweep stopped, so that a scope too
 * large for one invocation (1,000 machines at 1 ListExecutions a second take
 * over half an hour; a sweep has 4.5 minutes) is covered over consecutive
 * sweeps, each machine once per pass.
 *
 * The machines are visited in ARN order (UTF-16 code units, as `<` compares),
 * and the cursor keeps the ARN of the last machine swept in full. The next
 * sweep starts at the first machine after it, whatever the scope is now: a
 * machine that left the scope leaves a position, not a hole, and a machine
 * that joined it is swept when the pass reaches its place. A sweep cut short
 * inside a machine's pages keeps the page to pick up (`resume`), so a machine
 * with more pages than one sweep can list still gets through.
 *
 * One record per installation in the idempotency table
 * (`idempotencyKeyPrefixes(prefix).sweepCursor`), written with conditions
 * only: a sweep takes a lease on the record until its invocation's deadline,
 * and advances the cursor only while it holds the lease. Two overlapping
 * sweeps (a late tick, a manual invoke) cannot both advance it: the second
 * finds the lease taken and sweeps nothing. A sweep that dies keeps the lease
 * until its deadline, when the invocation is over anyway, and the cursor at the
 * last machine it finished: the next sweep sweeps the machine it died in again,
 * and skips none.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { IDEMPOTENCY_TABLE } from '../shared/contract';

/** Where to pick up a machine whose listing a sweep cut short. */
export interface SweepResume {
  /** The machine. */
  readonly arn: string;
  /** The status being listed. */
  readonly status: string;
  /** The ListExecutions token of the first page not swept (valid 24 hours); undefined: the first. */
  readonly nextToken?: string;
}

/** What the cursor record holds. */
export interface SweepCursor {
  /** ARN of the last machine swept in full; undefined before the first. */
  readonly after?: string;
  /** The machine after `after`, when a sweep stopped inside its pages. */
  readonly resume?: SweepResume;
  /** Epoch milliseconds the current pass over every machine began. */
  readonly passStartedAt?: number;
}

/** The order one sweep visits the machines in, and where it picks up the first. */
export interface SweepOrder<T extends { readonly arn: string }> {
  /** Every machine once, starting after the cursor, wrapping around. */
  readonly machines: readonly T[];
  /** Where to pick up `machines[0]`, when the last sweep stopped inside it. */
  readonly resume?: SweepResume;
  /** The position in `machines` of the first machine in ARN order: a pass starts there. */
  readonly passStart: number;
}

const byArn = <T extends { readonly arn: string }>(a: T, b: T): number =>
  a.arn < b.arn ? -1 : a.arn > b.arn ? 1 : 0;

/**
 * The order in which a sweep visits `machines`: ARN order, starting at the
 * first machine after the cursor (at the first of all when none is after it).
 *
 * @example
 * ```ts
 * sweepOrder([{ arn: 'a' }, { arn: 'b' }, { arn: 'c' }], { after: 'b' }).machines; // c, a, b
 * ```
 */
export function sweepOrder<T extends { readonly arn: string }>(
  machines: readonly T[],
  cursor: SweepCursor,
): SweepOrder<T> {
  const sorted = [...machines].sort(byArn);
  const { after } = cursor;
  const found = after === undefined ? 0 : sorted.findIndex((m) => m.arn > after);
  const start = found === -1 ? 0 : found;
  const ordered = [...sorted.slice(start), ...sorted.slice(0, start)];
  const resume =
    ordered.length > 0 && cursor.resume?.arn === ordered[0].arn ? cursor.resume : undefined;
  return {
    machines: ordered,
    resume,
    passStart: (sorted.length - start) % Math.max(1, sorted.length),
  };
}

/** The cursor record of one installation, as one sweep sees it. */
export interface CursorStore {
  /**
   * Takes the lease until `leaseUntil` (epoch milliseconds): the cursor, or
   * `'held'` when another sweep holds an unexpired lease.
   */
  acquire(leaseUntil: number): Promise<SweepCursor | 'held'>;
  /** Writes the cursor; false when this sweep no longer holds the lease. */
  advance(cursor: SweepCursor): Promise<boolean>;
  /** Gives the lease up (best effort: it expires anyway). */
  release(): Promise<void>;
}

/** Attributes of the cursor record. */
const ATTRIBUTE = {
  after: 'sweepAfter',
  resume: 'sweepResume',
  passStartedAt: 'sweepPassStartedAt',
  leaseOwner: 'leaseOwner',
  leaseUntil: 'leaseUntil',
} as const;

export interface CursorStoreOptions {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  /** The record's `id`: `idempotencyKeyPrefixes(prefix).sweepCursor`. */
  readonly key: string;
  /** Unique to this sweep. */
  readonly owner: string;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

/**
 * The cursor record in the idempotency table, through UpdateItem only (the
 * sweeper's role may update this one key and nothing else).
 *
 * @example
 * ```ts
 * const store = createCursorStore({ dynamodb, tableName, key, owner: randomUUID(), now: Date.now });
 * const cursor = await store.acquire(deadline);
 * ```
 */
export function createCursorStore(options: CursorStoreOptions): CursorStore {
  const { dynamodb, tableName, key, owner, now } = options;
  const base = {
    TableName: tableName,
    Key: { [IDEMPOTENCY_TABLE.partitionKey]: { S: key } },
  };

  /** Sends a conditional update; false when its condition failed. */
  const update = async (input: Omit<UpdateItemCommandInput, 'TableName' | 'Key'>) => {
    try {
      return await dynamodb.send(new UpdateItemCommand({ ...base, ...input }));
    } catch (error) {
      if (
        error instanceof ConditionalCheckFailedException ||
        (error as Error).name === 'ConditionalCheckFailedException'
      ) {
        return false;
      }
      throw error;
    }
  };

  return {
    acquire: async (leaseUntil) => {
      const result = await update({
        UpdateExpression: 'SET #owner = :owner, #until = :until',
        ConditionExpression: 'attribute_not_exists(#until) OR #until < :now',
        ExpressionAttributeNames: {
          '#owner': ATTRIBUTE.leaseOwner,
          '#until': ATTRIBUTE.leaseUntil,
        },
        ExpressionAttributeValues: {
          ':owner': { S: owner },
          ':until': { N: String(leaseUntil) },
          ':now': { N: String(now()) },
        },
        ReturnValues: 'ALL_NEW',
      });
      if (result === false) return 'held';
      const item = result.Attributes ?? {};
      const resume = item[ATTRIBUTE.resume]?.S;
      const passStartedAt = item[ATTRIBUTE.passStartedAt]?.N;
      return {
        after: item[ATTRIBUTE.after]?.S,
        resume: resume === undefined ? undefined : (JSON.parse(resume) as SweepResume),
        passStartedAt: passStartedAt === undefined ? undefined : Number(passStartedAt),
      };
    },
    advance: async (cursor) => {
      const set: string[] = [];
      const remove: string[] = [];
      const names: Record<string, string> = { '#owner': ATTRIBUTE.leaseOwner };
      const values: Record<string, { S: string } | { N: string }> = { ':owner': { S: owner } };
      const field = (
        name: keyof typeof ATTRIBUTE,
        value: { S: string } | { N: string } | undefined,
      ) => {
        names[`#${name}`] = ATTRIBUTE[name];
        if (value === undefined) remove.push(`#${name}`);
        else {
          set.push(`#${name} = :${name}`);
          values[`:${name}`] = value;
        }
      };
      field('after', cursor.after === undefined ? undefined : { S: cursor.after });
      field(
        'resume',
        cursor.resume === undefined ? undefined : { S: JSON.stringify(cursor.resume) },
      );
      field(
        'passStartedAt',
        cursor.passStartedAt === undefined ? undefined : { N: String(cursor.passStartedAt) },
      );
      const expression = [
        set.length > 0 ? `SET ${set.join(', ')}` : '',
        remove.length > 0 ? `REMOVE ${remove.join(', ')}` : '',
      ].join(' ');
      const result = await update({
        UpdateExpression: expression.trim(),
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
      return result !== false;
    },
    release: async () => {
      await update({
        UpdateExpression: 'REMOVE #owner, #until',
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: {
          '#owner': ATTRIBUTE.leaseOwner,
          '#until': ATTRIBUTE.leaseUntil,
        },
        ExpressionAttributeValues: { ':owner': { S: owner } },
      });
    },
  };
}
