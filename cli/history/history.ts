/**
 * `autoheal history`: what Autoheal did, from its own records.
 *
 * - Redriven, observed, gave up, skipped (by reason): the redrive path's
 *   idempotency records, one per failure acted on. Each holds the
 *   `FailureOutcome` (failure-action.ts): outcome, reason, redrive date, and
 *   since this command the failure key, the time and the error name. Records
 *   written before that lack them: their time is read from the record's expiry
 *   (written with the outcome, a fixed TTL after it), their execution is unknown.
 * - Held: the breaker's held failures in the healing state table (state now,
 *   whatever `--since` says: a failure held three days ago and still held is
 *   what an operator after an outage needs to see).
 * - Deferred: reported as pending, from the work queue's count of delayed
 *   messages, not from records. Recording deferrals would cost one write per
 *   deferral on the hot path (in a storm of 10,000 failures, 10,000 writes at
 *   the moment the table is busiest), for a state that always ends in one of
 *   the recorded outcomes above (or in the dead-letter queue, which
 *   `autoheal dlq` lists); the dashboard's `Deferred` metric shows deferrals
 *   over time per machine. So history says how many are waiting now.
 *
 * Reading cost: a Scan of the idempotency table, paginated (the SDK's
 * paginator, 1,000 items a page), filtered server-side by key prefix, expiry
 * (the time window: a record's expiry is its write time plus the fixed TTL)
 * and, with `--outcome`, the outcome. A Scan reads, and bills, every item in
 * the table whatever the filter: a redrive record is about 0.5 KB, a read
 * unit covers 4 KB, eventually consistent reads cost half, so a run costs
 * about N / 16 read units for N records (records live 15 days: 100,000
 * failures acted on in a fortnight ≈ 6,250 read units, some $0.002 on
 * demand, a few seconds). The sweeper's cursor and the flow records share the
 * table and are read too. Held failures: one Query for the registry and one
 * paginated Query per registered machine.
 * Deferred: one GetQueueAttributes.
 */
