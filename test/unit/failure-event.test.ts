/**
 * parseExecutionStatusChange: the facts kept from a Step Functions status-change
 * event, and the rejection (naming the field) of anything that is not one.
 */
import {
  type ExecutionStatusChange,
  MAX_EVENT_BYTES,
  parseExecutionStatusChange,
} from '../../lambda/redrive/failure-event';
import { InvalidInputError } from '../../lambda/shared/errors';
import {
  AFTER_EVERY_FIXTURE,
  EVENT_FIXTURES,
  type EventFixture,
  fixtureBody,
  loadEvent,
  toSqsBody,
  toSqsRecord,
  withDetail,
  withEnvelope,
} from '../support/fixtures';
import { INVALID_NAMES, VALID_NAMES } from '../support/names';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:autoheal-demo-orders`;
const executionArn = (
  machine: string,
  name = 'order-1042-7c9e6679',
  region = REGION,
  account = ACCOUNT,
) => `arn:aws:states:${region}:${account}:execution:${machine}:${name}`;

/** Runs the parser and returns what it threw, or fails the test if it threw nothing. */
function rejectionOf(body: string): unknown {
  try {
    parseExecutionStatusChange(body, AFTER_EVERY_FIXTURE);
  } catch (error) {
    return error;
  }
  throw new Error('the body was accepted');
}

const valid = loadEvent('failed-redrivable');
const body = (changes: Record<string, unknown>) => toSqsBody(withDetail(valid, changes));
const envelope = (changes: Record<string, unknown>) => toSqsBody(withEnvelope(valid, changes));

/** A valid event whose body is exactly `bytes` long, padded through `detail.input`. */
function bodyOfSize(bytes: number): string {
  const empty = body({ input: '' });
  return body({ input: 'x'.repeat(bytes - Buffer.byteLength(empty, 'utf8')) });
}

describe('parseExecutionStatusChange', () => {
  describe('valid events', () => {
    type Facts = Pick<
      ExecutionStatusChange,
      'status' | 'isMapRunChild' | 'redriveCount' | 'redriveStatus' | 'errorName'
    >;
    const standard = { isMapRunChild: false };
    const rows: { fixture: EventFixture; facts: Facts }[] = [
      {
        fixture: 'failed-redrivable',
        facts: {
          ...standard,
          status: 'FAILED',
          redriveCount: 0,
          redriveStatus: 'REDRIVABLE',
          errorName: 'Lambda.ServiceException',
        },
      },
      {
        fixture: 'timed-out',
        facts: {
          ...standard,
          status: 'TIMED_OUT',
          redriveCount: 0,
          redriveStatus: 'REDRIVABLE',
          errorName: 'States.Timeout',
        },
      },
      {
        fixture: 'aborted',
        facts: {
          ...standard,
          status: 'ABORTED',
          redriveCount: 0,
          redriveStatus: 'REDRIVABLE',
          errorName: undefined,
        },
      },
      {
        fixture: 'failed-deterministic-error',
        facts: {
          ...standard,
          status: 'FAILED',
          redriveCount: 0,
          redriveStatus: 'REDRIVABLE',
          errorName: 'States.Runtime',
        },
      },
      {
        fixture: 'failed-max-redrives',
        facts: {
          ...standard,
          status: 'FAILED',
          redriveCount: 3,
          redriveStatus: 'REDRIVABLE',
          errorName: 'Lambda.TooManyRequestsException',
        },
      },
      {
        fixture: 'failed-not-redrivable',
        facts: {
          ...standard,
          status: 'FAILED',
          redriveCount: 0,
          redriveStatus: 'NOT_REDRIVABLE',
          errorName: 'States.TaskFailed',
        },
      },
      {
        fixture: 'older-format-no-redrive-fields',
        facts: {
          ...standard,
          status: 'FAILED',
          redriveCount: undefined,
          redriveStatus: undefined,
          errorName: 'States.TaskFailed',
        },
      },
      {
        fixture: 'running-redrive-in-progress',
        facts: {
          ...standard,
          status: 'RUNNING',
          redriveCount: 1,
          redriveStatus: 'REDRIVE_IN_PROGRESS',
          errorName: undefined,
        },
      },
      {
        fixture: 'succeeded',
        facts: {
          ...standard,
          status: 'SUCCEEDED',
          redriveCount: 0,
          redriveStatus: 'NOT_REDRIVABLE',
          errorName: undefined,
        },
      },
      {
        fixture: 'pending-redrive',
        facts: {
          ...standard,
          status: 'PENDING_REDRIVE',
          redriveCount: 1,
          redriveStatus: 'NOT_REDRIVABLE',
          errorName: undefined,
        },
      },
      {
        fixture: 'stopped-15-days-ago',
        facts: {
          ...standard,
          status: 'FAILED',
          redriveCount: 0,
          redriveStatus: 'REDRIVABLE',
          errorName: 'States.TaskFailed',
        },
      },
      {
        fixture: 'map-run-child',
        facts: {
          isMapRunChild: true,
          status: 'FAILED',
          redriveCount: 0,
          redriveStatus: 'REDRIVABLE_BY_MAP_RUN',
          errorName: 'States.TaskFailed',
        },
      },
    ];

    it('has a row for every fixture', () => {
      // Prepare
      const covered = rows.map((row) => row.fixture);

      // Act
      const missing = EVENT_FIXTURES.filter((name) => !covered.includes(name));

      // Assess
      expect(missing).toEqual([]);
    });

    it.each(rows)('parses $fixture to its facts', ({ fixture, facts }) => {
      // Prepare
      const event = loadEvent(fixture);
      const record = toSqsRecord(event);

      // Act
      const change = parseExecutionStatusChange(record.body, AFTER_EVERY_FIXTURE);

      // Assess
      expect(change).toEqual({
        eventId: event.id,
        source: 'aws.states',
        eventTime: Date.parse(event.time),
        executionArn: event.detail.executionArn,
        stateMachineArn: STATE_MACHINE_ARN,
        stateMachineName: 'autoheal-demo-orders',
        redriveStatusReason: event.detail.redriveStatusReason ?? undefined,
        stopDate: event.detail.stopDate ?? undefined,
        ...facts,
      });
    });

    it.each(EVENT_FIXTURES)('keeps no input, output or cause of %s', (fixture) => {
      // Prepare
      const { detail } = loadEvent(fixture);
      const executionData = [detail.input, detail.output, detail.cause].filter(
        (value): value is string => typeof value === 'string' && value !== '',
      );

      // Act
      const change = parseExecutionStatusChange(fixtureBody(fixture), AFTER_EVERY_FIXTURE);

      // Assess
      for (const key of ['input', 'output', 'cause']) expect(change).not.toHaveProperty(key);
      const kept = JSON.stringify(change);
      for (const value of executionData) expect(kept).not.toContain(value);
      expect(kept).not.toContain('jane.doe@example.com');
    });

    it.each([
      {
        label: 'an unknown future status',
        changes: { status: 'PAUSED' },
        facts: { status: 'PAUSED' },
      },
      { label: 'an empty error name', changes: { error: '' }, facts: { errorName: '' } },
      {
        label: 'null redrive fields',
        changes: { redriveCount: null, redriveStatus: null },
        facts: { redriveCount: undefined, redriveStatus: undefined },
      },
      {
        label: 'a redriveDate number',
        changes: { redriveCount: 2, redriveDate: 1772446400000 },
        facts: { redriveCount: 2 },
      },
    ])('accepts $label', ({ changes, facts }) => {
      // Prepare
      const event = body(changes);

      // Act
      const change = parseExecutionStatusChange(event, AFTER_EVERY_FIXTURE);

      // Assess
      expect(change).toMatchObject(facts);
    });

    it.each([
      { label: 'Step Functions itself', source: 'aws.states' },
      {
        label: 'the sweeper (a failure found with ListExecutions, without error and redriveStatus)',
        source: 'autoheal.sweeper',
      },
    ])('accepts an event from $label', ({ source }) => {
      // Prepare
      const swept = withDetail(withEnvelope(valid, { source, id: 'sweep-0a1b2c' }), {
        error: undefined,
        cause: undefined,
        redriveStatus: undefined,
        redriveStatusReason: undefined,
        input: undefined,
        output: undefined,
        inputDetails: undefined,
        outputDetails: undefined,
      });

      // Act
      const change = parseExecutionStatusChange(toSqsBody(swept), AFTER_EVERY_FIXTURE);

      // Assess
      expect(change).toMatchObject({
        eventId: 'sweep-0a1b2c',
        executionArn: valid.detail.executionArn,
        status: valid.detail.status,
        redriveCount: valid.detail.redriveCount,
        redriveStatus: undefined,
        errorName: undefined,
      });
    });

    it('accepts an event of exactly 256 KiB', () => {
      // Prepare
      const event = bodyOfSize(MAX_EVENT_BYTES);

      // Act
      const change = parseExecutionStatusChange(event, AFTER_EVERY_FIXTURE);

      // Assess
      expect(Buffer.byteLength(event, 'utf8')).toBe(256 * 1024);
      expect(change.executionArn).toBe(valid.detail.executionArn);
    });
    it('recognises a Distributed Map child run whose state machine ARN carries the map run label', () => {
      // Prepare
      const event = withDetail(loadEvent('map-run-child'), {
        stateMachineArn:
          'arn:aws:states:eu-central-1:123456789012:stateMachine:autoheal-demo-orders/ProcessOrderLines',
      });

      // Act
      const change = parseExecutionStatusChange(toSqsBody(event), AFTER_EVERY_FIXTURE);

      // Assess
      expect(change).toMatchObject({
        isMapRunChild: true,
        stateMachineName: 'autoheal-demo-orders',
      });
    });
  });

  describe('malformed events', () => {
    it.each([
      { label: 'a body that is not JSON', body: () => '{"version":"0","id":', field: 'body' },
      { label: 'an empty body', body: () => '', field: 'body' },
      {
        label: 'a body one byte over 256 KiB',
        body: () => bodyOfSize(MAX_EVENT_BYTES + 1),
        field: 'body',
      },
      {
        label: 'a body over 256 KiB in UTF-8 but under 256 Ki characters',
        body: () => body({ input: 'é'.repeat(MAX_EVENT_BYTES / 2) }),
        field: 'body',
      },
      { label: 'a JSON array', body: () => '[]', field: 'body' },
      { label: 'JSON null', body: () => 'null', field: 'body' },
      { label: 'another source', body: () => envelope({ source: 'aws.lambda' }), field: 'source' },
      { label: 'no source', body: () => envelope({ source: undefined }), field: 'source' },
      {
        label: 'another detail-type',
        body: () => envelope({ 'detail-type': 'Step Functions State Machine Status Change' }),
        field: 'detail-type',
      },
      { label: 'no id', body: () => envelope({ id: undefined }), field: 'id' },
      { label: 'an empty id', body: () => envelope({ id: '' }), field: 'id' },
      { label: 'a numeric id', body: () => envelope({ id: 42 }), field: 'id' },
      { label: 'a string detail', body: () => envelope({ detail: 'FAILED' }), field: 'detail' },
      { label: 'a null detail', body: () => envelope({ detail: null }), field: 'detail' },
      { label: 'an array detail', body: () => envelope({ detail: [] }), field: 'detail' },
      { label: 'no detail', body: () => envelope({ detail: undefined }), field: 'detail' },
      {
        label: 'no executionArn',
        body: () => body({ executionArn: undefined }),
        field: 'detail.executionArn',
      },
      {
        label: 'a numeric executionArn',
        body: () => body({ executionArn: 42 }),
        field: 'detail.executionArn',
      },
      {
        label: 'an Express execution (Express workflows cannot be redriven)',
        body: () => fixtureBody('express-execution'),
        field: 'detail.executionArn',
      },
      {
        label: 'an executionArn that is a bare name',
        body: () => body({ executionArn: 'order-1042-7c9e6679' }),
        field: 'detail.executionArn',
      },
      {
        label: 'an executionArn that is a state machine ARN',
        body: () => body({ executionArn: STATE_MACHINE_ARN }),
        field: 'detail.executionArn',
      },
      {
        label: 'an executionArn of another state machine',
        body: () => body({ executionArn: executionArn('autoheal-demo-payments') }),
        field: 'detail.executionArn',
      },
      {
        label: 'an executionArn of another account',
        body: () =>
          body({ executionArn: executionArn('autoheal-demo-orders', 'x', REGION, '210987654321') }),
        field: 'detail.executionArn',
      },
      {
        label: 'an executionArn of another region',
        body: () => body({ executionArn: executionArn('autoheal-demo-orders', 'x', 'eu-west-1') }),
        field: 'detail.executionArn',
      },
      {
        label: 'no stateMachineArn',
        body: () => body({ stateMachineArn: undefined }),
        field: 'detail.stateMachineArn',
      },
      {
        label: 'a stateMachineArn that is an activity ARN',
        body: () =>
          body({
            stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:activity:autoheal-demo-orders`,
          }),
        field: 'detail.stateMachineArn',
      },
      {
        label: 'a stateMachineArn that is an execution ARN',
        body: () => body({ stateMachineArn: executionArn('autoheal-demo-orders') }),
        field: 'detail.stateMachineArn',
      },
      {
        label: 'redriveCount "1"',
        body: () => body({ redriveCount: '1' }),
        field: 'detail.redriveCount',
      },
      {
        label: 'redriveCount -1',
        body: () => body({ redriveCount: -1 }),
        field: 'detail.redriveCount',
      },
      {
        label: 'redriveCount 1.5',
        body: () => body({ redriveCount: 1.5 }),
        field: 'detail.redriveCount',
      },
      { label: 'status 42', body: () => body({ status: 42 }), field: 'detail.status' },
      { label: 'no status', body: () => body({ status: undefined }), field: 'detail.status' },
      { label: 'stopDate "x"', body: () => body({ stopDate: 'x' }), field: 'detail.stopDate' },
      {
        label: 'an ISO stopDate',
        body: () => body({ stopDate: '2026-03-02T10:15:42.123Z' }),
        field: 'detail.stopDate',
      },
      { label: 'stopDate -1', body: () => body({ stopDate: -1 }), field: 'detail.stopDate' },
      { label: 'error 5', body: () => body({ error: 5 }), field: 'detail.error' },
      {
        label: 'redriveStatus 7',
        body: () => body({ redriveStatus: 7 }),
        field: 'detail.redriveStatus',
      },
      {
        label: 'an object redriveStatusReason',
        body: () => body({ redriveStatusReason: {} }),
        field: 'detail.redriveStatusReason',
      },
    ])('rejects $label naming $field', ({ body: makeBody, field }) => {
      // Prepare
      const malformed = makeBody();

      // Act
      const error = rejectionOf(malformed);

      // Assess
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error).toMatchObject({ field, message: expect.stringContaining(`${field}: `) });
    });

    it('does not echo a long bad value, which may carry execution data, in the rejection', () => {
      // Prepare
      const leaked = `${valid.detail.input}${valid.detail.cause}`;
      const malformed = body({ redriveCount: leaked });

      // Act
      const error = rejectionOf(malformed);

      // Assess
      expect(error).toMatchObject({ field: 'detail.redriveCount' });
      expect(String(error)).not.toContain('jane.doe@example.com');
    });
  });
});

