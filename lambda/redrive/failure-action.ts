/**
 * The one idempotent action on one failure, shared by every path that acts on
 * a failure (the redrive handler, the operator CLI's bulk redrive): redrive it
 * with the failure's client token, or send its give-up or skip notice, at most
 * once per idempotency key, recorded under the redrive path's key prefix.
 *
 * Sharing it is what makes the paths agree: the same record key
 * (`idempotencyKeyPrefixes(prefix).redrive` + `#` + the idempotency key), the
 * same client token (`clientTokenFor(failureKey)`), the same outcome format.
 * A failure acted on by one path is a replay for every other one, even when
 * they run at the same moment (Powertools' conditional put: the second caller
 * gets `IdempotencyAlreadyInProgressError`, then the stored outcome).
 */
import { type IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { idempotencyKeyPrefixes } from '../shared/contract';
import { autohealIdempotencyConfig, type MaybeReplayed } from '../shared/idempotency';
import type { NoticeSender } from '../shared/notice-digest';
import { failureKey, type RedriveDecision, redriveIdempotencyKey } from './decide';
import { clientTokenFor, redriveExecution } from './execution-api';
import type { ExecutionStatusChange } from './failure-event';

/** The idempotent unit of work: what to do about one failure. Plain JSON. */
export interface FailureAction {
  /** The failure: `executionArn#redriveCount`; the RedriveExecution client token derives from it. */
  readonly failureKey: string;
  /**
   * The idempotency key: the failure key, marked when observing, so an observed
   * decision is never replayed once observe-only is switched off.
   */
  readonly idempotencyKey: string;
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly redriveCount: number;
  readonly action: 'redrive' | 'give-up' | 'skip';
  readonly reason: string;
  readonly detail: string;
  readonly errorName: string;
  readonly observeOnly: boolean;
}

/**
 * What happened to one failure; stored in the idempotency record (Powertools'
 * `data`, a DynamoDB map). Plain JSON.
 *
 * `failureKey`, `at` and `errorName` make the record readable on its own
 * (`autoheal history` reads the table, where the record's `id` is a hash):
 * which execution and failure, when, and why. Bounded: the failure key is an
 * execution ARN (names of at most 80 characters, so some 300 characters) and
 * a count; the error name is cut to {@link RECORDED_ERROR_NAME_LENGTH}. A
 * record stays well under 1 KB, one write unit. Records written before these
 * fields existed lack them.
 */
export interface FailureOutcome extends MaybeReplayed {
  readonly outcome: 'redriven' | 'observed' | 'gave-up' | 'skipped';
  readonly reason?: string;
  readonly redriveDate?: string;
  /** The failure acted on: `executionArn#redriveCount`. */
  readonly failureKey?: string;
  /** When the action was taken (ISO). */
  readonly at?: string;
  /** The failure's error name, cut to {@link RECORDED_ERROR_NAME_LENGTH} ('' when none). */
  readonly errorName?: string;
  /**
   * How the idempotency key differs from the failure key, when it does:
   * `#observe-only`, or `#manual` (the CLI's bulk redrive of a failure the
   * automatic path gave up on or skipped). Absent under the failure key itself.
   */
  readonly keyMark?: string;
}

/** Error names are cut to this length in the record (as on the breaker item). */
export const RECORDED_ERROR_NAME_LENGTH = 64;

/** The decisions that act on a failure (the others defer, describe or ignore). */
export type ActingDecision = Extract<RedriveDecision, { action: 'redrive' | 'give-up' | 'skip' }>;

/**
 * The action on one failure, from its (confirmed) facts and the decision on
 * them: keyed `executionArn#redriveCount`, marked when observed only.
 *
 * @example
 * ```ts
 * failureActionFor(change, { action: 'redrive', attempt: 2 }, false).idempotencyKey;
 * // 'arn:aws:states:…:execution:orders:run-1#1'
 * ```
 */
export function failureActionFor(
  change: ExecutionStatusChange,
  decision: ActingDecision,
  observeOnly: boolean,
): FailureAction {
  const redriveCount = change.redriveCount ?? 0;
  const key = failureKey(change.executionArn, redriveCount);
  return {
    failureKey: key,
    idempotencyKey: redriveIdempotencyKey(key, observeOnly),
    executionArn: change.executionArn,
    stateMachineArn: change.stateMachineArn,
    redriveCount,
    action: decision.action,
    reason: decision.action === 'redrive' ? 'eligible' : decision.reason,
    detail: decision.action === 'redrive' ? `attempt ${decision.attempt}` : decision.detail,
    errorName: change.errorName ?? '',
    observeOnly,
  };
}

/** What the failure action needs. */
export interface FailureActionDeps {
  /** The client to call Step Functions with about a state machine (a scope role's, or the default). */
  readonly sfnFor: (stateMachineArn: string) => SFNClient;
  /** Sends the give-up and skip notices (and the redrive-refused one). */
  readonly notices: NoticeSender;
  /** The redrive path's idempotency table, as a Powertools persistence layer. */
  readonly persistenceStore: BasePersistenceLayer;
  /**
   * The installation's idempotency key prefix (`AUTOHEAL_IDEMPOTENCY_KEY_PREFIX`).
   * @default 'autoheal'
   */
  readonly idempotencyKeyPrefix?: string;
  /** Epoch milliseconds; stamps the notices. */
  readonly now: () => number;
  /**
   * The idempotency config, keyed on `idempotencyKey`. A Lambda handler passes
   * the one it registers each invocation's context with, so an attempt cut off
   * by a timeout never blocks the retry.
   * @default autohealIdempotencyConfig('idempotencyKey')
   */
  readonly idempotencyConfig?: IdempotencyConfig;
}

/**
 * Builds the idempotent action on one failure. `deadline` (epoch ms, how long
 * throttling may be waited out) is not part of the idempotency key: only the
 * request's `idempotencyKey` is.
 *
 * @example
 * ```ts
 * const actOnce = createFailureAction({ sfnFor: () => sfn, notices, persistenceStore, now: Date.now });
 * const outcome = await actOnce(action, Date.now() + 10_000);
 * if (outcome.replayed) console.log('already handled:', outcome.outcome);
 * ```
 */
export function createFailureAction(
  deps: FailureActionDeps,
): (request: FailureAction, deadline: number) => Promise<FailureOutcome> {
  const { sfnFor, notices, now } = deps;

  /** The side effect for one failure, and what the record says about it. Runs at most once per idempotency key. */
  const act = async (request: FailureAction, deadline: number): Promise<FailureOutcome> => ({
    ...(await actOn(request, deadline)),
    failureKey: request.failureKey,
    at: new Date(now()).toISOString(),
    errorName: request.errorName.slice(0, RECORDED_ERROR_NAME_LENGTH),
    ...(request.idempotencyKey !== request.failureKey &&
    request.idempotencyKey.startsWith(request.failureKey)
      ? {
          keyMark: request.idempotencyKey.slice(
            request.failureKey.length,
            request.failureKey.length + 32,
          ),
        }
      : {}),
  });

  const actOn = async (request: FailureAction, deadline: number): Promise<FailureOutcome> => {
    const facts = {
      executionArn: request.executionArn,
      stateMachineArn: request.stateMachineArn,
      redriveCount: request.redriveCount,
      error: request.errorName,
      detail: request.detail,
      observeOnly: request.observeOnly,
    };
    if (request.action === 'redrive') {
      if (request.observeOnly) return { outcome: 'observed', reason: 'observe-only' };
      const result = await redriveExecution(
        sfnFor(request.stateMachineArn),
        request.executionArn,
        clientTokenFor(request.failureKey),
        { deadline },
      );
      if (result.outcome === 'redriven')
        return { outcome: 'redriven', redriveDate: result.redriveDate };
      await notices.send(
        {
          kind: 'redrive-skipped',
          reason: 'redrive-refused',
          subject: `Autoheal could not redrive ${request.executionArn.split(':').at(-1)}`,
          facts: { ...facts, detail: `RedriveExecution answered ${result.errorName}` },
        },
        request.executionArn,
        now(),
      );
      return { outcome: 'skipped', reason: `redrive-refused:${result.errorName}` };
    }
    const gaveUp = request.action === 'give-up';
    await notices.send(
      {
        kind: gaveUp ? 'redrive-gave-up' : 'redrive-skipped',
        reason: request.reason,
        subject: `Autoheal ${gaveUp ? 'gave up on' : 'will not redrive'} ${request.executionArn.split(':').at(-1)}`,
        facts,
      },
      request.executionArn,
      now(),
    );
    return { outcome: gaveUp ? 'gave-up' : 'skipped', reason: request.reason };
  };

  return makeIdempotent(act, {
    persistenceStore: deps.persistenceStore,
    config: deps.idempotencyConfig ?? autohealIdempotencyConfig('idempotencyKey'),
    keyPrefix: idempotencyKeyPrefixes(deps.idempotencyKeyPrefix).redrive,
  });
}
