import type { Template } from 'aws-cdk-lib/assertions';
import { buildStack } from '../support/stack';

/**
 * Who may use what Autoheal creates: the resource policies and trusts that
 * decide whether an alarm can notify anyone, whether a schedule of someone
 * else can borrow Autoheal's role, and who may put work on a work queue.
 */

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const env = { account: ACCOUNT, region: REGION };

/** Both healers with schedules: all seven alarms (three dead-letter, four function errors). */
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
    expect(alarms).toHaveLength(7);
    expect(topicActions).toHaveLength(7);
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