describe('parseExecutionStatusChange with the names Step Functions allows', () => {
  const named = (name: string, execution = 'run-1') =>
    body({
      stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`,
      executionArn: executionArn(name, execution),
    });

  it.each(VALID_NAMES)('accepts a state machine and execution named with $label', ({ name }) => {
    // Act
    const change = parseExecutionStatusChange(named(name, name), AFTER_EVERY_FIXTURE);

    // Assess
    expect(change).toMatchObject({ stateMachineName: name, isMapRunChild: false });
  });

  it('keeps a Distributed Map child run of orders-eu.v2 a child run', () => {
    // Prepare
    const child = body({
      stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:orders-eu.v2`,
      executionArn: executionArn('orders-eu.v2/ProcessLines', '7f3e2b1a'),
    });

    // Act
    const change = parseExecutionStatusChange(child, AFTER_EVERY_FIXTURE);

    // Assess
    expect(change).toMatchObject({ stateMachineName: 'orders-eu.v2', isMapRunChild: true });
  });

  // `NAME/LABEL` is how a Distributed Map child run names its machine: tested above.
  const notMapRunLabels = INVALID_NAMES.filter(({ name }) => !name.includes('/'));

  it.each(notMapRunLabels)('rejects a state machine named with $label', ({ name }) => {
    // Act
    const error = rejectionOf(named(name));

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({ field: 'detail.stateMachineArn' });
  });

  it.each(INVALID_NAMES)('rejects an execution named with $label', ({ name }) => {
    // Act
    const error = rejectionOf(
      body({
        stateMachineArn: STATE_MACHINE_ARN,
        executionArn: executionArn('autoheal-demo-orders', name),
      }),
    );

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({ field: 'detail.executionArn' });
  });
});

