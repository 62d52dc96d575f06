import { Match } from 'aws-cdk-lib/assertions';
import { DETERMINISTIC_ERRORS } from '../../lambda/shared/autoheal-config';
import {
  CONFIG_FORMAT,
  CONFIG_SECTION,
  ENV,
  LAMBDA_NODE_MAJOR,
} from '../../lambda/shared/contract';
import { stagedConfigFile } from '../support/config-file';
import { envRequiredBy } from '../support/handler-env';
import { buildStack, defaultContextConfig, normalisedTemplate } from '../support/stack';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const ORDERS_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:orders-nightly`;

/** A config with both scope kinds, an ABORTED override and non-default processing. */
const scopedConfig = {
  redrive: {
    stateMachineArns: [ORDERS_ARN],
    stateMachineNamePrefixes: ['billing-'],
    overrides: { 'billing-close': { statuses: ['ABORTED'] } },
    processing: { batchSize: 5, maxConcurrency: 3, maxReceiveCount: 4 },
  },
};

type BuiltTemplate = ReturnType<typeof buildStack>['template'];

/** What the failure rule matches besides failures while the breaker is on: redriven executions that succeeded. */
const RECOVERIES = { status: ['SUCCEEDED'], redriveCount: [{ numeric: ['>=', 1] }] };

/** The one resource of `type` whose logical id starts with `prefix`. */
function resourceNamed(template: BuiltTemplate, type: string, prefix: string) {
  const resources = Object.entries(template.findResources(type)).filter(([id]) =>
    id.startsWith(prefix),
  );
  expect(resources).toHaveLength(1);
  return resources[0][1] as { Properties: Record<string, unknown> };
}

/** The environment variables of the function whose logical id starts with `prefix`. */
function variablesOf(template: BuiltTemplate, prefix: string): Record<string, unknown> {
  const fn = resourceNamed(template, 'AWS::Lambda::Function', prefix);
  return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

describe('the config delivery', () => {
  it('leaves no config section in any environment: each handler reads it from its asset', () => {
    // Prepare & Act
    const { stack, template } = buildStack(defaultContextConfig());

    // Assess
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
    const sectionsByFunction: Record<string, string[]> = {};
    for (const [id, fn] of functions) {
      const variables = Object.keys(fn.Properties.Environment?.Variables ?? {});
      expect(variables).not.toEqual(
        expect.arrayContaining(['AUTOHEAL_REDRIVE_CONFIG', 'AUTOHEAL_APPFLOW_CONFIG']),
      );
      expect(variables).not.toContain('AUTOHEAL_CONFIG_FORMAT');
      if (
        /^(Redrive|FlowHealing|ScheduledFlows|BrakeKeeper)\w*Handler|Starter|Healer/.test(id) &&
        !id.includes('LiveHealingClock')
      ) {
        const file = stagedConfigFile(stack, fn);
        expect(file.format).toBe(CONFIG_FORMAT);
        sectionsByFunction[id.replace(/[0-9A-F]{8}$/, '')] = Object.keys(file.sections);
      }
    }
    expect(sectionsByFunction).toMatchObject({
      RedriveHandlerFunction: [CONFIG_SECTION.redrive, CONFIG_SECTION.notices],
      RedriveSweeperHandlerFunction: [CONFIG_SECTION.redrive],
      BrakeKeeperHandlerFunction: [CONFIG_SECTION.redrive, CONFIG_SECTION.notices],
    });
  });
});

describe('the EventBridge rule', () => {
  it('matches only status changes of the scoped state machines in the configured statuses', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig, { env: { account: ACCOUNT, region: REGION } });

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          $or: [{ status: ['FAILED', 'TIMED_OUT', 'ABORTED'] }, RECOVERIES],
          stateMachineArn: [
            ORDERS_ARN,
            {
              prefix: {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    `:states:${REGION}:${ACCOUNT}:stateMachine:billing-`,
                  ],
                ],
              },
            },
          ],
          executionArn: [{ 'anything-but': { wildcard: '*/*' } }],
        },
      },
    });
  });

  it.each([
    { scope: 'exact ARNs', config: { redrive: { stateMachineArns: [ORDERS_ARN] } } },
    { scope: 'name prefixes', config: { redrive: { stateMachineNamePrefixes: ['orders-'] } } },
  ])(
    'drops Distributed Map child runs (execution ARNs with a /) at the rule, with $scope',
    ({ config }) => {
      // Prepare & Act
      const { template } = buildStack(config);

      // Assess
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.states'],
          detail: { executionArn: [{ 'anything-but': { wildcard: '*/*' } }] },
        },
      });
    },
  );

  it('scopes the rule and the redrive grant to a machine named orders-eu.v2 and a prefix with a dot, exactly', () => {
    // Prepare
    const dotted = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:orders-eu.v2`;
    const config = {
      redrive: { stateMachineArns: [dotted], stateMachineNamePrefixes: ['billing.eu@'] },
    };

    // Act
    const { template } = buildStack(config, { env: { account: ACCOUNT, region: REGION } });

    // Assess
    const homeJoin = (rest: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:states:${REGION}:${ACCOUNT}:${rest}`]],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        detail: { stateMachineArn: [dotted, { prefix: homeJoin('stateMachine:billing.eu@') }] },
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'RedriveScopedExecutions',
            Effect: 'Allow',
            Action: ['states:RedriveExecution', 'states:DescribeExecution'],
            Resource: [
              `arn:aws:states:${REGION}:${ACCOUNT}:execution:orders-eu.v2:*`,
              homeJoin('execution:billing.eu@*'),
            ],
          },
        ]),
      },
    });
  });

  it('does not match ABORTED unless asked', () => {
    // Prepare & Act
    const { template } = buildStack(defaultContextConfig());

    // Assess
    template.resourcePropertiesCountIs(
      'AWS::Events::Rule',
      { EventPattern: { source: ['aws.states'] } },
      1,
    );
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        detail: { $or: [{ status: ['FAILED', 'TIMED_OUT'] }, RECOVERIES] },
      },
    });
  });

  it('delivers to the work queue, with its own dead-letter queue and retries for 24 hours', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig);

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RedriveBufferWorkQueue'), 'Arn'] },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RedriveBufferDeadLetterQueue'), 'Arn'] },
          },
          RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
        },
      ],
    });
  });
});

describe('the durable buffer', () => {
  it('parks messages that exhaust their receives in the dead-letter queue', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig);

    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 180,
      MessageRetentionPeriod: 14 * 24 * 3600,
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: {
          'Fn::GetAtt': [Match.stringLikeRegexp('^RedriveBufferDeadLetterQueue'), 'Arn'],
        },
        maxReceiveCount: 4,
      },
    });
    template.resourceCountIs('AWS::SQS::Queue', 2);
  });

  it('is consumed with partial batch failures at the configured batch size and concurrency', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig);

    // Assess
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 3 },
    });
  });

  it('lets EventBridge deliver undeliverable events to the dead-letter queue, over TLS only', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig);

    // Assess
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: {
              ArnEquals: {
                'aws:SourceArn': {
                  'Fn::GetAtt': [Match.stringLikeRegexp('^RedriveBufferFailedExecutions'), 'Arn'],
                },
              },
            },
          }),
        ]),
      },
    });
  });
});

describe('the redrive function', () => {
  it(`runs on nodejs${LAMBDA_NODE_MAJOR}.x arm64, the Node major these tests run on`, () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig);

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: `nodejs${LAMBDA_NODE_MAJOR}.x`,
      Architectures: ['arm64'],
      LoggingConfig: {
        LogFormat: 'JSON',
        LogGroup: { Ref: Match.stringLikeRegexp('^RedriveHandlerLogs') },
      },
    });
    expect(Number(process.versions.node.split('.')[0])).toBe(LAMBDA_NODE_MAJOR);
  });

  it('writes to its own log group, kept for a month', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig);

    // Assess
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('receives the validated config and every name the handler requires', () => {
    // Prepare & Act
    const { stack, template } = buildStack(scopedConfig);

    // Assess
    const variables = variablesOf(template, 'RedriveHandlerFunction');
    expect(Object.keys(variables)).toEqual(
      expect.arrayContaining(envRequiredBy('redrive/redrive.handler.ts')),
    );
    const config = stagedConfigFile(
      stack,
      resourceNamed(template, 'AWS::Lambda::Function', 'RedriveHandlerFunction'),
    ).sections[CONFIG_SECTION.redrive];
    expect(config).toMatchObject({
      stateMachineArns: [ORDERS_ARN],
      stateMachineNamePrefixes: ['billing-'],
      maxRedrives: 3,
      errors: { deny: DETERMINISTIC_ERRORS, allow: [] },
      overrides: { 'billing-close': { statuses: ['ABORTED'] } },
    });
    // The sweeper's and the buffer's options are not the handler's business.
    expect(config).not.toHaveProperty('sweeper');
    expect(config).not.toHaveProperty('processing');
    expect(variables[ENV.maxReceiveCount]).toBe('4');
  });

  it('scopes name prefixes to the account and region it is deployed to, as its event rule does', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig, { env: { account: ACCOUNT, region: REGION } });

    // Assess
    const variables = variablesOf(template, 'RedriveHandlerFunction');
    expect(variables[ENV.statesArnPrefix]).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:states:${REGION}:${ACCOUNT}:`]],
    });
  });

  it.each([
    {
      sweeper: true,
      roles: ['RedriveHandlerRole', 'RedriveSweeperHandlerRole', 'BrakeKeeperHandlerRole'],
    },
    { sweeper: false, roles: ['RedriveHandlerRole', 'BrakeKeeperHandlerRole'] },
  ])(
    "tells the handler the role ids of Autoheal's own senders (sweeper $sweeper), to recognise its messages",
    ({ sweeper, roles }) => {
      // Prepare & Act
      const { template } = buildStack(
        { redrive: { ...scopedConfig.redrive, sweeper: { enabled: sweeper } } },
        { env: { account: ACCOUNT, region: REGION } },
      );

      // Assess
      const roleId = (prefix: string) => ({
        'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}[0-9A-F]{8}$`), 'RoleId'],
      });
      const expected = {
        'Fn::Join': [
          '',
          roles.flatMap((role, i) => (i === 0 ? [roleId(role)] : [',', roleId(role)])),
        ],
      };
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [ENV.senderRoleIds]: expected }) },
      });
    },
  );

  it('has exactly the permissions it needs, scoped to the configured resources', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig, { env: { account: ACCOUNT, region: REGION } });

    // Assess
    const getAtt = (prefix: string) => ({
      'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}`), 'Arn'],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: getAtt('RedriveHandlerLogs'),
          },
          {
            Effect: 'Allow',
            Action: [
              'sqs:ReceiveMessage',
              'sqs:ChangeMessageVisibility',
              'sqs:GetQueueUrl',
              'sqs:DeleteMessage',
              'sqs:GetQueueAttributes',
            ],
            Resource: getAtt('RedriveBufferWorkQueue'),
          },
          {
            Effect: 'Allow',
            Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
            Resource: getAtt('RedriveBufferWorkQueue'),
          },
          {
            Effect: 'Allow',
            Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
            Resource: getAtt('RedriveBufferDeadLetterQueue'),
          },
          {
            Sid: 'RedriveScopedExecutions',
            Effect: 'Allow',
            Action: ['states:RedriveExecution', 'states:DescribeExecution'],
            Resource: [
              `arn:aws:states:${REGION}:${ACCOUNT}:execution:orders-nightly:*`,
              {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    `:states:${REGION}:${ACCOUNT}:execution:billing-*`,
                  ],
                ],
              },
            ],
          },
          {
            Effect: 'Allow',
            Action: [
              'dynamodb:GetItem',
              'dynamodb:PutItem',
              'dynamodb:UpdateItem',
              'dynamodb:DeleteItem',
            ],
            Resource: [getAtt('IdempotencyTable')],
          },
          {
            Effect: 'Allow',
            Action: 'sns:Publish',
            Resource: { Ref: Match.stringLikeRegexp('^NoticesTopic') },
          },
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Resource: getAtt('NoticesKey'),
          },
          {
            Sid: 'OwnHealingStateOnly',
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
            Resource: getAtt('HealingStateTable'),
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['autoheal#*'] } },
          },
        ],
      },
    });
    // The redrive handler's, the sweeper's, the brake keeper's, and the live-healing clock's and its provider's.
    template.resourceCountIs('AWS::IAM::Policy', 5);
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });
});

