/**
 * Handlers read the config the construct normalised at synth, without
 * validating it again. Safe because normalising is idempotent (the normalised
 * config parses to itself, after the JSON round trip of the environment) and
 * because a handler refuses JSON not written in its config format.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  parseAppflowConfig,
  parseAutohealConfig,
  parseRedriveConfig,
} from '../../lambda/shared/autoheal-config';
import {
  CONFIG_FILE_NAME,
  CONFIG_FORMAT,
  CONFIG_PLACEHOLDER,
  CONFIG_SECTION,
  ENV,
} from '../../lambda/shared/contract';
import { readNormalisedConfig } from '../../lambda/shared/normalised-config';
import { writeConfigFile } from '../support/config-file';

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
  const HOME = { partition: 'aws-cn', region: 'cn-north-1', account: '210987654321' };
  const writeRaw = (content: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autoheal-config-test-'));
    const file = path.join(dir, CONFIG_FILE_NAME);
    fs.writeFileSync(file, content);
    return file;
  };

  it('reads the section the construct wrote into the file, in its format', () => {
    // Prepare
    const redrive = parseRedriveConfig({ stateMachineNamePrefixes: ['orders-'] });
    process.env[ENV.configFile] = writeConfigFile({ [CONFIG_SECTION.redrive]: redrive });

    // Act
    const read = readNormalisedConfig(CONFIG_SECTION.redrive);

    // Assess
    expect(read).toEqual(redrive);
  });

  it('fills home-relative ARNs from the states ARN prefix and tokens from their variable', () => {
    // Prepare
    const { homeArn, pseudo, token } = CONFIG_PLACEHOLDER;
    const imported = `arn:aws-cn:states:cn-north-1:111111111111:stateMachine:imported`;
    process.env[ENV.configFile] = writeRaw(
      JSON.stringify({
        format: CONFIG_FORMAT,
        placeholders: true,
        sections: {
          redrive: {
            stateMachineArns: [
              `${homeArn}arn:${pseudo}P:states:${pseudo}R:${pseudo}A:stateMachine:orders`,
              `${token}0`,
              'arn:aws:states:eu-west-1:123456789012:stateMachine:literal',
            ],
          },
        },
      }),
    );
    process.env[ENV.statesArnPrefix] =
      `arn:${HOME.partition}:states:${HOME.region}:${HOME.account}:`;
    process.env[ENV.configTokens] = JSON.stringify([imported]);

    // Act
    const read = readNormalisedConfig<{ stateMachineArns: string[] }>(CONFIG_SECTION.redrive);

    // Assess
    expect(read.stateMachineArns).toEqual([
      `arn:aws-cn:states:cn-north-1:210987654321:stateMachine:orders`,
      imported,
      'arn:aws:states:eu-west-1:123456789012:stateMachine:literal',
    ]);
  });

  it.each([
    {
      label: 'no file (a function deployed without the construct)',
      content: undefined,
      message:
        'cannot be read (ENOENT): deploy the function with the Autoheal construct, or set AUTOHEAL_CONFIG_FILE.',
    },
    {
      label: 'no format (a file written by hand)',
      content: '{"sections":{"redrive":{}}}',
      message: `cannot be trusted: its format is not set, this handler reads config format "${CONFIG_FORMAT}".`,
    },
    {
      label: 'another format (another Autoheal version)',
      content: '{"format":"1","sections":{"redrive":{}}}',
      message: `cannot be trusted: its format is "1", this handler reads config format "${CONFIG_FORMAT}".`,
    },
    {
      label: 'JSON that does not parse',
      content: '{"format":',
      message: 'is not JSON',
    },
    {
      label: 'a section that is not an object',
      content: `{"format":"${CONFIG_FORMAT}","sections":{"redrive":[]}}`,
      message: 'has no redrive section as a JSON object',
    },
  ])('refuses $label with one line naming the file', ({ content, message }) => {
    // Prepare
    const file =
      content === undefined
        ? path.join(os.tmpdir(), 'no-such-dir', CONFIG_FILE_NAME)
        : writeRaw(content);
    process.env[ENV.configFile] = file;

    // Act
    const act = () => readNormalisedConfig(CONFIG_SECTION.redrive);

    // Assess
    expect(act).toThrow(`The config file ${file} `);
    expect(act).toThrow(message);
    try {
      act();
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });
});
