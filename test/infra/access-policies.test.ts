import { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { AutohealStack } from '../../bin/autoheal-stack';
import { parseAutohealConfig } from '../../lambda/shared/autoheal-config';
import { buildStack } from '../support/stack';

/**
 * Who may use what Autoheal creates: the resource policies and trusts that
 * decide whether an alarm can notify anyone, whether a schedule of someone
 * else can borrow Autoheal's role, and who may put work on a work queue.
 */

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const env = { account: ACCOUNT, region: REGION };

/** Both healers with schedules: every alarm (three dead-letter, six function errors). */
const fullConfig = {
  redrive: { stateMachineNamePrefixes: ['orders-'] },
  appflow: {
    schedules: [{ name: 'nightly', expression: 'cron(0 3 * * ? *)', flows: ['crm-export'] }],
    healedFlows: ['erp-sync'],
  },
};

type Resource = { Properties: Record<string, unknown> };
type Statement = Record<string, unknown>;

/** `arn:${AWS::Partition}:…` as CloudFormation renders an ARN built from the stack's partition. */
const inPartition = (rest: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]],
});

/** What lets CloudWatch act for the alarms of this account and region only. */
const ALARMS_OF_THIS_ACCOUNT = {
  StringEquals: { 'aws:SourceAccount': ACCOUNT },
  ArnLike: { 'aws:SourceArn': inPartition(`:cloudwatch:${REGION}:${ACCOUNT}:alarm:*`) },
};

function resources(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

function statementsOf(document: unknown): Statement[] {
  return (document as { Statement: Statement[] }).Statement;
}

describe('alarm notifications', () => {
  let template: Template;
  beforeAll(() => {
    template = buildStack(fullConfig, { env }).template;
  });

  it('lets CloudWatch publish every alarm action that is a topic, for this account’s alarms only', () => {
    // Prepare
    const alarms = Object.entries(resources(template, 'AWS::CloudWatch::Alarm'));
    const topics = resources(template, 'AWS::SNS::Topic');
    const topicPolicies = Object.values(resources(template, 'AWS::SNS::TopicPolicy'));

    // Act
    const topicActions = alarms.flatMap(([alarmId, alarm]) =>
      ((alarm.Properties.AlarmActions ?? []) as { Ref?: string }[])
        .filter((action) => action.Ref !== undefined && action.Ref in topics)
        .map((action) => ({ alarmId, topicId: action.Ref as string })),
    );

    // Assess
    // Three dead-letter alarms and six function error alarms (the live-healing clock's and the brake keeper's included).
    expect(alarms).toHaveLength(9);
    expect(topicActions).toHaveLength(9);
    for (const { alarmId, topicId } of topicActions) {
      const statements = topicPolicies
        .filter((p) => (p.Properties.Topics as { Ref: string }[]).some((t) => t.Ref === topicId))
        .flatMap((p) => statementsOf(p.Properties.PolicyDocument));
      expect({ alarmId, statements }).toEqual({
        alarmId,
        statements: expect.arrayContaining([
          {
            Sid: 'AllowCloudWatchAlarmsToPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: ALARMS_OF_THIS_ACCOUNT,
          },
        ]),
      });
    }
  });

  it('lets CloudWatch use the topic’s key for this account’s alarms only', () => {
    // Prepare
    const [topic] = Object.values(resources(template, 'AWS::SNS::Topic'));
    const keyId = (topic.Properties.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] })[
      'Fn::GetAtt'
    ][0];

    // Act
    const keyStatements = statementsOf(
      resources(template, 'AWS::KMS::Key')[keyId].Properties.KeyPolicy,
    );

    // Assess
    const cloudWatch = keyStatements.filter(
      (s) =>
        JSON.stringify(s.Principal) === JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }),
    );
    expect(cloudWatch).toEqual([
      {
        Sid: 'AllowCloudWatchAlarmsToEncryptNotices',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: ALARMS_OF_THIS_ACCOUNT,
      },
    ]);
  });
});