describe('parseExecutionStatusChange with a stopDate in the future', () => {
  const NOW = Date.parse('2026-03-02T10:30:00Z');
  const MINUTE = 60_000;

  it.each([
    { label: 'the clock reading itself', stopDate: NOW },
    { label: '5 minutes ahead (clock skew)', stopDate: NOW + 5 * MINUTE },
    { label: 'a day ago', stopDate: NOW - 24 * 60 * MINUTE },
  ])('accepts $label', ({ stopDate }) => {
    // Act
    const change = parseExecutionStatusChange(body({ stopDate }), NOW);

    // Assess
    expect(change.stopDate).toBe(stopDate);
  });

  it.each([
    { label: '5 minutes and 1 ms ahead', stopDate: NOW + 5 * MINUTE + 1 },
    { label: 'a day ahead (a hand-edited replay)', stopDate: NOW + 24 * 60 * MINUTE },
    { label: 'epoch milliseconds taken as seconds × 1000', stopDate: NOW * 1000 },
    { label: 'beyond the last date JavaScript can hold', stopDate: 1e20 },
  ])('rejects a stopDate $label, naming detail.stopDate', ({ stopDate }) => {
    // Act
    let error: unknown;
    try {
      parseExecutionStatusChange(body({ stopDate }), NOW);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({
      field: 'detail.stopDate',
      problem: expect.stringMatching(/in the future.*at most 5 minutes ahead/),
    });
  });
});
