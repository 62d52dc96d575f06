/**
 * parseAutohealConfig: the documented defaults, and a ConfigError naming the
 * option and what it allows for every kind of mistake a user can make.
 */
import {
  allConfiguredStatuses,
  isStateMachineInScope,
  parseAutohealConfig,
  policyFor,
  type RedriveConfig,
} from '../../lambda/shared/autoheal-config';
import { ConfigError } from '../../lambda/shared/errors';
import { INVALID_NAMES, VALID_NAMES } from '../support/names';

/** Parses a whole config and returns its redrive section, failing the test if there is none. */
function redriveSectionOf(config: unknown): RedriveConfig {
  const { redrive } = parseAutohealConfig(config);
  if (!redrive) throw new Error('expected a redrive section');
  return redrive;
}

const ORDERS_ARN = 'arn:aws:states:eu-central-1:123456789012:stateMachine:autoheal-demo-orders';
const DEMO_SCOPE = { stateMachineNamePrefixes: ['autoheal-demo-'] };

/** Runs the parser and returns what it threw, or fails the test if it threw nothing. */
function rejectionOf(config: unknown): unknown {
  try {
    parseAutohealConfig(config);
  } catch (error) {
    return error;
  }
  throw new Error('the config was accepted');
}

describe('parseAutohealConfig', () => {
  describe('defaults', () => {
    it('fills in every documented default around the scope', () => {
      // Prepare
      const config = { redrive: DEMO_SCOPE };

      // Act
      const parsed = parseAutohealConfig(config);

      // Assess
      expect(parsed).toEqual({
        redrive: {
          stateMachineArns: [],
          stateMachineNamePrefixes: ['autoheal-demo-'],
          statuses: ['FAILED', 'TIMED_OUT'],
          maxRedrives: 3,
          errors: {
            deny: [
              'States.Runtime',
              'States.DataLimitExceeded',
              'States.ResultPathMatchFailure',
              'States.ParameterPathFailure',
              'States.NoChoiceMatched',
              'States.IntrinsicFailure',
              'States.QueryEvaluationError',
            ],
            allow: [],
          },
          delay: { baseSeconds: 60, factor: 4, capSeconds: 3600, jitterRatio: 0.2 },
          observeOnly: false,
          breaker: {
            enabled: true,
            windowMinutes: 10,
            minRelapses: 20,
            relapseRatio: 0.8,
            cooldownMinutes: 5,
            cooldownFactor: 2,
            maxCooldownMinutes: 60,
            probes: 3,
          },
          overrides: {},
          processing: { batchSize: 10, maxConcurrency: 5, maxReceiveCount: 5 },
          sweeper: { enabled: true, periodMinutes: 60, lookbackHours: 24, requestsPerSecond: 1 },
          kmsKeyArns: [],
        },
        notices: { digestWindowMinutes: 15, immediateNotices: 1, digestExamples: 10 },
        dashboard: { enabled: true },
      });
    });

    it.each([
      {
        label: 'a partial sweeper section',
        sweeper: { periodMinutes: 15 },
        expected: { enabled: true, periodMinutes: 15, lookbackHours: 24, requestsPerSecond: 1 },
      },
      {
        label: 'a disabled sweeper',
        sweeper: { enabled: false },
        expected: { enabled: false, periodMinutes: 60, lookbackHours: 24, requestsPerSecond: 1 },
      },
      {
        label: 'the widest sweeper: daily, over 14 days, at 2 calls per second',
        sweeper: { periodMinutes: 1440, lookbackHours: 336, requestsPerSecond: 2 },
        expected: { enabled: true, periodMinutes: 1440, lookbackHours: 336, requestsPerSecond: 2 },
      },
      {
        label: 'the narrowest overlap: every 5 minutes over 1 hour, at 0.5 calls per second',
        sweeper: { periodMinutes: 5, lookbackHours: 1, requestsPerSecond: 0.5 },
        expected: { enabled: true, periodMinutes: 5, lookbackHours: 1, requestsPerSecond: 0.5 },
      },
    ])('fills in the sweeper defaults around $label', ({ sweeper, expected }) => {
      // Prepare
      const config = { redrive: { ...DEMO_SCOPE, sweeper } };

      // Act
      const redrive = redriveSectionOf(config);

      // Assess
      expect(redrive.sweeper).toEqual(expected);
    });

    it('keeps the defaults of the options a partial section leaves out', () => {
      // Prepare
      const config = {
        redrive: {
          stateMachineArns: [ORDERS_ARN],
          delay: { baseSeconds: 30 },
          errors: { allow: ['Lambda.*'] },
          processing: { batchSize: 1 },
        },
      };

      // Act
      const redrive = redriveSectionOf(config);

      // Assess
      expect(redrive.delay).toEqual({
        baseSeconds: 30,
        factor: 4,
        capSeconds: 3600,
        jitterRatio: 0.2,
      });
      expect(redrive.errors.allow).toEqual(['Lambda.*']);
      expect(redrive.errors.deny).toHaveLength(7);
      expect(redrive.processing).toEqual({ batchSize: 1, maxConcurrency: 5, maxReceiveCount: 5 });
    });

    it('lists each configured status once', () => {
      // Prepare
      const config = { redrive: { ...DEMO_SCOPE, statuses: ['FAILED', 'ABORTED', 'FAILED'] } };

      // Act
      const redrive = redriveSectionOf(config);

      // Assess
      expect(redrive.statuses).toEqual(['FAILED', 'ABORTED']);
    });

    it('parses its own output again to the same config (synth time to Lambda start)', () => {
      // Prepare
      const parsed = parseAutohealConfig({
        redrive: {
          stateMachineArns: [ORDERS_ARN],
          stateMachineNamePrefixes: ['autoheal-demo-'],
          observeOnly: true,
          overrides: {
            'autoheal-demo-payments': {
              maxRedrives: 5,
              delay: { capSeconds: 600 },
              errors: { deny: [] },
            },
          },
        },
      });

      // Act
      const reparsed = parseAutohealConfig(JSON.parse(JSON.stringify(parsed)));

      // Assess
      expect(reparsed).toEqual(parsed);
    });
  });

  describe('invalid configs', () => {
    const redrive = (options: Record<string, unknown>) => ({
      redrive: { ...DEMO_SCOPE, ...options },
    });
    const override = (options: Record<string, unknown>) =>
      redrive({ overrides: { 'autoheal-demo-orders': options } });

    it.each([
      { label: 'no config', config: undefined, field: 'autoheal', allowed: /must be an object/ },
      {
        label: 'neither a redrive nor an appflow section',
        config: {},
        field: 'autoheal',
        allowed: /add a "redrive" section, an "appflow" section, or both/,
      },
      {
        label: 'an unknown top-level section',
        config: { redrive: DEMO_SCOPE, redrives: {} },
        field: 'autoheal.redrives',
        allowed: /known options: redrive, appflow/,
      },
      {
        label: 'an empty scope',
        config: { redrive: {} },
        field: 'redrive.stateMachineArns',
        allowed: /at least one state machine ARN .* or a name prefix/,
      },
      {
        label: 'an empty scope given as empty lists',
        config: { redrive: { stateMachineArns: [], stateMachineNamePrefixes: [] } },
        field: 'redrive.stateMachineArns',
        allowed: /scope is empty/,
      },
      {
        label: 'an execution ARN as state machine ARN',
        config: {
          redrive: {
            stateMachineArns: [
              'arn:aws:states:eu-central-1:123456789012:execution:autoheal-demo-orders:order-1042',
            ],
          },
        },
        field: 'redrive.stateMachineArns[0]',
        allowed: /state machine ARN \(arn:aws:states:REGION:ACCOUNT:stateMachine:NAME\)/,
      },
      {
        label: 'a prefix with a slash',
        config: { redrive: { stateMachineNamePrefixes: ['autoheal/demo'] } },
        field: 'redrive.stateMachineNamePrefixes[0]',
        allowed: /1-80 characters, none of them white space, a control character or one of .*\//,
      },
      {
        label: 'a typo in an option name',
        config: redrive({ maxRedrive: 5 }),
        field: 'redrive.maxRedrive',
        allowed: /not a known option; known options: .*maxRedrives/,
      },
      {
        label: 'a status that is not terminal',
        config: redrive({ statuses: ['RUNNING'] }),
        field: 'redrive.statuses[0]',
        allowed: /one of FAILED, TIMED_OUT, ABORTED, got "RUNNING"/,
      },
      {
        label: 'no statuses',
        config: redrive({ statuses: [] }),
        field: 'redrive.statuses',
        allowed: /at least one of FAILED, TIMED_OUT, ABORTED/,
      },
      {
        label: 'maxRedrives -1',
        config: redrive({ maxRedrives: -1 }),
        field: 'redrive.maxRedrives',
        allowed: /an integer from 0 to 100/,
      },
      {
        label: 'maxRedrives 2.5',
        config: redrive({ maxRedrives: 2.5 }),
        field: 'redrive.maxRedrives',
        allowed: /an integer/,
      },
      {
        label: 'maxRedrives 101',
        config: redrive({ maxRedrives: 101 }),
        field: 'redrive.maxRedrives',
        allowed: /an integer from 0 to 100/,
      },
      {
        label: 'delay.factor 0.5 (a shrinking delay)',
        config: redrive({ delay: { factor: 0.5 } }),
        field: 'redrive.delay.factor',
        allowed: /a number from 1 to 10/,
      },
      {
        label: 'capSeconds below the default baseSeconds',
        config: redrive({ delay: { capSeconds: 30 } }),
        field: 'redrive.delay.capSeconds',
        allowed: /at least baseSeconds \(60\), got 30/,
      },
      {
        label: 'capSeconds below baseSeconds',
        config: redrive({ delay: { baseSeconds: 600, capSeconds: 300 } }),
        field: 'redrive.delay.capSeconds',
        allowed: /at least baseSeconds \(600\), got 300/,
      },
      {
        label: 'delay.jitterRatio 2',
        config: redrive({ delay: { jitterRatio: 2 } }),
        field: 'redrive.delay.jitterRatio',
        allowed: /a number from 0 to 1/,
      },
      {
        label: 'an error list that is a string',
        config: redrive({ errors: { deny: 'States.Runtime' } }),
        field: 'redrive.errors.deny',
        allowed: /must be an array/,
      },
      {
        label: 'an override for a state machine out of scope',
        config: redrive({ overrides: { 'billing-sync': { maxRedrives: 1 } } }),
        field: 'redrive.overrides.billing-sync',
        allowed: /outside the configured scope/,
      },
      {
        label: 'an override keyed by ARN instead of name',
        config: redrive({ overrides: { [ORDERS_ARN]: { maxRedrives: 1 } } }),
        field: `redrive.overrides.${ORDERS_ARN}`,
        allowed: /keys must be state machine names/,
      },
      {
        label: 'an override with a typo',
        config: override({ maxRedrive: 1 }),
        field: 'redrive.overrides.autoheal-demo-orders.maxRedrive',
        allowed: /known options: statuses, maxRedrives, errors, delay, observeOnly/,
      },
      {
        label: 'an override of a stack-wide option',
        config: override({ processing: { batchSize: 1 } }),
        field: 'redrive.overrides.autoheal-demo-orders.processing',
        allowed: /not a known option/,
      },
      {
        label: 'an override whose baseSeconds exceeds the base capSeconds',
        config: override({ delay: { baseSeconds: 7200 } }),
        field: 'redrive.overrides.autoheal-demo-orders.delay.capSeconds',
        allowed: /at least baseSeconds \(7200\), got 3600/,
      },
      {
        label: 'an override with a bad maxRedrives',
        config: override({ maxRedrives: 101 }),
        field: 'redrive.overrides.autoheal-demo-orders.maxRedrives',
        allowed: /an integer from 0 to 100/,
      },
      {
        label: 'a sweeper that is not an object',
        config: redrive({ sweeper: true }),
        field: 'redrive.sweeper',
        allowed: /must be an object/,
      },
      {
        label: 'a typo in a sweeper option',
        config: redrive({ sweeper: { lookback: 24 } }),
        field: 'redrive.sweeper.lookback',
        allowed: /known options: enabled, periodMinutes, lookbackHours, requestsPerSecond/,
      },
      {
        label: 'sweeper.enabled "yes"',
        config: redrive({ sweeper: { enabled: 'yes' } }),
        field: 'redrive.sweeper.enabled',
        allowed: /true or false/,
      },
      {
        label: 'sweeper.periodMinutes 4',
        config: redrive({ sweeper: { periodMinutes: 4 } }),
        field: 'redrive.sweeper.periodMinutes',
        allowed: /an integer from 5 to 1440, got 4/,
      },
      {
        label: 'sweeper.periodMinutes 1441',
        config: redrive({ sweeper: { periodMinutes: 1441 } }),
        field: 'redrive.sweeper.periodMinutes',
        allowed: /an integer from 5 to 1440/,
      },
      {
        label: 'sweeper.periodMinutes 7.5',
        config: redrive({ sweeper: { periodMinutes: 7.5 } }),
        field: 'redrive.sweeper.periodMinutes',
        allowed: /an integer/,
      },
      {
        label: 'sweeper.lookbackHours 0',
        config: redrive({ sweeper: { lookbackHours: 0 } }),
        field: 'redrive.sweeper.lookbackHours',
        allowed: /an integer from 1 to 336, got 0/,
      },
      {
        label: 'sweeper.lookbackHours 337 (beyond the 14-day redrive window)',
        config: redrive({ sweeper: { lookbackHours: 337 } }),
        field: 'redrive.sweeper.lookbackHours',
        allowed: /an integer from 1 to 336/,
      },
      {
        label: 'a lookback no longer than the period (sweeps would not overlap)',
        config: redrive({ sweeper: { periodMinutes: 1440 } }),
        field: 'redrive.sweeper.lookbackHours',
        allowed: /cover more than periodMinutes \(1440 min\).*got 24 h/,
      },
      {
        label: 'a lookback of exactly the period',
        config: redrive({ sweeper: { periodMinutes: 60, lookbackHours: 1 } }),
        field: 'redrive.sweeper.lookbackHours',
        allowed: /cover more than periodMinutes \(60 min\)/,
      },
      {
        label: 'sweeper.requestsPerSecond 0',
        config: redrive({ sweeper: { requestsPerSecond: 0 } }),
        field: 'redrive.sweeper.requestsPerSecond',
        allowed: /above 0 and at most 2, got 0/,
      },
      {
        label: 'sweeper.requestsPerSecond 2.5 (past the ListExecutions quota)',
        config: redrive({ sweeper: { requestsPerSecond: 2.5 } }),
        field: 'redrive.sweeper.requestsPerSecond',
        allowed: /above 0 and at most 2, got 2.5/,
      },
      {
        label: 'sweeper.requestsPerSecond "1"',
        config: redrive({ sweeper: { requestsPerSecond: '1' } }),
        field: 'redrive.sweeper.requestsPerSecond',
        allowed: /must be a number/,
      },
      {
        label: 'processing.batchSize 11',
        config: redrive({ processing: { batchSize: 11 } }),
        field: 'redrive.processing.batchSize',
        allowed: /an integer from 1 to 10/,
      },
    ])('rejects $label naming $field', ({ config, field, allowed }) => {
      // Prepare
      const raw: unknown = config;

      // Act
      const error = rejectionOf(raw);

      // Assess
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ field, problem: expect.stringMatching(allowed) });
      expect(String((error as Error).message)).toContain(`Invalid Autoheal config at ${field}: `);
    });
  });

  describe('overrides', () => {
    it('accepts an override for a state machine in scope by ARN', () => {
      // Prepare
      const config = {
        redrive: {
          stateMachineArns: [ORDERS_ARN],
          overrides: { 'autoheal-demo-orders': { maxRedrives: 1 } },
        },
      };

      // Act
      const redrive = redriveSectionOf(config);

      // Assess
      expect(policyFor(redrive, 'autoheal-demo-orders').maxRedrives).toBe(1);
    });

    it('applies an override on top of the config, only for its state machine', () => {
      // Prepare
      const redrive = redriveSectionOf({
        redrive: {
          ...DEMO_SCOPE,
          maxRedrives: 4,
          delay: { factor: 2 },
          overrides: {
            'autoheal-demo-payments': { delay: { baseSeconds: 120 }, observeOnly: true },
          },
        },
      });

      // Act
      const payments = policyFor(redrive, 'autoheal-demo-payments');
      const orders = policyFor(redrive, 'autoheal-demo-orders');

      // Assess
      expect(payments).toMatchObject({
        maxRedrives: 4,
        delay: { baseSeconds: 120, factor: 2, capSeconds: 3600, jitterRatio: 0.2 },
        observeOnly: true,
      });
      expect(orders).toMatchObject({
        maxRedrives: 4,
        delay: { baseSeconds: 60, factor: 2, capSeconds: 3600, jitterRatio: 0.2 },
        observeOnly: false,
      });
    });
  });

  describe('allConfiguredStatuses', () => {
    it.each([
      { label: 'the default statuses', options: {}, statuses: ['FAILED', 'TIMED_OUT'] },
      {
        label: 'ABORTED when only an override asks for it',
        options: { overrides: { 'autoheal-demo-payments': { statuses: ['ABORTED'] } } },
        statuses: ['FAILED', 'TIMED_OUT', 'ABORTED'],
      },
      {
        label: 'the union of a narrowed config and its overrides',
        options: {
          statuses: ['TIMED_OUT'],
          overrides: { 'autoheal-demo-payments': { statuses: ['FAILED'] } },
        },
        statuses: ['FAILED', 'TIMED_OUT'],
      },
    ])('includes $label', ({ options, statuses }) => {
      // Prepare
      const redrive = redriveSectionOf({ redrive: { ...DEMO_SCOPE, ...options } });

      // Act
      const configured = allConfiguredStatuses(redrive);

      // Assess
      expect(configured).toEqual(statuses);
    });
  });

  describe('isStateMachineInScope', () => {
    const HOME = 'arn:aws:states:eu-central-1:123456789012:';
    const scope = redriveSectionOf({
      redrive: {
        stateMachineNamePrefixes: ['autoheal-demo-'],
        stateMachineArns: ['arn:aws:states:us-east-1:123456789012:stateMachine:payments'],
      },
    });

    it.each([
      { arn: `${HOME}stateMachine:autoheal-demo-orders`, inScope: true, why: 'a prefix, at home' },
      {
        arn: `${HOME}stateMachine:autoheal-demo-orders/ship-items`,
        inScope: true,
        why: "a Distributed Map child's NAME/LABEL, at home",
      },
      {
        arn: 'arn:aws:states:us-east-1:123456789012:stateMachine:payments',
        inScope: true,
        why: 'a listed ARN, in its own region',
      },
      {
        arn: 'arn:aws:states:eu-central-1:210987654321:stateMachine:autoheal-demo-orders',
        inScope: false,
        why: 'a prefix match in another account',
      },
      {
        arn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:autoheal-demo-orders',
        inScope: false,
        why: 'a prefix match in another region',
      },
      {
        arn: 'arn:aws-cn:states:eu-central-1:123456789012:stateMachine:autoheal-demo-orders',
        inScope: false,
        why: 'a prefix match in another partition',
      },
      {
        arn: `${HOME}stateMachine:payments`,
        inScope: false,
        why: 'the name of a listed ARN, in another region',
      },
      { arn: `${HOME}stateMachine:billing-nightly`, inScope: false, why: 'a name nothing covers' },
    ])('says $inScope for $why', ({ arn, inScope }) => {
      // Act
      const covered = isStateMachineInScope(scope, arn, HOME);

      // Assess
      expect(covered).toBe(inScope);
    });
  });
});