import { type AttributeValue, type DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { createBreakerStore } from '../../lambda/redrive/breaker/breaker-store';
import {
  IDEMPOTENCY_RECORD_TTL_SECONDS,
  IDEMPOTENCY_TABLE,
  idempotencyKeyPrefixes,
} from '../../lambda/shared/contract';
import { parseExecutionArn, parseStateMachineArn } from '../../lambda/shared/state-machine-names';
import type { Deployment } from '../deployment';

/** What Autoheal did about one failure, as history lists it. */
export type HistoryOutcome =
  | 'redriven'
  | 'observed'
  | 'gave-up'
  | 'skipped'
  | 'held'
  | 'in-progress';

/** Every outcome `--outcome` accepts (`deferred` is a count only). */
export const HISTORY_OUTCOMES: readonly string[] = [
  'redriven',
  'observed',
  'gave-up',
  'skipped',
  'held',
  'in-progress',
  'deferred',
];

/** One row of history. */
export interface HistoryRow {
  /** When it happened (ISO): the action, or the hold. */
  readonly at: string;
  readonly outcome: HistoryOutcome;
  /** Why (skips: the skip reason; gave up: `max-redrives`; observed: `observe-only`). */
  readonly reason?: string;
  /** The state machine's name, when the record names the failure. */
  readonly stateMachine?: string;
  readonly executionArn?: string;
  /** Which failure of the execution (its redrive count then). */
  readonly redriveCount?: number;
  readonly errorName?: string;
  /** When RedriveExecution redrove it (ISO). */
  readonly redriveDate?: string;
  /**
   * The record's key, when the record says (`keyMark`): the failure's own
   * (`automatic`), `observe-only`, or `manual` (a bulk redrive by an operator
   * of a failure the automatic path gave up on or skipped).
   */
  readonly key?: 'automatic' | 'observe-only' | 'manual';
  /** Where the row comes from. */
  readonly source: 'idempotency-record' | 'held-failure';
}

/** What history reads and how. */
export interface HistoryQuery {
  /** Epoch ms: rows from then on (held failures are listed whatever their time). */
  readonly since: number;
  /** Names, ARNs or name prefixes (`orders-*` or `orders-`); empty means every machine. */
  readonly stateMachines: readonly string[];
  /** Outcomes to list; empty means every one. */
  readonly outcomes: readonly string[];
}

/** What history found. */
export interface History {
  readonly since: string;
  readonly rows: readonly HistoryRow[];
  /** Deferral hops waiting on the work queue now (ApproximateNumberOfMessagesDelayed), when read. */
  readonly deferredPending?: number;
  /** What the reads cost: items the Scan read (billed) and returned, pages. */
  readonly scanned: {
    readonly pages: number;
    readonly itemsRead: number;
    readonly itemsMatched: number;
  };
}

/**
 * A name filter: `orders-*` (and a name ending in `-` or `_`) is a prefix, an
 * ARN is its machine's name, anything else an exact name. No filter matches all.
 *
 * @example
 * ```ts
 * machineMatcher(['orders-*'])('orders-nightly'); // true
 * ```
 */
export function machineMatcher(filters: readonly string[]): (name?: string) => boolean {
  if (filters.length === 0) return () => true;
  const names = filters.map((filter) => {
    const machine = parseStateMachineArn(filter);
    if (machine) return { exact: machine.stateMachineName };
    if (filter.endsWith('*')) return { prefix: filter.slice(0, -1) };
    if (filter.endsWith('-') || filter.endsWith('_')) return { prefix: filter };
    return { exact: filter };
  });
  return (name) =>
    name !== undefined &&
    names.some((n) => ('exact' in n ? name === n.exact : name.startsWith(n.prefix as string)));
}

/** Held failures listed per machine (a Query page holds at most 1 MB, some 3,000 of them). */
export const MAX_HELD_PER_MACHINE = 100_000;

const RECORD_OUTCOMES = new Set(['redriven', 'observed', 'gave-up', 'skipped']);

/** The record's key kind from its `keyMark` (records from before `failureKey` was recorded: unknown). */
function keyOf(data: Record<string, unknown>): HistoryRow['key'] {
  if (data.keyMark === '#manual') return 'manual';
  if (data.keyMark === '#observe-only') return 'observe-only';
  return typeof data.failureKey === 'string' && data.keyMark === undefined
    ? 'automatic'
    : undefined;
}

/**
 * One idempotency record of the redrive path as a history row (as the Scan
 * returns it, marshalled).
 *
 * @example
 * ```ts
 * rowOfRecord(item).outcome; // 'gave-up'
 * ```
 */
export function rowOfRecord(item: Record<string, AttributeValue>): HistoryRow {
  const record = unmarshall(item) as {
    status?: string;
    expiration?: number;
    data?: Record<string, unknown>;
  };
  const data = record.data ?? {};
  const failureKey = typeof data.failureKey === 'string' ? data.failureKey : undefined;
  const hash = failureKey?.lastIndexOf('#') ?? -1;
  const executionArn = failureKey && hash > 0 ? failureKey.slice(0, hash) : undefined;
  const count = failureKey && hash > 0 ? Number(failureKey.slice(hash + 1)) : undefined;
  // Records from before `at` was recorded: the expiry was set with the outcome, a fixed TTL after it.
  const at =
    typeof data.at === 'string'
      ? data.at
      : new Date(((record.expiration ?? 0) - IDEMPOTENCY_RECORD_TTL_SECONDS) * 1000).toISOString();
  const outcome =
    record.status === 'INPROGRESS' || !RECORD_OUTCOMES.has(String(data.outcome))
      ? 'in-progress'
      : (data.outcome as HistoryOutcome);
  return {
    at,
    outcome,
    reason: typeof data.reason === 'string' ? data.reason : undefined,
    stateMachine: executionArn ? parseExecutionArn(executionArn)?.stateMachineName : undefined,
    executionArn,
    redriveCount: Number.isInteger(count) ? count : undefined,
    errorName: typeof data.errorName === 'string' ? data.errorName : undefined,
    redriveDate: typeof data.redriveDate === 'string' ? data.redriveDate : undefined,
    key: keyOf(data),
    source: 'idempotency-record',
  };
}

/** The clients and deployment history reads from. */
export interface HistorySources {
  readonly deployment: Deployment;
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
}

/**
 * Reads history: the idempotency records in the window, the held failures,
 * the pending deferrals. Reads only.
 *
 * @example
 * ```ts
 * const history = await readHistory({ deployment, dynamodb, sqs }, { since: Date.now() - 86_400_000, stateMachines: [], outcomes: [] });
 * ```
 */
export async function readHistory(sources: HistorySources, query: HistoryQuery): Promise<History> {
  const { deployment, dynamodb } = sources;
  const wanted = (outcome: string) =>
    query.outcomes.length === 0 || query.outcomes.includes(outcome);
  const machineWanted = machineMatcher(query.stateMachines);
  const rows: HistoryRow[] = [];

  // The records' time window, server-side: a record's expiry is its write time plus the TTL.
  const names: Record<string, string> = {
    '#id': IDEMPOTENCY_TABLE.partitionKey,
    '#expiration': IDEMPOTENCY_TABLE.timeToLive,
  };
  const values: Record<string, AttributeValue> = {
    ':prefix': { S: `${idempotencyKeyPrefixes(deployment.idempotencyKeyPrefix).redrive}#` },
    ':minExpiration': {
      N: String(Math.floor(query.since / 1000) + IDEMPOTENCY_RECORD_TTL_SECONDS),
    },
  };
  let filter = 'begins_with(#id, :prefix) AND #expiration >= :minExpiration';
  const recordOutcomes = query.outcomes.filter((o) => RECORD_OUTCOMES.has(o));
  if (recordOutcomes.length > 0 && !wanted('in-progress')) {
    names['#data'] = 'data';
    names['#outcome'] = 'outcome';
    filter += ` AND #data.#outcome IN (${recordOutcomes.map((_, i) => `:o${i}`).join(', ')})`;
    recordOutcomes.forEach((o, i) => {
      values[`:o${i}`] = { S: o };
    });
  }
  const scanRecords =
    query.outcomes.length === 0 || recordOutcomes.length > 0 || wanted('in-progress');
  let pages = 0;
  let itemsRead = 0;
  let itemsMatched = 0;
  const scan = scanRecords
    ? paginateScan(
        { client: dynamodb, pageSize: 1000 },
        {
          TableName: deployment.idempotencyTableName,
          FilterExpression: filter,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      )
    : [];
  for await (const page of scan) {
    pages++;
    itemsRead += page.ScannedCount ?? 0;
    itemsMatched += page.Count ?? 0;
    for (const item of page.Items ?? []) {
      const row = rowOfRecord(item);
      if (Date.parse(row.at) < query.since || !wanted(row.outcome)) continue;
      if (query.stateMachines.length > 0 && !machineWanted(row.stateMachine)) continue;
      rows.push(row);
    }
  }

  if (wanted('held') && deployment.stateTableName) {
    const store = createBreakerStore({
      dynamodb,
      tableName: deployment.stateTableName,
      keyPrefix: deployment.idempotencyKeyPrefix,
    });
    for (const machineArn of await store.machinesToWatch()) {
      const name = parseStateMachineArn(machineArn)?.stateMachineName;
      if (!machineWanted(name)) continue;
      for (const held of await store.oldestHeld(machineArn, MAX_HELD_PER_MACHINE)) {
        rows.push({
          at: new Date(held.heldAt ?? held.stopDate).toISOString(),
          outcome: 'held',
          reason: 'breaker-open',
          stateMachine: name,
          executionArn: held.executionArn,
          redriveCount: held.redriveCount,
          errorName: held.errorName,
          source: 'held-failure',
        });
      }
    }
  }

  let deferredPending: number | undefined;
  const workQueueUrl = deployment.redrive?.workQueueUrl;
  if (wanted('deferred') && query.stateMachines.length === 0 && workQueueUrl) {
    const attributes = await sources.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: workQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessagesDelayed'],
      }),
    );
    deferredPending = Number(attributes.Attributes?.ApproximateNumberOfMessagesDelayed ?? 0);
  }

  rows.sort((a, b) => a.at.localeCompare(b.at));
  return {
    since: new Date(query.since).toISOString(),
    rows,
    deferredPending,
    scanned: { pages, itemsRead, itemsMatched },
  };
}

