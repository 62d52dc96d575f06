/**
 * The live-healing clock in the template: a custom resource fed with the
 * live-relevant parts of the config, whose document reaches the redrive
 * handler and the sweeper through their environment, and a function that may
 * touch only its own record.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { clockRecordKey } from '../../lambda/redrive/live-healing-clock';
import { ENV, LIVE_HEALING_CLOCK } from '../../lambda/shared/contract';
import { buildStack } from '../support/stack';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const ORDERS_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:orders-nightly`;
const env = { account: ACCOUNT, region: REGION };

const scopedConfig = {
  redrive: {
    stateMachineArns: [ORDERS_ARN],
    stateMachineNamePrefixes: ['billing-'],
    observeOnly: true,
    overrides: {
      'billing-close': { observeOnly: false },
      'billing-open': { statuses: ['ABORTED'] },
    },
  },
};

type BuiltTemplate = ReturnType<typeof buildStack>['template'];

function clockResource(template: BuiltTemplate) {
  const resources = Object.entries(template.findResources('Custom::AutohealLiveHealingClock'));
  expect(resources).toHaveLength(1);
  const [logicalId, resource] = resources[0];
  return { logicalId, properties: resource.Properties as Record<string, unknown> };
}

function variablesOf(template: BuiltTemplate, prefix: string): Record<string, unknown> {
  const fns = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) =>
    id.startsWith(prefix),
  );
  expect(fns).toHaveLength(1);
  return fns[0][1].Properties.Environment.Variables;
}

describe('the live-healing clock', () => {
  it('is a custom resource given each scope entry, each observe-only switch and each status list', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig, { env });

    // Assess
    const { properties } = clockResource(template);
    expect(JSON.parse(properties[LIVE_HEALING_CLOCK.properties.config] as string)).toEqual({
      stateMachineArns: [ORDERS_ARN],
      stateMachineNamePrefixes: ['billing-'],
      observeOnly: true,
      // Only the overrides that set observeOnly.
      overrideObserveOnly: { 'billing-close': false },
      statuses: ['FAILED', 'TIMED_OUT'],
      // Only the overrides that set statuses.
      overrideStatuses: { 'billing-open': ['ABORTED'] },
    });
    expect(properties[LIVE_HEALING_CLOCK.properties.clockId]).toMatch(
      /^Autoheal.*LiveHealingClock/,
    );
  });

  it('is not run again for a change that cannot move a live-healing start', () => {
    // Prepare
    const before = buildStack(scopedConfig, { env }).template;

    // Act
    const after = buildStack(
      { redrive: { ...scopedConfig.redrive, maxRedrives: 5, delay: { baseSeconds: 120 } } },
      { env },
    ).template;

    // Assess
    expect(clockResource(after)).toEqual(clockResource(before));
  });

  it('is run again when a status joins the redriven statuses (its time starts at that deploy)', () => {
    // Prepare
    const before = buildStack(scopedConfig, { env }).template;

    // Act
    const after = buildStack(
      { redrive: { ...scopedConfig.redrive, statuses: ['FAILED', 'TIMED_OUT', 'ABORTED'] } },
      { env },
    ).template;

    // Assess
    expect(clockResource(after).properties).not.toEqual(clockResource(before).properties);
  });

  it.each([
    ['the redrive handler', 'RedriveHandlerFunction'],
    ['the sweeper', 'RedriveSweeperHandlerFunction'],
  ])('hands its document to %s through AUTOHEAL_LIVE_SINCE', (_name, functionPrefix) => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig, { env });

    // Assess
    const { logicalId } = clockResource(template);
    expect(variablesOf(template, functionPrefix)[ENV.liveSince]).toEqual({
      'Fn::GetAtt': [logicalId, LIVE_HEALING_CLOCK.attribute],
    });
  });

  it('may read, write and delete its own record in the idempotency table, and write its logs; nothing else', () => {
    // Prepare & Act
    const { stack, template } = buildStack(scopedConfig, { env });

    // Assess
    const recordKey = stack.autoheal._redrive?.liveHealingClock.recordKey;
    expect(recordKey).toBe(
      clockRecordKey(
        clockResource(template).properties[LIVE_HEALING_CLOCK.properties.clockId] as string,
      ),
    );
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^RedriveLiveHealingClockHandlerRole') }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: {
              'Fn::GetAtt': [Match.stringLikeRegexp('^RedriveLiveHealingClockHandlerLogs'), 'Arn'],
            },
          },
          {
            Sid: 'OwnClockRecordOnly',
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IdempotencyTable'), 'Arn'] },
            Condition: {
              'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [recordKey] },
            },
          },
        ],
      },
    });
  });

  it('runs its provider framework on a role that may invoke only the clock function', () => {
    // Prepare & Act
    const { template } = buildStack(scopedConfig, { env });

    // Assess
    const clockFunction = Match.stringLikeRegexp('^RedriveLiveHealingClockHandlerFunction');
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^RedriveLiveHealingClockProviderRole') }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: {
              'Fn::GetAtt': [Match.stringLikeRegexp('^RedriveLiveHealingClockProviderLogs'), 'Arn'],
            },
          },
          {
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            Resource: [
              { 'Fn::GetAtt': [clockFunction, 'Arn'] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [clockFunction, 'Arn'] }, ':*']] },
            ],
          },
          // The framework waits until the clock function is active.
          {
            Effect: 'Allow',
            Action: 'lambda:GetFunction',
            Resource: { 'Fn::GetAtt': [clockFunction, 'Arn'] },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: Match.absent(),
      ManagedPolicyArns: Match.absent(),
      Description: Match.stringLikeRegexp('provider framework'),
    });
  });

  it('synthesises a scope whose start times would not fit the environment: the handlers read them from its record', () => {
    // Prepare: 1,000 ARNs, some 14 KB of start times (the clock hands over a reference to its record)
    const manyArns = Array.from({ length: 1000 }, (_, i) => `${ORDERS_ARN}-${i}`);

    // Act
    const { template } = buildStack({ redrive: { stateMachineArns: manyArns } }, { env });

    // Assess: the handlers may read the record (GetItem on the table they already use)
    for (const prefix of ['RedriveHandlerFunction', 'RedriveSweeperHandlerFunction']) {
      expect(variablesOf(template, prefix)[ENV.liveSince]).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^RedriveLiveHealingClock/), 'LiveSince'],
      });
    }
  });
});
