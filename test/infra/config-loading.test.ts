import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { AutohealStack } from '../../bin/autoheal-stack';
import { loadAutohealConfig } from '../../bin/config/load-config';
import { parseAutohealConfig } from '../../lambda/shared/autoheal-config';
import { ConfigError, configProblemsOf } from '../../lambda/shared/errors';

const ROOT = path.join(__dirname, '..', '..');

const tempDirs: string[] = [];
/** A fresh directory under the OS temp dir, removed after the suite. */
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('loadAutohealConfig', () => {
  it('reads the object in cdk.json context and fills in the defaults', () => {
    // Prepare
    const app = new App({
      context: { autoheal: { redrive: { stateMachineNamePrefixes: ['etl-'] } } },
    });

    // Act
    const config = loadAutohealConfig(app.node);

    // Assess
    expect(config.redrive).toMatchObject({ stateMachineNamePrefixes: ['etl-'], maxRedrives: 3 });
  });

  it('reads a JSON string passed with -c autoheal=...', () => {
    // Prepare
    const app = new App({
      context: {
        autoheal:
          '{"redrive":{"stateMachineNamePrefixes":["etl-"],"maxRedrives":7},"appflow":null}',
      },
    });

    // Act & Assess
    expect(loadAutohealConfig(app.node).redrive?.maxRedrives).toBe(7);
  });

  it('prefers a config file named with -c autohealConfigFile=...', () => {
    // Prepare
    const file = path.join(tempDir('autoheal-'), 'config.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ redrive: { stateMachineNamePrefixes: ['file-'] }, appflow: null }),
    );
    const app = new App({
      context: {
        autohealConfigFile: file,
        autoheal: { redrive: { stateMachineNamePrefixes: ['ctx-'] } },
      },
    });

    // Act & Assess
    expect(loadAutohealConfig(app.node).redrive?.stateMachineNamePrefixes).toEqual(['file-']);
  });

  it.each([
    ['no config at all', {}, 'autoheal', /set the "autoheal" context/],
    ['a string that is not JSON', { autoheal: '{redrive:' }, 'autoheal', /must be valid JSON/],
    [
      'a missing file',
      { autohealConfigFile: '/nonexistent/autoheal.json' },
      'autohealConfigFile',
      /cannot read/,
    ],
    [
      'a bad field',
      { autoheal: { redrive: { stateMachineNamePrefixes: ['etl-'], maxRedrives: 'three' } } },
      'redrive.maxRedrives',
      /must be an integer/,
    ],
  ])('fails on %s, naming the field', (_name, context, field, message) => {
    // Prepare
    const app = new App({ context });

    // Act
    let error: unknown;
    try {
      loadAutohealConfig(app.node);
    } catch (e) {
      error = e;
    }

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ field, message: expect.stringMatching(message) });
  });
});