describe('state machine names in the redrive config (Step Functions naming rule)', () => {
  const HOME = 'arn:aws:states:eu-central-1:123456789012:';
  const configError = (config: unknown) => {
    const error = rejectionOf(config);
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  };

  it.each(VALID_NAMES)('accepts a machine named with $label by ARN', ({ name }) => {
    // Act
    const redrive = redriveSectionOf({
      redrive: { stateMachineArns: [`${HOME}stateMachine:${name}`] },
    });

    // Assess
    expect(redrive.stateMachineArns).toEqual([`${HOME}stateMachine:${name}`]);
  });

  it.each(VALID_NAMES)('accepts a name prefix with $label', ({ name }) => {
    // Act
    const redrive = redriveSectionOf({ redrive: { stateMachineNamePrefixes: [name] } });

    // Assess
    expect(redrive.stateMachineNamePrefixes).toEqual([name]);
  });

  it.each(VALID_NAMES)('accepts an override keyed by a name with $label', ({ name }) => {
    // Act
    const redrive = redriveSectionOf({
      redrive: {
        stateMachineArns: [`${HOME}stateMachine:${name}`],
        overrides: { [name]: { maxRedrives: 1 } },
      },
    });

    // Assess
    expect(policyFor(redrive, name).maxRedrives).toBe(1);
  });

  it('puts orders-eu.v2 in scope by a prefix with a dot, in its own account and region only', () => {
    // Prepare
    const redrive = redriveSectionOf({ redrive: { stateMachineNamePrefixes: ['orders-eu.'] } });

    // Act
    const home = isStateMachineInScope(redrive, `${HOME}stateMachine:orders-eu.v2`, HOME);
    const child = isStateMachineInScope(redrive, `${HOME}stateMachine:orders-eu.v2/Lines`, HOME);
    const elsewhere = isStateMachineInScope(
      redrive,
      'arn:aws:states:eu-west-1:123456789012:stateMachine:orders-eu.v2',
      HOME,
    );

    // Assess
    expect({ home, child, elsewhere }).toEqual({ home: true, child: true, elsewhere: false });
  });

  it.each(INVALID_NAMES)('refuses a machine named with $label by ARN', ({ name }) => {
    // Act
    const error = configError({ redrive: { stateMachineArns: [`${HOME}stateMachine:${name}`] } });

    // Assess
    expect(error.field).toBe('redrive.stateMachineArns[0]');
  });

  // The empty prefix fails on its length, before the naming rule.
  it.each(INVALID_NAMES.filter(({ name }) => name !== ''))(
    'refuses a name prefix with $label',
    ({ name }) => {
      // Act
      const error = configError({ redrive: { stateMachineNamePrefixes: [name] } });

      // Assess
      expect(error.field).toBe('redrive.stateMachineNamePrefixes[0]');
      expect(error.problem).toMatch(/1-80 characters, none of them white space/);
    },
  );

  it.each(INVALID_NAMES.filter(({ name }) => name !== ''))(
    'refuses an override keyed by a name with $label',
    ({ name }) => {
      // Act
      const error = configError({
        redrive: {
          stateMachineNamePrefixes: ['orders'],
          overrides: { [name]: { maxRedrives: 1 } },
        },
      });

      // Assess
      expect(error.field).toBe(`redrive.overrides.${name}`);
    },
  );
});
