/**
 * The storm brake's state in the healing state table ({@link STATE_TABLE}):
 * one breaker item per state machine, the signal items that make each relapse
 * or recovery count once, the held failures, and the registry of machines the
 * brake keeper watches.
 *
 * The breaker item (pk `PREFIX#breaker#ARN`, sk `state`) stays under 1 KB:
 *
 * | attribute | meaning |
 * | --- | --- |
 * | `breakerState` | `closed` \| `open` \| `half-open` (computed) |
 * | `version` | bumped by every transition and force: the condition of the next one |
 * | `openings`, `openedAt`, `halfOpenAt`, `closedAt` | the episode (epoch ms) |
 * | `forced`, `forcedBy`, `forcedAt`, `forcedReason` | the operator's forced state (see `breaker-control.ts`) |
 * | `b0`..`b9`, `r0`..`r9`, `c0`..`c9` | the window's ring of {@link WINDOW_SLOTS} buckets: start (ms), relapses, recoveries |
 * | `e:NAME` | relapses per error name, at most {@link MAX_ERROR_NAMES} names (the rest count under `e:~other`) |
 *
 * Signals are not versioned (they would make every transition race them):
 * only transitions and forces bump `version`, so a transition computed from a
 * view fails if another transition or a force came in between, and only one
 * caller of many wins an opening.
 *
 * Raw DynamoDB commands, hand-marshalled (no document client in the handler
 * bundles, like `healing-state.ts`). Calls used: GetItem, UpdateItem,
 * PutItem, DeleteItem, Query, TransactWriteItems.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { awsErrorName } from '../../shared/aws-errors';
import { REDRIVE_WINDOW_DAYS, STATE_TABLE, stateKeys } from '../../shared/contract';
import { RetryableError } from '../../shared/errors';
import {
  type BreakerOptions,
  type BreakerState,
  type BreakerView,
  bucketOf,
  DEFAULT_BREAKER_OPTIONS,
  type ForcedState,
  NEW_BREAKER,
  type SignalKind,
  WINDOW_SLOTS,
  type WindowBucket,
  windowCounts,
} from './breaker-policy';

/** One failure the breaker holds instead of redriving it (item ~300 B). */
export interface HeldFailure {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  /** The failure's redrive count (its failure key is `executionArn#redriveCount`). */
  readonly redriveCount: number;
  /** Epoch milliseconds the execution stopped: the 14-day redrive window runs from it. */
  readonly stopDate: number;
  /** Error name of the failure ('' when unknown). */
  readonly errorName: string;
  /** Epoch milliseconds it was held (set by `hold`). */
  readonly heldAt?: number;
  /** Epoch milliseconds the nearing-expiry notice was claimed, once sent. */
  readonly reportedNearExpiry?: number;
  /**
   * How many times the failure was held (set by `hold`, read by `oldestHeld`):
   * `release` removes it only while this is unchanged, so a failure held again
   * after the keeper read it (its re-sent message met a breaker still open) stays held.
   * Undefined for an item held before the count existed.
   */
  readonly holds?: number;
  /**
   * The execution's status when it failed (`FAILED`, `TIMED_OUT`, `ABORTED`).
   * @default 'FAILED'
   */
  readonly status?: string;
  /**
   * Epoch milliseconds the execution started, when known.
   * @default stopDate
   */
  readonly startDate?: number;
}

/**
 * What the brake keeper needs beyond the design's store: optional on
 * {@link BreakerStore} (fakes written against the design stay valid),
 * always there on {@link createBreakerStore}'s.
 */
export interface BreakerStoreExtensions {
  /**
   * The machine's held failures that stopped before `stoppedBefore` (epoch
   * ms), oldest first, at most `limit`: those nearing or past the end of
   * their redrive window, read without reading the rest.
   */
  heldBefore(machineArn: string, stoppedBefore: number, limit: number): Promise<HeldFailure[]>;
  /**
   * Claims the nearing-expiry notice of a held failure: true once per held
   * failure (the caller sends the notice); call `unclaimNearExpiry` if it
   * could not be sent.
   */
  claimNearExpiry(held: HeldFailure, now: number): Promise<boolean>;
  /** Gives a claimed nearing-expiry notice back (it could not be sent; the next run tries again). */
  unclaimNearExpiry(held: HeldFailure): Promise<void>;
  /**
   * Removes a machine from the registry unless it was registered again at or
   * after `registeredBefore` (a hold racing the removal keeps it). True when removed.
   */
  unwatch(machineArn: string, registeredBefore: number): Promise<boolean>;
}

