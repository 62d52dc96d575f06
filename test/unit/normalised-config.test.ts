/**
 * Handlers read the config the construct normalised at synth, without
 * validating it again. Safe because normalising is idempotent (the normalised
 * config parses to itself, after the JSON round trip of the environment) and
 * because a handler refuses JSON not written in its config format.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  parseAppflowConfig,
  parseAutohealConfig,
  parseRedriveConfig,
} from '../../lambda/shared/autoheal-config';
import { CONFIG_FORMAT, ENV } from '../../lambda/shared/contract';
import { readNormalisedConfig } from '../../lambda/shared/normalised-config';

const DEFAULT_CONFIG = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'),
).context.autoheal;

/** Configs that use every option, with values parsing rewrites (a duplicate status, a zone's case). */
const RICH_CONFIGS: Record<string, unknown> = {
  'the default config of cdk.json': DEFAULT_CONFIG,
  'every redrive option': {
    redrive: {
      stateMachineArns: ['arn:aws:states:eu-central-1:123456789012:stateMachine:orders'],
      stateMachineNamePrefixes: ['billing-', 'ünïcode.@+='],
      statuses: ['FAILED', 'ABORTED', 'FAILED'],
      maxRedrives: 7,
      errors: { deny: ['States.Runtime', 'Custom.*'], allow: ['Lambda.?ervice*'] },
      delay: { baseSeconds: 0, factor: 1.5, jitterRatio: 0 },
      observeOnly: true,
      overrides: {
        orders: { statuses: ['TIMED_OUT'], delay: { capSeconds: 43200 }, errors: { allow: [] } },
        'billing-close': { maxRedrives: 0, observeOnly: false },
      },
      processing: { batchSize: 1, maxConcurrency: 2, maxReceiveCount: 100 },
      sweeper: { enabled: false, periodMinutes: 1440, lookbackHours: 336, requestsPerSecond: 0.5 },
      kmsKeyArns: [
        'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      ],
    },
    operators: { principalArns: ['arn:aws:iam::123456789012:role/ops/replayer'] },
    environments: [
      { account: '123456789012', region: 'eu-west-1', name: 'Prod-EU' },
      { account: '123456789012', region: 'us-east-1' },
    ],
  },
  'every appflow option': {
    appflow: {
      schedules: [
        {
          name: 'nightly.v2',
          expression: 'cron(0/15 22-2 ? JAN-MAR MON#2 2026-2030)',
          timeZone: 'america/new_york',
          flexibleWindowMinutes: 15,
          flows: ['crm-export', 'erp_sync!'],
        },
        { name: 'hourly', expression: 'rate(1 hour)', flows: ['crm-export'] },
      ],
      healedFlows: ['scheduled-by-appflow'],
      healing: {
        rerunFailedRuns: false,
        maxReruns: 10,
        delay: { baseSeconds: 3600, capSeconds: 3600 },
        reactivateDeactivated: false,
        reactivationCooldownMinutes: 1440,
        maxReactivations: 0,
        reactivationWindowHours: 720,
      },
      maxConcurrentStarts: 50,
      processing: { batchSize: 10, maxConcurrency: 1000, maxReceiveCount: 2 },
    },
  },
};

/** What crosses the Lambda environment: a JSON string. */
const overTheEnvironment = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('normalising the config', () => {
  it.each(Object.entries(RICH_CONFIGS))('is idempotent for %s', (_label, raw) => {
    // Prepare
    const normalised = parseAutohealConfig(raw);

    // Act
    const again = parseAutohealConfig(overTheEnvironment(normalised));

    // Assess
    expect(again).toEqual(normalised);
  });

  it.each(Object.entries(RICH_CONFIGS))(
    'gives each handler section exactly what parsing it again would give: %s',
    (_label, raw) => {
      // Prepare
      const { redrive, appflow } = parseAutohealConfig(raw);

      // Act & Assess
      if (redrive) {
        expect(parseRedriveConfig(overTheEnvironment(redrive))).toEqual(redrive);
      }
      if (appflow) {
        // As the handlers did before: time zones checked by shape only.
        expect(
          parseAppflowConfig(overTheEnvironment(appflow), 'appflow', { resolveTimeZones: false }),
        ).toEqual(appflow);
      }
    },
  );
});

describe('readNormalisedConfig', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('reads the JSON the construct wrote, in its format', () => {
    // Prepare
    const redrive = parseRedriveConfig({ stateMachineNamePrefixes: ['orders-'] });
    process.env[ENV.redriveConfig] = JSON.stringify(redrive);
    process.env[ENV.configFormat] = CONFIG_FORMAT;

    // Act
    const read = readNormalisedConfig(ENV.redriveConfig);

    // Assess
    expect(read).toEqual(redrive);
  });

  it.each([
    {
      label: 'no format (a variable written by hand)',
      format: undefined,
      json: '{"stateMachineNamePrefixes":["orders-"]}',
      message: `AUTOHEAL_REDRIVE_CONFIG cannot be trusted: AUTOHEAL_CONFIG_FORMAT is not set, this handler reads config format "${CONFIG_FORMAT}".`,
    },
    {
      label: 'another format (another Autoheal version)',
      format: '0',
      json: '{}',
      message: `AUTOHEAL_REDRIVE_CONFIG cannot be trusted: AUTOHEAL_CONFIG_FORMAT is "0", this handler reads config format "${CONFIG_FORMAT}".`,
    },
    {
      label: 'JSON that does not parse',
      format: CONFIG_FORMAT,
      json: '{"maxRedrives":',
      message: 'AUTOHEAL_REDRIVE_CONFIG is not JSON',
    },
    {
      label: 'JSON that is not an object',
      format: CONFIG_FORMAT,
      json: '[]',
      message: 'AUTOHEAL_REDRIVE_CONFIG must be a JSON object',
    },
  ])('refuses $label with one line naming the variable', ({ format, json, message }) => {
    // Prepare
    if (format === undefined) delete process.env[ENV.configFormat];
    else process.env[ENV.configFormat] = format;
    process.env[ENV.redriveConfig] = json;

    // Act
    const act = () => readNormalisedConfig(ENV.redriveConfig);

    // Assess
    expect(act).toThrow(message);
    try {
      act();
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });
});