describe('the sweeper', () => {
  const env = { account: ACCOUNT, region: REGION };
  const getAtt = (prefix: string) => ({
    'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}`), 'Arn'],
  });

  it('runs on the configured period, invoked by an EventBridge schedule with no retries of its own', () => {
    // Prepare
    const config = { redrive: { ...scopedConfig.redrive, sweeper: { periodMinutes: 15 } } };

    // Act
    const { template } = buildStack(config);

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [
        {
          Arn: getAtt('RedriveSweeperHandlerFunction'),
          RetryPolicy: { MaximumEventAgeInSeconds: 900, MaximumRetryAttempts: 2 },
        },
      ],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('^RedriveSweeperHandlerFunction') },
      MaximumRetryAttempts: 0,
    });
    const fn = resourceNamed(template, 'AWS::Lambda::Function', 'RedriveSweeperHandlerFunction');
    expect(fn.Properties).toMatchObject({ Timeout: 300, Runtime: `nodejs${LAMBDA_NODE_MAJOR}.x` });
    // Not a consumer of the buffer: only the redrive handler drains the work queue.
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
  });

  it('receives the validated config with its sweeper options and every name the handler requires', () => {
    // Prepare & Act
    const { stack, template } = buildStack(scopedConfig);

    // Assess
    const variables = variablesOf(template, 'RedriveSweeperHandlerFunction');
    expect(Object.keys(variables).sort()).toEqual(
      [
        ...envRequiredBy('redrive/sweeper.handler.ts'),
        'POWERTOOLS_SERVICE_NAME',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_LOG_LEVEL',
      ].sort(),
    );
    expect(variables[ENV.workQueueUrl]).toEqual({
      Ref: expect.stringMatching(/^RedriveBufferWorkQueue/),
    });
    const config = stagedConfigFile(
      stack,
      resourceNamed(template, 'AWS::Lambda::Function', 'RedriveSweeperHandlerFunction'),
    ).sections[CONFIG_SECTION.redrive];
    expect(config).toMatchObject({
      stateMachineArns: [ORDERS_ARN],
      stateMachineNamePrefixes: ['billing-'],
      overrides: { 'billing-close': { statuses: ['ABORTED'] } },
      sweeper: { enabled: true, periodMinutes: 60, lookbackHours: 24, requestsPerSecond: 1 },
    });
    expect(config).not.toHaveProperty('processing');
  });

  it('may list the executions of the scoped state machines only, find those of the prefixes, enqueue, read records, and update its cursor', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig, { env });

    // Assess
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^RedriveSweeperHandlerRole') }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: getAtt('RedriveSweeperHandlerLogs'),
          },
          {
            Sid: 'ListScopedExecutions',
            Effect: 'Allow',
            Action: 'states:ListExecutions',
            Resource: [
              ORDERS_ARN,
              {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    `:states:${REGION}:${ACCOUNT}:stateMachine:billing-*`,
                  ],
                ],
              },
            ],
          },
          {
            Sid: 'FindScopedStateMachines',
            Effect: 'Allow',
            Action: 'states:ListStateMachines',
            Resource: '*',
          },
          {
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Resource: getAtt('RedriveBufferWorkQueue'),
          },
          {
            Effect: 'Allow',
            Action: 'dynamodb:GetItem',
            Resource: [getAtt('IdempotencyTable')],
          },
          {
            Sid: 'OwnSweepCursorOnly',
            Effect: 'Allow',
            Action: 'dynamodb:UpdateItem',
            Resource: getAtt('IdempotencyTable'),
            Condition: {
              'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['autoheal-sweeper-cursor'] },
            },
          },
        ],
      },
    });
  });

  it('needs no ListStateMachines when the scope lists state machines by ARN only', () => {
    // Prepare & Act
    const { template } = buildStack({ redrive: { stateMachineArns: [ORDERS_ARN] } }, { env });

    // Assess
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^RedriveSweeperHandlerRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'ListScopedExecutions',
            Effect: 'Allow',
            Action: 'states:ListExecutions',
            Resource: ORDERS_ARN,
          },
        ]),
      },
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('states:ListStateMachines');
  });

  it('is not installed when disabled', () => {
    // Prepare
    const config = { redrive: { ...scopedConfig.redrive, sweeper: { enabled: false } } };

    // Act
    const { template } = buildStack(config);

    // Assess
    // The redrive handler, the brake keeper, and the live-healing clock with its provider framework function.
    template.resourceCountIs('AWS::Lambda::Function', 4);
    expect(Object.keys(template.findResources('AWS::Lambda::Function'))).not.toContainEqual(
      expect.stringMatching(/Sweeper/),
    );
    // The brake keeper's schedule only.
    template.resourcePropertiesCountIs(
      'AWS::Events::Rule',
      { ScheduleExpression: Match.anyValue() },
      1,
    );
    template.resourcePropertiesCountIs(
      'AWS::Events::Rule',
      { ScheduleExpression: Match.anyValue(), Description: Match.stringLikeRegexp('sweeps') },
      0,
    );
  });
});

