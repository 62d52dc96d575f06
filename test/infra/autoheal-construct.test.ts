import { Duration, Fn, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { autohealPropsFromConfig } from '../../bin/config/props-from-config';
import {
  isStateMachineInScope,
  parseAutohealConfig,
  type RedriveConfig,
} from '../../lambda/shared/autoheal-config';
import { CONFIG_SECTION, ENV, LIVE_HEALING_CLOCK } from '../../lambda/shared/contract';
import { Autoheal, type AutohealProps, RedrivableStatus } from '../../lib/autoheal';
import { configFromProps } from '../../lib/config-from-props';
import { NOTIFICATION_TOPIC_POLICY_WARNING } from '../../lib/constructs/notices';
import { deployedConfigSections } from '../support/config-file';
import { defaultContextConfig, templateOnlyApp } from '../support/stack';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

/** A host app's own stack with its own state machine, as a library user has it. */
function hostStack(env?: { account: string; region: string }) {
  const app = templateOnlyApp();
  const stack = new Stack(app, 'Host', { env });
  const machine = new sfn.StateMachine(stack, 'Orders', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Step')),
  });
  for (const rule of ['AwsSolutions-SF1', 'AwsSolutions-SF2']) {
    Validations.of(machine).acknowledge({
      id: `AwsSolutions::${rule}`,
      reason: "The host app's own test state machine: logging and tracing are its owner's choice.",
    });
  }
  return { app, stack, machine };
}

const logicalIdOf = (stack: Stack, construct: sfn.StateMachine) =>
  stack.getLogicalId(construct.node.defaultChild as sfn.CfnStateMachine);

/** The handler's redrive config, with every `Ref` to a state machine replaced by a real ARN (what CloudFormation does). */
function deployedRedriveConfig(
  stack: Stack,
  template: Template,
  refs: Record<string, string>,
): RedriveConfig {
  const functions = template.findResources('AWS::Lambda::Function', {
    Properties: { Description: 'Autoheal: redrives failed Step Functions executions' },
  });
  const [fn] = Object.values(functions);
  const resolve = (part: unknown): string => {
    const ref = (part as { Ref?: string }).Ref;
    if (ref && refs[ref]) return refs[ref];
    throw new Error(`unexpected part ${JSON.stringify(part)}`);
  };
  const home = { partition: 'aws', region: REGION, account: ACCOUNT };
  return deployedConfigSections(stack, fn, home, resolve)[CONFIG_SECTION.redrive] as RedriveConfig;
}

