/**
 * Loads the `Step Functions Execution Status Change` events in
 * test/fixtures/events and turns them into SQS message bodies and records.
 *
 * Every function returns a fresh deep copy: a test can change what it gets
 * without affecting any other test.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSRecord } from 'aws-lambda';
import { NAME_CHARACTER } from '../../lambda/shared/state-machine-names';

/** One fixture per case; the file is `test/fixtures/events/<name>.json`. */
export const EVENT_FIXTURES = [
  'failed-redrivable',
  'timed-out',
  'aborted',
  'failed-deterministic-error',
  'failed-max-redrives',
  'failed-not-redrivable',
  'older-format-no-redrive-fields',
  'running-redrive-in-progress',
  'succeeded',
  'pending-redrive',
  'stopped-15-days-ago',
  'map-run-child',
] as const;
/** Fixtures of events that look real but must be rejected as invalid input. */
export const INVALID_EVENT_FIXTURES = ['express-execution'] as const;
export type EventFixture =
  | (typeof EVENT_FIXTURES)[number]
  | (typeof INVALID_EVENT_FIXTURES)[number];

/**
 * A clock reading after every fixture event (Step Functions and AppFlow) happened (they all date from
 * 2026-03-02): what the parser is given as `now` when a test is not about time.
 */
export const AFTER_EVERY_FIXTURE = Date.parse('2026-03-03T00:00:00Z');

/** `detail` of a status-change event, as Step Functions sends it. */
export interface StatusChangeDetail {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: string;
  startDate: number;
  stopDate: number | null;
  input: string | null;
  inputDetails: { included: boolean } | null;
  output: string | null;
  outputDetails: { included: boolean } | null;
  stateMachineVersionArn?: string | null;
  stateMachineAliasArn?: string | null;
  /** Absent in events of the older format. */
  redriveCount?: number;
  redriveDate?: number | null;
  redriveStatus?: string;
  redriveStatusReason?: string | null;
  error: string | null;
  cause: string | null;
}

/** The EventBridge envelope of a status-change event. */
export interface StatusChangeEvent {
  version: string;
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: StatusChangeDetail;
}

/**
 * Field changes: a value replaces the field (even with a wrongly typed value,
 * which is how malformed events are built); `undefined` removes the field.
 */
export type FieldChanges = Record<string, unknown>;

const EVENTS_DIR = join(__dirname, '..', 'fixtures', 'events');

/** A fresh copy of the named fixture event. */
export function loadEvent(name: EventFixture): StatusChangeEvent {
  return JSON.parse(readFileSync(join(EVENTS_DIR, `${name}.json`), 'utf8')) as StatusChangeEvent;
}

function applyChanges<T extends object>(target: T, changes: FieldChanges): T {
  const copy = structuredClone(target) as Record<string, unknown>;
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete copy[key];
    else copy[key] = structuredClone(value);
  }
  return copy as T;
}

/** A deep copy of `event` with envelope fields changed (`undefined` removes a field). */
export function withEnvelope(event: StatusChangeEvent, changes: FieldChanges): StatusChangeEvent {
  return applyChanges(event, changes);
}

/** A deep copy of `event` with `detail` fields changed (`undefined` removes a field). */
export function withDetail(event: StatusChangeEvent, changes: FieldChanges): StatusChangeEvent {
  return { ...structuredClone(event), detail: applyChanges(event.detail, changes) };
}

/** A deep copy of `event` moved to another state machine of the same account and region. */
export function onStateMachine(event: StatusChangeEvent, machineName: string): StatusChangeEvent {
  const rename = (arn: string, kind: 'execution' | 'stateMachine'): string =>
    arn.replace(new RegExp(`:${kind}:${NAME_CHARACTER}+`, 'u'), `:${kind}:${machineName}`);
  const executionArn = rename(event.detail.executionArn, 'execution');
  return {
    ...withDetail(event, {
      executionArn,
      stateMachineArn: rename(event.detail.stateMachineArn, 'stateMachine'),
    }),
    resources: [executionArn],
  };
}

/** The SQS message body EventBridge delivers for `event` (or for any value, to build bad bodies). */
export function toSqsBody(event: unknown): string {
  return JSON.stringify(event);
}

/** The SQS message body of the named fixture. */
export function fixtureBody(name: EventFixture): string {
  return toSqsBody(loadEvent(name));
}

/** An SQS record as Lambda receives it from the Autoheal work queue, carrying `event`. */
export function toSqsRecord(event: unknown, changes: Partial<SQSRecord> = {}): SQSRecord {
  const id = typeof event === 'object' && event !== null && 'id' in event ? String(event.id) : 'x';
  const body = toSqsBody(event);
  return {
    messageId: `msg-${id}`,
    receiptHandle: `receipt-${id}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1772446543000',
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: '1772446543120',
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-central-1:123456789012:autoheal-work',
    awsRegion: 'eu-central-1',
    ...changes,
  };
}
