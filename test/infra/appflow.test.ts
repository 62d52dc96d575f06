import { Match, type Template } from 'aws-cdk-lib/assertions';
import { CONFIG_SECTION } from '../../lambda/shared/contract';
import { stagedConfigFile } from '../support/config-file';
import { envRequiredBy } from '../support/handler-env';
import { buildStack } from '../support/stack';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const env = { account: ACCOUNT, region: REGION };

const appflowConfig = {
  appflow: {
    schedules: [
      {
        name: 'nightly',
        expression: 'cron(0 2 * * ? *)',
        timeZone: 'Europe/Berlin',
        flexibleWindowMinutes: 15,
        flows: ['crm-export', 'erp-export'],
      },
      { name: 'hourly', expression: 'rate(1 hour)', flows: ['ticket-sync'] },
    ],
    healedFlows: ['appflow-scheduled-sync'],
    processing: { batchSize: 4, maxConcurrency: 2, maxReceiveCount: 3 },
  },
};

const flowArn = (name: string) => ({
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, `:appflow:${REGION}:${ACCOUNT}:flow/${name}`],
  ],
});
/** Template matcher for `Fn::GetAtt` of the resource whose logical id starts with `prefix`. */
const getAtt = (prefix: string) => ({
  'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}`), 'Arn'],
});
/** The same, for Jest assertions on statements read out of the template. */
const arnOf = (prefix: string) => ({ 'Fn::GetAtt': [expect.stringMatching(`^${prefix}`), 'Arn'] });

/** The one function whose logical id starts with `prefix`, and its role's policy statements. */
function functionNamed(template: Template, prefix: string) {
  const [id, fn] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([key]) =>
    key.startsWith(prefix),
  ) as [
    string,
    { Properties: { Environment: { Variables: Record<string, unknown> }; Role: unknown } },
  ];
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) =>
    JSON.stringify(p.Properties.Roles).includes(roleId),
  ) as {
    Properties: {
      PolicyDocument: { Statement: { Sid?: string; Action: unknown; Resource: unknown }[] };
    };
  };
  return {
    id,
    resource: fn,
    variables: fn.Properties.Environment.Variables,
    statements: policy.Properties.PolicyDocument.Statement,
  };
}

describe('scheduled flows', () => {
  it('creates one time-zone-aware schedule per configured schedule, with its flexible window', () => {
    // Prepare & Act
    const { template } = buildStack(appflowConfig, { env });

    // Assess
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
  });

  it('invokes the starter with the flows and the scheduled time, retrying and with a dead-letter queue', () => {
    // Prepare & Act
    const { template } = buildStack(appflowConfig, { env });

    // Assess
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
      Target: {
        Arn: getAtt('ScheduledFlowsStarterFunction'),
        Input: JSON.stringify({
          schedule: 'nightly',
          scheduledTime: '<aws.scheduler.scheduled-time>',
          flows: ['crm-export', 'erp-export'],
        }),
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: getAtt('ScheduledFlowsDeadLetterQueue') },
      },
    });
  });

  it('parks a tick that still fails after two Lambda retries in the dead-letter queue', () => {
    // Prepare & Act
    const { template } = buildStack(appflowConfig, { env });

    // Assess
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: getAtt('ScheduledFlowsDeadLetterQueue') } },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: 'ApproximateNumberOfMessagesVisible',
              Dimensions: [
                {
                  Name: 'QueueName',
                  Value: {
                    'Fn::GetAtt': [
                      Match.stringLikeRegexp('^ScheduledFlowsDeadLetterQueue'),
                      'QueueName',
                    ],
                  },
                },
              ],
            }),
          }),
        }),
      ],
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^NoticesTopic') }],
    });
  });

  it('lets the starter start and describe exactly the scheduled flows, and nothing else in AppFlow', () => {
    // Prepare & Act
    const { template } = buildStack(appflowConfig, { env });

    // Assess
    const starter = functionNamed(template, 'ScheduledFlowsStarterFunction');
    expect(starter.statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: arnOf('ScheduledFlowsStarterLogs'),
      },
      {
        Effect: 'Allow',
        Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        Resource: arnOf('ScheduledFlowsDeadLetterQueue'),
      },
      {
        Sid: 'StartScopedFlows',
        Effect: 'Allow',
        Action: ['appflow:StartFlow', 'appflow:DescribeFlow'],
        Resource: [flowArn('crm-export'), flowArn('erp-export'), flowArn('ticket-sync')],
      },
      {
        Effect: 'Allow',
        Action: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        ],
        Resource: [arnOf('IdempotencyTable')],
      },
      {
        Effect: 'Allow',
        Action: 'sns:Publish',
        Resource: { Ref: expect.stringMatching('^NoticesTopic') },
      },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: arnOf('NoticesKey'),
      },
      {
        Sid: 'OwnHealingStateOnly',
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: arnOf('HealingStateTable'),
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['autoheal#*'] } },
      },
    ]);
  });

  it('gives the starter every environment variable its handler requires', () => {
    // Prepare & Act
    const { stack, template } = buildStack(appflowConfig, { env });

    // Assess
    const starter = functionNamed(template, 'ScheduledFlowsStarterFunction');
    expect(Object.keys(starter.variables)).toEqual(
      expect.arrayContaining(envRequiredBy('appflow/flow-starter.handler.ts')),
    );
    expect(
      stagedConfigFile(stack, starter.resource).sections[CONFIG_SECTION.appflow],
    ).toMatchObject({
      schedules: [{ name: 'nightly' }, { name: 'hourly' }],
      healing: { maxReruns: 2 },
    });
  });

  it('creates no schedule and no starter when only healing is configured', () => {
    // Prepare & Act
    const { template, stack } = buildStack(
      { appflow: { healedFlows: ['appflow-scheduled-sync'] } },
      { env },
    );

    // Assess
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    expect(stack.autoheal.scheduleGroup).toBeUndefined();
    expect(stack.autoheal.flowHealerWorkQueue).toBeDefined();
  });
});

