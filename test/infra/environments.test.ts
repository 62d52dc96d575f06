/**
 * Many accounts and regions: an environment-agnostic stack scopes itself to
 * wherever it is deployed (CloudFormation pseudo parameters), and the app
 * builds one Stage per entry of the config's `environments`, each scoped to
 * its own account and region only.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type App, type Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AutohealStack } from '../../bin/autoheal-stack';
import { buildAutohealApp, deploymentStages } from '../../bin/build-app';
import { parseAutohealConfig } from '../../lambda/shared/autoheal-config';
import { ENV } from '../../lambda/shared/contract';
import { ConfigError, configProblemsOf } from '../../lambda/shared/errors';
import { uncheckedArnsWarningId } from '../../lib/unchecked-environment';
import { defaultContextConfig, templateOnlyApp } from '../support/stack';

/** Where the configured ARNs of the rich config live: none of the deployments below. */
const ARN_ACCOUNT = '210987654321';
const ARN_REGION = 'sa-east-1';

/** Every option that builds an ARN: both scope kinds, keys, overrides, schedules, healed flows, operators. */
const richConfig = {
  redrive: {
    stateMachineArns: [`arn:aws:states:${ARN_REGION}:${ARN_ACCOUNT}:stateMachine:orders-nightly`],
    stateMachineNamePrefixes: ['billing-', 'etl-'],
    kmsKeyArns: [
      `arn:aws:kms:${ARN_REGION}:${ARN_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    ],
    overrides: { 'billing-close': { statuses: ['ABORTED'] } },
  },
  appflow: {
    schedules: [{ name: 'nightly', expression: 'cron(0 3 * * ? *)', flows: ['crm-export'] }],
    healedFlows: ['erp-sync'],
  },
  operators: { principalArns: [`arn:aws:iam::${ARN_ACCOUNT}:role/ops`] },
};

/** A 12-digit account id or a region name standing alone (not inside a hash or a longer name). */
const LITERAL_ACCOUNT = /(?<![\w-])\d{12}(?![\w])/g;
const LITERAL_REGION = /(?<![\w-])(?:af|ap|ca|cn|eu|il|me|mx|sa|us)-[a-z]+-\d(?![\w])/g;

function literalsIn(json: string): string[] {
  return [
    ...new Set([...(json.match(LITERAL_ACCOUNT) ?? []), ...(json.match(LITERAL_REGION) ?? [])]),
  ];
}

/** Each string in the template, as CloudFormation resolves it for a deployment to `account` in `region`. */
function resolvedIn(value: unknown, account: string, region: string): unknown {
  if (Array.isArray(value)) return value.map((v) => resolvedIn(v, account, region));
  if (typeof value !== 'object' || value === null) return value;
  const v = value as Record<string, unknown>;
  if (v.Ref === 'AWS::AccountId') return account;
  if (v.Ref === 'AWS::Region') return region;
  if (v.Ref === 'AWS::Partition') return 'aws';
  if (v.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
  if (Array.isArray(v['Fn::Join'])) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    const resolved = parts.map((p) => resolvedIn(p, account, region));
    if (resolved.every((p) => typeof p === 'string')) return resolved.join(separator);
    return { 'Fn::Join': [separator, resolved] };
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolvedIn(x, account, region)]));
}

type Resource = { Properties: Record<string, unknown> };

/** Every ARN-bearing value the construct builds: rule patterns, IAM statements, role trusts, variables, key conditions. */
function scopedValues(template: Template) {
  const of = (type: string) =>
    Object.values(template.findResources(type) as Record<string, Resource>);
  return {
    rulePatterns: of('AWS::Events::Rule').map((r) => r.Properties.EventPattern),
    policyStatements: of('AWS::IAM::Policy').flatMap(
      (p) => (p.Properties.PolicyDocument as { Statement: unknown[] }).Statement,
    ),
    trusts: of('AWS::IAM::Role').map((r) => r.Properties.AssumeRolePolicyDocument),
    variables: of('AWS::Lambda::Function').map(
      (f) => (f.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
    ),
    queuePolicies: of('AWS::SQS::QueuePolicy').map((p) => p.Properties.PolicyDocument),
    topicPolicies: of('AWS::SNS::TopicPolicy').map((p) => p.Properties.PolicyDocument),
  };
}

function agnosticStack(rawConfig: unknown): AutohealStack {
  return new AutohealStack(templateOnlyApp(), 'Autoheal', {
    config: parseAutohealConfig(rawConfig),
  });
}

describe('an environment-agnostic stack (no account, no region)', () => {
  it.each([
    { label: 'the default config (cdk.json)', rawConfig: defaultContextConfig(), configured: [] },
    {
      label: 'a config with every ARN-building option',
      rawConfig: richConfig,
      configured: [ARN_ACCOUNT, ARN_REGION],
    },
  ])(
    'synthesises $label with no literal account or region but the configured ARNs',
    ({ rawConfig, configured }) => {
      // Prepare
      const stack = agnosticStack(rawConfig);

      // Act
      const json = JSON.stringify(Template.fromStack(stack).toJSON());

      // Assess
      expect(literalsIn(json).sort()).toEqual([...configured].sort());
      expect(json).toContain('{"Ref":"AWS::AccountId"}');
      expect(json).toContain('{"Ref":"AWS::Region"}');
    },
  );

  it.each([
    { account: '111111111111', region: 'eu-west-1' },
    { account: '222222222222', region: 'ap-southeast-2' },
  ])(
    'scopes every ARN it builds to the deployment, as CloudFormation resolves it in $account $region',
    ({ account, region }) => {
      // Prepare
      const template = Template.fromStack(agnosticStack(richConfig));

      // Act
      const deployed = resolvedIn(scopedValues(template), account, region) as ReturnType<
        typeof scopedValues
      >;

      // Assess
      const statesOfDeployment = `arn:aws:states:${region}:${account}:`;
      expect(deployed.rulePatterns).toContainEqual(
        expect.objectContaining({
          detail: expect.objectContaining({
            stateMachineArn: [
              richConfig.redrive.stateMachineArns[0],
              { prefix: `${statesOfDeployment}stateMachine:billing-` },
              { prefix: `${statesOfDeployment}stateMachine:etl-` },
            ],
          }),
        }),
      );
      expect(deployed.variables).toContainEqual(
        expect.objectContaining({ [ENV.statesArnPrefix]: statesOfDeployment }),
      );
      const text = JSON.stringify(deployed);
      // Every resolved literal is the deployment's or a configured ARN's: nothing else, nothing left to resolve.
      expect(literalsIn(text).sort()).toEqual([account, ARN_ACCOUNT, region, ARN_REGION].sort());
      expect(text).not.toMatch(/AWS::(AccountId|Region)/);
      expect(text).toContain(`"kms:ViaService":"states.${region}.amazonaws.com"`);
      expect(text).toContain(`"aws:SourceAccount":"${account}"`);
      expect(text).toContain(`arn:aws:appflow:${region}:${account}:flow/crm-export`);
      expect(text).toContain(`${statesOfDeployment}execution:billing-*`);
    },
  );

  it.each([
    { field: 'redrive.stateMachineArns', unknown: 'account and region are' },
    { field: 'redrive.kmsKeyArns', unknown: 'region is' },
    { field: 'operators.principalArns', unknown: 'account is' },
  ])(
    'warns at synth that $field was not checked against the unknown environment',
    ({ field, unknown }) => {
      // Prepare
      const stack = agnosticStack(richConfig);

      // Act
      const warnings = Annotations.fromStack(stack)
        .findWarning('*', Match.anyValue())
        .map((w) => String(w.entry.data));

      // Assess
      expect(warnings).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^${field.replace(/\./g, '\\.')} not checked against the stack's .*: the stack is environment-agnostic, so its ${unknown} known only at deploy .*\\[ack: ${uncheckedArnsWarningId(field)}\\]$`,
          ),
        ),
      );
    },
  );

  it('passes cdk-nag with every ARN-building option', () => {
    // Prepare
    const stack = agnosticStack(richConfig);
    const app = stack.node.root as App;
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // Act & Assess
    expect(() => app.synth()).not.toThrow();
  });

  it('warns about nothing it could check: a known environment, or no ARNs', () => {
    // Prepare
    const known = new AutohealStack(templateOnlyApp(), 'Autoheal', {
      config: parseAutohealConfig({
        ...richConfig,
        redrive: { ...richConfig.redrive, stateMachineArns: [], kmsKeyArns: [] },
        operators: { principalArns: ['arn:aws:iam::111111111111:role/ops'] },
      }),
      env: { account: '111111111111', region: 'eu-west-1' },
    });
    const noArns = agnosticStack(defaultContextConfig());

    // Act
    const warnings = [known, noArns].flatMap((stack) =>
      Annotations.fromStack(stack).findWarning('*', Match.anyValue()),
    );

    // Assess
    expect(warnings.map((w) => w.entry.data)).not.toContainEqual(
      expect.stringContaining('not checked against'),
    );
  });
});