/** What loadAutohealConfig threw, or fails the test if it threw nothing. */
function loadFailureOf(context: Record<string, unknown>, cdkJsonPath?: string): ConfigError {
  try {
    loadAutohealConfig(new App({ context }).node, { cdkJsonPath });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('the config was accepted');
}

/** A cdk.json in a fresh directory whose context.autoheal is the given config. */
function projectWith(autoheal: unknown): string {
  const file = path.join(tempDir('autoheal-project-'), 'cdk.json');
  fs.writeFileSync(file, JSON.stringify({ app: 'true', context: { autoheal } }));
  return file;
}

const REDRIVE_ONLY = { redrive: { stateMachineNamePrefixes: ['etl-'] } };
const APPFLOW_ONLY = {
  appflow: {
    schedules: [{ name: 'nightly', expression: 'rate(1 day)', flows: ['crm-export'] }],
  },
};

describe('loadAutohealConfig refuses what would deploy another config than meant', () => {
  it.each([
    ['an empty autohealConfigFile (an unset CI variable)', { autohealConfigFile: '' }],
    ['a blank autohealConfigFile', { autohealConfigFile: '  ' }],
    ['an empty autoheal', { autoheal: '' }],
  ])('refuses %s instead of using cdk.json', (_label, context) => {
    // Act
    const error = loadFailureOf({ autoheal: REDRIVE_ONLY, ...context });

    // Assess
    expect(error.field).toBe(Object.keys(context)[0]);
    expect(error.problem).toMatch(/^is empty \(an unset variable\?\)/);
  });

  it.each([
    ['autoheall', '{"redrive":{}}', 'autoheal'],
    ['autohealConfig', '{"redrive":{}}', 'autoheal'],
    ['autohealConfig', 'config/prod.json', 'autohealConfigFile'],
    ['AutoHeal', '{}', 'autoheal'],
    ['atuoheal', '{}', 'autoheal'],
    ['autoheal-config', '{}', 'autoheal'],
    ['autohealconfigfile', 'prod.json', 'autohealConfigFile'],
    ['autohealConfigFiles', 'prod.json', 'autohealConfigFile'],
    ['autohealFile', 'prod.json', 'autohealConfigFile'],
  ])('refuses the misspelt context key %s=%s, suggesting %s', (key, value, suggestion) => {
    // Act
    const error = loadFailureOf({ autoheal: REDRIVE_ONLY, [key]: value });

    // Assess
    expect(error.field).toBe(`context.${key}`);
    expect(error.problem).toContain(`did you mean ${suggestion}?`);
  });

  it('names every misspelt key at once', () => {
    // Act
    const error = loadFailureOf({ autoheal: REDRIVE_ONLY, autoheall: '{}', autohealFile: 'x' });

    // Assess
    expect(configProblemsOf(error).map((e) => e.field)).toEqual([
      'context.autoheall',
      'context.autohealFile',
    ]);
  });

  it("accepts cdk.json's own context, CDK's feature flags and the CLI's keys", () => {
    // Prepare
    const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8'));
    const context = {
      ...cdkJson.context,
      '@aws-cdk/aws-lambda:recognizeLayerVersion': true,
      '@aws-cdk/core:enableStackNameDuplicates': true,
      'aws:cdk:enable-path-metadata': true,
      'aws:cdk:disable-version-reporting': true,
      'aws:cdk:bundling-stacks': ['**'],
      'aws:cdk:validation-report-json': false,
      'cli-telemetry': false,
      'acknowledged-issue-numbers': [],
    };

    // Act
    const config = loadAutohealConfig(new App({ context }).node);

    // Assess
    expect(config.appflow?.schedules).toHaveLength(1);
  });

  it.each([
    ['-c autoheal', (config: unknown) => ({ autoheal: JSON.stringify(config) })],
    [
      '-c autohealConfigFile',
      (config: unknown) => {
        const file = path.join(tempDir('autoheal-'), 'c.json');
        fs.writeFileSync(file, JSON.stringify(config));
        return { autoheal: APPFLOW_ONLY, autohealConfigFile: file };
      },
    ],
  ])(
    'refuses a config given with %s that drops a section cdk.json configures',
    (source, contextOf) => {
      // Prepare
      const cdkJsonPath = projectWith({ ...REDRIVE_ONLY, ...APPFLOW_ONLY });

      // Act
      const error = loadFailureOf(contextOf(REDRIVE_ONLY), cdkJsonPath);

      // Assess
      expect(error.field).toBe('autoheal.appflow');
      expect(error.message).toMatch(
        new RegExp(
          `^Invalid Autoheal config at autoheal.appflow: is configured in cdk.json but missing from the config given with ${source}.*, so a deploy would remove the AppFlow schedules and flow healing; add the section, or set "appflow": null to remove it on purpose$`,
        ),
      );
    },
  );

  it.each([
    ['says so with null', { ...REDRIVE_ONLY, appflow: null }, { ...REDRIVE_ONLY, ...APPFLOW_ONLY }],
    ['keeps every section', { ...REDRIVE_ONLY, ...APPFLOW_ONLY }, REDRIVE_ONLY],
    ['drops none of what cdk.json has', REDRIVE_ONLY, REDRIVE_ONLY],
  ])('accepts a -c config that %s', (_label, given, inCdkJson) => {
    // Prepare
    const cdkJsonPath = projectWith(inCdkJson);

    // Act
    const config = loadAutohealConfig(
      new App({ context: { autoheal: JSON.stringify(given) } }).node,
      { cdkJsonPath },
    );

    // Assess
    expect(config.redrive?.stateMachineNamePrefixes).toEqual(['etl-']);
  });

  it('compares nothing when there is no cdk.json', () => {
    // Act
    const config = loadAutohealConfig(
      new App({ context: { autoheal: JSON.stringify(REDRIVE_ONLY) } }).node,
      { cdkJsonPath: path.join(os.tmpdir(), 'no-such-dir', 'cdk.json') },
    );

    // Assess
    expect(config.appflow).toBeUndefined();
  });
});

/** The environment the CDK CLI would give the app, without this machine's AWS settings. */
function appEnvironment(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(AWS_|AMAZON_|CDK_)/.test(name)) env[name] = value;
  }
  // No credentials, profiles or instance metadata: the CLI looks up nothing over the network.
  const nowhere = path.join(tempDir('no-aws-'), 'none');
  return {
    ...env,
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: nowhere,
    AWS_SHARED_CREDENTIALS_FILE: nowhere,
    ...vars,
  };
}