describe('the scheduler role', () => {
  it('may only be assumed by EventBridge Scheduler for Autoheal’s schedule group, and only invoke the starter', () => {
    // Prepare & Act
    const { template } = buildStack(appflowConfig, { env });

    // Assess
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: {
              StringEquals: { 'aws:SourceAccount': ACCOUNT },
              ArnEquals: { 'aws:SourceArn': getAtt('ScheduledFlowsScheduleGroup') },
            },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ScheduledFlowsSchedulerRole') }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            Resource: [
              getAtt('ScheduledFlowsStarterFunction'),
              { 'Fn::Join': ['', [getAtt('ScheduledFlowsStarterFunction'), ':*']] },
            ],
          },
          {
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Resource: getAtt('ScheduledFlowsDeadLetterQueue'),
          },
        ],
      },
    });
  });
});

describe('flow healing', () => {
  it('buffers failed runs and deactivations of exactly the flows in scope', () => {
    // Prepare & Act
    const { template } = buildStack(appflowConfig, { env });

    // Assess
    const flows = ['crm-export', 'erp-export', 'ticket-sync', 'appflow-scheduled-sync'];
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.appflow'],
        'detail-type': ['AppFlow End Flow Run Report'],
        detail: { 'flow-name': flows, status: [{ 'anything-but': 'Execution Successful' }] },
      },
      Targets: [
        Match.objectLike({
          Arn: getAtt('FlowHealingBufferWorkQueue'),
          DeadLetterConfig: { Arn: getAtt('FlowHealingBufferDeadLetterQueue') },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.appflow'],
        'detail-type': ['AppFlow Scheduled Flow Deactivated'],
        detail: { 'flow-name': flows },
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt('FlowHealingBufferWorkQueue'),
      BatchSize: 4,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('lets the healer start and describe exactly the flows in scope', () => {
    // Prepare & Act
    const { template } = buildStack(appflowConfig, { env });

    // Assess
    const healer = functionNamed(template, 'FlowHealingHealerFunction');
    expect(healer.statements).toEqual(
      expect.arrayContaining([
        {
          Sid: 'StartScopedFlows',
          Effect: 'Allow',
          Action: ['appflow:StartFlow', 'appflow:DescribeFlow'],
          Resource: [
            flowArn('crm-export'),
            flowArn('erp-export'),
            flowArn('ticket-sync'),
            flowArn('appflow-scheduled-sync'),
          ],
        },
      ]),
    );
    const actions = healer.statements.flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => String(a).startsWith('appflow:'))).toEqual([
      'appflow:StartFlow',
      'appflow:DescribeFlow',
    ]);
    expect(Object.keys(healer.variables)).toEqual(
      expect.arrayContaining(envRequiredBy('appflow/flow-healer.handler.ts')),
    );
  });
});

describe('appflow config at synth', () => {
  it.each([
    [
      'a time zone that does not exist',
      { timeZone: 'Mars/Olympus' },
      'appflow.schedules[0].timeZone',
    ],
    [
      'a cron with five fields',
      { expression: 'cron(0 2 * * ?)' },
      'appflow.schedules[0].expression',
    ],
    ['a flow name with a space', { flows: ['crm export'] }, 'appflow.schedules[0].flows[0]'],
  ])('fails on %s, naming the field', (_name, change, field) => {
    // Prepare
    const schedule = { ...appflowConfig.appflow.schedules[0], ...change };

    // Act & Assess
    expect(() => buildStack({ appflow: { schedules: [schedule] } })).toThrow(
      expect.objectContaining({ field }),
    );
  });
});
