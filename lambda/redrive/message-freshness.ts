/**
 * Whether the facts a work-queue message carries (status, redriveCount, error,
 * stopDate) can be acted on as they are, or may be out of date and must be
 * confirmed with DescribeExecution first.
 *
 * RedriveExecution redrives whatever the execution's current failure is. A
 * message replayed days later, or written by hand, can say `redriveCount 0`
 * for an execution that is now at 5: acted on as it stands, it would redrive
 * the current failure past `maxRedrives`, the delay and the deny list. So a
 * message whose facts may be stale is decided on the execution's current state.
 *
 * A message may be stale when one of these holds (checked in this order):
 *
 * 1. `dead-letter-replay`: it carries the marks of a dead-letter queue: Autoheal's
 *    `autoheal-parked-reason` or `autoheal-replayed` (set by `autoheal dlq replay`,
 *    which does not carry the parked marks), EventBridge's DLQ attributes (`ERROR_CODE`,
 *    `ERROR_MESSAGE`, `RULE_ARN`, `TARGET_ARN`, ...) or SQS's
 *    `DeadLetterQueueSourceArn` system attribute. An SQS DLQ redrive moves a
 *    message as a new message (new id, new SentTimestamp), so its arrival time
 *    says nothing; its message attributes are what travel with it.
 * 2. `confirmation-pending`: Autoheal itself deferred it after confirming a
 *    stale message; the body still holds the old facts, so its hop is
 *    confirmed again when it comes due.
 * 3. `sender-not-autoheal`: it claims to come from Autoheal (the sweeper's
 *    source, or Autoheal's provenance attributes) but was not sent by one of
 *    Autoheal's roles. SQS reports a role's messages as `ROLEID:session`, so
 *    Autoheal's own messages can be recognised by their role id. Messages
 *    EventBridge delivers through the queue policy carry a sender id that SQS
 *    does not document, so a message claiming to come from the rule cannot be
 *    proven by its sender; the queue policy decides who may send at all.
 * 4. `facts-too-old`: its event `time` is older than {@link FACTS_MAX_AGE_MS},
 *    or, for Autoheal's own deferral hops, older than that plus the longest
 *    delay Autoheal defers by. A hop is expected to be as old as its delay, so
 *    legitimately deferred redrives are not confirmed (DescribeExecution's
 *    quota, 10 a second in most regions, is 15 times below RedriveExecution's).
 *
 * Pure: no I/O, no clock.
 */
import type { SQSRecord } from 'aws-lambda';
import { MESSAGE_ATTRIBUTES, SFN_EVENT } from '../shared/contract';

/**
 * How old an event's facts may be and still be acted on without confirmation:
 * 15 minutes. EventBridge delivers to SQS within seconds, and a message the
 * handler fails on is received at most `maxReceiveCount` (5) times, one
 * visibility timeout (180 s) apart: 15 minutes covers a healthy first delivery
 * and all its retries. A message older than that has been somewhere else (an
 * EventBridge retry backlog of up to 24 h, a consumer outage, a replay), and the
 * execution may have moved on meanwhile.
 */
export const FACTS_MAX_AGE_MS = 15 * 60 * 1000;

/**
 * Message attributes EventBridge adds to an event it could not deliver and sent
 * to the rule target's dead-letter queue (Autoheal's DLQ is that queue).
 */
export const EVENTBRIDGE_DLQ_ATTRIBUTES = [
  'ERROR_CODE',
  'ERROR_MESSAGE',
  'EXHAUSTED_RETRY_CONDITION',
  'RETRY_ATTEMPTS',
  'RULE_ARN',
  'TARGET_ARN',
] as const;

/** Why a message's facts may be out of date. */
export type StaleReason =
  | 'dead-letter-replay'
  | 'confirmation-pending'
  | 'sender-not-autoheal'
  | 'facts-too-old';

export type Freshness =
  | { readonly fresh: true }
  | { readonly fresh: false; readonly reason: StaleReason; readonly detail: string };

