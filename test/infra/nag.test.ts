import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AutohealStack } from '../../bin/autoheal-stack';
import { parseAutohealConfig } from '../../lambda/shared/autoheal-config';
import { defaultContextConfig, templateOnlyApp } from '../support/stack';

function appWithNag(rawConfig: unknown, env?: { account: string; region: string }) {
  const app = templateOnlyApp();
  const stack = new AutohealStack(app, 'Autoheal', { config: parseAutohealConfig(rawConfig), env });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

const bothScopes = {
  redrive: {
    stateMachineArns: ['arn:aws:states:eu-west-1:123456789012:stateMachine:orders'],
    stateMachineNamePrefixes: ['billing-', 'etl-'],
  },
};

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['the default config, environment-agnostic', defaultContextConfig(), undefined],
    [
      'ARNs and prefixes, in a concrete environment',
      bothScopes,
      { account: '123456789012', region: 'eu-west-1' },
    ],
    [
      'ARNs only (a sweeper with no ListStateMachines)',
      { redrive: { stateMachineArns: bothScopes.redrive.stateMachineArns } },
      { account: '123456789012', region: 'eu-west-1' },
    ],
  ])('finds nothing unacknowledged for %s', (_name, rawConfig, env) => {
    // Prepare
    const { app } = appWithNag(rawConfig, env);

    // Act & Assess
    expect(() => app.synth()).not.toThrow();
  });

  it('fails synthesis on a finding nobody acknowledged', () => {
    // Prepare
    const { app, stack } = appWithNag(defaultContextConfig());
    new iam.Role(stack, 'Unreviewed', { assumedBy: new iam.AccountRootPrincipal() }).addToPolicy(
      new iam.PolicyStatement({ actions: ['states:*'], resources: ['*'] }),
    );

    // Act & Assess
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Action::states:\*\]/);
  });

  it('records a written reason with every acknowledgement', () => {
    // Prepare
    const { app } = appWithNag(bothScopes);

    // Act
    const acknowledgements = app.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>));

    // Assess: L1, the KMS action, the CloudFormation lint and one IAM5 per scoped ARN or prefix
    expect(acknowledgements.map(([id]) => id)).toEqual(
      expect.arrayContaining([
        'AwsSolutions::AwsSolutions-L1',
        'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        'CloudFormation-Validate::E9014',
      ]),
    );
    expect(acknowledgements.filter(([id]) => id.includes(':execution:'))).toHaveLength(3);
    // The sweeper: ListExecutions on the machines of each prefix, ListStateMachines on *.
    expect(acknowledgements.filter(([id]) => id.includes(':stateMachine:'))).toHaveLength(2);
    expect(acknowledgements.map(([id]) => id)).toContain(
      'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
    );
    for (const [id, reason] of acknowledgements) {
      expect({ id, reason }).toEqual({ id, reason: expect.stringMatching(/^.{40,}$/) });
    }
  });
});
