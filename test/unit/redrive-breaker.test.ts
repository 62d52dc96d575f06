/**
 * The redrive handler's side of the storm brake that needs no DynamoDB: which
 * breaker options a state machine runs under, and which messages are a
 * failure's first sight (the only ones whose signal is recorded).
 */
import { DEFAULT_BREAKER_OPTIONS } from '../../lambda/redrive/breaker/breaker-policy';
import { isFirstSight, isProbe } from '../../lambda/redrive/redrive-breaker';
import {
  type BreakerConfigSource,
  breakerEnabledAnywhere,
  breakerOptionsByArn,
  breakerOptionsFor,
} from '../../lambda/shared/config/breaker-config';
import { MESSAGE_ATTRIBUTES, SWEEPER_ORIGIN } from '../../lambda/shared/contract';
import { sqsRecord } from '../support/idempotency-table';

describe('breaker options of a state machine', () => {
  it.each<[string, BreakerConfigSource, string, Partial<typeof DEFAULT_BREAKER_OPTIONS>]>([
    ['a config without breaker options: the defaults', { overrides: {} }, 'orders', {}],
    [
      "the section's options",
      { breaker: { minRelapses: 5, windowMinutes: 3 }, overrides: {} },
      'orders',
      { minRelapses: 5, windowMinutes: 3 },
    ],
    [
      "a machine's override on top of the section's",
      {
        breaker: { minRelapses: 5, probes: 1 },
        overrides: { orders: { breaker: { probes: 4 } } },
      },
      'orders',
      { minRelapses: 5, probes: 4 },
    ],
    [
      "another machine's override changes nothing",
      { breaker: { minRelapses: 5 }, overrides: { payments: { breaker: { enabled: false } } } },
      'orders',
      { minRelapses: 5 },
    ],
    [
      'an override without breaker options',
      { overrides: { orders: { observeOnly: true } } },
      'orders',
      {},
    ],
  ])('%s', (_case, config, machine, expected) => {
    // Act
    const options = breakerOptionsFor(config, machine);

    // Assess
    expect(options).toEqual({ ...DEFAULT_BREAKER_OPTIONS, ...expected });
  });

  it('finds the options of a machine by its ARN, as the breaker store asks', () => {
    // Prepare
    const optionsFor = breakerOptionsByArn({
      overrides: { orders: { breaker: { windowMinutes: 2 } } },
    });

    // Act + Assess
    expect(optionsFor('arn:aws:states:eu-central-1:123456789012:stateMachine:orders')).toEqual({
      ...DEFAULT_BREAKER_OPTIONS,
      windowMinutes: 2,
    });
    expect(optionsFor('arn:aws:states:eu-central-1:123456789012:stateMachine:payments')).toEqual(
      DEFAULT_BREAKER_OPTIONS,
    );
  });

  it.each<{ when: string; config: BreakerConfigSource; needed: boolean }>([
    { when: 'enabled by default', config: { overrides: {} }, needed: true },
    {
      when: 'disabled in the section',
      config: { breaker: { enabled: false }, overrides: {} },
      needed: false,
    },
    {
      when: 'disabled in the section, enabled for one machine',
      config: {
        breaker: { enabled: false },
        overrides: { orders: { breaker: { enabled: true } } },
      },
      needed: true,
    },
    {
      when: 'disabled in the section and in an override',
      config: {
        breaker: { enabled: false },
        overrides: { orders: { breaker: { enabled: false } } },
      },
      needed: false,
    },
  ])('the breaker is $when: the state table is needed: $needed', ({ config, needed }) => {
    expect(breakerEnabledAnywhere(config)).toBe(needed);
  });
});

describe("a failure's first sight", () => {
  it.each([
    { message: 'an event from the rule', attributes: {}, firstSight: true, probe: false },
    {
      message: 'a failure the sweeper found',
      attributes: { [MESSAGE_ATTRIBUTES.origin]: SWEEPER_ORIGIN },
      firstSight: true,
      probe: false,
    },
    {
      message: "Autoheal's deferral hop",
      attributes: { [MESSAGE_ATTRIBUTES.deferrals]: '1' },
      firstSight: false,
      probe: false,
    },
    {
      message: 'a probe the keeper sent',
      attributes: { [MESSAGE_ATTRIBUTES.probe]: 'true' },
      firstSight: false,
      probe: true,
    },
    {
      message: 'a held failure the keeper re-sent',
      attributes: { [MESSAGE_ATTRIBUTES.origin]: 'brake-keeper' },
      firstSight: false,
      probe: false,
    },
  ])('$message: first sight $firstSight, probe $probe', ({ attributes, firstSight, probe }) => {
    // Prepare
    const record = sqsRecord('{}', { messageAttributes: attributes as Record<string, string> });

    // Act + Assess
    expect(isFirstSight(record)).toBe(firstSight);
    expect(isProbe(record)).toBe(probe);
  });
});