/** Runs bin/autoheal.ts as the CDK CLI does (context in CDK_CONTEXT_JSON) and returns its exit and stderr. */
function runApp(context: Record<string, unknown>, vars: Record<string, string>) {
  const result = spawnSync(
    path.join(ROOT, 'node_modules', '.bin', 'ts-node'),
    ['--transpile-only', '--prefer-ts-exts', 'bin/autoheal.ts'],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: appEnvironment({
        CDK_CONTEXT_JSON: JSON.stringify(context),
        CDK_OUTDIR: tempDir('cdk-out-'),
        ...vars,
      }),
    },
  );
  return { status: result.status, stderr: result.stderr };
}

/** Stack frames (`    at fn (file:line)`) or paths into Autoheal's own source. */
const STACK_TRACE = /^\s+at |\/(lambda|lib|bin)\/[\w/-]+\.ts|\.ts:\d+/m;
const IN_US_EAST_1 = { CDK_DEFAULT_REGION: 'us-east-1', CDK_DEFAULT_ACCOUNT: '123456789012' };

describe('the app (bin/autoheal.ts) run as the CDK CLI runs it', () => {
  it.each([
    {
      label: 'every problem of a bad config',
      context: {
        autoheal: JSON.stringify({
          redrive: { stateMachineNamePrefixes: ['etl/'], maxRedrives: -1 },
          appflow: null,
        }),
      },
      lines: [
        'Invalid Autoheal config at redrive.stateMachineNamePrefixes[0]: must be a state machine name prefix of 1-80 characters, none of them white space, a control character or one of < > { } [ ] ? * " # % \\ ^ | ~ ` $ & , ; : /, got "etl/"',
        'Invalid Autoheal config at redrive.maxRedrives: must be an integer from 0 to 100, got -1',
      ],
    },
    {
      label: 'a misspelt context key',
      context: { autoheal: REDRIVE_ONLY, autoheall: '{}' },
      lines: [
        "Invalid Autoheal config at context.autoheall: is not a context key Autoheal reads; did you mean autoheal? Autoheal reads autoheal (the config as JSON) and autohealConfigFile (a JSON file's path)",
      ],
    },
    {
      label: 'a state machine ARN in another region, with what to set',
      context: {
        autoheal: {
          redrive: {
            stateMachineArns: ['arn:aws:states:eu-west-1:123456789012:stateMachine:orders'],
          },
        },
      },
      lines: [
        'Invalid Autoheal config at redrive.stateMachineArns[0]: is in region eu-west-1, but this stack deploys to region us-east-1; Autoheal redrives state machines of its own account and region, so deploy a stack there for it: set AWS_REGION=eu-west-1 (or AWS_DEFAULT_REGION, or pass --profile with a profile whose region is eu-west-1; the CDK CLI overwrites an exported CDK_DEFAULT_REGION)',
      ],
    },
  ])('prints $label, one line each, no stack trace, and exits 1', ({ context, lines }) => {
    // Act
    const { status, stderr } = runApp(context, IN_US_EAST_1);

    // Assess
    expect(status).toBe(1);
    expect(stderr).not.toMatch(STACK_TRACE);
    expect(stderr.trimEnd().split('\n')).toEqual([
      'Autoheal: synthesising for account 123456789012 (from your AWS credentials), region us-east-1 (the CDK CLI\'s default, unless your AWS profile (--profile, or "default") names it: neither AWS_REGION nor AWS_DEFAULT_REGION is set; set AWS_REGION to choose)',
      ...lines,
    ]);
  });

  it('says which account and region it targets, and from where, before any error', () => {
    // Act
    const { stderr } = runApp(
      { autoheal: '' },
      { CDK_DEFAULT_REGION: 'eu-west-1', AWS_REGION: 'eu-west-1' },
    );

    // Assess
    expect(stderr.split('\n')[0]).toBe(
      'Autoheal: synthesising for account unknown (no AWS credentials found: the template takes the account it is deployed to, AWS::AccountId), region eu-west-1 (from AWS_REGION)',
    );
  });
});

