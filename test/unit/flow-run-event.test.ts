/**
 * parseFlowEvent: the facts kept from AppFlow's run-report and deactivation
 * events, and the rejection (naming the field) of anything that is not one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type FlowEvent,
  MAX_EVENT_BYTES,
  parseFlowEvent,
} from '../../lambda/appflow/flow-run-event';
import { InvalidInputError } from '../../lambda/shared/errors';
import { AFTER_EVERY_FIXTURE } from '../support/fixtures';

const APPFLOW_FIXTURES = [
  'run-failed-on-demand',
  'run-failed-scheduled',
  'run-cancelled-on-demand',
  'run-succeeded',
  'run-started',
  'scheduled-flow-deactivated',
] as const;
type AppflowFixture = (typeof APPFLOW_FIXTURES)[number];

type AppflowEvent = Record<string, unknown> & { detail: Record<string, unknown> };

/** A fresh copy of test/fixtures/appflow/<name>.json. */
function loadAppflowEvent(name: AppflowFixture): AppflowEvent {
  const path = join(__dirname, '..', 'fixtures', 'appflow', `${name}.json`);
  return JSON.parse(readFileSync(path, 'utf8')) as AppflowEvent;
}

/** The body of `name` with envelope and detail changes (`undefined` removes a field). */
function bodyOf(
  name: AppflowFixture,
  detail: Record<string, unknown> = {},
  envelope: Record<string, unknown> = {},
): string {
  const event = loadAppflowEvent(name);
  const apply = (target: Record<string, unknown>, changes: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) delete target[key];
      else target[key] = value;
    }
  };
  apply(event.detail, detail);
  apply(event, envelope);
  return JSON.stringify(event);
}