describe('the idempotency table', () => {
  it('is keyed on id with TTL on expiration, on demand, with point-in-time recovery and encryption', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig);

    // Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });
});

describe('the storm brake and notice digests', () => {
  const env = { account: ACCOUNT, region: REGION };
  const getAtt = (prefix: string) => ({
    'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}`), 'Arn'],
  });
  const stateTables = (template: BuiltTemplate) =>
    Object.values(
      template.findResources('AWS::DynamoDB::Table', {
        Properties: { KeySchema: Match.arrayWith([{ AttributeName: 'pk', KeyType: 'HASH' }]) },
      }),
    );
  const keepers = (template: BuiltTemplate) =>
    Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) =>
      id.startsWith('BrakeKeeperHandlerFunction'),
    );
  const appflow = {
    schedules: [{ name: 'nightly', expression: 'cron(0 3 * * ? *)', flows: ['crm-export'] }],
    healedFlows: ['erp-sync'],
  };

  it('keeps its state in a table keyed on pk and sk with TTL on expiration, on demand, with point-in-time recovery and encryption', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig);

    // Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it.each([
    { label: 'the defaults (breaker on, digests on)', extra: {}, installed: true },
    {
      label: 'breaker off, digests on',
      extra: { redrive: { breaker: { enabled: false } } },
      installed: true,
    },
    {
      label: 'breaker on, digests off',
      extra: { notices: { digestWindowMinutes: 0 } },
      installed: true,
    },
    {
      label: 'breaker off but on for one machine, digests off',
      extra: {
        redrive: {
          breaker: { enabled: false },
          overrides: { 'billing-close': { breaker: { enabled: true } } },
        },
        notices: { digestWindowMinutes: 0 },
      },
      installed: true,
    },
    {
      label: 'breaker off, digests off',
      extra: { redrive: { breaker: { enabled: false } }, notices: { digestWindowMinutes: 0 } },
      // Switching the breaker off must not drop what it holds: the keeper re-sends it.
      installed: true,
      handlerUsesIt: false,
    },
  ])(
    'installs the state table and the keeper with $label: $installed',
    ({ extra, installed, handlerUsesIt = installed }) => {
      // Prepare
      const config = {
        redrive: { ...scopedConfig.redrive, ...(extra as { redrive?: object }).redrive },
        ...((extra as { notices?: object }).notices && {
          notices: (extra as { notices: object }).notices,
        }),
      };

      // Act
      const { template } = buildStack(config, { env });

      // Assess
      expect(stateTables(template)).toHaveLength(installed ? 1 : 0);
      expect(keepers(template)).toHaveLength(installed ? 1 : 0);
      expect(variablesOf(template, 'RedriveHandlerFunction')[ENV.stateTable] !== undefined).toBe(
        handlerUsesIt,
      );
    },
  );

  it.each([
    {
      label: 'on (the default)',
      redrive: scopedConfig.redrive,
      outcome: { $or: [{ status: ['FAILED', 'TIMED_OUT', 'ABORTED'] }, RECOVERIES] },
    },
    {
      label: 'off for the section, on for one override',
      redrive: {
        ...scopedConfig.redrive,
        breaker: { enabled: false },
        overrides: { 'billing-close': { statuses: ['ABORTED'], breaker: { enabled: true } } },
      },
      outcome: { $or: [{ status: ['FAILED', 'TIMED_OUT', 'ABORTED'] }, RECOVERIES] },
    },
    {
      label: 'off everywhere',
      redrive: { ...scopedConfig.redrive, breaker: { enabled: false } },
      outcome: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
    },
  ])(
    'matches the failures, and redriven successes only while the breaker is $label, in the pattern itself',
    ({ redrive, outcome }) => {
      // Prepare & Act
      const { template } = buildStack({ redrive }, { env });

      // Assess
      const rule = resourceNamed(template, 'AWS::Events::Rule', 'RedriveBufferFailedExecutions');
      expect(rule.Properties.EventPattern).toEqual({
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          ...outcome,
          stateMachineArn: [
            ORDERS_ARN,
            {
              prefix: {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    `:states:${REGION}:${ACCOUNT}:stateMachine:billing-`,
                  ],
                ],
              },
            },
          ],
          executionArn: [{ 'anything-but': { wildcard: '*/*' } }],
        },
      });
    },
  );

  it('runs the keeper every minute from an EventBridge rule, a tick superseded by the next, within the minute', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig);

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        {
          Arn: getAtt('BrakeKeeperHandlerFunction'),
          RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 2 },
        },
      ],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('^BrakeKeeperHandlerFunction') },
      MaximumRetryAttempts: 0,
    });
    const fn = resourceNamed(template, 'AWS::Lambda::Function', 'BrakeKeeperHandlerFunction');
    expect(fn.Properties).toMatchObject({ Timeout: 50, Runtime: `nodejs${LAMBDA_NODE_MAJOR}.x` });
  });

  it('gives the keeper its config and every name its handler requires', () => {
    // Prepare & Act
    const { stack, template } = buildStack(scopedConfig, { env });

    // Assess
    const variables = variablesOf(template, 'BrakeKeeperHandlerFunction');
    expect(Object.keys(variables).sort()).toEqual(
      [
        ...envRequiredBy('brake/brake-keeper.handler.ts'),
        ENV.workQueueUrl,
        'POWERTOOLS_SERVICE_NAME',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_LOG_LEVEL',
      ].sort(),
    );
    const { sections } = stagedConfigFile(
      stack,
      resourceNamed(template, 'AWS::Lambda::Function', 'BrakeKeeperHandlerFunction'),
    );
    expect(sections[CONFIG_SECTION.notices]).toEqual({
      digestWindowMinutes: 15,
      immediateNotices: 1,
      digestExamples: 10,
    });
    // Breakers and policies per machine name, not the scope: the keeper watches what the handler registered.
    expect(sections[CONFIG_SECTION.redrive]).toMatchObject({
      stateMachineArns: [],
      stateMachineNamePrefixes: [],
      breaker: { enabled: true, cooldownMinutes: 5, probes: 3 },
    });
    expect(sections[CONFIG_SECTION.redrive]).not.toHaveProperty('processing');
  });

  it('lets the keeper use its own state items, publish notices and send to the work queue, and nothing else', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig, { env });

    // Assess
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^BrakeKeeperHandlerRole') }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: getAtt('BrakeKeeperHandlerLogs'),
          },
          {
            Sid: 'OwnHealingStateOnly',
            Effect: 'Allow',
            Action: [
              'dynamodb:GetItem',
              'dynamodb:Query',
              'dynamodb:PutItem',
              'dynamodb:UpdateItem',
              'dynamodb:DeleteItem',
            ],
            Resource: getAtt('HealingStateTable'),
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['autoheal#*'] } },
          },
          {
            Effect: 'Allow',
            Action: 'sns:Publish',
            Resource: { Ref: Match.stringLikeRegexp('^NoticesTopic') },
          },
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Resource: getAtt('NoticesKey'),
          },
          {
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Resource: getAtt('RedriveBufferWorkQueue'),
          },
        ],
      },
    });
    // Exempt from the work queue's deny, as Autoheal's other senders are.
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'OnlyAutohealItsRulesAndOperatorsSend',
            Condition: {
              ArnNotEquals: Match.objectLike({
                'aws:PrincipalArn': Match.arrayWith([getAtt('BrakeKeeperHandlerRole')]),
              }),
            },
          }),
        ]),
      },
    });
  });

  it('pages the topic when the keeper fails', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig);

    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: {
              MetricName: 'Errors',
              Namespace: 'AWS/Lambda',
              Dimensions: [
                {
                  Name: 'FunctionName',
                  Value: { Ref: Match.stringLikeRegexp('^BrakeKeeperHandlerFunction') },
                },
              ],
            },
          }),
        }),
      ],
      Threshold: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^NoticesTopic') }],
    });
  });

  it.each(['FlowHealingHealer', 'ScheduledFlowsStarter'])(
    'lets the AppFlow handler %s count notices into digests, its own items only',
    (prefix) => {
      // Prepare & Act
      const { stack, template } = buildStack({ appflow }, { env });

      // Assess
      const fn = resourceNamed(template, 'AWS::Lambda::Function', `${prefix}Function`);
      expect(variablesOf(template, `${prefix}Function`)[ENV.stateTable]).toEqual({
        Ref: expect.stringMatching(/^HealingStateTable/),
      });
      expect(Object.keys(stagedConfigFile(stack, fn).sections)).toEqual([
        CONFIG_SECTION.appflow,
        CONFIG_SECTION.notices,
      ]);
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp(`^${prefix}Role`) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Sid: 'OwnHealingStateOnly',
              Effect: 'Allow',
              Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
              Resource: getAtt('HealingStateTable'),
              Condition: {
                'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['autoheal#*'] },
              },
            },
          ]),
        },
      });
    },
  );

  it('runs a keeper for the digests alone in an AppFlow-only installation: no work queue, no redrive config', () => {
    // Prepare & Act
    const { stack, template } = buildStack({ appflow }, { env });

    // Assess
    const variables = variablesOf(template, 'BrakeKeeperHandlerFunction');
    expect(variables).not.toHaveProperty(ENV.workQueueUrl);
    const fn = resourceNamed(template, 'AWS::Lambda::Function', 'BrakeKeeperHandlerFunction');
    expect(Object.keys(stagedConfigFile(stack, fn).sections)).toEqual([CONFIG_SECTION.notices]);
    const keeperPolicy = JSON.stringify(
      template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^BrakeKeeperHandlerRole') }] },
      }),
    );
    expect(keeperPolicy).not.toContain('sqs:');
  });
});

