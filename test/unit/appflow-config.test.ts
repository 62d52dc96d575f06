/**
 * parseAppflowConfig: the documented defaults, and a rejection naming the field
 * (and saying what is allowed) for every bad value a user may write.
 */
import {
  DEFAULT_FLOW_HEALING,
  flowsInScope,
  parseAppflowConfig,
} from '../../lambda/shared/autoheal-config';
import { ConfigError } from '../../lambda/shared/errors';

const nightly = {
  name: 'nightly',
  expression: 'cron(0 2 * * ? *)',
  timeZone: 'Europe/Berlin',
  flows: ['crm-export'],
};

/** The error a parse throws, for assertions on its field and message. */
function rejectionOf(raw: unknown): ConfigError {
  try {
    parseAppflowConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseAppflowConfig', () => {
  it('fills in every documented default', () => {
    // Act
    const config = parseAppflowConfig({ schedules: [{ ...nightly, timeZone: undefined }] });

    // Assess
    expect(config).toEqual({
      schedules: [
        {
          name: 'nightly',
          expression: 'cron(0 2 * * ? *)',
          timeZone: 'UTC',
          flexibleWindowMinutes: 0,
          flows: ['crm-export'],
        },
      ],
      healedFlows: [],
      healing: {
        rerunFailedRuns: true,
        maxReruns: 2,
        delay: { baseSeconds: 300, factor: 2, capSeconds: 3600, jitterRatio: 0.2 },
        reactivateDeactivated: true,
        reactivationCooldownMinutes: 30,
        maxReactivations: 3,
        reactivationWindowHours: 24,
      },
      maxConcurrentStarts: 5,
      processing: { batchSize: 10, maxConcurrency: 5, maxReceiveCount: 5 },
    });
    expect(config.healing).toEqual(DEFAULT_FLOW_HEALING);
  });

  it.each([
    'cron(0 2 * * ? *)',
    'cron(15 10 ? * MON-FRI *)',
    'cron(0/5 8-17 ? * 2#1 2027)',
    'cron(0 0 L * ? *)',
    'cron(0 22-2 ? * mon-fri *)',
    'cron(*/15 6,18 15W jan-mar,OCT ? 2026-2199/2)',
    'cron(15 10 ? * 6L 2022-2030)',
    'cron(0 12 ? DEC FRI#5 *)',
    'cron(59 23 31 12 ? 2199)',
    'cron(0 0 ? * L *)',
    'rate(1 minute)',
    'rate(5 minutes)',
    'rate(1 day)',
    'rate(12 hours)',
  ])('accepts the expression %s', (expression) => {
    // Act
    const config = parseAppflowConfig({ schedules: [{ ...nightly, expression }] });

    // Assess
    expect(config.schedules[0].expression).toBe(expression);
  });

  it('merges a partial healing delay over the default and keeps the other healing defaults', () => {
    // Act
    const config = parseAppflowConfig({
      schedules: [nightly],
      healing: { maxReruns: 4, delay: { baseSeconds: 60 } },
    });

    // Assess
    expect(config.healing).toEqual({
      ...DEFAULT_FLOW_HEALING,
      maxReruns: 4,
      delay: { ...DEFAULT_FLOW_HEALING.delay, baseSeconds: 60 },
    });
  });

  it('puts scheduled and healed flows in scope, each once', () => {
    // Act
    const config = parseAppflowConfig({
      schedules: [nightly, { ...nightly, name: 'hourly', flows: ['crm-export', 'erp-sync'] }],
      healedFlows: ['appflow-scheduled-sync', 'erp-sync'],
    });

    // Assess
    expect(flowsInScope(config)).toEqual(['crm-export', 'erp-sync', 'appflow-scheduled-sync']);
  });

  it.each([
    {
      label: 'nothing to schedule or heal',
      raw: {},
      field: 'appflow.schedules',
      allowed: /at least one schedule, or a flow in healedFlows/,
    },
    {
      label: 'an unknown option',
      raw: { schedules: [nightly], shedules: [] },
      field: 'appflow.shedules',
      allowed: /known options: schedules, healedFlows/,
    },
    {
      label: 'two schedules with one name',
      raw: { schedules: [nightly, nightly] },
      field: 'appflow.schedules',
      allowed: /two schedules named nightly/,
    },
    {
      label: 'a schedule name with a space',
      raw: { schedules: [{ ...nightly, name: 'every night' }] },
      field: 'appflow.schedules[0].name',
      allowed: /1-48 letters, digits/,
    },
    {
      label: 'a cron with five fields',
      raw: { schedules: [{ ...nightly, expression: 'cron(0 2 * * ?)' }] },
      field: 'appflow.schedules[0].expression',
      allowed: /6 fields, or rate\(N unit\)/,
    },
    {
      label: 'a cron with ? in both day fields',
      raw: { schedules: [{ ...nightly, expression: 'cron(0 2 ? * ? *)' }] },
      field: 'appflow.schedules[0].expression',
      allowed: /"\?" in exactly one of day-of-month and day-of-week/,
    },
    {
      label: 'a cron with no ? at all',
      raw: { schedules: [{ ...nightly, expression: 'cron(0 2 * * * *)' }] },
      field: 'appflow.schedules[0].expression',
      allowed: /"\?" in exactly one/,
    },
    ...[
      ['cron(99 25 * * ? *)', /has minutes 99 outside 0-59/],
      ['cron(0 25 * * ? *)', /has hours 25 outside 0-23/],
      ['cron(0 2 32 * ? *)', /has day-of-month 32 outside 1-31/],
      ['cron(0 2 0 * ? *)', /has day-of-month 0 outside 1-31/],
      ['cron(0 2 * 13 ? *)', /has month 13 outside 1-12/],
      ['cron(0 2 * JANUARY ? *)', /has month "JANUARY": allowed are 1-12 or JAN-DEC/],
      ['cron(0 2 ? * MONDAY-FRYDAY *)', /has day-of-week "MONDAY": allowed are 1-7 or SUN-SAT/],
      ['cron(0 2 ? * MON-FRYDAY *)', /has day-of-week "FRYDAY"/],
      ['cron(0 2 ? * 0 *)', /has day-of-week 0 outside 1-7/],
      ['cron(0 2 ? * 8 *)', /has day-of-week 8 outside 1-7/],
      ['cron(0 2 ? * MON/2 *)', /has "\/" in day-of-week, which Scheduler does not allow there/],
      ['cron(0 2 ? * 3#1,6#3 *)', /a "#" field holds one expression/],
      ['cron(0 2 ? * 3#6 *)', /"#" counts 1-5/],
      ['cron(0 2 * * ? 1969)', /has year 1969 outside 1970-2199/],
      ['cron(0 2 * * ? 2200)', /has year 2200 outside 1970-2199/],
      ['cron(0 2 * * ? 2030-2027)', /year range "2030-2027" that runs backwards/],
      ['cron(0/0 2 * * ? *)', /minutes increment "0": allowed are 1-60/],
      ['cron(0/61 2 * * ? *)', /minutes increment "61"/],
      ['cron(0 2 1,,2 * ? *)', /empty day-of-month list item/],
      ['cron(0 2 L-3 * ? *)', /"L" and "nW" stand alone/],
      ['cron(0 2 1,L * ? *)', /"L" and "nW" stand alone/],
      ['cron(0 2 ? * MON,? *)', /"\?" stands alone/],
      ['cron(0 2 * * * *)', /"\?" in exactly one/],
    ].map(([expression, allowed]) => ({
      label: `the cron ${expression}`,
      raw: { schedules: [{ ...nightly, expression }] },
      field: 'appflow.schedules[0].expression',
      allowed: allowed as RegExp,
    })),
    {
      label: 'a plural unit for 1',
      raw: { schedules: [{ ...nightly, expression: 'rate(1 hours)' }] },
      field: 'appflow.schedules[0].expression',
      allowed: /singular for 1/,
    },
    {
      label: 'a singular unit for 5',
      raw: { schedules: [{ ...nightly, expression: 'rate(5 minute)' }] },
      field: 'appflow.schedules[0].expression',
      allowed: /singular for 1/,
    },
    {
      label: 'a zero rate',
      raw: { schedules: [{ ...nightly, expression: 'rate(0 minutes)' }] },
      field: 'appflow.schedules[0].expression',
      allowed: /positive N/,
    },
    {
      label: 'an at() expression',
      raw: { schedules: [{ ...nightly, expression: 'at(2027-01-01T00:00:00)' }] },
      field: 'appflow.schedules[0].expression',
      allowed: /cron\(minutes hours/,
    },
    {
      label: 'a time zone that does not exist',
      raw: { schedules: [{ ...nightly, timeZone: 'Mars/Olympus' }] },
      field: 'appflow.schedules[0].timeZone',
      allowed: /IANA time zone/,
    },
    {
      label: 'a flexible window over a day',
      raw: { schedules: [{ ...nightly, flexibleWindowMinutes: 1441 }] },
      field: 'appflow.schedules[0].flexibleWindowMinutes',
      allowed: /from 0 to 1440/,
    },
    {
      label: 'a schedule with no flows',
      raw: { schedules: [{ ...nightly, flows: [] }] },
      field: 'appflow.schedules[0].flows',
      allowed: /at least one flow name/,
    },
    {
      label: 'a flow listed twice',
      raw: { schedules: [{ ...nightly, flows: ['crm-export', 'crm-export'] }] },
      field: 'appflow.schedules[0].flows',
      allowed: /lists crm-export twice/,
    },
    {
      label: 'a flow name with a space',
      raw: { schedules: [{ ...nightly, flows: ['crm export'] }] },
      field: 'appflow.schedules[0].flows[0]',
      allowed: /AppFlow flow name/,
    },
    {
      label: 'a flow name of 257 characters',
      raw: { schedules: [{ ...nightly, flows: [`f${'x'.repeat(256)}`] }] },
      field: 'appflow.schedules[0].flows[0]',
      allowed: /at most 256 characters/,
    },
    {
      label: 'a bad healed flow name',
      raw: { healedFlows: ['-starts-with-dash'] },
      field: 'appflow.healedFlows[0]',
      allowed: /AppFlow flow name/,
    },
    {
      label: 'maxReruns over 10',
      raw: { schedules: [nightly], healing: { maxReruns: 11 } },
      field: 'appflow.healing.maxReruns',
      allowed: /from 0 to 10/,
    },
    {
      label: 'a healing delay cap below its base',
      raw: { schedules: [nightly], healing: { delay: { baseSeconds: 600, capSeconds: 60 } } },
      field: 'appflow.healing.delay.capSeconds',
      allowed: /at least baseSeconds \(600\)/,
    },
    {
      label: 'an unknown healing option',
      raw: { schedules: [nightly], healing: { maxRerun: 1 } },
      field: 'appflow.healing.maxRerun',
      allowed: /known options: rerunFailedRuns/,
    },
    {
      label: 'a window of zero hours',
      raw: { schedules: [nightly], healing: { reactivationWindowHours: 0 } },
      field: 'appflow.healing.reactivationWindowHours',
      allowed: /from 1 to 720/,
    },
    {
      label: 'maxConcurrentStarts of 0',
      raw: { schedules: [nightly], maxConcurrentStarts: 0 },
      field: 'appflow.maxConcurrentStarts',
      allowed: /from 1 to 50/,
    },
  ])('rejects $label, naming $field', ({ raw, field, allowed }) => {
    // Act
    const error = rejectionOf(raw);

    // Assess
    expect(error.field).toBe(field);
    expect(error.message).toMatch(allowed);
    expect(error.message).toContain(`Invalid Autoheal config at ${field}:`);
  });
});

describe('parseAppflowConfig at synth (time zones resolved and written canonically)', () => {
  it.each([
    ['america/new_york', 'America/New_York'],
    ['EUROPE/BERLIN', 'Europe/Berlin'],
    ['Europe/Berlin', 'Europe/Berlin'],
    ['utc', 'UTC'],
    ['UTC', 'UTC'],
    ['Etc/UTC', 'UTC'],
    ['US/Eastern', 'America/New_York'],
    ['etc/gmt+5', 'Etc/GMT+5'],
    ['australia/lord_howe', 'Australia/Lord_Howe'],
  ])('writes %s as %s', (timeZone, canonical) => {
    // Act
    const config = parseAppflowConfig({ schedules: [{ ...nightly, timeZone }] });

    // Assess
    expect(config.schedules[0].timeZone).toBe(canonical);
  });
});

describe('parseAppflowConfig in a handler (time zones checked by shape, resolved at synth)', () => {
  const inHandler = (timeZone: string) =>
    parseAppflowConfig({ schedules: [{ ...nightly, timeZone }] }, 'appflow', {
      resolveTimeZones: false,
    });

  it.each([
    'UTC',
    'Europe/Berlin',
    'America/Argentina/Buenos_Aires',
    'Etc/GMT+5',
    // Well formed, so only synth's resolution refuses it.
    'Mars/Olympus',
  ])('accepts %s', (timeZone) => {
    // Act
    const config = inHandler(timeZone);

    // Assess
    expect(config.schedules[0].timeZone).toBe(timeZone);
  });

  it.each(['Europe Berlin', '../etc/localtime', ':UTC', 'Europe/', '/UTC'])(
    'refuses %s, naming the field',
    (timeZone) => {
      // Act
      const act = () => inHandler(timeZone);

      // Assess
      expect(act).toThrow(ConfigError);
      expect(act).toThrow(/appflow\.schedules\[0\]\.timeZone: must be an IANA time zone/);
    },
  );
});