/** The breaker store (the shared design's interface; the extensions are optional). */
export interface BreakerStore extends Partial<BreakerStoreExtensions> {
  /**
   * A machine's breaker: cached per store for `cacheMs` (the redrive handler
   * reads it for every failure). `{ fresh: true }` reads through the cache
   * (consistent read), as the keeper does.
   */
  read(machineArn: string, now: number, options?: { fresh?: boolean }): Promise<BreakerView>;
  /**
   * Counts one relapse or recovery, once per `failureKey` (one
   * TransactWriteItems: the signal item, conditional, and the window bucket).
   * `counted` is false for a duplicate. `view` counts this signal; other
   * environments' signals are at most `signalFreshMs` old in it (a read after
   * the write, at most one per `signalFreshMs`).
   */
  recordSignal(
    machineArn: string,
    failureKey: string,
    kind: SignalKind,
    errorName: string,
    now: number,
  ): Promise<{ counted: boolean; view: BreakerView }>;
  /**
   * Moves the computed state from `from` to `to` if nothing changed the item
   * since `from` was read (its version). True: this caller won (and alone
   * sends the notice). Empties the window; keeps a forced state.
   * `detail.openings`: the openings to store when opening (see
   * `openingsAfter`), by default `from.openings + 1`.
   */
  transition(
    machineArn: string,
    from: BreakerView,
    to: BreakerState,
    now: number,
    detail?: { openings?: number },
  ): Promise<boolean>;
  /**
   * Holds a failure and registers the machine. A second hold of the same failure
   * keeps the first hold's facts and only counts itself (`holds`), so a release
   * based on an earlier read does not remove it.
   */
  hold(failure: HeldFailure, now: number): Promise<void>;
  /** The machine's held failures, oldest stop first, at most `limit`. */
  oldestHeld(machineArn: string, limit: number): Promise<HeldFailure[]>;
  /**
   * Removes a held failure (after its re-send succeeded, or after its expiry was
   * reported) unless it was held again since `held` was read. False when it stays.
   */
  release(machineArn: string, held: HeldFailure): Promise<boolean>;
  /** The registry: machines whose breaker is not closed, forced, or that hold failures. */
  machinesToWatch(): Promise<string[]>;
  /** Forces the breaker open or closed until {@link releaseForce}. */
  force(
    machineArn: string,
    state: ForcedState,
    by: string,
    reason: string,
    now: number,
  ): Promise<void>;
  /** Releases a forced state; the computed state applies again. */
  releaseForce(machineArn: string, now: number): Promise<void>;
}

/** A store with the extensions: what {@link createBreakerStore} returns and the brake keeper takes. */
export type KeeperBreakerStore = BreakerStore & BreakerStoreExtensions;

/** What a breaker store is built from. */
export interface BreakerStoreDeps {
  readonly dynamodb: DynamoDBClient;
  /** The healing state table (`AUTOHEAL_STATE_TABLE`). */
  readonly tableName: string;
  /**
   * The installation's key prefix (`AUTOHEAL_IDEMPOTENCY_KEY_PREFIX`).
   * @default 'autoheal'
   */
  readonly keyPrefix?: string;
  /**
   * The breaker options of a machine: the store needs its window (bucket length).
   * @default () => DEFAULT_BREAKER_OPTIONS
   */
  readonly optionsFor?: (machineArn: string) => BreakerOptions;
  /**
   * How long a read view is reused, in milliseconds. 5 s: an environment reads
   * the breaker at most once per machine every 5 s (an unthrottled Lambda
   * environment redrives a few executions a second at most, so that is well
   * under one read per redrive), and another environment's opening stops it
   * within 5 s (a handful of redrives at the RedriveExecution quota).
   * @default 5000
   */
  readonly cacheMs?: number;
  /**
   * After counting a relapse (or any signal while the breaker is not
   * closed), the store reads the breaker again when its view is older than
   * this (milliseconds), so the view `recordSignal` returns counts the other
   * environments' signals: a storm is seen within a second. Under load that is
   * one GetItem per machine per second per environment, whatever the signal
   * rate; a younger view is updated in memory. A recovery of a closed breaker
   * (it cannot open it) never reads.
   * @default 1000 (at most `cacheMs`)
   */
  readonly signalFreshMs?: number;
}

