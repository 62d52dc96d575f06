/**
 * daylightSavingConflicts: which runs of a cron schedule a daylight-saving
 * change of its zone skips (spring-forward gap) or meets twice (fall-back
 * repeat), over the year after a fixed date.
 */
import {
  daylightSavingConflicts,
  daylightSavingWarning,
} from '../../lib/schedules/daylight-saving';

const from = new Date('2026-12-01T00:00:00Z');

describe('daylightSavingConflicts', () => {
  it.each([
    {
      label: '02:30 in Europe/Berlin: the March gap and the October repeat',
      expression: 'cron(30 2 * * ? *)',
      timeZone: 'Europe/Berlin',
      expected: [
        { kind: 'gap', date: '2027-03-28', from: '02:00', to: '03:00', runTimes: ['02:30'] },
        { kind: 'repeat', date: '2027-10-31', from: '02:00', to: '03:00', runTimes: ['02:30'] },
      ],
    },
    {
      label: '04:00 in Europe/Berlin: no change',
      expression: 'cron(0 4 * * ? *)',
      timeZone: 'Europe/Berlin',
      expected: [],
    },
    {
      label: '02:00 in America/New_York: the March gap only (November repeats 01:00-02:00)',
      expression: 'cron(0 2 * * ? *)',
      timeZone: 'America/New_York',
      expected: [
        { kind: 'gap', date: '2027-03-14', from: '02:00', to: '03:00', runTimes: ['02:00'] },
      ],
    },
    {
      label: '01:30 in America/New_York: the November repeat only',
      expression: 'cron(30 1 * * ? *)',
      timeZone: 'America/New_York',
      expected: [
        { kind: 'repeat', date: '2027-11-07', from: '01:00', to: '02:00', runTimes: ['01:30'] },
      ],
    },
    {
      label: 'Australia/Lord_Howe: a 30-minute gap in October',
      expression: 'cron(15 2 * * ? *)',
      timeZone: 'Australia/Lord_Howe',
      expected: [
        { kind: 'gap', date: '2027-10-03', from: '02:00', to: '02:30', runTimes: ['02:15'] },
      ],
    },
    {
      label: 'Australia/Lord_Howe: a 30-minute repeat in April',
      expression: 'cron(45 1 * * ? *)',
      timeZone: 'Australia/Lord_Howe',
      expected: [
        { kind: 'repeat', date: '2027-04-04', from: '01:30', to: '02:00', runTimes: ['01:45'] },
      ],
    },
    {
      label: 'every 20 minutes in Europe/Berlin: each run in the changing hour',
      expression: 'cron(0/20 * * * ? *)',
      timeZone: 'Europe/Berlin',
      expected: [
        {
          kind: 'gap',
          date: '2027-03-28',
          from: '02:00',
          to: '03:00',
          runTimes: ['02:00', '02:20', '02:40'],
        },
        {
          kind: 'repeat',
          date: '2027-10-31',
          from: '02:00',
          to: '03:00',
          runTimes: ['02:00', '02:20', '02:40'],
        },
      ],
    },
    {
      label: 'weekdays only in Europe/Berlin: the changes fall on Sundays',
      expression: 'cron(30 2 ? * MON-FRI *)',
      timeZone: 'Europe/Berlin',
      expected: [],
    },
    {
      label: 'the last Sunday of March only in Europe/Berlin: the gap',
      expression: 'cron(30 2 ? MAR 1L *)',
      timeZone: 'Europe/Berlin',
      expected: [
        { kind: 'gap', date: '2027-03-28', from: '02:00', to: '03:00', runTimes: ['02:30'] },
      ],
    },
    {
      label: 'a later year only in Europe/Berlin: nothing within the year',
      expression: 'cron(30 2 * * ? 2030)',
      timeZone: 'Europe/Berlin',
      expected: [],
    },
    {
      label: 'UTC: never',
      expression: 'cron(30 2 * * ? *)',
      timeZone: 'UTC',
      expected: [],
    },
    {
      label: 'a zone without daylight saving (Asia/Tokyo): never',
      expression: 'cron(30 2 * * ? *)',
      timeZone: 'Asia/Tokyo',
      expected: [],
    },
    {
      label: 'a rate expression: never',
      expression: 'rate(1 hour)',
      timeZone: 'Europe/Berlin',
      expected: [],
    },
  ])('$label', ({ expression, timeZone, expected }) => {
    // Act
    const conflicts = daylightSavingConflicts(expression, timeZone, { from });

    // Assess
    expect(conflicts).toEqual(expected);
  });
});

describe('daylightSavingWarning', () => {
  it('names the schedule, each date, and what Scheduler does on it', () => {
    // Prepare
    const conflicts = daylightSavingConflicts('cron(30 2 * * ? *)', 'Europe/Berlin', { from });

    // Act
    const warning = daylightSavingWarning(
      'nightly',
      'cron(30 2 * * ? *)',
      'Europe/Berlin',
      conflicts,
    );

    // Assess
    expect(warning).toContain('Schedule "nightly" (cron(30 2 * * ? *) in Europe/Berlin)');
    expect(warning).toContain(
      '2027-03-28 02:30 (spring-forward gap: 02:00-03:00 does not exist in Europe/Berlin, Scheduler skips that run)',
    );
    expect(warning).toContain(
      '2027-10-31 02:30 (fall-back repeat: 02:00-03:00 happens twice in Europe/Berlin, Scheduler runs it once, before the clocks go back)',
    );
  });
});
