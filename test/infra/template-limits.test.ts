/**
 * The deploy limits checked at synth: a template past one fails synth with
 * the limit, the resource and the excess, never left for CloudFormation.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Autoheal } from '../../lib/autoheal';
import {
  budgetedValue,
  checkTemplateLimits,
  describeBreach,
  MANAGED_POLICY_QUOTA_WARNING,
  type TemplateJson,
} from '../../lib/limits/template-limits';

/** A template of the given resources. */
const templateOf = (resources: Record<string, { Type: string; Properties?: object }>) =>
  ({ Resources: resources }) as TemplateJson;
const role = { Type: 'AWS::IAM::Role', Properties: {} };
/** A policy document of exactly `chars` characters as JSON. */
function documentOf(chars: number) {
  const document = (resource: string) => ({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'appflow:StartFlow', Resource: resource }],
  });
  return document('x'.repeat(chars - JSON.stringify(document('')).length));
}

describe('checkTemplateLimits', () => {
  it.each([
    [
      'an event pattern past 2,048 characters',
      templateOf({
        Rule: {
          Type: 'AWS::Events::Rule',
          Properties: { EventPattern: { source: ['x'.repeat(2_040)] } },
        },
      }),
      'Rule: the event pattern (EventBridge) is 2055 characters, 7 over the limit of 2048',
    ],
    [
      "a role's inline policies past 10,240 characters together (each alone fits)",
      templateOf({
        Role: role,
        PolicyA: {
          Type: 'AWS::IAM::Policy',
          Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: documentOf(6_000) },
        },
        PolicyB: {
          Type: 'AWS::IAM::Policy',
          Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: documentOf(6_000) },
        },
      }),
      "Role: the role's inline policies together (IAM) is 12000 characters, 1760 over the limit of 10240",
    ],
    [
      'a managed policy past 6,144 characters',
      templateOf({
        Managed: {
          Type: 'AWS::IAM::ManagedPolicy',
          Properties: { PolicyDocument: documentOf(6_200) },
        },
      }),
      'Managed: the managed policy document (IAM) is 6200 characters, 56 over the limit of 6144',
    ],
    [
      "a schedule's input past 8,192 characters",
      templateOf({
        Schedule: {
          Type: 'AWS::Scheduler::Schedule',
          Properties: { Target: { Input: 'x'.repeat(8_200) } },
        },
      }),
      "Schedule: the schedule's target input (Scheduler, Autoheal's budget) is 8200 characters, 8 over the limit of 8192",
    ],
    [
      'a Lambda environment past 4 KiB once its tokens are counted at their longest (16 keys, 118 bytes, and 16 values of 256)',
      templateOf({
        Fn: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Environment: {
              Variables: Object.fromEntries(
                Array.from({ length: 16 }, (_, i) => [`QUEUE_${i}`, { Ref: `Queue${i}` }]),
              ),
            },
          },
        },
      }),
      'Fn: the environment variables, keys and values together (Lambda) is 4214 bytes, 118 over the limit of 4096',
    ],
    [
      'a Lambda environment past 4 KiB with role ids counted at their longest, 128 (31 keys of 8 bytes, 31 values of 128)',
      templateOf({
        ...Object.fromEntries(
          Array.from({ length: 31 }, (_, i) => [`Role${i}`, { Type: 'AWS::IAM::Role' }]),
        ),
        Fn: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Environment: {
              Variables: Object.fromEntries(
                Array.from({ length: 31 }, (_, i) => [
                  `ROLE_${String(i).padStart(3, '0')}`,
                  { 'Fn::GetAtt': [`Role${i}`, 'RoleId'] },
                ]),
              ),
            },
          },
        },
      }),
      'Fn: the environment variables, keys and values together (Lambda) is 4216 bytes, 120 over the limit of 4096',
    ],
    [
      'a queue policy of 21 statements',
      templateOf({
        QueuePolicy: {
          Type: 'AWS::SQS::QueuePolicy',
          Properties: {
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: Array.from({ length: 21 }, () => ({ Effect: 'Allow' })),
            },
          },
        },
      }),
      'QueuePolicy: the statements of the queue policy (SQS) is 21 statements, 1 over the limit of 20',
    ],
    [
      'more than 500 resources',
      templateOf(
        Object.fromEntries(
          Array.from({ length: 501 }, (_, i) => [`Topic${i}`, { Type: 'AWS::SNS::Topic' }]),
        ),
      ),
      'template: the resource count (CloudFormation, per stack) is 501 resources, 1 over the limit of 500',
    ],
  ])('names the limit, the resource and the excess: %s', (_, template, message) => {
    // Act
    const breaches = checkTemplateLimits(template).map(describeBreach);

    // Assess
    expect(breaches).toEqual([message]);
  });

  it('finds nothing in a template within every limit', () => {
    expect(
      checkTemplateLimits(
        templateOf({
          Role: role,
          Policy: {
            Type: 'AWS::IAM::Policy',
            Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: documentOf(10_000) },
          },
        }),
      ),
    ).toEqual([]);
  });

  it.each<[unknown, string]>([
    [{ Ref: 'AWS::Partition' }, 'x'.repeat(10)],
    [{ Ref: 'AWS::Region' }, 'x'.repeat(20)],
    [{ Ref: 'AWS::AccountId' }, 'x'.repeat(12)],
    [{ Ref: 'SomeQueue' }, 'x'.repeat(256)],
    [{ 'Fn::GetAtt': ['SomeQueue', 'Arn'] }, 'x'.repeat(256)],
    [{ 'Fn::GetAtt': ['SomeRule', 'Arn'] }, 'x'.repeat(119)],
    [{ 'Fn::GetAtt': ['SomeRole', 'RoleId'] }, 'x'.repeat(128)],
    [
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':appflow:eu-west-1:1:flow/a']] },
      `arn:${'x'.repeat(10)}:appflow:eu-west-1:1:flow/a`,
    ],
    [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not JavaScript's
      { 'Fn::Sub': 'arn:${AWS::Partition}:sqs:${Queue}' },
      `arn:${'x'.repeat(10)}:sqs:${'x'.repeat(256)}`,
    ],
    // A token ARN taken apart at ':' (CDK's Arn.split of an imported state machine): the ARN's
    // fixed fields at their maxima, the resource fields at most the whole value.
    ...[
      [1, 10],
      [3, 20],
      [4, 12],
      [6, 256],
    ].map(([index, length]): [unknown, string] => [
      { 'Fn::Select': [index, { 'Fn::Split': [':', { 'Fn::ImportValue': 'orders-arn' }] }] },
      'x'.repeat(length),
    ]),
    [
      { 'Fn::Select': [6, { 'Fn::Split': [':', { 'Fn::GetAtt': ['SomeRule', 'Arn'] }] }] },
      'x'.repeat(119),
    ],
    [{ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }, 'x'.repeat(256)],
  ])('budgets %j at its longest', (value, budgeted) => {
    expect(
      budgetedValue(value, {
        SomeQueue: 'AWS::SQS::Queue',
        SomeRule: 'AWS::Events::Rule',
        SomeRole: 'AWS::IAM::Role',
      }),
    ).toBe(budgeted);
  });
});

