/**
 * Parses and validates a `Step Functions Execution Status Change` event as it
 * arrives in an SQS message body. Nothing here calls AWS: a bad event is
 * rejected with an {@link InvalidInputError} naming the field before any call.
 */
import { SFN_EVENT } from '../shared/contract';
import { InvalidInputError } from '../shared/errors';
import { parseEventEnvelope } from '../shared/eventbridge-envelope';
import { FieldChecker } from '../shared/fields';

export { MAX_EVENT_BYTES } from '../shared/eventbridge-envelope';

const check = new FieldChecker((field, problem) => new InvalidInputError(field, problem));

// Execution names exclude white space, `:` and `/`; a Distributed Map child run adds `/label` to the machine.
const STANDARD_EXECUTION_ARN =
  /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):execution:([A-Za-z0-9_-]{1,80})(\/[^:\s]+)?:([^:\s/]{1,80})$/;
const EXPRESS_EXECUTION_ARN =
  /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):express:([A-Za-z0-9_-]{1,80}):([^:\s/]{1,80}):[^:\s/]+$/;
// A Distributed Map child run may name its state machine as `NAME/LABEL`.
const STATE_MACHINE_ARN =
  /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):stateMachine:([A-Za-z0-9_-]{1,80})(\/[^:\s]+)?$/;

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
 * @throws {InvalidInputError} naming the first bad field
 */
export function parseExecutionStatusChange(body: string): ExecutionStatusChange {
  const { event } = parseEventEnvelope(
    body,
    [SFN_EVENT.source, SFN_EVENT.sweeperSource],
    [SFN_EVENT.detailType],
  );
  const eventId = check.string(event.id, 'id', { maxLength: 128 });
  const detail = check.object(event.detail, 'detail');

  const stateMachineArn = check.string(detail.stateMachineArn, 'detail.stateMachineArn', {
    maxLength: 2048,
    pattern: STATE_MACHINE_ARN,
    patternHint: 'a state machine ARN',
  });
  const executionArn = check.string(detail.executionArn, 'detail.executionArn', {
    maxLength: 2048,
  });
  if (EXPRESS_EXECUTION_ARN.test(executionArn)) {
    // Express workflows emit no status events and RedriveExecution refuses them: this was forged or misrouted.
    throw new InvalidInputError(
      'detail.executionArn',
      'is an Express execution ARN; only Standard executions can be redriven',
    );
  }
  const executionParts = STANDARD_EXECUTION_ARN.exec(executionArn);
  if (!executionParts) {
    throw new InvalidInputError(
      'detail.executionArn',
      'must be an execution ARN (arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME)',
    );
  }
  // Partition, region, account and machine name must agree, or the ARN was forged or mangled.
  const machineParts = STATE_MACHINE_ARN.exec(stateMachineArn) as RegExpExecArray;
  for (let i = 1; i <= 4; i++) {
    if (executionParts[i] !== machineParts[i]) {
      throw new InvalidInputError(
        'detail.executionArn',
        'does not belong to detail.stateMachineArn',
      );
    }
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
    stateMachineName: machineParts[4],
    status: check.string(detail.status, 'detail.status', { maxLength: 64 }),
    isMapRunChild: executionParts[5] !== undefined || machineParts[5] !== undefined,
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
    stopDate: optional(detail.stopDate, (v) => check.number(v, 'detail.stopDate', { min: 0 })),
  };
}