/** Distinct error names counted on a breaker item (the item stays < 1 KB). */
export const MAX_ERROR_NAMES = 5;
/** Error names are cut to this length on the breaker item. */
export const MAX_ERROR_NAME_LENGTH = 64;
const OTHER_ERRORS = '~other';
const ERROR_ATTRIBUTE_PREFIX = 'e:';

/** Transaction attempts of one signal (bucket rolled over, or another transaction on the item). */
const SIGNAL_ATTEMPTS = 6;
const DAY_MS = 24 * 60 * 60 * 1000;
/**
 * Held items expire (TTL) a week after their redrive window closed: the keeper
 * reports and removes them at the window's end, so TTL only cleans up after a
 * keeper that was down for a week (a shorter margin would drop a held failure
 * in silence after a short outage).
 */
const HELD_TTL_MS = (REDRIVE_WINDOW_DAYS + 7) * DAY_MS;
/** Registry items outlive every held failure registered with them (a safety net: the keeper removes them). */
const REGISTRY_TTL_MS = (REDRIVE_WINDOW_DAYS + 8) * DAY_MS;
/**
 * A hold re-registers its machine when this store registered it longer ago
 * than this: well inside the keeper's race margin (`REGISTRY_RACE_MARGIN_MS`
 * in `brake-keeper.ts`, a minute), so a machine is never unwatched while a
 * hold is on its way, and a storm of holds writes the registry item once
 * every 10 s per environment, not once per hold.
 */
export const REREGISTER_AFTER_MS = 10_000;
/** Signal items outlive the window by this much (a duplicate arriving later counts nowhere anyway). */
const SIGNAL_TTL_MARGIN_MS = 60 * 60 * 1000;

const A = {
  state: 'breakerState',
  version: 'version',
  openings: 'openings',
  openedAt: 'openedAt',
  halfOpenAt: 'halfOpenAt',
  closedAt: 'closedAt',
  forced: 'forced',
  forcedBy: 'forcedBy',
  forcedAt: 'forcedAt',
  forcedReason: 'forcedReason',
  // held failures
  executionArn: 'executionArn',
  stateMachineArn: 'stateMachineArn',
  redriveCount: 'redriveCount',
  stopDate: 'stopDate',
  errorName: 'errorName',
  heldAt: 'heldAt',
  reportedNearExpiry: 'reportedNearExpiry',
  status: 'status',
  startDate: 'startDate',
  holds: 'holds',
  // signals and registry
  kind: 'kind',
  at: 'at',
  registeredAt: 'registeredAt',
} as const;

type Item = Record<string, AttributeValue>;
const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });
const num = (value: AttributeValue | undefined): number | undefined => {
  if (value?.N === undefined) return undefined;
  const n = Number(value.N);
  return Number.isFinite(n) ? n : undefined;
};
const epochSeconds = (ms: number): number => Math.floor(ms / 1000);

const slotNames = (slot: number) => ({
  start: `b${slot}`,
  relapses: `r${slot}`,
  recoveries: `c${slot}`,
});

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    awsErrorName(error) === 'ConditionalCheckFailedException'
  );
}

/** The error attribute a relapse of `errorName` counts under. */
export function errorAttribute(errorName: string): string {
  const name = errorName.slice(0, MAX_ERROR_NAME_LENGTH) || 'unknown';
  return ERROR_ATTRIBUTE_PREFIX + name;
}

/** Reads a held failure's item (as `hold` writes it); `autoheal explain` and `history` read them too. */
export function heldFailureOf(item: Item): HeldFailure {
  return {
    executionArn: item[A.executionArn]?.S ?? '',
    stateMachineArn: item[A.stateMachineArn]?.S ?? '',
    redriveCount: num(item[A.redriveCount]) ?? 0,
    stopDate: num(item[A.stopDate]) ?? 0,
    errorName: item[A.errorName]?.S ?? '',
    heldAt: num(item[A.heldAt]),
    reportedNearExpiry: num(item[A.reportedNearExpiry]),
    status: item[A.status]?.S,
    startDate: num(item[A.startDate]),
    holds: num(item[A.holds]),
  };
}