describe('the scheduler role', () => {
  let template: Template;
  beforeAll(() => {
    template = buildStack(fullConfig, { env }).template;
  });

  it('puts every schedule in Autoheal’s own schedule group, named after the stack', () => {
    // Prepare
    const groups = Object.entries(resources(template, 'AWS::Scheduler::ScheduleGroup'));

    // Act
    const schedules = Object.values(
      resources(template, 'AWS::Scheduler::Schedule'),
    ) as (Resource & { DependsOn?: string[] })[];

    // Assess
    expect(groups.map(([, group]) => group.Properties)).toEqual([{ Name: 'Autoheal-flows' }]);
    expect(schedules).toHaveLength(1);
    for (const schedule of schedules) {
      expect(schedule.Properties.GroupName).toBe('Autoheal-flows');
      // Created after its group: the literal name alone does not order them.
      expect(schedule.DependsOn).toContain(groups[0][0]);
    }
  });

  it('shortens the group name of a long stack name, keeping installations apart', () => {
    // Prepare
    const groupNameOf = (stackName: string) => {
      const app = new App();
      const stack = new AutohealStack(app, 'Autoheal', {
        stackName,
        env,
        config: parseAutohealConfig(fullConfig),
      });
      return stack.autoheal.scheduleGroup?.scheduleGroupName ?? '';
    };

    // Act
    const names = [groupNameOf(`${'a'.repeat(100)}-one`), groupNameOf(`${'a'.repeat(100)}-two`)];

    // Assess: Scheduler allows 64 characters
    for (const name of names) expect(name).toMatch(/^a{49}-[0-9a-f]{8}-flows$/);
    expect(names.map((name) => name.length)).toEqual([64, 64]);
    expect(names[0]).not.toBe(names[1]);
  });

  it('may only be assumed by EventBridge Scheduler for Autoheal’s schedule group in this account', () => {
    // Prepare
    const [[groupId]] = Object.entries(resources(template, 'AWS::Scheduler::ScheduleGroup'));

    // Act
    const trusts = Object.values(resources(template, 'AWS::IAM::Role'))
      .flatMap((role) => statementsOf(role.Properties.AssumeRolePolicyDocument))
      .filter((s) => JSON.stringify(s.Principal).includes('scheduler.amazonaws.com'));

    // Assess
    expect(trusts).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'aws:SourceAccount': ACCOUNT },
          ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [groupId, 'Arn'] } },
        },
      },
    ]);
  });
});