describe('Autoheal in a host stack', () => {
  it('scopes the rule and IAM to exactly the state machine object it is given', () => {
    // Prepare
    const { stack, machine } = hostStack();

    // Act
    new Autoheal(stack, 'Heal', { redrive: { stateMachines: [machine] } });

    // Assess
    const template = Template.fromStack(stack);
    const machineId = logicalIdOf(stack, machine);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: Match.objectLike({ stateMachineArn: [{ Ref: machineId }] }),
      }),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'RedriveScopedExecutions',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':states:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':execution:',
                  { 'Fn::GetAtt': [machineId, 'Name'] },
                  ':*',
                ],
              ],
            },
          }),
        ]),
      },
    });
  });

  it('grants kms:Decrypt on a key object, for exactly the machine object it encrypts', () => {
    // Prepare
    const { stack, machine } = hostStack();
    const key = new kms.Key(stack, 'OrdersKey', { enableKeyRotation: true });

    // Act
    new Autoheal(stack, 'Heal', { redrive: { stateMachines: [machine], kmsKeys: [key] } });

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'DecryptScopedExecutions',
            Resource: {
              'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'],
            },
            Condition: Match.objectLike({
              StringLike: {
                'kms:EncryptionContext:aws:states:stateMachineArn': [
                  { Ref: logicalIdOf(stack, machine) },
                ],
              },
            }),
          }),
        ]),
      },
    });
  });

  it('hands the handler the deployed ARN, so its scope check matches the real machine', () => {
    // Prepare
    const { stack, machine } = hostStack();
    new Autoheal(stack, 'Heal', { redrive: { stateMachines: [machine] } });
    const realArn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:Orders-abc123`;

    // Act
    const config = deployedRedriveConfig(stack, Template.fromStack(stack), {
      [logicalIdOf(stack, machine)]: realArn,
    });

    // Assess
    const home = `arn:aws:states:${REGION}:${ACCOUNT}:`;
    expect(isStateMachineInScope(config, realArn, home)).toBe(true);
    expect(isStateMachineInScope(config, `${home}stateMachine:Other`, home)).toBe(false);
  });

  it('accepts an imported token ARN and an override of a machine known only at deploy', () => {
    // Prepare
    const { stack } = hostStack({ account: ACCOUNT, region: REGION });
    const imported = Fn.importValue('OrdersStateMachineArn');

    // Act
    const build = () =>
      new Autoheal(stack, 'Heal', {
        redrive: {
          stateMachineArns: [imported],
          overrides: { 'orders-nightly': { maxRedrives: 1 } },
        },
      });

    // Assess
    expect(build).not.toThrow();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: Match.objectLike({
          stateMachineArn: [{ 'Fn::ImportValue': 'OrdersStateMachineArn' }],
        }),
      }),
    });
  });

  it('delivers the deployed ARNs of machine objects of its own stack, too many for the Lambda environment, through the clock’s config token records', () => {
    // Prepare: at synth each ARN is a short token; deployed, each is a full ARN
    const { stack } = hostStack();
    const machines = Array.from(
      { length: 25 },
      (_, i) =>
        new sfn.StateMachine(stack, `Machine${i}`, {
          definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, `Step${i}`)),
        }),
    );

    // Act
    new Autoheal(stack, 'Heal', { redrive: { stateMachines: machines } });
    const template = Template.fromStack(stack);

    // Assess: one part holds every machine's Ref; the handler's variable points at the part
    const parts = template.findResources(LIVE_HEALING_CLOCK.configTokenPart.resourceType);
    const values = JSON.stringify(Object.values(parts).map((part) => part.Properties.Values));
    for (const machine of machines) {
      expect(values).toContain(JSON.stringify(stack.resolve(machine.stateMachineArn)));
    }
    const [partId] = Object.keys(parts);
    const references = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((fn) => fn.Properties.Environment?.Variables?.[ENV.configTokens])
      .filter((reference) => reference !== undefined)
      .map((reference) => JSON.stringify(reference));
    expect(references).toHaveLength(2);
    for (const reference of references) {
      expect(reference).toContain(JSON.stringify({ 'Fn::GetAtt': [partId, 'Digest'] }));
    }
  });

  it('fits any number of machines by name in an environment-agnostic stack: their ARNs are filled in by the handler', () => {
    // Prepare: 1,000 machines by name, 200 of them with an override
    const { stack } = hostStack();
    const names = Array.from({ length: 1000 }, (_, i) => `generated-${i.toString(36)}-machine`);
    const machines = names.map((name, i) =>
      sfn.StateMachine.fromStateMachineName(stack, `Imported${i}`, name),
    );
    const overrides = Object.fromEntries(names.slice(0, 200).map((n) => [n, { maxRedrives: 1 }]));

    // Act
    new Autoheal(stack, 'Heal', { redrive: { stateMachines: machines, overrides } });
    const template = Template.fromStack(stack);

    // Assess
    const [fn] = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: 'Autoheal: redrives failed Step Functions executions' },
      }),
    );
    const variables = fn.Properties.Environment.Variables;
    expect(variables[ENV.configTokens]).toBeUndefined();
    const home = { partition: 'aws-cn', region: 'cn-north-1', account: ACCOUNT };
    const config = deployedConfigSections(stack, fn, home)[CONFIG_SECTION.redrive] as RedriveConfig;
    expect(config.stateMachineArns).toHaveLength(1000);
    expect(config.stateMachineArns[999]).toBe(
      `arn:aws-cn:states:cn-north-1:${ACCOUNT}:stateMachine:${names[999]}`,
    );
    expect(Object.keys(config.overrides)).toHaveLength(200);
    const literalBytes = Object.entries(variables)
      .filter(([, v]) => typeof v === 'string')
      .reduce((sum, [k, v]) => sum + k.length + (v as string).length, 0);
    expect(literalBytes).toBeLessThan(1024);
  });

  it('accepts flow names known only at deploy, and scopes the rules to them', () => {
    // Prepare
    const { stack } = hostStack({ account: ACCOUNT, region: REGION });
    const flowName = Fn.importValue('CrmExportFlowName');

    // Act
    new Autoheal(stack, 'Heal', { appflow: { healedFlows: [flowName, 'crm-sync'] } });

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: Match.objectLike({
          'flow-name': [{ 'Fn::ImportValue': 'CrmExportFlowName' }, 'crm-sync'],
        }),
      }),
    });
  });

  it('refuses a state machine object of another account when both are known', () => {
    // Prepare
    const { stack } = hostStack({ account: ACCOUNT, region: REGION });
    const elsewhere = new Stack(stack.node.scope as never, 'Elsewhere', {
      env: { account: '999999999999', region: REGION },
    });
    const machine = new sfn.StateMachine(elsewhere, 'Far', {
      definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(elsewhere, 'Step')),
    });

    // Act & Assess
    expect(() => new Autoheal(stack, 'Heal', { redrive: { stateMachines: [machine] } })).toThrow(
      /^Invalid Autoheal config at redrive\.stateMachines\[0\]: is in account 999999999999/,
    );
  });

  const arn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:orders`;
  it.each<[string, AutohealProps, string]>([
    ['nothing configured', {}, 'autoheal'],
    ['an empty scope', { redrive: {} }, 'redrive.stateMachineArns'],
    [
      'too many redrives',
      { redrive: { stateMachineArns: [arn], maxRedrives: 101 } },
      'redrive.maxRedrives',
    ],
    [
      'a cap below the base delay',
      {
        redrive: {
          stateMachineArns: [arn],
          delay: { baseDelay: Duration.minutes(10), maxDelay: Duration.minutes(5) },
        },
      },
      'redrive.delay.capSeconds',
    ],
    [
      'a lookback of part of an hour',
      { redrive: { stateMachineArns: [arn], sweeper: { lookback: Duration.minutes(90) } } },
      'redrive.sweeper.lookbackHours',
    ],
    [
      'a literal ARN of another region',
      {
        redrive: {
          stateMachineArns: ['arn:aws:states:us-east-1:123456789012:stateMachine:orders'],
        },
      },
      'redrive.stateMachineArns[0]',
    ],
    [
      'an override outside the scope',
      { redrive: { stateMachineArns: [arn], overrides: { billing: { observeOnly: true } } } },
      'redrive.overrides.billing',
    ],
    [
      'a one-time schedule',
      {
        appflow: {
          schedules: [
            {
              name: 'once',
              schedule: scheduler.ScheduleExpression.at(new Date('2030-01-01T00:00:00Z')),
              flows: ['export'],
            },
          ],
        },
      },
      'appflow.schedules[0].expression',
    ],
    [
      'a flexible window of seconds',
      {
        appflow: {
          schedules: [
            {
              name: 'nightly',
              schedule: scheduler.ScheduleExpression.expression('cron(0 2 * * ? *)'),
              flexibleWindow: Duration.seconds(90),
              flows: ['export'],
            },
          ],
        },
      },
      'appflow.schedules[0].flexibleWindowMinutes',
    ],
    [
      'an operator of another account',
      {
        redrive: { stateMachineArns: [arn] },
        operatorPrincipalArns: ['arn:aws:iam::999999999999:role/ops'],
      },
      'operators.principalArns[0]',
    ],
    [
      'a breaker cool-down cap below its base',
      {
        redrive: {
          stateMachineArns: [arn],
          breaker: { cooldown: Duration.minutes(30), maxCooldown: Duration.minutes(10) },
        },
      },
      'redrive.breaker.maxCooldownMinutes',
    ],
    [
      'a breaker window of seconds in an override',
      {
        redrive: {
          stateMachineArns: [arn],
          overrides: { orders: { breaker: { window: Duration.seconds(90) } } },
        },
      },
      'redrive.overrides.orders.breaker.windowMinutes',
    ],
    [
      'a digest window longer than a day',
      { redrive: { stateMachineArns: [arn] }, notices: { digestWindow: Duration.hours(25) } },
      'notices.digestWindowMinutes',
    ],
  ])('refuses %s with a one-line error naming its field', (_name, props, field) => {
    // Prepare
    const { stack } = hostStack({ account: ACCOUNT, region: REGION });

    // Act
    let message = '';
    try {
      new Autoheal(stack, 'Heal', props);
    } catch (error) {
      message = (error as Error).message;
    }

    // Assess
    expect(message).toMatch(
      new RegExp(`^Invalid Autoheal config at ${field.replace(/[.[\]]/g, '\\$&')}: `),
    );
    expect(message).not.toContain('\n');
  });
});