/** One summary line: per state machine, outcome and reason, how many. */
export interface SummaryRow {
  readonly stateMachine: string;
  readonly outcome: string;
  readonly reason: string;
  readonly count: number;
}

/**
 * Counts the rows per state machine, outcome (`(by hand)` for a bulk redrive
 * under the manual key) and reason; the pending deferrals as one row.
 *
 * @example
 * ```ts
 * summarize(history); // [{ stateMachine: 'orders', outcome: 'redriven', reason: '', count: 12 }, ...]
 * ```
 */
export function summarize(history: History): SummaryRow[] {
  const counts = new Map<string, SummaryRow>();
  for (const row of history.rows) {
    const stateMachine = row.stateMachine ?? '(record without failure key)';
    const reason = row.reason ?? '';
    const outcome = row.key === 'manual' ? `${row.outcome} (by hand)` : row.outcome;
    const key = JSON.stringify([stateMachine, outcome, reason]);
    const known = counts.get(key);
    counts.set(key, { stateMachine, outcome, reason, count: (known?.count ?? 0) + 1 });
  }
  const summary = [...counts.values()].sort(
    (a, b) =>
      a.stateMachine.localeCompare(b.stateMachine) ||
      a.outcome.localeCompare(b.outcome) ||
      a.reason.localeCompare(b.reason),
  );
  if (history.deferredPending !== undefined) {
    summary.push({
      stateMachine: '(all, work queue)',
      outcome: 'deferred',
      reason: 'pending',
      count: history.deferredPending,
    });
  }
  return summary;
}