/** Runs the parser and returns what it threw, or fails the test if it threw nothing. */
function rejectionOf(body: string): InvalidInputError {
  try {
    parseFlowEvent(body, AFTER_EVERY_FIXTURE);
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error('the body was accepted');
}

/** A valid failed-run body exactly `bytes` long, padded through `detail.error`. */
function bodyOfSize(bytes: number): string {
  const empty = bodyOf('run-failed-on-demand', { error: '' });
  return bodyOf('run-failed-on-demand', {
    error: 'x'.repeat(bytes - Buffer.byteLength(empty, 'utf8')),
  });
}

describe('parseFlowEvent', () => {
  describe('valid events', () => {
    it.each<{ fixture: AppflowFixture; expected: FlowEvent }>([
      {
        fixture: 'run-failed-on-demand',
        expected: {
          kind: 'run-ended',
          eventId: '0f3c6a7e-1d2b-4e5f-8a9b-3c4d5e6f7a81',
          flowName: 'crm-accounts-export',
          executionId: 'b7e2c1d4-5f6a-4b8c-9d0e-1f2a3b4c5d6e',
          triggerType: 'ONDEMAND',
          status: 'Execution Failed',
          endedAt: Date.parse('2026-03-02T09:49:24.512Z'),
        },
      },
      {
        fixture: 'run-failed-scheduled',
        expected: {
          kind: 'run-ended',
          eventId: '4c1d2e3f-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
          flowName: 'erp-orders-sync',
          executionId: 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b',
          triggerType: 'SCHEDULED',
          status: 'Execution Failed',
          endedAt: Date.parse('2026-03-02T09:05:10.877Z'),
        },
      },
      {
        fixture: 'run-cancelled-on-demand',
        expected: {
          kind: 'run-ended',
          eventId: '5d2e8b1c-7a3f-4c6d-9e0a-2b4c6d8e0f13',
          flowName: 'crm-accounts-export',
          executionId: 'c3f9a2e1-6b7d-4c8e-a0f1-2d3e4f5a6b7c',
          triggerType: 'ONDEMAND',
          status: 'Execution Canceled',
          endedAt: Date.parse('2026-03-02T09:58:39.904Z'),
        },
      },
      {
        fixture: 'run-succeeded',
        expected: {
          kind: 'run-ended',
          eventId: '9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d',
          flowName: 'crm-accounts-export',
          executionId: '2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a',
          triggerType: 'ONDEMAND',
          status: 'Execution Successful',
          endedAt: Date.parse('2026-03-02T08:31:38.240Z'),
        },
      },
      {
        fixture: 'scheduled-flow-deactivated',
        expected: {
          kind: 'deactivated',
          eventId: '6f5e4d3c-2b1a-4f0e-9d8c-7b6a5f4e3d2c',
          flowName: 'erp-orders-sync',
          deactivatedAt: Date.parse('2026-03-02T09:20:00Z'),
        },
      },
    ])('keeps exactly the facts the healer needs from $fixture', ({ fixture, expected }) => {
      // Prepare
      const body = JSON.stringify(loadAppflowEvent(fixture));

      // Act
      const event = parseFlowEvent(body, AFTER_EVERY_FIXTURE);

      // Assess
      expect(event).toEqual(expected);
    });

    it('keeps neither the error text nor the record counts of a failed run', () => {
      // Prepare
      const raw = loadAppflowEvent('run-failed-on-demand');
      const error = raw.detail.error as string;

      // Act
      const event = parseFlowEvent(JSON.stringify(raw), AFTER_EVERY_FIXTURE);

      // Assess
      expect(error).toContain('DE89370400440532013000');
      const kept = JSON.stringify(event);
      expect(kept).not.toContain('DE89370400440532013000');
      expect(kept).not.toContain('Acme Holdings');
      expect(Object.keys(event).sort()).toEqual(
        ['endedAt', 'eventId', 'executionId', 'flowName', 'kind', 'status', 'triggerType'].sort(),
      );
    });

    it.each([
      'num-of-records-processed',
      'num-of-records-filtered',
      'num-of-record-failures',
      'num-of-documents-processed',
      'data-processed',
    ])('reads a run report whose %s is a string, as AppFlow sends counts', (count) => {
      // Prepare
      const raw = loadAppflowEvent('run-failed-on-demand');

      // Act
      const event = parseFlowEvent(JSON.stringify(raw), AFTER_EVERY_FIXTURE);

      // Assess
      expect(typeof raw.detail[count]).toBe('string');
      expect(event).toMatchObject({ kind: 'run-ended', executionId: raw.detail['execution-id'] });
    });

    it.each([
      { endTime: '2026-03-02T09:49:24.512Z[UTC]', endedAt: '2026-03-02T09:49:24.512Z' },
      { endTime: '2026-03-02T09:49:24Z[UTC]', endedAt: '2026-03-02T09:49:24.000Z' },
      // Java's ZonedDateTime omits zero seconds
      { endTime: '2026-03-02T09:49Z[UTC]', endedAt: '2026-03-02T09:49:00.000Z' },
      {
        endTime: '2026-03-02T10:49:24.512+01:00[Europe/Berlin]',
        endedAt: '2026-03-02T09:49:24.512Z',
      },
      { endTime: '2026-03-02T09:49:24.512Z', endedAt: '2026-03-02T09:49:24.512Z' },
    ])('reads end-time $endTime as $endedAt', ({ endTime, endedAt }) => {
      // Prepare
      const body = bodyOf('run-failed-on-demand', { 'end-time': endTime });

      // Act
      const event = parseFlowEvent(body, AFTER_EVERY_FIXTURE);

      // Assess
      expect(event).toMatchObject({ kind: 'run-ended', endedAt: Date.parse(endedAt) });
    });

    it.each([
      { label: 'absent', endTime: undefined },
      { label: 'null', endTime: null },
    ])('falls back to the event time when end-time is $label', ({ endTime }) => {
      // Prepare
      const body = bodyOf(
        'run-failed-on-demand',
        { 'end-time': endTime },
        { time: '2026-03-02T09:49:26Z' },
      );

      // Act
      const event = parseFlowEvent(body, AFTER_EVERY_FIXTURE);

      // Assess
      expect(event).toMatchObject({
        kind: 'run-ended',
        endedAt: Date.parse('2026-03-02T09:49:26Z'),
      });
    });

    it.each(['ONDEMAND', 'OnDemand', 'SCHEDULED', 'EVENT'])(
      'keeps trigger-type %s as sent (an open string)',
      (triggerType) => {
        // Prepare
        const body = bodyOf('run-failed-on-demand', { 'trigger-type': triggerType });

        // Act
        const event = parseFlowEvent(body, AFTER_EVERY_FIXTURE);

        // Assess
        expect(event).toMatchObject({ kind: 'run-ended', triggerType });
      },
    );

    it('accepts a body of exactly the EventBridge maximum size', () => {
      // Prepare
      const body = bodyOfSize(MAX_EVENT_BYTES);

      // Act
      const event = parseFlowEvent(body, AFTER_EVERY_FIXTURE);

      // Assess
      expect(Buffer.byteLength(body, 'utf8')).toBe(MAX_EVENT_BYTES);
      expect(event.kind).toBe('run-ended');
    });
  });

  describe('malformed events name the offending field', () => {
    const longName = `a${'b'.repeat(256)}`;
    it.each<{ problem: string; body: () => string; field: string }>([
      {
        problem: 'a body that is not JSON',
        body: () => 'flow crm-accounts-export {',
        field: 'body',
      },
      { problem: 'a JSON array', body: () => '[]', field: 'body' },
      { problem: 'a JSON string', body: () => '"aws.appflow"', field: 'body' },
      {
        problem: 'a body over 256 KiB',
        body: () => bodyOfSize(MAX_EVENT_BYTES + 1),
        field: 'body',
      },
      {
        problem: 'another source',
        body: () => bodyOf('run-failed-on-demand', {}, { source: 'aws.states' }),
        field: 'source',
      },
      {
        problem: 'no source',
        body: () => bodyOf('run-failed-on-demand', {}, { source: undefined }),
        field: 'source',
      },
      {
        problem: 'a Start Flow Run Report',
        body: () => bodyOf('run-started'),
        field: 'detail-type',
      },
      {
        problem: 'no detail-type',
        body: () => bodyOf('run-failed-on-demand', {}, { 'detail-type': undefined }),
        field: 'detail-type',
      },
      {
        problem: 'no id',
        body: () => bodyOf('run-failed-on-demand', {}, { id: undefined }),
        field: 'id',
      },
      {
        problem: 'a numeric id',
        body: () => bodyOf('scheduled-flow-deactivated', {}, { id: 42 }),
        field: 'id',
      },
      {
        problem: 'no time',
        body: () => bodyOf('scheduled-flow-deactivated', {}, { time: undefined }),
        field: 'time',
      },
      {
        problem: 'a time that is no date',
        body: () => bodyOf('scheduled-flow-deactivated', {}, { time: 'yesterday' }),
        field: 'time',
      },
      {
        problem: 'a time without a zone',
        body: () => bodyOf('run-failed-on-demand', {}, { time: '2026-03-02T09:49:26' }),
        field: 'time',
      },
      {
        problem: 'an impossible date',
        body: () => bodyOf('run-failed-on-demand', {}, { time: '2026-02-30T25:61:00Z' }),
        field: 'time',
      },
      {
        problem: 'no detail',
        body: () => bodyOf('run-failed-on-demand', {}, { detail: undefined }),
        field: 'detail',
      },
      {
        problem: 'a string detail',
        body: () => bodyOf('run-failed-on-demand', {}, { detail: '{"flow-name":"x"}' }),
        field: 'detail',
      },
      {
        problem: 'no flow-name',
        body: () => bodyOf('run-failed-on-demand', { 'flow-name': undefined }),
        field: 'detail.flow-name',
      },
      {
        problem: 'a flow-name with a space',
        body: () => bodyOf('scheduled-flow-deactivated', { 'flow-name': 'erp orders sync' }),
        field: 'detail.flow-name',
      },
      {
        problem: 'a flow-name over 256 characters',
        body: () => bodyOf('run-failed-on-demand', { 'flow-name': longName }),
        field: 'detail.flow-name',
      },
      {
        problem: 'no execution-id',
        body: () => bodyOf('run-failed-on-demand', { 'execution-id': undefined }),
        field: 'detail.execution-id',
      },
      {
        problem: 'an empty execution-id',
        body: () => bodyOf('run-failed-on-demand', { 'execution-id': '' }),
        field: 'detail.execution-id',
      },
      {
        problem: 'an execution-id over 256 characters',
        body: () => bodyOf('run-failed-on-demand', { 'execution-id': 'e'.repeat(257) }),
        field: 'detail.execution-id',
      },
      {
        problem: 'no trigger-type',
        body: () => bodyOf('run-failed-on-demand', { 'trigger-type': undefined }),
        field: 'detail.trigger-type',
      },
      {
        problem: 'no status',
        body: () => bodyOf('run-failed-on-demand', { status: undefined }),
        field: 'detail.status',
      },
      {
        problem: 'a numeric status',
        body: () => bodyOf('run-failed-on-demand', { status: 500 }),
        field: 'detail.status',
      },
      {
        problem: 'an end-time that is no date',
        body: () => bodyOf('run-failed-on-demand', { 'end-time': 'soon[UTC]' }),
        field: 'detail.end-time',
      },
      {
        problem: 'an end-time in epoch milliseconds',
        body: () => bodyOf('run-failed-on-demand', { 'end-time': 1772444964512 }),
        field: 'detail.end-time',
      },
      {
        // Date.parse would read it as local time
        problem: 'an end-time with a zone id but no offset',
        body: () => bodyOf('run-failed-on-demand', { 'end-time': '2026-03-02T09:49:24.512[UTC]' }),
        field: 'detail.end-time',
      },
    ])('rejects $problem, naming $field', ({ body, field }) => {
      // Prepare
      const input = body();

      // Act
      const error = rejectionOf(input);

      // Assess
      expect(error.field).toBe(field);
      expect(error.problem.length).toBeGreaterThan(0);
      expect(error.message).toBe(`${field}: ${error.problem}`);
    });

    it('never echoes the run error in a rejection', () => {
      // Prepare
      const body = bodyOf('run-failed-on-demand', { status: undefined });

      // Act
      const error = rejectionOf(body);

      // Assess
      expect(error.field).toBe('detail.status');
      expect(error.message).not.toContain('DE89370400440532013000');
    });
  });
});

describe('parseFlowEvent with times in the future', () => {
  const NOW = Date.parse('2026-03-02T10:00:00Z');
  const MINUTE = 60_000;
  const iso = (ms: number) => new Date(ms).toISOString();

  it.each([
    {
      label: 'end-time 5 minutes ahead (clock skew)',
      detail: { 'end-time': `${iso(NOW + 5 * MINUTE)}[UTC]` },
      envelope: {},
    },
    {
      label: 'time 5 minutes ahead (clock skew)',
      detail: { 'end-time': undefined },
      envelope: { time: iso(NOW + 5 * MINUTE) },
    },
  ])('accepts $label', ({ detail, envelope }) => {
    // Act
    const event = parseFlowEvent(bodyOf('run-failed-on-demand', detail, envelope), NOW);

    // Assess
    expect(event).toMatchObject({ kind: 'run-ended', endedAt: NOW + 5 * MINUTE });
  });

  it.each([
    {
      label: 'an end-time a day ahead',
      body: () =>
        bodyOf('run-failed-on-demand', { 'end-time': `${iso(NOW + 24 * 60 * MINUTE)}[UTC]` }),
      field: 'detail.end-time',
    },
    {
      label: 'an end-time 5 minutes and 1 second ahead',
      body: () =>
        bodyOf('run-failed-on-demand', { 'end-time': `${iso(NOW + 5 * MINUTE + 1000)}[UTC]` }),
      field: 'detail.end-time',
    },
    {
      label: 'an end-time in the year 9999',
      body: () => bodyOf('run-failed-on-demand', { 'end-time': '9999-12-31T23:59:59Z[UTC]' }),
      field: 'detail.end-time',
    },
    {
      label: 'a deactivation time a day ahead (its cool-down would never end)',
      body: () => bodyOf('scheduled-flow-deactivated', {}, { time: iso(NOW + 24 * 60 * MINUTE) }),
      field: 'time',
    },
  ])('rejects $label, naming $field', ({ body, field }) => {
    // Act
    let error: unknown;
    try {
      parseFlowEvent(body(), NOW);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({ field, problem: expect.stringContaining('in the future') });
  });
});
