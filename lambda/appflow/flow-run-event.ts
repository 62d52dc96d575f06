/**
 * Parses and validates the AppFlow events the flow healer acts on, as they
 * arrive in an SQS message body: `AppFlow End Flow Run Report` (a run ended)
 * and `AppFlow Scheduled Flow Deactivated`. Nothing here calls AWS: a bad
 * event is rejected with an {@link InvalidInputError} naming the field.
 *
 * Only what the healing decision needs is kept. The run's `error` text and its
 * record counts are never read into the result: they can echo flow data.
 */
import { FLOW_NAME } from '../shared/config/appflow-config';
import { APPFLOW_EVENT } from '../shared/contract';
import { InvalidInputError } from '../shared/errors';
import { type MAX_FUTURE_SKEW_MS, rejectFutureTime } from '../shared/event-time';
import { parseEventEnvelope } from '../shared/eventbridge-envelope';
import { FieldChecker } from '../shared/fields';

export { MAX_EVENT_BYTES } from '../shared/eventbridge-envelope';

const check = new FieldChecker((field, problem) => new InvalidInputError(field, problem));

/**
 * An ISO 8601 date-time with an explicit zone (`Z` or an offset), seconds
 * optional: what EventBridge writes in `time`, and what AppFlow writes in
 * `end-time` once its `[Zone]` suffix is removed (Java omits zero seconds).
 * A zone is required, because `Date.parse` reads a zoneless date-time as local time.
 */
const ZONED_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
/** The region id AppFlow appends to its times, e.g. `[UTC]` (Java's ZonedDateTime format). */
const ZONE_SUFFIX = /\[[^[\]]{1,64}\]$/;

/** A run of a flow ended, successfully or not. */
export interface FlowRunEnded {
  readonly kind: 'run-ended';
  /** EventBridge event id: the correlation id in logs. */
  readonly eventId: string;
  readonly flowName: string;
  readonly executionId: string;
  /** `detail.trigger-type` as sent, e.g. `ONDEMAND` or `SCHEDULED` (open string). */
  readonly triggerType: string;
  /** `detail.status`, e.g. `Execution Successful` (open string). */
  readonly status: string;
  /** Epoch milliseconds the run ended (`detail.end-time`, else the event time). */
  readonly endedAt: number;
}

/** AppFlow deactivated a scheduled flow after repeated failed runs. */
export interface FlowDeactivated {
  readonly kind: 'deactivated';
  /** EventBridge event id: the correlation id in logs. */
  readonly eventId: string;
  readonly flowName: string;
  /** Epoch milliseconds of the deactivation (the event time). */
  readonly deactivatedAt: number;
}

export type FlowEvent = FlowRunEnded | FlowDeactivated;

/** Epoch milliseconds of a zoned ISO date-time, or NaN when it is not one. */
function parseZonedDateTime(value: string): number {
  const withoutZoneId = value.replace(ZONE_SUFFIX, '');
  return ZONED_DATE_TIME.test(withoutZoneId) ? Date.parse(withoutZoneId) : Number.NaN;
}

/** A time that already happened: a zoned date-time no more than a few minutes after `now`. */
function readTime(value: unknown, field: string, what: string, now: number): number {
  const text = check.string(value, field, { maxLength: 100 });
  const epochMs = parseZonedDateTime(text);
  if (Number.isNaN(epochMs)) {
    throw new InvalidInputError(field, `must be ${what}, got ${JSON.stringify(text)}`);
  }
  return rejectFutureTime(epochMs, now, field);
}

/**
 * Parses an SQS message body holding an AppFlow run-report or deactivation event.
 *
 * @param now epoch milliseconds: a `time` or `detail.end-time` more than a few
 *   minutes after it ({@link MAX_FUTURE_SKEW_MS}) is invalid, since every delay
 *   counts from it and would never come due
 * @throws {InvalidInputError} naming the first bad field
 * @example
 * ```ts
 * const event = parseFlowEvent(record.body, Date.now());
 * if (event.kind === 'run-ended') event.executionId;
 * ```
 */
export function parseFlowEvent(body: string, now: number): FlowEvent {
  const { event, detailType } = parseEventEnvelope(body, APPFLOW_EVENT.source, [
    APPFLOW_EVENT.endReport,
    APPFLOW_EVENT.deactivated,
  ]);
  const eventId = check.string(event.id, 'id', { maxLength: 128 });
  const time = readTime(event.time, 'time', 'an ISO 8601 date-time with a zone', now);
  const detail = check.object(event.detail, 'detail');
  const flowName = check.string(detail['flow-name'], 'detail.flow-name', {
    maxLength: 256,
    pattern: FLOW_NAME,
    patternHint: 'an AppFlow flow name (letters, digits, _ ! @ # . -; no spaces)',
  });

  if (detailType === APPFLOW_EVENT.deactivated) {
    return { kind: 'deactivated', eventId, flowName, deactivatedAt: time };
  }

  const endTime = detail['end-time'];
  return {
    kind: 'run-ended',
    eventId,
    flowName,
    executionId: check.string(detail['execution-id'], 'detail.execution-id', { maxLength: 256 }),
    triggerType: check.string(detail['trigger-type'], 'detail.trigger-type', { maxLength: 64 }),
    status: check.string(detail.status, 'detail.status', { maxLength: 256 }),
    endedAt:
      endTime === undefined || endTime === null
        ? time
        : readTime(
            endTime,
            'detail.end-time',
            'an ISO 8601 date-time, e.g. 2026-03-02T09:49:24.512Z[UTC]',
            now,
          ),
  };
}