describe('who may send to a work queue', () => {
  const OPERATOR = `arn:aws:iam::${ACCOUNT}:role/ops/dlq-replayer`;
  let template: Template;
  beforeAll(() => {
    template = buildStack(
      { ...fullConfig, operators: { principalArns: [OPERATOR] } },
      { env },
    ).template;
  });

  /** The logical id of the one resource of `type` whose id starts with `prefix`. */
  function idOf(type: string, prefix: string): string {
    const ids = Object.keys(resources(template, type)).filter((id) => id.startsWith(prefix));
    expect(ids).toHaveLength(1);
    return ids[0];
  }
  const arnOf = (type: string, prefix: string) => ({ 'Fn::GetAtt': [idOf(type, prefix), 'Arn'] });

  /** The statements of the policy of the queue whose logical id starts with `prefix`. */
  function queueStatements(prefix: string): Statement[] {
    const queueId = idOf('AWS::SQS::Queue', prefix);
    return Object.values(resources(template, 'AWS::SQS::QueuePolicy'))
      .filter((p) => (p.Properties.Queues as { Ref: string }[]).some((q) => q.Ref === queueId))
      .flatMap((p) => statementsOf(p.Properties.PolicyDocument));
  }

  /** The deny a work queue's policy must carry: all but the listed roles, operators and rules. */
  const onlyKnownSenders = (queue: string, roles: string[], rules: string[]) => ({
    Sid: 'OnlyAutohealItsRulesAndOperatorsSend',
    Effect: 'Deny',
    Principal: { AWS: '*' },
    Action: 'sqs:SendMessage',
    Resource: arnOf('AWS::SQS::Queue', queue),
    Condition: {
      ArnNotEquals: {
        'aws:PrincipalArn': [...roles.map((r) => arnOf('AWS::IAM::Role', r)), OPERATOR],
        'aws:SourceArn': rules.map((r) => arnOf('AWS::Events::Rule', r)),
      },
    },
  });

  it.each([
    [
      'redrive',
      'RedriveBufferWorkQueue',
      ['RedriveHandlerRole', 'RedriveSweeperHandlerRole', 'BrakeKeeperHandlerRole'],
      ['RedriveBufferFailedExecutions'],
    ],
    [
      'flow healer',
      'FlowHealingBufferWorkQueue',
      ['FlowHealingHealerRole'],
      ['FlowHealingBufferFailedFlowRuns', 'FlowHealingBufferDeactivatedFlows'],
    ],
  ])(
    'denies sending to the %s work queue to all but its rules, Autoheal’s senders and the operators',
    (_name, queue, roles, rules) => {
      // Prepare & Act
      const statements = queueStatements(queue);

      // Assess
      expect(
        statements.filter((s) => s.Effect === 'Deny' && s.Action === 'sqs:SendMessage'),
      ).toEqual([onlyKnownSenders(queue, roles, rules)]);
    },
  );

  /**
   * Whether the deny applies to a request, by IAM's documented rules: the keys
   * of one operator must all hold; a negated operator holds when the request's
   * value matches none of the listed values, and when the key is absent.
   */
  function denies(statement: Statement, request: Record<string, unknown>): boolean {
    const keys = (statement.Condition as { ArnNotEquals: Record<string, unknown[]> }).ArnNotEquals;
    return Object.entries(keys).every(
      ([key, values]) =>
        request[key] === undefined ||
        !values.some((v) => JSON.stringify(v) === JSON.stringify(request[key])),
    );
  }

  it.each([
    ['the rule’s delivery', false, { 'aws:SourceArn': 'RedriveBufferFailedExecutions' }],
    [
      'the redrive handler deferring a message',
      false,
      { 'aws:PrincipalArn': 'RedriveHandlerRole' },
    ],
    ['the sweeper enqueuing a failure', false, { 'aws:PrincipalArn': 'RedriveSweeperHandlerRole' }],
    [
      'a configured operator replaying the dead-letter queue',
      false,
      { 'aws:PrincipalArn': OPERATOR },
    ],
    [
      'another role of the account',
      true,
      { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/app` },
    ],
    ['the account’s root user', true, { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:root` }],
    [
      'another rule’s delivery',
      true,
      { 'aws:SourceArn': `arn:aws:events:${REGION}:${ACCOUNT}:rule/hand-made` },
    ],
  ])('%s: denied %s', (_name, denied, request: Record<string, string>) => {
    // Prepare: logical-id prefixes stand for the ARNs the template resolves
    const resolved = Object.fromEntries(
      Object.entries(request).map(([key, value]) => [
        key,
        value.startsWith('arn:')
          ? value
          : arnOf(key === 'aws:SourceArn' ? 'AWS::Events::Rule' : 'AWS::IAM::Role', value),
      ]),
    );
    const [deny] = queueStatements('RedriveBufferWorkQueue').filter(
      (s) => s.Sid === 'OnlyAutohealItsRulesAndOperatorsSend',
    );

    // Act & Assess
    expect(denies(deny, resolved)).toBe(denied);
  });

  it('leaves receiving, deleting and the dead-letter queues alone', () => {
    // Prepare & Act
    const denials = [
      ...queueStatements('RedriveBufferWorkQueue'),
      ...queueStatements('RedriveBufferDeadLetterQueue'),
      ...queueStatements('FlowHealingBufferDeadLetterQueue'),
    ].filter((s) => s.Effect === 'Deny');

    // Assess: only the TLS deny and the work queue's send deny
    expect(denials.map((s) => [s.Action, s.Condition])).toEqual([
      ['sqs:*', { Bool: { 'aws:SecureTransport': 'false' } }],
      ['sqs:SendMessage', expect.objectContaining({ ArnNotEquals: expect.any(Object) })],
      ['sqs:*', { Bool: { 'aws:SecureTransport': 'false' } }],
      ['sqs:*', { Bool: { 'aws:SecureTransport': 'false' } }],
    ]);
  });

  it('refuses an operator of another account, naming the field', () => {
    // Prepare
    const config = {
      ...fullConfig,
      operators: { principalArns: [OPERATOR, 'arn:aws:iam::210987654321:role/ops'] },
    };

    // Act & Assess
    expect(() => buildStack(config, { env })).toThrow(
      'Invalid Autoheal config at operators.principalArns[1]: is in account 210987654321, but this stack deploys to account 123456789012',
    );
  });
});

