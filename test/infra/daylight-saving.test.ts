import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { DAYLIGHT_SAVING_WARNING } from '../../lib/constructs/scheduled-flows';
import { buildStack, defaultContextConfig } from '../support/stack';

/** The warnings synth attaches to the stack's schedules for daylight-saving changes. */
function daylightSavingWarnings(rawConfig: unknown) {
  const { stack } = buildStack(rawConfig);
  return Annotations.fromStack(stack).findWarning(
    '*',
    Match.stringLikeRegexp('meets daylight-saving changes'),
  );
}

const scheduleAt = (expression: string, timeZone: string) => ({
  appflow: { schedules: [{ name: 'nightly', expression, timeZone, flows: ['crm-export'] }] },
});

describe('daylight-saving warning at synth', () => {
  it('warns on a schedule whose time falls into its zone’s spring gap and autumn repeat, naming it and what Scheduler does', () => {
    // Act
    const warnings = daylightSavingWarnings(scheduleAt('cron(30 2 * * ? *)', 'Europe/Berlin'));

    // Assess
    expect(warnings).toHaveLength(1);
    expect(warnings[0].id).toMatch(/\/ScheduledFlows\/Schedule-nightly$/);
    const message = String(warnings[0].entry.data);
    expect(message).toContain('Schedule "nightly" (cron(30 2 * * ? *) in Europe/Berlin)');
    expect(message).toMatch(
      /\d{4}-03-\d\d 02:30 \(spring-forward gap: 02:00-03:00 does not exist in Europe\/Berlin, Scheduler skips that run\)/,
    );
    expect(message).toMatch(/\d{4}-10-\d\d 02:30 \(fall-back repeat: 02:00-03:00 happens twice/);
    expect(message).toContain(`[ack: ${DAYLIGHT_SAVING_WARNING}]`);
  });

  it.each([
    ['the default config in cdk.json', defaultContextConfig()],
    ['04:00 in Europe/Berlin', scheduleAt('cron(0 4 * * ? *)', 'Europe/Berlin')],
    ['02:30 in UTC', scheduleAt('cron(30 2 * * ? *)', 'UTC')],
    ['a rate expression', scheduleAt('rate(1 hour)', 'Europe/Berlin')],
  ])('does not warn for %s', (_label, rawConfig) => {
    // Act & Assess
    expect(daylightSavingWarnings(rawConfig)).toEqual([]);
  });

  it('writes the canonical time zone name into the template', () => {
    // Act
    const { template } = buildStack(scheduleAt('cron(0 4 * * ? *)', 'america/new_york'));

    // Assess
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpressionTimezone: 'America/New_York',
    });
  });
});