/** Reads a breaker item into a view at `now`. */
export function viewOf(item: Item | undefined, windowMinutes: number, now: number): BreakerView {
  if (!item) return NEW_BREAKER;
  const buckets: WindowBucket[] = [];
  for (let slot = 0; slot < WINDOW_SLOTS; slot++) {
    const names = slotNames(slot);
    const start = num(item[names.start]);
    if (start === undefined) continue;
    buckets.push({
      start,
      relapses: num(item[names.relapses]) ?? 0,
      recoveries: num(item[names.recoveries]) ?? 0,
    });
  }
  const topErrors: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (!name.startsWith(ERROR_ATTRIBUTE_PREFIX)) continue;
    topErrors[name.slice(ERROR_ATTRIBUTE_PREFIX.length)] = num(value) ?? 0;
  }
  const state = item[A.state]?.S;
  const forced = item[A.forced]?.S;
  return {
    state: state === 'open' || state === 'half-open' ? state : 'closed',
    forced: forced === 'open' || forced === 'closed' ? forced : undefined,
    forcedBy: item[A.forcedBy]?.S,
    forcedAt: num(item[A.forcedAt]),
    forcedReason: item[A.forcedReason]?.S,
    openings: num(item[A.openings]) ?? 0,
    openedAt: num(item[A.openedAt]),
    halfOpenAt: num(item[A.halfOpenAt]),
    closedAt: num(item[A.closedAt]),
    version: num(item[A.version]) ?? 0,
    ...windowCounts(buckets, windowMinutes, now),
    topErrors,
    buckets,
  };
}

/** The view with one more signal counted in the bucket at `now` (what the store just wrote). */
function withSignal(
  view: BreakerView,
  kind: SignalKind,
  windowMinutes: number,
  now: number,
  errors: { readonly key?: string; readonly restart: boolean },
): BreakerView {
  const { slot, start } = bucketOf(now, windowMinutes);
  const buckets = view.buckets ?? [];
  const current = buckets.find((b) => b.start === start) ?? { start, relapses: 0, recoveries: 0 };
  const next = {
    start,
    relapses: current.relapses + (kind === 'relapse' ? 1 : 0),
    recoveries: current.recoveries + (kind === 'recovery' ? 1 : 0),
  };
  // The slot now holds the current bucket, whatever it held before.
  const kept = buckets.filter((b) => bucketOf(b.start, windowMinutes).slot !== slot);
  kept.push(next);
  let topErrors: Record<string, number> = { ...view.topErrors };
  if (errors.key !== undefined) {
    const name = errors.key.slice(ERROR_ATTRIBUTE_PREFIX.length);
    topErrors = errors.restart ? { [name]: topErrors[name] ?? 0 } : topErrors;
    topErrors[name] = (topErrors[name] ?? 0) + 1;
  }
  return { ...view, ...windowCounts(kept, windowMinutes, now), buckets: kept, topErrors };
}

/**
 * The breaker store on the healing state table.
 *
 * @example
 * ```ts
 * const store = createBreakerStore({ dynamodb: new DynamoDBClient({}), tableName: requireEnv(ENV.stateTable) });
 * const view = await store.read(stateMachineArn, Date.now());
 * ```
 */