describe('notices and alarms', () => {
  it('sends notices on a KMS-encrypted topic that alarms may publish to', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig);

    // Assess
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NoticesKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it.each([
    ['dead letters', 'ApproximateNumberOfMessagesVisible', 'AWS/SQS'],
    ['function errors', 'Errors', 'AWS/Lambda'],
  ])('alarms on %s and notifies the topic', (_name, metricName, namespace) => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig);

    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: metricName, Namespace: namespace }),
          }),
        }),
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^NoticesTopic') }],
    });
  });
});

describe('the template', () => {
  it('matches the snapshot (asset hashes normalised)', () => {
    // Prepare & Act
    const { template } = buildStack(defaultContextConfig(), {
      env: { account: ACCOUNT, region: REGION },
    });

    // Assess
    expect(normalisedTemplate(template)).toMatchSnapshot();
  });

  it.each([
    { what: 'region', arn: 'arn:aws:states:us-east-1:123456789012:stateMachine:orders' },
    { what: 'account', arn: 'arn:aws:states:eu-central-1:210987654321:stateMachine:orders' },
  ])(
    'refuses a state machine ARN of another $what when its environment is known',
    ({ arn, what }) => {
      // Act
      const build = () =>
        buildStack(
          { redrive: { stateMachineArns: [ORDERS_ARN, arn] } },
          { env: { account: ACCOUNT, region: REGION } },
        );

      // Assess
      expect(build).toThrow(
        new RegExp(`redrive\\.stateMachineArns\\[1\\]: is in ${what} .*deploy a stack there`),
      );
    },
  );

  it('accepts any state machine ARN when its environment is only known at deploy time', () => {
    // Act
    const build = () =>
      buildStack({
        redrive: { stateMachineArns: ['arn:aws:states:us-east-1:210987654321:stateMachine:x'] },
      });

    // Assess
    expect(build).not.toThrow();
  });

  it('delivers a config far larger than the Lambda environment in the asset', () => {
    // Prepare: 1,000 ARNs and 200 overrides, some 100 KB of JSON
    const manyArns = Array.from({ length: 1000 }, (_, i) => `${ORDERS_ARN}-${i}`);
    const overrides = Object.fromEntries(
      manyArns.slice(0, 200).map((arn) => [arn.split(':').at(-1), { maxRedrives: 1 }]),
    );

    // Act
    const { stack, template } = buildStack({
      redrive: { stateMachineArns: manyArns, overrides },
    });

    // Assess
    for (const prefix of ['RedriveHandlerFunction', 'RedriveSweeperHandlerFunction']) {
      const fn = resourceNamed(template, 'AWS::Lambda::Function', prefix);
      const config = stagedConfigFile(stack, fn).sections[CONFIG_SECTION.redrive] as {
        stateMachineArns: string[];
        overrides: object;
      };
      expect(config.stateMachineArns).toEqual(manyArns);
      expect(Object.keys(config.overrides)).toHaveLength(200);
      expect(JSON.stringify(variablesOf(template, prefix)).length).toBeLessThan(2048);
    }
  });
});
