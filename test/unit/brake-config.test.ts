/**
 * The storm brake's and the notice digests' config: `redrive.breaker` (and its
 * per-machine override) and the top-level `notices` section. Documented
 * defaults, the effective options of one machine, and one exact, one-line,
 * field-named problem for each kind of mistake.
 */
import {
  breakerEnabledAnywhere,
  breakerOptionsFor,
  parseAutohealConfig,
  type RedriveConfig,
} from '../../lambda/shared/autoheal-config';
import { ConfigError } from '../../lambda/shared/errors';

const SCOPE = { stateMachineNamePrefixes: ['orders-'] };

/** Parses a config with the scope above and `options` in its redrive section. */
function redriveOf(options: Record<string, unknown>): RedriveConfig {
  const { redrive } = parseAutohealConfig({ redrive: { ...SCOPE, ...options } });
  if (!redrive) throw new Error('expected a redrive section');
  return redrive;
}

/** The message of what the parser threw, or a failed test if it threw nothing. */
function messageOf(config: unknown): string {
  try {
    parseAutohealConfig(config);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('redrive.breaker', () => {
  it('defaults to an enabled breaker with the documented options', () => {
    // Prepare
    const options = {};

    // Act
    const redrive = redriveOf(options);

    // Assess
    expect(redrive.breaker).toEqual({
      enabled: true,
      windowMinutes: 10,
      minRelapses: 20,
      relapseRatio: 0.8,
      cooldownMinutes: 5,
      cooldownFactor: 2,
      maxCooldownMinutes: 60,
      probes: 3,
    });
  });

  it.each([
    {
      label: 'a machine without an override gets the section breaker',
      name: 'orders-daily',
      expected: { enabled: true, cooldownMinutes: 10, probes: 3 },
    },
    {
      label: 'an override replaces only what it sets',
      name: 'orders-nightly',
      expected: { enabled: true, cooldownMinutes: 10, probes: 1 },
    },
    {
      label: 'an override can switch the breaker off for one machine',
      name: 'orders-legacy',
      expected: { enabled: false, cooldownMinutes: 10, probes: 3 },
    },
  ])('$label', ({ name, expected }) => {
    // Prepare
    const redrive = redriveOf({
      breaker: { cooldownMinutes: 10 },
      overrides: {
        'orders-nightly': { breaker: { probes: 1 } },
        'orders-legacy': { breaker: { enabled: false } },
      },
    });

    // Act
    const breaker = breakerOptionsFor(redrive, name);

    // Assess
    expect(breaker).toMatchObject(expected);
  });

  it.each([
    { label: 'the default', options: {}, expected: true },
    { label: 'disabled in the section', options: { breaker: { enabled: false } }, expected: false },
    {
      label: 'disabled in the section, enabled for one machine',
      options: {
        breaker: { enabled: false },
        overrides: { 'orders-nightly': { breaker: { enabled: true } } },
      },
      expected: true,
    },
    {
      label: 'disabled in the section, an override that does not enable it',
      options: {
        breaker: { enabled: false },
        overrides: { 'orders-nightly': { breaker: { probes: 1 } } },
      },
      expected: false,
    },
  ])('is enabled anywhere: $label → $expected', ({ options, expected }) => {
    // Prepare
    const redrive = redriveOf(options);

    // Act
    const enabled = breakerEnabledAnywhere(redrive);

    // Assess
    expect(enabled).toBe(expected);
  });

  const breaker = (options: Record<string, unknown>) => ({
    redrive: { ...SCOPE, breaker: options },
  });
  const override = (options: Record<string, unknown>) => ({
    redrive: { ...SCOPE, overrides: { 'orders-nightly': { breaker: options } } },
  });

  it.each([
    {
      config: breaker({ enabled: 'yes' }),
      message: 'redrive.breaker.enabled: must be true or false, got "yes"',
    },
    {
      config: breaker({ windowMinutes: 0 }),
      message: 'redrive.breaker.windowMinutes: must be an integer from 1 to 1440, got 0',
    },
    {
      config: breaker({ windowMinutes: 1441 }),
      message: 'redrive.breaker.windowMinutes: must be an integer from 1 to 1440, got 1441',
    },
    {
      config: breaker({ windowMinutes: 2.5 }),
      message: 'redrive.breaker.windowMinutes: must be an integer, got number 2.5',
    },
    {
      config: breaker({ minRelapses: 0 }),
      message: 'redrive.breaker.minRelapses: must be an integer from 1 to 10000, got 0',
    },
    {
      config: breaker({ relapseRatio: 0 }),
      message: 'redrive.breaker.relapseRatio: must be a number above 0 and at most 1, got 0',
    },
    {
      config: breaker({ relapseRatio: 1.5 }),
      message: 'redrive.breaker.relapseRatio: must be a number above 0 and at most 1, got 1.5',
    },
    {
      config: breaker({ relapseRatio: '0.8' }),
      message: 'redrive.breaker.relapseRatio: must be a number, got "0.8"',
    },
    {
      config: breaker({ cooldownMinutes: 0 }),
      message: 'redrive.breaker.cooldownMinutes: must be an integer from 1 to 1440, got 0',
    },
    {
      config: breaker({ cooldownFactor: 0.5 }),
      message: 'redrive.breaker.cooldownFactor: must be a number from 1 to 10, got 0.5',
    },
    {
      config: breaker({ maxCooldownMinutes: 1441 }),
      message: 'redrive.breaker.maxCooldownMinutes: must be an integer from 1 to 1440, got 1441',
    },
    {
      config: breaker({ cooldownMinutes: 30, maxCooldownMinutes: 20 }),
      message: 'redrive.breaker.maxCooldownMinutes: must be at least cooldownMinutes (30), got 20',
    },
    {
      config: breaker({ probes: 0 }),
      message: 'redrive.breaker.probes: must be an integer from 1 to 50, got 0',
    },
    {
      config: breaker({ probes: 51 }),
      message: 'redrive.breaker.probes: must be an integer from 1 to 50, got 51',
    },
    {
      config: breaker({ probs: 3 }),
      message:
        'redrive.breaker.probs: is not a known option; known options: enabled, windowMinutes, minRelapses, relapseRatio, cooldownMinutes, cooldownFactor, maxCooldownMinutes, probes',
    },
    {
      config: { redrive: { ...SCOPE, breaker: true } },
      message: 'redrive.breaker: must be an object, got boolean true',
    },
    {
      config: override({ probes: 0 }),
      message:
        'redrive.overrides.orders-nightly.breaker.probes: must be an integer from 1 to 50, got 0',
    },
    {
      config: override({ maxCooldownMinutes: 3 }),
      message:
        'redrive.overrides.orders-nightly.breaker.maxCooldownMinutes: must be at least cooldownMinutes (5), got 3',
    },
    {
      config: override({ cooldownMinutes: 90 }),
      message:
        'redrive.overrides.orders-nightly.breaker.maxCooldownMinutes: must be at least cooldownMinutes (90), got 60',
    },
  ])('rejects $message', ({ config, message }) => {
    // Prepare
    const raw: unknown = config;

    // Act
    const thrown = messageOf(raw);

    // Assess
    expect(thrown).toBe(`Invalid Autoheal config at ${message}`);
    expect(thrown).not.toContain('\n');
  });
});

describe('notices', () => {
  it.each([
    {
      label: 'absent',
      notices: undefined,
      expected: { digestWindowMinutes: 15, immediateNotices: 1, digestExamples: 10 },
    },
    {
      label: 'null (the defaults, on purpose)',
      notices: null,
      expected: { digestWindowMinutes: 15, immediateNotices: 1, digestExamples: 10 },
    },
    {
      label: 'digests off',
      notices: { digestWindowMinutes: 0 },
      expected: { digestWindowMinutes: 0, immediateNotices: 1, digestExamples: 10 },
    },
    {
      label: 'every option',
      notices: { digestWindowMinutes: 60, immediateNotices: 5, digestExamples: 0 },
      expected: { digestWindowMinutes: 60, immediateNotices: 5, digestExamples: 0 },
    },
  ])('fills in the defaults: $label', ({ notices, expected }) => {
    // Prepare
    const config = { redrive: SCOPE, notices };

    // Act
    const parsed = parseAutohealConfig(config);

    // Assess
    expect(parsed.notices).toEqual(expected);
  });

  it('applies to an appflow-only config too', () => {
    // Prepare
    const config = { appflow: { healedFlows: ['crm-export'] }, notices: { immediateNotices: 3 } };

    // Act
    const parsed = parseAutohealConfig(config);

    // Assess
    expect(parsed.notices).toEqual({
      digestWindowMinutes: 15,
      immediateNotices: 3,
      digestExamples: 10,
    });
  });

  const notices = (options: unknown) => ({ redrive: SCOPE, notices: options });

  it.each([
    {
      config: notices({ digestWindowMinutes: -1 }),
      message: 'notices.digestWindowMinutes: must be an integer from 0 to 1440, got -1',
    },
    {
      config: notices({ digestWindowMinutes: 1441 }),
      message: 'notices.digestWindowMinutes: must be an integer from 0 to 1440, got 1441',
    },
    {
      config: notices({ digestWindowMinutes: 7.5 }),
      message: 'notices.digestWindowMinutes: must be an integer, got number 7.5',
    },
    {
      config: notices({ immediateNotices: 0 }),
      message: 'notices.immediateNotices: must be an integer from 1 to 1000, got 0',
    },
    {
      config: notices({ digestExamples: 101 }),
      message: 'notices.digestExamples: must be an integer from 0 to 100, got 101',
    },
    {
      config: notices({ digestWindow: 15 }),
      message:
        'notices.digestWindow: is not a known option; known options: digestWindowMinutes, immediateNotices, digestExamples',
    },
    {
      config: notices('15'),
      message: 'notices: must be an object, got "15"',
    },
  ])('rejects $message', ({ config, message }) => {
    // Prepare
    const raw: unknown = config;

    // Act
    const thrown = messageOf(raw);

    // Assess
    expect(thrown).toBe(`Invalid Autoheal config at ${message}`);
  });
});
