/**
 * Parses and validates a `Step Functions Execution Status Change` event as it
 * arrives in an SQS message body. Nothing here calls AWS: a bad event is
 * rejected with an {@link InvalidInputError} naming the field before any call.
 */
import { SFN_EVENT } from '../shared/contract';
import { InvalidInputError } from '../shared/errors';
import { type MAX_FUTURE_SKEW_MS, rejectFutureTime } from '../shared/event-time';
import { parseEventEnvelope } from '../shared/eventbridge-envelope';
import { FieldChecker } from '../shared/fields';
import { parseExecutionArn, parseStateMachineArn } from '../shared/state-machine-names';

export { MAX_EVENT_BYTES } from '../shared/eventbridge-envelope';

const check = new FieldChecker((field, problem) => new InvalidInputError(field, problem));

/** The facts about one execution status change that the redrive decision needs. */
export interface ExecutionStatusChange {
  /** EventBridge event id: the correlation id in logs. */
  readonly eventId: string;
  /** The event's `source`: `aws.states`, or `autoheal.sweeper` for what the sweeper found. */
  readonly source: string;
  /** The event's `time`, epoch milliseconds; undefined when absent or not a date (then the facts are confirmed). */
  readonly eventTime: number | undefined;
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  /** `detail.status`, an open string: unknown statuses are ignored, not rejected. */
  readonly status: string;
  /** A child run of a Distributed Map: redriven through its parent. */
  readonly isMapRunChild: boolean;
  /** Undefined for events of the older format that lack the redrive fields. */
  readonly redriveCount: number | undefined;
  /** Open string: events also carry REDRIVE_IN_PROGRESS, which the API enum lacks. */
  readonly redriveStatus: string | undefined;
  readonly redriveStatusReason: string | undefined;
  /** Error name only; `cause` is deliberately not kept (it may echo execution data). */
  readonly errorName: string | undefined;
  /** Epoch milliseconds the execution stopped, when the event says. */
  readonly stopDate: number | undefined;
}

function optional<T>(value: unknown, read: (v: unknown) => T): T | undefined {
  return value === undefined || value === null ? undefined : read(value);
}

/**
 * Parses an SQS message body holding a Step Functions status-change event.
 *
 * @param now epoch milliseconds: a `stopDate` more than a few minutes after it
 *   ({@link MAX_FUTURE_SKEW_MS}) is invalid, not a failure to wait for
 * @throws {InvalidInputError} naming the first bad field
 * @example
 * ```ts
 * const change = parseExecutionStatusChange(record.body, Date.now());
 * ```
 */
export function parseExecutionStatusChange(body: string, now: number): ExecutionStatusChange {
  const { event } = parseEventEnvelope(
    body,
    [SFN_EVENT.source, SFN_EVENT.sweeperSource],
    [SFN_EVENT.detailType],
  );
  const eventId = check.string(event.id, 'id', { maxLength: 128 });
  const detail = check.object(event.detail, 'detail');

  const stateMachineArn = check.string(detail.stateMachineArn, 'detail.stateMachineArn', {
    maxLength: 2048,
  });
  const machine = parseStateMachineArn(stateMachineArn);
  if (!machine) {
    throw new InvalidInputError(
      'detail.stateMachineArn',
      'must be a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)',
    );
  }
  const executionArn = check.string(detail.executionArn, 'detail.executionArn', {
    maxLength: 2048,
  });
  const execution = parseExecutionArn(executionArn);
  if (execution?.kind === 'express') {
    // Express workflows emit no status events and RedriveExecution refuses them: this was forged or misrouted.
    throw new InvalidInputError(
      'detail.executionArn',
      'is an Express execution ARN; only Standard executions can be redriven',
    );
  }
  if (!execution) {
    throw new InvalidInputError(
      'detail.executionArn',
      'must be an execution ARN (arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME)',
    );
  }
  // Partition, region, account and machine name must agree, or the ARN was forged or mangled.
  const agree =
    execution.partition === machine.partition &&
    execution.region === machine.region &&
    execution.account === machine.account &&
    execution.stateMachineName === machine.stateMachineName;
  if (!agree) {
    throw new InvalidInputError('detail.executionArn', 'does not belong to detail.stateMachineArn');
  }

  const redriveCount = optional(detail.redriveCount, (v) =>
    check.number(v, 'detail.redriveCount', { min: 0, integer: true }),
  );
  const eventTime = typeof event.time === 'string' ? Date.parse(event.time) : Number.NaN;
  return {
    eventId,
    source: event.source as string,
    eventTime: Number.isNaN(eventTime) ? undefined : eventTime,
    executionArn,
    stateMachineArn,
    stateMachineName: machine.stateMachineName,
    status: check.string(detail.status, 'detail.status', { maxLength: 64 }),
    isMapRunChild: execution.mapRunLabel !== undefined || machine.mapRunLabel !== undefined,
    redriveCount,
    redriveStatus: optional(detail.redriveStatus, (v) =>
      check.string(v, 'detail.redriveStatus', { maxLength: 64 }),
    ),
    redriveStatusReason: optional(detail.redriveStatusReason, (v) =>
      check.string(v, 'detail.redriveStatusReason', { minLength: 0, maxLength: 4096 }),
    ),
    errorName: optional(detail.error, (v) =>
      check.string(v, 'detail.error', { minLength: 0, maxLength: 256 }),
    ),
    stopDate: optional(detail.stopDate, (v) =>
      rejectFutureTime(check.number(v, 'detail.stopDate', { min: 0 }), now, 'detail.stopDate'),
    ),
  };
}