describe('two installations', () => {
  const appflow = (name: string) => ({
    schedules: [
      {
        name,
        schedule: scheduler.ScheduleExpression.cron({
          minute: '0',
          hour: '3',
          timeZone: TimeZone.EUROPE_BERLIN,
        }),
        flows: [`${name}-export`],
      },
    ],
  });

  it('in one stack share no physical name or key prefix, and pass cdk-nag', () => {
    // Prepare
    const { app, stack, machine } = hostStack({ account: ACCOUNT, region: REGION });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // Act
    const first = new Autoheal(stack, 'HealOrders', {
      redrive: { stateMachines: [machine] },
      appflow: appflow('a'),
    });
    const second = new Autoheal(stack, 'HealBilling', {
      redrive: { stateMachineNamePrefixes: ['billing-'] },
      appflow: appflow('b'),
      encryptionKey: new kms.Key(stack, 'BillingKey', { enableKeyRotation: true }),
    });

    // Assess
    expect(() => app.synth()).not.toThrow();
    const groups = Template.fromStack(stack).findResources('AWS::Scheduler::ScheduleGroup');
    const names = Object.values(groups).map((g) => g.Properties.Name);
    expect(new Set(names).size).toBe(2);
    expect(first.idempotencyKeyPrefix).not.toBe(second.idempotencyKeyPrefix);
    const prefixes = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
      .map((fn) => fn.Properties.Environment?.Variables?.[ENV.idempotencyKeyPrefix])
      .filter(Boolean);
    expect(new Set(prefixes)).toEqual(
      new Set([first.idempotencyKeyPrefix, second.idempotencyKeyPrefix]),
    );
    // Each installation's sweeper reads the records its own redrive handler writes.
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    for (const install of [first, second]) {
      const own = Object.entries(functions).filter(
        ([id, fn]) =>
          id.startsWith(install.node.id) &&
          /^Autoheal: (redrives|finds) failed Step Functions executions/.test(
            fn.Properties.Description,
          ),
      );
      expect(own).toHaveLength(2);
      for (const [, fn] of own) {
        expect(fn.Properties.Environment.Variables[ENV.idempotencyKeyPrefix]).toBe(
          install.idempotencyKeyPrefix,
        );
      }
    }
  });

  it('in two stacks of one account have distinct schedule groups and key prefixes', () => {
    // Prepare
    const app = templateOnlyApp();
    const env = { account: ACCOUNT, region: REGION };
    const stacks = ['TeamA', 'TeamB'].map((id) => new Stack(app, id, { env }));

    // Act
    const installs = stacks.map(
      (stack) => new Autoheal(stack, 'Heal', { appflow: appflow('nightly') }),
    );

    // Assess
    const groupName = (stack: Stack) =>
      Object.values(Template.fromStack(stack).findResources('AWS::Scheduler::ScheduleGroup'))[0]
        .Properties.Name;
    expect(groupName(stacks[0])).not.toBe(groupName(stacks[1]));
    expect(installs[0].idempotencyKeyPrefix).not.toBe(installs[1].idempotencyKeyPrefix);
  });
});

