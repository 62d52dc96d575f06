/**
 * parseScheduleTick: the input EventBridge Scheduler passes to the flow
 * starter, and the rejection (naming the field) of anything that is not a
 * tick of a configured schedule.
 */
import { parseScheduleTick } from '../../lambda/appflow/schedule-tick';
import { parseAppflowConfig } from '../../lambda/shared/autoheal-config';
import { InvalidInputError } from '../../lambda/shared/errors';

const config = parseAppflowConfig({
  schedules: [
    {
      name: 'nightly',
      expression: 'cron(0 2 * * ? *)',
      flows: ['crm-export', 'erp-sync', 'ledger.pull'],
    },
    { name: 'hourly', expression: 'rate(1 hour)', flows: ['web-leads'] },
  ],
});

const SCHEDULED_TIME = '2026-03-02T02:00:00Z';

function tick(changes: Record<string, unknown> = {}): Record<string, unknown> {
  const event: Record<string, unknown> = {
    schedule: 'nightly',
    scheduledTime: SCHEDULED_TIME,
    flows: ['crm-export', 'erp-sync'],
  };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete event[key];
    else event[key] = value;
  }
  return event;
}

/** Runs the parser and returns what it threw, or fails the test if it threw nothing. */
function rejectionOf(event: unknown): InvalidInputError {
  try {
    parseScheduleTick(event, config);
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error('the tick was accepted');
}

describe('parseScheduleTick', () => {
  it('returns the schedule, scheduled time and flows of a valid tick', () => {
    // Prepare
    const event = tick();

    // Act
    const parsed = parseScheduleTick(event, config);

    // Assess
    expect(parsed).toEqual({
      schedule: 'nightly',
      scheduledTime: SCHEDULED_TIME,
      flows: ['crm-export', 'erp-sync'],
    });
    expect(parsed.flows).not.toBe(event.flows);
  });

  it.each([
    '2026-03-02T02:00:00Z',
    '2026-03-02T02:00:00.000Z',
    '2026-03-02T03:00:00+01:00',
    '2026-03-01T21:00:00-0500',
    '2028-02-29T02:00Z',
  ])('accepts the scheduled time %s unchanged (it keys the tick)', (scheduledTime) => {
    // Act
    const parsed = parseScheduleTick(tick({ scheduledTime }), config);

    // Assess
    expect(parsed.scheduledTime).toBe(scheduledTime);
  });

  it('ignores fields it does not use', () => {
    // Act
    const parsed = parseScheduleTick(tick({ source: 'manual-test' }), config);

    // Assess
    expect(parsed).toEqual({
      schedule: 'nightly',
      scheduledTime: SCHEDULED_TIME,
      flows: ['crm-export', 'erp-sync'],
    });
  });

  it.each([
    // event
    { problem: 'null', event: null, field: 'event', says: 'must be an object' },
    { problem: 'a string', event: 'nightly', field: 'event', says: 'must be an object' },
    { problem: 'an array', event: [tick()], field: 'event', says: 'must be an object' },
    { problem: 'undefined', event: undefined, field: 'event', says: 'must be an object' },
    // schedule
    {
      problem: 'no schedule',
      event: tick({ schedule: undefined }),
      field: 'schedule',
      says: 'must be a string',
    },
    {
      problem: 'a numeric schedule',
      event: tick({ schedule: 7 }),
      field: 'schedule',
      says: 'must be a string',
    },
    {
      problem: 'an unconfigured schedule',
      event: tick({ schedule: 'weekly' }),
      field: 'schedule',
      says: 'must be a configured schedule (nightly, hourly), got "weekly"',
    },
    // scheduledTime
    {
      problem: 'no scheduled time',
      event: tick({ scheduledTime: undefined }),
      field: 'scheduledTime',
      says: 'must be a string',
    },
    {
      problem: 'epoch milliseconds',
      event: tick({ scheduledTime: 1772416800000 }),
      field: 'scheduledTime',
      says: 'must be a string',
    },
    {
      problem: 'an unparsable time',
      event: tick({ scheduledTime: 'last night' }),
      field: 'scheduledTime',
      says: 'must be an ISO-8601 date and time',
    },
    {
      problem: 'a date without a time',
      event: tick({ scheduledTime: '2026-03-02' }),
      field: 'scheduledTime',
      says: 'must be an ISO-8601 date and time',
    },
    {
      problem: 'a time without a zone',
      event: tick({ scheduledTime: '2026-03-02T02:00:00' }),
      field: 'scheduledTime',
      says: 'with a zone',
    },
    {
      problem: 'a month that does not exist',
      event: tick({ scheduledTime: '2026-13-02T02:00:00Z' }),
      field: 'scheduledTime',
      says: 'must be an ISO-8601 date and time',
    },
    {
      problem: 'a day that does not exist (Date.parse accepts it)',
      event: tick({ scheduledTime: '2026-02-30T02:00:00Z' }),
      field: 'scheduledTime',
      says: 'must be an ISO-8601 date and time',
    },
    {
      problem: 'an hour that does not exist',
      event: tick({ scheduledTime: '2026-03-02T25:00:00Z' }),
      field: 'scheduledTime',
      says: 'must be an ISO-8601 date and time',
    },
    {
      problem: 'a time of 65 characters',
      event: tick({ scheduledTime: `2026-03-02T02:00:00.${'0'.repeat(44)}Z` }),
      field: 'scheduledTime',
      says: 'must have at most 64 characters, got 65',
    },
    // flows
    {
      problem: 'no flows',
      event: tick({ flows: undefined }),
      field: 'flows',
      says: 'must be a non-empty array',
    },
    {
      problem: 'an empty flow list',
      event: tick({ flows: [] }),
      field: 'flows',
      says: 'must be a non-empty array',
    },
    {
      problem: 'a single flow name instead of a list',
      event: tick({ flows: 'crm-export' }),
      field: 'flows',
      says: 'must be a non-empty array',
    },
    // flows[i]
    {
      problem: 'a numeric flow name',
      event: tick({ flows: ['crm-export', 42] }),
      field: 'flows[1]',
      says: 'must be a string',
    },
    {
      problem: 'a flow name with a space',
      event: tick({ flows: ['crm export'] }),
      field: 'flows[0]',
      says: 'must be an AppFlow flow name',
    },
    {
      problem: 'a flow name of 257 characters',
      event: tick({ flows: [`a${'b'.repeat(256)}`] }),
      field: 'flows[0]',
      says: 'must have at most 256 characters',
    },
    {
      problem: 'a flow of another schedule',
      event: tick({ flows: ['crm-export', 'web-leads'] }),
      field: 'flows[1]',
      says: 'must be one of the flows of schedule nightly (crm-export, erp-sync, ledger.pull), got "web-leads"',
    },
    {
      problem: 'a flow of no schedule',
      event: tick({ flows: ['unknown-flow'] }),
      field: 'flows[0]',
      says: 'must be one of the flows of schedule nightly',
    },
    {
      problem: 'a flow listed twice',
      event: tick({ flows: ['crm-export', 'erp-sync', 'crm-export'] }),
      field: 'flows[2]',
      says: 'repeats flows[0] (crm-export)',
    },
  ])('rejects $problem, naming $field', ({ event, field, says }) => {
    // Act
    const error = rejectionOf(event);

    // Assess
    expect(error.field).toBe(field);
    expect(error.problem).toContain(says);
    expect(error.message).toBe(`${field}: ${error.problem}`);
  });
});