/** The rich config less the exact ARNs: the same config serves every Stage, and an exact ARN names one account and region. */
const stagedConfig = {
  ...richConfig,
  redrive: { ...richConfig.redrive, stateMachineArns: [], kmsKeyArns: [] },
  operators: undefined,
};

const THREE_ENVIRONMENTS = [
  { account: '111111111111', region: 'eu-west-1' },
  { account: '222222222222', region: 'us-east-2', name: 'prod-us' },
  { account: '333333333333', region: 'ap-southeast-2' },
];

function stagedApp(rawConfig: Record<string, unknown>) {
  const app = templateOnlyApp();
  const stacks = buildAutohealApp(app, parseAutohealConfig(rawConfig), {
    CDK_DEFAULT_ACCOUNT: '999999999999',
    CDK_DEFAULT_REGION: 'us-west-2',
  });
  return { app, stacks };
}

describe('the app with environments in the config', () => {
  it('builds one Stage per environment, each with a stack Autoheal in its account and region', () => {
    // Prepare & Act
    const { app, stacks } = stagedApp({
      ...(defaultContextConfig() as object),
      environments: THREE_ENVIRONMENTS,
    });
    const assembly = app.synth();

    // Assess
    expect(stacks.map((s) => s.stackName)).toEqual([
      'env-111111111111-eu-west-1-Autoheal',
      'prod-us-Autoheal',
      'env-333333333333-ap-southeast-2-Autoheal',
    ]);
    expect(assembly.stacksRecursively.map((s) => s.environment.name).sort()).toEqual([
      'aws://111111111111/eu-west-1',
      'aws://222222222222/us-east-2',
      'aws://333333333333/ap-southeast-2',
    ]);
  });

  it.each(THREE_ENVIRONMENTS.map((environment, index) => ({ ...environment, index })))(
    'scopes the instance of $account $region to its own account and region only',
    ({ account, region, index }) => {
      // Prepare
      const { stacks } = stagedApp({ ...stagedConfig, environments: THREE_ENVIRONMENTS });
      const others = THREE_ENVIRONMENTS.filter((_, i) => i !== index).flatMap((e) => [
        e.account,
        e.region,
      ]);

      // Act
      const template = Template.fromStack(stacks[index]);
      const scoped = scopedValues(template);

      // Assess
      const text = JSON.stringify(scoped);
      const statesOfInstance = `:states:${region}:${account}:`;
      expect(literalsIn(text).sort()).toEqual([account, region].sort());
      expect(JSON.stringify(template.toJSON())).not.toMatch(new RegExp(others.join('|')));
      expect(JSON.stringify(scoped.rulePatterns)).toContain(
        `${statesOfInstance}stateMachine:billing-`,
      );
      expect(JSON.stringify(scoped.variables)).toContain(
        `"${ENV.statesArnPrefix}":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},"${statesOfInstance}"]]}`,
      );
      expect(JSON.stringify(scoped.policyStatements)).toContain(
        `${statesOfInstance}execution:billing-*`,
      );
      expect(JSON.stringify(scoped.policyStatements)).toContain(
        `:appflow:${region}:${account}:flow/crm-export`,
      );
    },
  );

  it('runs cdk-nag on the stack of every Stage', () => {
    // Prepare
    const { app, stacks } = stagedApp({
      ...(defaultContextConfig() as object),
      environments: THREE_ENVIRONMENTS,
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const last: Stack = stacks[2];
    new iam.Role(last, 'Unreviewed', { assumedBy: new iam.AccountRootPrincipal() }).addToPolicy(
      new iam.PolicyStatement({ actions: ['states:*'], resources: ['*'] }),
    );

    // Act & Assess
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Action::states:\*\]/);
  });

  it('builds the single stack Autoheal, in the CLI account and region, without environments', () => {
    // Prepare & Act
    const { app, stacks } = stagedApp(defaultContextConfig() as Record<string, unknown>);

    // Assess
    expect(stacks.map((s) => [s.node.path, s.account, s.region])).toEqual([
      ['Autoheal', '999999999999', 'us-west-2'],
    ]);
    expect(app.node.children.map((c) => c.node.id)).toEqual(['Autoheal']);
  });

  it.each([
    {
      label: 'a name CDK refuses for a Stage',
      environments: [{ account: '111111111111', region: 'eu-west-1', name: 'prod eu' }],
      lines: [
        'Invalid Autoheal config at environments[0].name: must be a CDK Stage name: a letter, then letters, digits, "-", "_" and "." (at most 100 characters), got "prod eu"',
      ],
    },
    {
      label: 'one account and region twice, and one name twice',
      environments: [
        { account: '111111111111', region: 'eu-west-1', name: 'prod' },
        { account: '111111111111', region: 'eu-west-1', name: 'again' },
        { account: '222222222222', region: 'eu-west-1', name: 'PROD' },
      ],
      lines: [
        'Invalid Autoheal config at environments[1]: deploys to account 111111111111, region eu-west-1, as environments[0] does; list each account and region once',
        'Invalid Autoheal config at environments[2].name: names the Stage "PROD", as environments[0] does (names differing only in case collide in stack names); give each environment its own name',
      ],
    },
    {
      label: 'a state machine ARN that one Stage refuses, naming the Stage',
      environments: THREE_ENVIRONMENTS.slice(0, 2),
      redrive: { stateMachineArns: ['arn:aws:states:eu-west-1:111111111111:stateMachine:orders'] },
      lines: [
        expect.stringMatching(
          /^Invalid Autoheal config at redrive\.stateMachineArns\[0\]: is in region eu-west-1, but this stack deploys to region us-east-2; .* \(in Stage prod-us, environments\[1\]\)$/,
        ),
      ],
    },
  ])(
    'refuses $label, one line per problem naming the field',
    ({ environments, redrive, lines }) => {
      // Prepare
      const rawConfig = {
        redrive: redrive ?? { stateMachineNamePrefixes: ['orders-'] },
        environments,
      };

      // Act
      let problems: string[] = [];
      try {
        stagedApp(rawConfig);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problems = configProblemsOf(error).map((e) => e.message);
      }

      // Assess
      expect(problems).toEqual(lines);
    },
  );

  it.each([
    {
      environments: [{ account: '11111111111', region: 'eu-west-1' }],
      field: 'environments[0].account',
    },
    {
      environments: [{ account: '111111111111', region: 'Europe' }],
      field: 'environments[0].region',
    },
    {
      environments: [{ account: '111111111111', region: 'eu-west-1', stage: 'x' }],
      field: 'environments[0].stage',
    },
    { environments: { account: '111111111111', region: 'eu-west-1' }, field: 'environments' },
  ])('refuses a malformed entry at $field before building anything', ({ environments, field }) => {
    // Act & Assess
    expect(() =>
      parseAutohealConfig({ redrive: { stateMachineNamePrefixes: ['orders-'] }, environments }),
    ).toThrow(new RegExp(`^Invalid Autoheal config at ${field.replace(/[.[\]]/g, '\\$&')}: `));
  });

  it('names each Stage from the config before building', () => {
    // Act
    const stages = deploymentStages(
      parseAutohealConfig({
        redrive: { stateMachineNamePrefixes: ['orders-'] },
        environments: THREE_ENVIRONMENTS,
      }),
    );

    // Assess
    expect(stages.map((s) => s.name)).toEqual([
      'env-111111111111-eu-west-1',
      'prod-us',
      'env-333333333333-ap-southeast-2',
    ]);
  });
});