describe('shared resources of the host', () => {
  const redrive = { stateMachineNamePrefixes: ['orders-'] };

  it('sends every alarm to a topic the host brings, and lets CloudWatch publish to it', () => {
    // Prepare
    const { stack } = hostStack();
    const topic = new sns.Topic(stack, 'Ops');

    // Act
    const heal = new Autoheal(stack, 'Heal', { redrive, notificationTopic: topic });

    // Assess
    const template = Template.fromStack(stack);
    const topicId = stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowCloudWatchAlarmsToPublish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
          }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Topic', 1);
    expect(heal.notificationTopic).toBe(topic);
  });

  it('warns what the owner must add when the topic is imported', () => {
    // Prepare
    const { stack } = hostStack({ account: ACCOUNT, region: REGION });
    const topic = sns.Topic.fromTopicArn(stack, 'Ops', `arn:aws:sns:${REGION}:${ACCOUNT}:ops`);

    // Act
    new Autoheal(stack, 'Heal', { redrive, notificationTopic: topic });

    // Assess
    Annotations.fromStack(stack).hasWarning(
      '/Host/Heal/Notices',
      Match.stringLikeRegexp(
        `cloudwatch.amazonaws.com sns:Publish.*\\[ack: ${NOTIFICATION_TOPIC_POLICY_WARNING}\\]`,
      ),
    );
  });

  it('applies the removal policy, log retention and encryption key it is given', () => {
    // Prepare
    const { stack } = hostStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });

    // Act
    new Autoheal(stack, 'Heal', {
      redrive,
      removalPolicy: RemovalPolicy.RETAIN,
      logRetention: logs.RetentionDays.THREE_MONTHS,
      encryptionKey: key,
    });

    // Assess
    const template = Template.fromStack(stack);
    const keyArn = {
      'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'],
    };
    for (const type of ['AWS::DynamoDB::Table', 'AWS::SQS::Queue']) {
      const resources = Object.values(template.findResources(type));
      expect(resources.length).toBeGreaterThan(0);
      for (const resource of resources) expect(resource.DeletionPolicy).toBe('Retain');
    }
    const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    for (const group of logGroups) expect(group.Properties.RetentionInDays).toBe(90);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyArn });
  });
});

