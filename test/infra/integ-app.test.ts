import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildRedriveIntegApp, INTEG_STATE_MACHINE_NAME } from '../integ/redrive-integ-app';
import { templateOnlyApp } from '../support/stack';

describe('the integration test definition', () => {
  // Prepare & Act (shared): synthesising the whole integ app once
  const app = templateOnlyApp();
  buildRedriveIntegApp(app);
  const assembly = app.synth();
  const template = (stackName: string) =>
    Template.fromJSON(
      assembly.stacks.find((s) => s.stackName.startsWith(stackName))?.template ?? {},
    );

  it('deploys a Standard state machine whose task sees $$.Execution.RedriveCount', () => {
    // Assess
    const definition = JSON.stringify(template('AutohealIntegTarget').toJSON());
    expect(definition).toContain(INTEG_STATE_MACHINE_NAME);
    expect(definition).toContain('\\"redriveCount.$\\":\\"$$.Execution.RedriveCount\\"');
    template('AutohealIntegTarget').hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: INTEG_STATE_MACHINE_NAME,
      StateMachineType: 'STANDARD',
    });
  });

  it('scopes Autoheal to that state machine', () => {
    // Assess
    template('AutohealInteg').hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        detail: {
          stateMachineArn: [
            {
              prefix: {
                'Fn::Join': ['', Match.arrayWith([`:stateMachine:${INTEG_STATE_MACHINE_NAME}`])],
              },
            },
          ],
        },
      },
    });
  });

  it('asserts the execution ends SUCCEEDED after exactly one redrive', () => {
    // Assess
    const assertions = JSON.stringify(template('AutohealRedriveInteg').toJSON());
    expect(assertions).toContain('describeExecution');
    expect(assertions).toContain(
      '{\\"$ObjectLike\\":{\\"status\\":\\"SUCCEEDED\\",\\"redriveCount\\":1}}',
    );
  });
});