describe('the app (bin/autoheal.ts) run as the CDK CLI runs it, with environments', () => {
  const root = path.join(__dirname, '..', '..');
  let outdir: string;
  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-out-'));
  });
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it('prints one line per Stage, its account and region, and synthesises one stack in each', () => {
    // Prepare: the CLI's own target (us-east-1, another account) must not matter.
    const context = {
      autoheal: { ...(defaultContextConfig() as object), environments: THREE_ENVIRONMENTS },
      // Template only: no esbuild for the three Stages.
      'aws:cdk:bundling-stacks': [],
    };
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (!/^(AWS_|AMAZON_|CDK_)/.test(name)) env[name] = value;
    }

    // Act
    const result = spawnSync(
      path.join(root, 'node_modules', '.bin', 'ts-node'),
      ['--transpile-only', '--prefer-ts-exts', 'bin/autoheal.ts'],
      {
        cwd: root,
        encoding: 'utf8',
        env: {
          ...env,
          CDK_CONTEXT_JSON: JSON.stringify(context),
          CDK_OUTDIR: outdir,
          CDK_DEFAULT_ACCOUNT: '999999999999',
          CDK_DEFAULT_REGION: 'us-east-1',
        },
      },
    );

    // Assess
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'Autoheal: synthesising Stage env-111111111111-eu-west-1 (stack env-111111111111-eu-west-1-Autoheal) for account 111111111111, region eu-west-1 (from environments[0] of the config)',
      'Autoheal: synthesising Stage prod-us (stack prod-us-Autoheal) for account 222222222222, region us-east-2 (from environments[1] of the config)',
      'Autoheal: synthesising Stage env-333333333333-ap-southeast-2 (stack env-333333333333-ap-southeast-2-Autoheal) for account 333333333333, region ap-southeast-2 (from environments[2] of the config)',
    ]);
    expect(result.status).toBe(0);
    const stageAssemblies = fs
      .readdirSync(outdir)
      .filter((entry) => entry.startsWith('assembly-'))
      .sort();
    expect(stageAssemblies).toEqual([
      'assembly-env-111111111111-eu-west-1',
      'assembly-env-333333333333-ap-southeast-2',
      'assembly-prod-us',
    ]);
  });
});