describe('the app mapping', () => {
  it.each([
    ['the default config of cdk.json', defaultContextConfig()],
    [
      'every option set',
      {
        redrive: {
          stateMachineArns: [`arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:orders`],
          stateMachineNamePrefixes: ['billing-'],
          statuses: ['FAILED', 'ABORTED'],
          maxRedrives: 5,
          errors: { deny: ['States.Runtime'], allow: ['Lambda.*'] },
          delay: { baseSeconds: 30, factor: 2, capSeconds: 600, jitterRatio: 0.1 },
          observeOnly: true,
          breaker: {
            enabled: false,
            windowMinutes: 15,
            minRelapses: 50,
            relapseRatio: 0.9,
            cooldownMinutes: 10,
            cooldownFactor: 1.5,
            maxCooldownMinutes: 120,
            probes: 5,
          },
          overrides: {
            orders: {
              maxRedrives: 1,
              delay: { capSeconds: 900 },
              errors: { allow: [] },
              breaker: { enabled: true, cooldownMinutes: 20, probes: 1 },
            },
          },
          processing: { batchSize: 5, maxConcurrency: 3, maxReceiveCount: 4 },
          sweeper: { enabled: false, periodMinutes: 30, lookbackHours: 6, requestsPerSecond: 0.5 },
          kmsKeyArns: [`arn:aws:kms:${REGION}:${ACCOUNT}:key/12345678-1234-1234-1234-123456789012`],
        },
        appflow: {
          schedules: [
            {
              name: 'n',
              expression: 'rate(2 hours)',
              timeZone: 'america/new_york',
              flexibleWindowMinutes: 5,
              flows: ['crm-export'],
            },
          ],
          healedFlows: ['crm-sync'],
          healing: {
            maxReruns: 1,
            reactivationCooldownMinutes: 10,
            reactivationWindowHours: 12,
            delay: { factor: 3 },
          },
          maxConcurrentStarts: 2,
          processing: { batchSize: 1 },
        },
        operators: { principalArns: [`arn:aws:iam::${ACCOUNT}:role/ops`] },
        notices: { digestWindowMinutes: 0, immediateNotices: 3, digestExamples: 25 },
      },
    ],
  ])('maps %s to props the construct validates back to the same config', (_name, raw) => {
    // Prepare
    const config = parseAutohealConfig(raw);
    const { stack } = hostStack({ account: ACCOUNT, region: REGION });

    // Act
    const roundTrip = configFromProps(stack, autohealPropsFromConfig(config)).config;

    // Assess
    expect(roundTrip).toEqual(config);
    expect(JSON.stringify(roundTrip)).toBe(JSON.stringify(config));
  });

  it('keeps enum values equal to the JSON statuses', () => {
    expect(Object.values(RedrivableStatus)).toEqual(['FAILED', 'TIMED_OUT', 'ABORTED']);
  });
});