describe('the Autoheal construct at synth', () => {
  it('fails synth naming the limit, the resource and the excess when its stack breaks a limit', () => {
    // Prepare: Autoheal beside a rule whose pattern is 67 characters too long
    const app = new App();
    const stack = new Stack(app, 'Estate');
    new Autoheal(stack, 'Heal', { appflow: { healedFlows: ['crm-export'] } });
    new events.Rule(stack, 'Oversized', { eventPattern: { source: ['x'.repeat(2_100)] } });

    // Act
    const synth = () => app.synth();

    // Assess
    expect(synth).toThrow(
      /Autoheal's stack Estate breaks a deploy limit: Oversized[0-9A-F]{8}: the event pattern \(EventBridge\) is 2115 characters, 67 over the limit of 2048/,
    );
  });

  it("warns when a role has more managed policies than IAM's default quota of 10", () => {
    // Prepare: eleven managed policies on one role of the stack
    const app = new App();
    const stack = new Stack(app, 'Estate');
    new Autoheal(stack, 'Heal', { appflow: { healedFlows: ['crm-export'] } });
    const crowded = new iam.Role(stack, 'Crowded', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    for (let i = 0; i < 11; i++) {
      new iam.ManagedPolicy(stack, `Policy${i}`, {
        statements: [new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: ['*'] })],
        roles: [crowded],
      });
    }

    // Act
    const warnings = Annotations.fromStack(stack).findWarning(
      '/Estate/Heal',
      Match.stringLikeRegexp(
        `Crowded[0-9A-F]{8} has 11 managed policies, 1 over IAM's default quota of 10 per role.*${MANAGED_POLICY_QUOTA_WARNING}`,
      ),
    );

    // Assess
    expect(warnings).toHaveLength(1);
  });
});