describe('reading executions of state machines encrypted with a customer managed key', () => {
  const ORDERS = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:orders-nightly`;
  const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const scoped = { stateMachineArns: [ORDERS], stateMachineNamePrefixes: ['billing-'] };

  /** Every statement of the role policies of the functions whose logical id starts with `prefix`. */
  function roleStatements(template: Template, prefix: string): Statement[] {
    return Object.values(resources(template, 'AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${prefix}`))
      .flatMap((p) => statementsOf(p.Properties.PolicyDocument));
  }
  const decrypts = (s: Statement) => JSON.stringify(s.Action).includes('kms:Decrypt');

  it('lets the redrive handler decrypt through Step Functions, for the scoped state machines only', () => {
    // Prepare & Act
    const { template } = buildStack({ redrive: { ...scoped, kmsKeyArns: [KEY] } }, { env });

    // Assess
    expect(roleStatements(template, 'RedriveHandlerRole').filter(decrypts)).toEqual(
      expect.arrayContaining([
        {
          Sid: 'DecryptScopedExecutions',
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: KEY,
          Condition: {
            StringEquals: {
              'kms:ViaService': {
                'Fn::Join': ['', [`states.${REGION}.`, { Ref: 'AWS::URLSuffix' }]],
              },
            },
            StringLike: {
              'kms:EncryptionContext:aws:states:stateMachineArn': [
                ORDERS,
                inPartition(`:states:${REGION}:${ACCOUNT}:stateMachine:billing-*`),
              ],
            },
          },
        },
      ]),
    );
    // ListExecutions returns no execution data: the sweeper needs no key.
    expect(roleStatements(template, 'RedriveSweeperHandlerRole').filter(decrypts)).toEqual([]);
  });

  it('grants no state machine key unless keys are configured', () => {
    // Prepare & Act
    const { template } = buildStack({ redrive: scoped }, { env });

    // Assess: the only key the handler may use is the notice key, to publish
    const keys = roleStatements(template, 'RedriveHandlerRole')
      .filter(decrypts)
      .map((s) => s.Resource);
    expect(keys).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^NoticesKey/), 'Arn'] }]);
  });

  it('refuses a key of another region, naming the field', () => {
    // Prepare
    const elsewhere = KEY.replace(REGION, 'us-east-1');

    // Act & Assess
    expect(() =>
      buildStack({ redrive: { ...scoped, kmsKeyArns: [KEY, elsewhere] } }, { env }),
    ).toThrow(
      'Invalid Autoheal config at redrive.kmsKeyArns[1]: is in region us-east-1, but this stack deploys to region eu-central-1',
    );
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged with operators, state machine keys and schedules configured', () => {
    // Prepare
    const { app } = buildStack(
      {
        ...fullConfig,
        redrive: {
          ...fullConfig.redrive,
          kmsKeyArns: [`arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`],
        },
        operators: { principalArns: [`arn:aws:iam::${ACCOUNT}:role/ops`] },
      },
      { env, nag: true },
    );

    // Act & Assess
    expect(() => app.synth()).not.toThrow();
  });
});
