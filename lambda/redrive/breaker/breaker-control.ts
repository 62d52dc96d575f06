/**
 * Manual control of the storm brake, for operators (the operator CLI calls
 * these): force a state machine's breaker open or closed, release it, and
 * describe it.
 *
 * ## The record
 *
 * A machine's breaker is one item of the healing state table
 * (`AUTOHEAL_STATE_TABLE`), key `pk` = `PREFIX#breaker#STATE_MACHINE_ARN`,
 * `sk` = `state` (PREFIX is the installation's idempotency key prefix,
 * `autoheal` by default; see `stateKeys` in `lambda/shared/contract.ts`).
 * A forced state is four attributes on it:
 *
 * | attribute | type | meaning |
 * | --- | --- | --- |
 * | `forced` | S | `open` (never redrive; hold every failure) or `closed` (always redrive; drain the held backlog) |
 * | `forcedBy` | S | who forced it (free text, e.g. an IAM principal or a ticket) |
 * | `forcedAt` | N | epoch milliseconds |
 * | `forcedReason` | S | why |
 *
 * Forcing bumps the item's `version` (so a transition computed before it
 * loses its race) and registers the machine with the brake keeper. The forced
 * state wins over the computed one (`breakerState`) until it is released; the
 * computed state is kept and frozen meanwhile, and applies again on release.
 * Writing the attributes by hand (e.g. `aws dynamodb update-item`) has the
 * same effect, except that the keeper only looks at a registered machine.
 *
 * Needs `dynamodb:UpdateItem` (force, release) and `dynamodb:GetItem`,
 * `dynamodb:Query` (describe) on the table.
 */
import { InvalidInputError } from '../../shared/errors';
import { parseStateMachineArn } from '../../shared/state-machine-names';
import {
  type BreakerOptions,
  type BreakerState,
  type BreakerView,
  DEFAULT_BREAKER_OPTIONS,
  evaluateBreaker,
  type ForcedState,
} from './breaker-policy';
import type { BreakerStore, HeldFailure } from './breaker-store';

/** Who forces a breaker and why. */
export interface ForceRequest {
  /** Who forces it: an IAM principal, a user name, a ticket. */
  readonly by: string;
  /** Why, for whoever looks at it later. */
  readonly reason: string;
  /**
   * Epoch milliseconds of the force.
   * @default Date.now()
   */
  readonly now?: number;
}

/** A breaker as an operator sees it. */
export interface BreakerDescription {
  readonly stateMachineArn: string;
  /** What the redrive handler does now: redrive only when `closed`. */
  readonly effectiveState: BreakerState;
  /** The computed state, frozen while a state is forced. */
  readonly computedState: BreakerState;
  readonly forced?: {
    readonly state: ForcedState;
    readonly by?: string;
    readonly at?: string;
    readonly reason?: string;
  };
  readonly openings: number;
  readonly openedAt?: string;
  readonly halfOpenAt?: string;
  readonly closedAt?: string;
  /** Relapses and recoveries in the current window. */
  readonly relapses: number;
  readonly recoveries: number;
  readonly topErrors: Readonly<Record<string, number>>;
  /** When the cool-down ends (open, half-open). */
  readonly cooldownEndsAt?: string;
  /** The oldest held failures, at most `heldSample`. */
  readonly oldestHeld: readonly HeldFailure[];
}

const MAX_TEXT = 512;

function checkMachine(stateMachineArn: string): void {
  if (typeof stateMachineArn !== 'string' || !parseStateMachineArn(stateMachineArn)) {
    throw new InvalidInputError(
      'stateMachineArn',
      'must be a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)',
    );
  }
}

function checkText(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_TEXT) {
    throw new InvalidInputError(
      field,
      `must be a non-empty string of at most ${MAX_TEXT} characters`,
    );
  }
}

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

/**
 * Forces a state machine's breaker open (hold every failure, never redrive)
 * or closed (redrive as if there were no breaker, and drain what is held)
 * until {@link releaseBreaker}. Bad input throws an `InvalidInputError` naming
 * the field, before any AWS call.
 *
 * @example
 * ```ts
 * await forceBreaker(store, 'arn:aws:states:eu-west-1:123456789012:stateMachine:orders', 'open', {
 *   by: 'alice', reason: 'payments API maintenance until 14:00',
 * });
 * ```
 */
export async function forceBreaker(
  store: BreakerStore,
  stateMachineArn: string,
  state: ForcedState,
  request: ForceRequest,
): Promise<void> {
  checkMachine(stateMachineArn);
  if (state !== 'open' && state !== 'closed') {
    throw new InvalidInputError('state', "must be 'open' or 'closed'");
  }
  checkText(request?.by, 'by');
  checkText(request?.reason, 'reason');
  await store.force(stateMachineArn, state, request.by, request.reason, request.now ?? Date.now());
}

/**
 * Releases a forced breaker: the computed state applies again (an open one
 * past its cool-down goes half-open at the keeper's next run). Releasing a
 * breaker that is not forced does nothing.
 *
 * @example
 * ```ts
 * await releaseBreaker(store, 'arn:aws:states:eu-west-1:123456789012:stateMachine:orders');
 * ```
 */
export async function releaseBreaker(
  store: BreakerStore,
  stateMachineArn: string,
  options: { readonly now?: number } = {},
): Promise<void> {
  checkMachine(stateMachineArn);
  await store.releaseForce(stateMachineArn, options.now ?? Date.now());
}

/**
 * Describes a state machine's breaker: effective and computed state, forced
 * state, window counts, cool-down and the oldest held failures.
 *
 * @param options.breaker the machine's breaker options @default DEFAULT_BREAKER_OPTIONS
 * @param options.heldSample held failures listed @default 10
 * @example
 * ```ts
 * const description = await describeBreaker(store, stateMachineArn, { breaker: optionsFor(stateMachineArn) });
 * console.log(description.effectiveState, description.oldestHeld.length);
 * ```
 */
export async function describeBreaker(
  store: BreakerStore,
  stateMachineArn: string,
  options: {
    readonly breaker?: BreakerOptions;
    readonly now?: number;
    readonly heldSample?: number;
  } = {},
): Promise<BreakerDescription> {
  checkMachine(stateMachineArn);
  const now = options.now ?? Date.now();
  const view: BreakerView = await store.read(stateMachineArn, now, { fresh: true });
  const verdict = evaluateBreaker(view, options.breaker ?? DEFAULT_BREAKER_OPTIONS, now);
  const oldestHeld = await store.oldestHeld(stateMachineArn, options.heldSample ?? 10);
  return {
    stateMachineArn,
    effectiveState: verdict.state,
    computedState: view.state,
    forced: view.forced
      ? { state: view.forced, by: view.forcedBy, at: iso(view.forcedAt), reason: view.forcedReason }
      : undefined,
    openings: view.openings,
    openedAt: iso(view.openedAt),
    halfOpenAt: iso(view.halfOpenAt),
    closedAt: iso(view.closedAt),
    relapses: verdict.relapses,
    recoveries: verdict.recoveries,
    topErrors: view.topErrors,
    cooldownEndsAt: iso(verdict.cooldownEndsAt),
    oldestHeld,
  };
}
