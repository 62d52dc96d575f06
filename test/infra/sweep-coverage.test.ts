/**
 * The sweeper in the template: a warning at synth when its scope cannot be
 * swept within the lookback, and its one write, the cursor record.
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { idempotencyKeyPrefixes } from '../../lambda/shared/contract';
import { buildStack } from '../support/stack';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const env = { account: ACCOUNT, region: REGION };
const machines = (count: number) =>
  Array.from(
    { length: count },
    (_, i) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:m-${i}`,
  );

function coverageWarnings(sweeper: Record<string, unknown>, count = 10) {
  const { stack } = buildStack(
    { redrive: { stateMachineArns: machines(count), sweeper } },
    { env },
  );
  return Annotations.fromStack(stack)
    .findWarning('*', Match.stringLikeRegexp('autoheal:sweepCoverage'))
    .map((w) => String(w.entry.data));
}

describe('the sweep coverage warning at synth', () => {
  it('warns when a pass over the scope takes longer than the lookback, with the arithmetic and what to set', () => {
    // Act: 20 calls a pass, 3 a sweep at 0.01/s in 270 s: 7 sweeps × 30 min = 210 min > 60 min
    const warnings = coverageWarnings({
      requestsPerSecond: 0.01,
      periodMinutes: 30,
      lookbackHours: 1,
    });

    // Assess
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      '10 state machines listed by ARN need 20 ListExecutions calls a pass',
    );
    expect(warnings[0]).toContain('at requestsPerSecond 0.01 a sweep makes at most 3 calls');
    expect(warnings[0]).toContain('7 sweeps × 30 min = 210 min > 60 min');
    expect(warnings[0]).toContain('Raise requestsPerSecond to 0.04 or more');
    expect(warnings[0]).toContain('raise lookbackHours to 4 or more');
  });

  it('says that the state machines of name prefixes are not counted', () => {
    // Prepare
    const { stack } = buildStack(
      {
        redrive: {
          stateMachineArns: machines(10),
          stateMachineNamePrefixes: ['team-a-', 'team-b-'],
          sweeper: { requestsPerSecond: 0.01, periodMinutes: 30, lookbackHours: 1 },
        },
      },
      { env },
    );

    // Act
    const warnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp('autoheal:sweepCoverage'),
    );

    // Assess: 3 calls a sweep, 1 of them ListStateMachines: 10 sweeps
    expect(warnings).toHaveLength(1);
    const message = String(warnings[0].entry.data);
    expect(message).toContain('at most 3 calls (1 of them ListStateMachines)');
    expect(message).toContain('10 sweeps × 30 min = 300 min > 60 min');
    expect(message).toContain('The state machines of the 2 name prefixes are not counted');
  });

  it.each([
    { label: 'the default sweeper', sweeper: {} },
    {
      label: 'a slow sweeper with a lookback long enough',
      sweeper: { requestsPerSecond: 0.01, periodMinutes: 30, lookbackHours: 4 },
    },
    {
      label: 'a disabled sweeper',
      sweeper: { enabled: false, requestsPerSecond: 0.01, periodMinutes: 30, lookbackHours: 1 },
    },
  ])('does not warn with $label', ({ sweeper }) => {
    // Act
    const warnings = coverageWarnings(sweeper);

    // Assess
    expect(warnings).toEqual([]);
  });
});

describe('the sweeper role', () => {
  it('may update its cursor record and no other item', () => {
    // Prepare & Act
    const { template } = buildStack({ redrive: { stateMachineArns: machines(2) } }, { env });

    // Assess
    const cursorKey = idempotencyKeyPrefixes().sweepCursor;
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^RedriveSweeperHandlerRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'OwnSweepCursorOnly',
            Effect: 'Allow',
            Action: 'dynamodb:UpdateItem',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IdempotencyTable'), 'Arn'] },
            Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [cursorKey] } },
          },
        ]),
      },
    });
    const sweeperWrites = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('RedriveSweeperHandlerRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Sid?: string; Action: unknown }[])
      .filter((statement) =>
        /dynamodb:(Put|Update|Delete|BatchWrite)/.test(JSON.stringify(statement.Action)),
      );
    expect(sweeperWrites.map((statement) => statement.Sid)).toEqual(['OwnSweepCursorOnly']);
  });
});