/** What of the event the judgement needs. */
export interface EventOrigin {
  /** The event's `source`: `aws.states`, or `autoheal.sweeper` for the sweeper's messages. */
  readonly source: string;
  /** The event's `time` in epoch milliseconds; undefined when absent or not a date. */
  readonly eventTime: number | undefined;
}

export interface FreshnessOptions {
  /** Epoch milliseconds. */
  readonly now: number;
  /**
   * IAM role ids (`AROA...`) of the Autoheal roles that send to the work queue:
   * the redrive handler (deferral hops) and the sweeper. Empty turns the sender
   * check off (only for handlers run outside the construct, e.g. tests).
   */
  readonly autohealRoleIds: readonly string[];
  /** The longest delay Autoheal defers a failure by (the policy's `delay.capSeconds`), in ms. */
  readonly maxDeferralMs: number;
}

const FRESH: Freshness = { fresh: true };

function hasAttribute(record: SQSRecord, name: string): boolean {
  return record.messageAttributes?.[name] !== undefined;
}

/** The role id of a role's sender id (`AROA...:session`); a user's or service's id as it is. */
function senderRoleId(record: SQSRecord): string {
  return (record.attributes?.SenderId ?? '').split(':')[0];
}

/**
 * Judges whether the facts in `record` may be stale.
 *
 * @example
 * ```ts
 * const freshness = judgeFreshness(record, change, { now: Date.now(), autohealRoleIds, maxDeferralMs });
 * if (!freshness.fresh) {
 *   // DescribeExecution, then decide on the execution's current state
 * }
 * ```
 */
export function judgeFreshness(
  record: SQSRecord,
  origin: EventOrigin,
  options: FreshnessOptions,
): Freshness {
  const dlqMark = [
    MESSAGE_ATTRIBUTES.parkedReason,
    MESSAGE_ATTRIBUTES.replayed,
    ...EVENTBRIDGE_DLQ_ATTRIBUTES,
  ].find((name) => hasAttribute(record, name));
  if (dlqMark !== undefined || record.attributes?.DeadLetterQueueSourceArn !== undefined) {
    return {
      fresh: false,
      reason: 'dead-letter-replay',
      detail: `the message carries ${dlqMark ?? 'DeadLetterQueueSourceArn'}: it was replayed from a dead-letter queue`,
    };
  }
  if (hasAttribute(record, MESSAGE_ATTRIBUTES.unconfirmed)) {
    return {
      fresh: false,
      reason: 'confirmation-pending',
      detail: 'a deferral of a message whose facts were stale',
    };
  }

  const claimsAutoheal =
    origin.source === SFN_EVENT.sweeperSource ||
    hasAttribute(record, MESSAGE_ATTRIBUTES.deferrals) ||
    hasAttribute(record, MESSAGE_ATTRIBUTES.origin) ||
    hasAttribute(record, MESSAGE_ATTRIBUTES.originMessageId);
  if (
    claimsAutoheal &&
    options.autohealRoleIds.length > 0 &&
    !options.autohealRoleIds.includes(senderRoleId(record))
  ) {
    return {
      fresh: false,
      reason: 'sender-not-autoheal',
      detail: 'the message claims to come from Autoheal but was not sent by an Autoheal role',
    };
  }

  if (origin.eventTime === undefined) {
    return { fresh: false, reason: 'facts-too-old', detail: 'the event has no valid time' };
  }
  const isDeferral = hasAttribute(record, MESSAGE_ATTRIBUTES.deferrals);
  const maxAgeMs = FACTS_MAX_AGE_MS + (isDeferral ? options.maxDeferralMs : 0);
  const ageMs = options.now - origin.eventTime;
  if (ageMs > maxAgeMs) {
    return {
      fresh: false,
      reason: 'facts-too-old',
      detail: `the event is ${Math.round(ageMs / 60_000)} min old; facts older than ${Math.round(maxAgeMs / 60_000)} min are confirmed`,
    };
  }
  return FRESH;
}