describe('cdk synth', () => {
  it('fails with one line per problem, naming each field, without a stack trace', () => {
    // Prepare
    const badConfig = JSON.stringify({
      redrive: { stateMachineNamePrefixes: ['etl-'], delay: { factor: 0.5 }, maxRedrives: 101 },
      appflow: null,
    });

    // Act
    const result = spawnSync(
      path.join(ROOT, 'node_modules', '.bin', 'cdk'),
      ['synth', '--no-notices', '-q', '-o', tempDir('cdk-out-'), '-c', `autoheal=${badConfig}`],
      { cwd: ROOT, encoding: 'utf8', env: appEnvironment({ AWS_REGION: 'eu-west-1' }) },
    );

    // Assess
    expect(result.status).not.toBe(0);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(result.stderr).toContain(
      'Autoheal: synthesising for account unknown (no AWS credentials found: the template takes the account it is deployed to, AWS::AccountId), region eu-west-1 (from AWS_REGION)\n',
    );
    expect(result.stderr).toContain(
      'Invalid Autoheal config at redrive.delay.factor: must be a number from 1 to 10, got 0.5\n',
    );
    expect(result.stderr).toContain(
      'Invalid Autoheal config at redrive.maxRedrives: must be an integer from 0 to 100, got 101\n',
    );
  });
});

describe('a state machine ARN outside the stack environment', () => {
  /** What building the stack in eu-central-1 of 123456789012 threw, one message per problem. */
  function refusalsOf(stateMachineArns: string[]): string[] {
    const app = new App();
    try {
      new AutohealStack(app, 'Autoheal', {
        config: parseAutohealConfig({ redrive: { stateMachineArns } }),
        env: { account: '123456789012', region: 'eu-central-1' },
      });
    } catch (error) {
      if (error instanceof ConfigError) return configProblemsOf(error).map((e) => e.message);
      throw error;
    }
    throw new Error('the stack was built');
  }

  it.each([
    {
      what: 'region',
      arn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:orders',
      todo: 'set AWS_REGION=eu-west-1 (or AWS_DEFAULT_REGION, or pass --profile with a profile whose region is eu-west-1; the CDK CLI overwrites an exported CDK_DEFAULT_REGION)',
    },
    {
      what: 'account',
      arn: 'arn:aws:states:eu-central-1:210987654321:stateMachine:orders',
      todo: "use that account's credentials (e.g. --profile with a profile of account 210987654321)",
    },
  ])('is refused in one line saying what to set for another $what', ({ arn, todo }) => {
    // Act
    const refusals = refusalsOf([arn]);

    // Assess
    expect(refusals).toEqual([
      expect.stringMatching(/^Invalid Autoheal config at redrive\.stateMachineArns\[0\]: /),
    ]);
    expect(refusals[0]).toContain(`so deploy a stack there for it: ${todo}`);
    expect(refusals[0]).not.toContain('\n');
  });

  it('is refused for every such ARN at once', () => {
    // Act
    const refusals = refusalsOf([
      'arn:aws:states:eu-west-1:123456789012:stateMachine:orders',
      'arn:aws:states:eu-central-1:123456789012:stateMachine:billing',
      'arn:aws:states:us-east-1:123456789012:stateMachine:payments',
    ]);

    // Assess
    expect(refusals).toEqual([
      expect.stringContaining('stateMachineArns[0]: is in region eu-west-1'),
      expect.stringContaining('stateMachineArns[2]: is in region us-east-1'),
    ]);
  });
});
