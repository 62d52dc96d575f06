/**
 * The redrive handler's rule from a parsed event to a decision, as pure
 * functions the handler and `autoheal explain` both call: the scope check the
 * handler makes while parsing, the effective policy, the live-since time per
 * status, the decision, and when the facts must be (re)read from
 * DescribeExecution first. No I/O, no clock: one copy of the flow, so the CLI
 * cannot explain a decision the handler would not make.
 */
import {
  isStateMachineInScope,
  policyFor,
  type RedriveHandlerConfig,
  type RedrivePolicy,
} from '../shared/config/redrive-config';
import { InvalidInputError } from '../shared/errors';
import { decideRedrive, type RedriveDecision } from './decide';
import type { ExecutionStatusChange } from './failure-event';
import { type LiveSinceDocument, liveSinceOf } from './live-healing';
import type { Freshness } from './message-freshness';

/**
 * DescribeExecution answered ExecutionDoesNotExist: a recorded skip with a notice.
 * The decision that replaces any other when the execution is gone.
 */
export const EXECUTION_NOT_FOUND: Extract<RedriveDecision, { action: 'skip' }> = {
  action: 'skip',
  reason: 'execution-not-found',
  detail:
    'DescribeExecution answered ExecutionDoesNotExist (the execution or its state machine was deleted, or the ARN is not one Step Functions knows)',
};

/**
 * The error the handler parks an out-of-scope event with, or undefined when
 * the state machine is in the deployed scope.
 *
 * @param statesArnPrefix `arn:PARTITION:states:REGION:ACCOUNT:` of the deployment
 * @example
 * ```ts
 * const error = outOfScopeError(config, change.stateMachineArn, statesArnPrefix);
 * if (error) throw error;
 * ```
 */
export function outOfScopeError(
  config: RedriveHandlerConfig,
  stateMachineArn: string,
  statesArnPrefix: string,
): InvalidInputError | undefined {
  if (isStateMachineInScope(config, stateMachineArn, statesArnPrefix)) return undefined;
  return new InvalidInputError(
    'detail.stateMachineArn',
    `is not in the scope Autoheal was deployed for (the configured ARNs, or the name prefixes under ${statesArnPrefix})`,
  );
}

/** A decision with what it was made under. */
export interface RuledDecision {
  /** The state machine's effective policy (the defaults plus its override, if any). */
  readonly policy: RedrivePolicy;
  /** Epoch ms since which the machine has been under live healing for this status, if it is. */
  readonly liveSince: number | undefined;
  readonly decision: RedriveDecision;
}

/**
 * Decides on one set of facts as the redrive handler does: the effective
 * policy of the machine, its live-since time for the facts' status, then
 * {@link decideRedrive}.
 *
 * @param liveSinceDocument the document the handler holds (already checked
 *   against the config with `documentForConfig`)
 * @param now epoch milliseconds
 * @example
 * ```ts
 * const { decision, policy } = decideOnFacts(config, document, change, Date.now());
 * ```
 */
export function decideOnFacts(
  config: RedriveHandlerConfig,
  liveSinceDocument: LiveSinceDocument,
  change: ExecutionStatusChange,
  now: number,
): RuledDecision {
  const policy = policyFor(config, change.stateMachineName);
  // Per status: a confirmed status may differ from the message's.
  const liveSince = liveSinceOf(
    liveSinceDocument,
    config,
    { arn: change.stateMachineArn, name: change.stateMachineName },
    change.status,
  );
  return { policy, liveSince, decision: decideRedrive(change, policy, now, liveSince) };
}

/**
 * Whether the handler confirms the facts with DescribeExecution before it
 * acts on a message that may be stale. Ignoring never acts, so stale facts
 * that say "nothing to do" need no confirmation. (A `describe` decision,
 * an event lacking the redrive fields, is described whatever this says.)
 *
 * @example
 * ```ts
 * if (decision.action === 'describe' || mustConfirm(decision, freshness)) await describe();
 * ```
 */
export function mustConfirm(decision: RedriveDecision, freshness: Freshness): boolean {
  return !freshness.fresh && decision.action !== 'ignore';
}
