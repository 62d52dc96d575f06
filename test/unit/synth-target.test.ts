/**
 * describeSynthTarget: the line synth prints first, naming the account and
 * region the stack targets and where the CDK CLI took each from.
 */
import { describeSynthTarget, describeSynthTargets } from '../../bin/synth-target';

const NO_ACCOUNT =
  'Autoheal: synthesising for account unknown (no AWS credentials found: the template takes the account it is deployed to, AWS::AccountId)';

describe('describeSynthTarget', () => {
  it.each([
    {
      label: 'AWS_REGION',
      env: { CDK_DEFAULT_REGION: 'eu-west-1', AWS_REGION: 'eu-west-1' },
      line: `${NO_ACCOUNT}, region eu-west-1 (from AWS_REGION)`,
    },
    {
      label: 'AWS_DEFAULT_REGION',
      env: { CDK_DEFAULT_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-west-1' },
      line: `${NO_ACCOUNT}, region eu-west-1 (from AWS_DEFAULT_REGION)`,
    },
    {
      label: 'AWS_REGION over AWS_DEFAULT_REGION, as the CLI reads them',
      env: {
        CDK_DEFAULT_REGION: 'eu-central-1',
        AWS_REGION: 'eu-central-1',
        AWS_DEFAULT_REGION: 'eu-west-1',
      },
      line: `${NO_ACCOUNT}, region eu-central-1 (from AWS_REGION)`,
    },
    {
      label: 'the profile named in AWS_PROFILE',
      env: { CDK_DEFAULT_REGION: 'ap-southeast-2', AWS_PROFILE: 'prod' },
      line: `${NO_ACCOUNT}, region ap-southeast-2 (from profile "prod" (AWS_PROFILE): neither AWS_REGION nor AWS_DEFAULT_REGION is set)`,
    },
    {
      label: 'a profile given with --profile, which only the CLI sees',
      env: { CDK_DEFAULT_REGION: 'ap-southeast-2' },
      line: `${NO_ACCOUNT}, region ap-southeast-2 (from your AWS profile (--profile, or "default"): neither AWS_REGION nor AWS_DEFAULT_REGION is set)`,
    },
    {
      label: "the CLI's us-east-1 default, with what to set",
      env: { CDK_DEFAULT_REGION: 'us-east-1' },
      line: `${NO_ACCOUNT}, region us-east-1 (the CDK CLI's default, unless your AWS profile (--profile, or "default") names it: neither AWS_REGION nor AWS_DEFAULT_REGION is set; set AWS_REGION to choose)`,
    },
    {
      label: 'an app run without the CLI: environment-agnostic, scoped by pseudo parameters',
      env: {},
      line: `${NO_ACCOUNT}, region unknown (CDK_DEFAULT_REGION is unset: the template takes the region it is deployed to, AWS::Region; run the app with the CDK CLI, e.g. npx cdk synth, to target one)`,
    },
    {
      label: 'a CDK_DEFAULT_REGION the CLI did not set',
      env: { CDK_DEFAULT_REGION: 'eu-west-1', AWS_REGION: 'eu-central-1' },
      line: `${NO_ACCOUNT}, region eu-west-1 (from CDK_DEFAULT_REGION, though AWS_REGION is eu-central-1: the CDK CLI would have used AWS_REGION)`,
    },
    {
      label: 'the account of the credentials',
      env: {
        CDK_DEFAULT_ACCOUNT: '123456789012',
        CDK_DEFAULT_REGION: 'eu-west-1',
        AWS_REGION: 'eu-west-1',
      },
      line: 'Autoheal: synthesising for account 123456789012 (from your AWS credentials), region eu-west-1 (from AWS_REGION)',
    },
  ])('names $label', ({ env, line }) => {
    // Act
    const described = describeSynthTarget(env);

    // Assess
    expect(described).toBe(line);
  });
});

describe('describeSynthTargets', () => {
  it('prints the CLI target once for the single stack', () => {
    // Prepare
    const env = { CDK_DEFAULT_REGION: 'eu-west-1', AWS_REGION: 'eu-west-1' };

    // Act
    const lines = describeSynthTargets([], env);

    // Assess
    expect(lines).toEqual([`${NO_ACCOUNT}, region eu-west-1 (from AWS_REGION)`]);
  });

  it('prints one line per Stage, with its account and region from the config, whatever the CLI targets', () => {
    // Prepare
    const stages = [
      { name: 'prod-eu', account: '111111111111', region: 'eu-west-1', field: 'environments[0]' },
      {
        name: 'env-222222222222-us-east-2',
        account: '222222222222',
        region: 'us-east-2',
        field: 'environments[1]',
      },
    ];

    // Act
    const lines = describeSynthTargets(stages, { CDK_DEFAULT_REGION: 'ap-south-1' });

    // Assess
    expect(lines).toEqual([
      'Autoheal: synthesising Stage prod-eu (stack prod-eu-Autoheal) for account 111111111111, region eu-west-1 (from environments[0] of the config)',
      'Autoheal: synthesising Stage env-222222222222-us-east-2 (stack env-222222222222-us-east-2-Autoheal) for account 222222222222, region us-east-2 (from environments[1] of the config)',
    ]);
  });
});