export function createBreakerStore(deps: BreakerStoreDeps): KeeperBreakerStore {
  const { dynamodb, tableName } = deps;
  const keys = stateKeys(deps.keyPrefix);
  const optionsFor = deps.optionsFor ?? (() => DEFAULT_BREAKER_OPTIONS);
  const cacheMs = deps.cacheMs ?? 5000;
  const signalFreshMs = Math.min(deps.signalFreshMs ?? 1000, cacheMs);
  const cache = new Map<string, { view: BreakerView; readAt: number }>();

  const breakerKey = (machineArn: string): Item => {
    const key = keys.breaker(machineArn);
    return { [STATE_TABLE.partitionKey]: S(key.pk), [STATE_TABLE.sortKey]: S(key.sk) };
  };
  const heldKey = (
    held: Pick<HeldFailure, 'stateMachineArn' | 'stopDate' | 'executionArn'>,
  ): Item => ({
    [STATE_TABLE.partitionKey]: S(keys.heldPartition(held.stateMachineArn)),
    [STATE_TABLE.sortKey]: S(keys.heldSortKey(held.stopDate, held.executionArn)),
  });
  const registryKey = (machineArn: string): Item => ({
    [STATE_TABLE.partitionKey]: S(keys.watchedMachines),
    [STATE_TABLE.sortKey]: S(machineArn),
  });

  const readThrough = async (machineArn: string, now: number): Promise<BreakerView> => {
    const result = await dynamodb.send(
      new GetItemCommand({
        TableName: tableName,
        Key: breakerKey(machineArn),
        ConsistentRead: true,
      }),
    );
    const view = viewOf(result.Item, optionsFor(machineArn).windowMinutes, now);
    cache.set(machineArn, { view, readAt: now });
    return view;
  };

  const read: BreakerStore['read'] = async (machineArn, now, options) => {
    const cached = cache.get(machineArn);
    if (!options?.fresh && cached && now - cached.readAt < cacheMs && now >= cached.readAt) {
      return cached.view;
    }
    return readThrough(machineArn, now);
  };

  /** When this store last registered each machine (epoch ms). */
  const registeredAt = new Map<string, number>();

  const register = async (machineArn: string, now: number): Promise<void> => {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: registryKey(machineArn),
        UpdateExpression: 'SET #at = :now, #exp = :exp',
        ExpressionAttributeNames: { '#at': A.registeredAt, '#exp': STATE_TABLE.timeToLive },
        ExpressionAttributeValues: {
          ':now': N(now),
          ':exp': N(epochSeconds(now + REGISTRY_TTL_MS)),
        },
      }),
    );
    registeredAt.set(machineArn, now);
  };

  /**
   * The bucket update of one signal: add to the slot when it holds the
   * current bucket (`add`), else start the current bucket in it (`reset`).
   * A relapse also counts its error name (see {@link MAX_ERROR_NAMES}).
   */
  const bucketUpdate = (
    machineArn: string,
    view: BreakerView,
    kind: SignalKind,
    errorName: string,
    now: number,
    form: 'add' | 'reset',
  ) => {
    const { windowMinutes } = optionsFor(machineArn);
    const { slot, start } = bucketOf(now, windowMinutes);
    const slotAttr = slotNames(slot);
    const counter = kind === 'relapse' ? slotAttr.relapses : slotAttr.recoveries;
    const other = kind === 'relapse' ? slotAttr.recoveries : slotAttr.relapses;
    const names: Record<string, string> = { '#b': slotAttr.start, '#n': counter };
    const values: Item = { ':start': N(start), ':one': N(1) };
    const set: string[] = [];
    const add: string[] = [];
    const remove: string[] = [];
    let condition: string;
    if (form === 'add') {
      add.push('#n :one');
      condition = '#b = :start';
    } else {
      set.push('#b = :start', '#n = :one', '#o = :zero');
      names['#o'] = other;
      values[':zero'] = N(0);
      condition = 'attribute_not_exists(#b) OR #b < :start';
    }
    const errors: { key?: string; restart: boolean } = { restart: false };
    if (kind === 'relapse') {
      const known = Object.keys(view.topErrors).map((n) => ERROR_ATTRIBUTE_PREFIX + n);
      const wanted = errorAttribute(errorName);
      // A quiet window ends the error tally: the next storm's names are not crowded out by old ones.
      errors.restart = view.relapses === 0;
      errors.key =
        errors.restart || known.includes(wanted) || known.length < MAX_ERROR_NAMES
          ? wanted
          : ERROR_ATTRIBUTE_PREFIX + OTHER_ERRORS;
      names['#e'] = errors.key;
      add.push('#e :one');
      if (errors.restart) {
        known
          .filter((name) => name !== errors.key)
          .forEach((name, i) => {
            names[`#x${i}`] = name;
            remove.push(`#x${i}`);
          });
      }
    }
    const expression = [
      set.length ? `SET ${set.join(', ')}` : '',
      add.length ? `ADD ${add.join(', ')}` : '',
      remove.length ? `REMOVE ${remove.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    return {
      update: {
        TableName: tableName,
        Key: breakerKey(machineArn),
        UpdateExpression: expression,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
      errors,
    };
  };

  const recordSignal: BreakerStore['recordSignal'] = async (
    machineArn,
    failureKey,
    kind,
    errorName,
    now,
  ) => {
    const options = optionsFor(machineArn);
    const view = await read(machineArn, now);
    const signalKey = keys.signal(machineArn, failureKey);
    const signal: Item = {
      [STATE_TABLE.partitionKey]: S(signalKey.pk),
      [STATE_TABLE.sortKey]: S(signalKey.sk),
      [A.kind]: S(kind),
      [A.at]: N(now),
      [A.errorName]: S(errorName.slice(0, MAX_ERROR_NAME_LENGTH)),
      [STATE_TABLE.timeToLive]: N(
        epochSeconds(now + options.windowMinutes * 60_000 + SIGNAL_TTL_MARGIN_MS),
      ),
    };
    const { start } = bucketOf(now, options.windowMinutes);
    let form: 'add' | 'reset' = view.buckets?.some((b) => b.start === start) ? 'add' : 'reset';
    let slotMisses = 0;
    for (let attempt = 1; ; attempt++) {
      const { update, errors } = bucketUpdate(machineArn, view, kind, errorName, now, form);
      try {
        await dynamodb.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Put: {
                  TableName: tableName,
                  Item: signal,
                  ConditionExpression: 'attribute_not_exists(#pk)',
                  ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
                },
              },
              { Update: update },
            ],
          }),
        );
        const cached = cache.get(machineArn);
        // A recovery cannot open a closed breaker: only a relapse, or any signal while not
        // closed, needs the other environments' signals in the view.
        const matters = kind === 'relapse' || cached?.view.state !== 'closed';
        if (!cached || now < cached.readAt || (matters && now - cached.readAt >= signalFreshMs)) {
          // Read after the write: the view then holds every signal written before ours, so of
          // concurrent signals the last one's view crosses a threshold if they cross it together.
          return { counted: true, view: await readThrough(machineArn, now) };
        }
        const counted = withSignal(cached.view, kind, options.windowMinutes, now, errors);
        cache.set(machineArn, { view: counted, readAt: cached.readAt });
        return { counted: true, view: counted };
      } catch (error) {
        const reasons = (error as { CancellationReasons?: { Code?: string }[] })
          .CancellationReasons;
        const name = awsErrorName(error);
        if (name !== 'TransactionCanceledException' || !reasons) throw error;
        if (reasons[0]?.Code === 'ConditionalCheckFailed') {
          return { counted: false, view };
        }
        if (attempt >= SIGNAL_ATTEMPTS) {
          throw new RetryableError(
            `Could not count the ${kind} of ${failureKey} on the breaker of ${machineArn} after ${attempt} attempts (${reasons.map((r) => r.Code ?? 'None').join(', ')})`,
          );
        }
        if (reasons[1]?.Code === 'ConditionalCheckFailed') {
          slotMisses++;
          // Both forms refused: the slot holds a later bucket than `now`'s (a clock a window
          // behind): the window cannot hold this signal. Not counted, and not retried forever.
          if (slotMisses >= 3) return { counted: false, view };
          // The slot holds another bucket than the view said (another environment started it): switch form.
          form = form === 'add' ? 'reset' : 'add';
        } else if (reasons.some((r) => r.Code === 'ValidationError')) {
          throw error;
        } else {
          // TransactionConflict (another transaction on the hot item) or a throttle: back off a little.
          await new Promise((resolve) =>
            setTimeout(resolve, 10 * 2 ** attempt * (0.5 + Math.random())),
          );
        }
      }
    }
  };

  const transition: BreakerStore['transition'] = async (machineArn, from, to, now, detail) => {
    const names: Record<string, string> = { '#s': A.state, '#v': A.version };
    const values: Item = { ':to': S(to), ':one': N(1), ':now': N(now) };
    const set = ['#s = :to'];
    if (to === 'open') {
      names['#openings'] = A.openings;
      names['#at'] = A.openedAt;
      values[':openings'] = N(detail?.openings ?? from.openings + 1);
      set.push('#openings = :openings', '#at = :now');
    } else if (to === 'half-open') {
      names['#at'] = A.halfOpenAt;
      set.push('#at = :now');
    } else {
      names['#at'] = A.closedAt;
      set.push('#at = :now');
    }
    // The window restarts with the new state: in half-open it counts only what settled since.
    const remove: string[] = [];
    for (let slot = 0; slot < WINDOW_SLOTS; slot++) {
      const slotAttr = slotNames(slot);
      for (const [i, name] of [slotAttr.start, slotAttr.relapses, slotAttr.recoveries].entries()) {
        names[`#w${slot}_${i}`] = name;
        remove.push(`#w${slot}_${i}`);
      }
    }
    Object.keys(from.topErrors).forEach((name, i) => {
      names[`#e${i}`] = ERROR_ATTRIBUTE_PREFIX + name;
      remove.push(`#e${i}`);
    });
    let condition = '#v = :from';
    if (from.version === 0) condition = 'attribute_not_exists(#v)';
    else values[':from'] = N(from.version);
    try {
      const result = await dynamodb.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: breakerKey(machineArn),
          UpdateExpression: `SET ${set.join(', ')} ADD #v :one REMOVE ${remove.join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      cache.set(machineArn, {
        view: viewOf(result.Attributes, optionsFor(machineArn).windowMinutes, now),
        readAt: now,
      });
    } catch (error) {
      if (isConditionFailure(error)) {
        cache.delete(machineArn);
        return false;
      }
      throw error;
    }
    if (to !== 'closed') await register(machineArn, now);
    return true;
  };

  const hold: BreakerStore['hold'] = async (failure, now) => {
    // Registry first: a held failure is never left where the keeper does not look. In a storm
    // this environment registered the machine a moment ago: the keeper keeps a machine
    // registered within its race margin (a minute), far longer than REREGISTER_AFTER_MS.
    const last = registeredAt.get(failure.stateMachineArn);
    if (last === undefined || now - last >= REREGISTER_AFTER_MS || now < last) {
      await register(failure.stateMachineArn, now);
    }
    const item: Item = {
      ...heldKey(failure),
      [A.executionArn]: S(failure.executionArn),
      [A.stateMachineArn]: S(failure.stateMachineArn),
      [A.redriveCount]: N(failure.redriveCount),
      [A.stopDate]: N(failure.stopDate),
      [A.errorName]: S(failure.errorName.slice(0, 256)),
      [A.heldAt]: N(failure.heldAt ?? now),
      [A.status]: S(failure.status ?? 'FAILED'),
      [A.holds]: N(1),
      [STATE_TABLE.timeToLive]: N(epochSeconds(failure.stopDate + HELD_TTL_MS)),
    };
    if (failure.startDate !== undefined) item[A.startDate] = N(failure.startDate);
    // Two tries: the item may be released between a failed put and the update.
    for (let attempt = 1; ; attempt++) {
      try {
        await dynamodb.send(
          new PutItemCommand({
            TableName: tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
          }),
        );
        return;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      // Held already: a duplicate event, or the keeper's re-sent message met a breaker still
      // open before the keeper released the item. Keep the first hold's facts, but count this
      // hold, so the keeper's release (conditional on the count it read) leaves it held.
      try {
        await dynamodb.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: heldKey(failure),
            UpdateExpression: 'ADD #holds :one',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#holds': A.holds, '#pk': STATE_TABLE.partitionKey },
            ExpressionAttributeValues: { ':one': N(1) },
          }),
        );
        return;
      } catch (error) {
        if (!isConditionFailure(error) || attempt >= 2) throw error;
      }
    }
  };

  const queryHeld = async (
    machineArn: string,
    limit: number,
    stoppedBefore?: number,
  ): Promise<HeldFailure[]> => {
    const held: HeldFailure[] = [];
    const values: Item = { ':pk': S(keys.heldPartition(machineArn)) };
    let condition = '#pk = :pk';
    if (stoppedBefore !== undefined) {
      // Sort keys start with the stop time in ISO form, which sorts as the time does.
      condition += ' AND #sk < :before';
      values[':before'] = S(new Date(stoppedBefore).toISOString());
    }
    let startKey: Item | undefined;
    do {
      const page = await dynamodb.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: condition,
          ExpressionAttributeNames: {
            '#pk': STATE_TABLE.partitionKey,
            ...(stoppedBefore === undefined ? {} : { '#sk': STATE_TABLE.sortKey }),
          },
          ExpressionAttributeValues: values,
          ScanIndexForward: true,
          ConsistentRead: true,
          Limit: Math.max(1, limit - held.length),
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) held.push(heldFailureOf(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey && held.length < limit);
    return held.slice(0, limit);
  };

  const oldestHeld: BreakerStore['oldestHeld'] = (machineArn, limit) =>
    queryHeld(machineArn, limit);
  const heldBefore: KeeperBreakerStore['heldBefore'] = (machineArn, stoppedBefore, limit) =>
    queryHeld(machineArn, limit, stoppedBefore);

  const release: BreakerStore['release'] = async (_machineArn, held) => {
    try {
      await dynamodb.send(
        new DeleteItemCommand({
          TableName: tableName,
          Key: heldKey(held),
          // Only the hold that was read: one made since (a re-sent failure held again) stays.
          ConditionExpression:
            held.holds === undefined ? 'attribute_not_exists(#holds)' : '#holds = :holds',
          ExpressionAttributeNames: { '#holds': A.holds },
          ...(held.holds === undefined
            ? {}
            : { ExpressionAttributeValues: { ':holds': N(held.holds) } }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  };

  const machinesToWatch: BreakerStore['machinesToWatch'] = async () => {
    const machines: string[] = [];
    let startKey: Item | undefined;
    do {
      const page = await dynamodb.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
          ExpressionAttributeValues: { ':pk': S(keys.watchedMachines) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const arn = item[STATE_TABLE.sortKey]?.S;
        if (arn) machines.push(arn);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return machines;
  };

  const force: BreakerStore['force'] = async (machineArn, state, by, reason, now) => {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: breakerKey(machineArn),
        UpdateExpression:
          'SET #f = :f, #by = :by, #at = :now, #why = :why, #s = if_not_exists(#s, :closed) ADD #v :one',
        ExpressionAttributeNames: {
          '#f': A.forced,
          '#by': A.forcedBy,
          '#at': A.forcedAt,
          '#why': A.forcedReason,
          '#s': A.state,
          '#v': A.version,
        },
        ExpressionAttributeValues: {
          ':f': S(state),
          ':by': S(by),
          ':now': N(now),
          ':why': S(reason),
          ':closed': S('closed'),
          ':one': N(1),
        },
      }),
    );
    cache.delete(machineArn);
    await register(machineArn, now);
  };

  const releaseForce: BreakerStore['releaseForce'] = async (machineArn, now) => {
    await dynamodb
      .send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: breakerKey(machineArn),
          UpdateExpression: 'REMOVE #f, #by, #at, #why ADD #v :one',
          ConditionExpression: 'attribute_exists(#f)',
          ExpressionAttributeNames: {
            '#f': A.forced,
            '#by': A.forcedBy,
            '#at': A.forcedAt,
            '#why': A.forcedReason,
            '#v': A.version,
          },
          ExpressionAttributeValues: { ':one': N(1) },
        }),
      )
      .catch((error: unknown) => {
        // Nothing forced: releasing is a no-op.
        if (!isConditionFailure(error)) throw error;
      });
    cache.delete(machineArn);
    // The keeper looks again: a released breaker may have a backlog to drain or a cool-down to end.
    await register(machineArn, now);
  };

  const claimNearExpiry: KeeperBreakerStore['claimNearExpiry'] = async (held, now) => {
    try {
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: heldKey(held),
          UpdateExpression: 'SET #r = :now',
          ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#r)',
          ExpressionAttributeNames: { '#r': A.reportedNearExpiry, '#pk': STATE_TABLE.partitionKey },
          ExpressionAttributeValues: { ':now': N(now) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  };

  const unclaimNearExpiry: KeeperBreakerStore['unclaimNearExpiry'] = async (held) => {
    try {
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: heldKey(held),
          UpdateExpression: 'REMOVE #r',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#r': A.reportedNearExpiry, '#pk': STATE_TABLE.partitionKey },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  };

  const unwatch: KeeperBreakerStore['unwatch'] = async (machineArn, registeredBefore) => {
    try {
      await dynamodb.send(
        new DeleteItemCommand({
          TableName: tableName,
          Key: registryKey(machineArn),
          ConditionExpression: 'attribute_not_exists(#at) OR #at < :before',
          ExpressionAttributeNames: { '#at': A.registeredAt },
          ExpressionAttributeValues: { ':before': N(registeredBefore) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  };

  return {
    read,
    recordSignal,
    transition,
    hold,
    oldestHeld,
    heldBefore,
    release,
    machinesToWatch,
    force,
    releaseForce,
    claimNearExpiry,
    unclaimNearExpiry,
    unwatch,
  };
}
