/**
 * The end-to-end proof of the redrive path, for a user with an AWS account:
 * a Standard state machine whose task fails while `$$.Execution.RedriveCount`
 * is 0 and succeeds once redriven. Autoheal, scoped to it, must redrive it and
 * the execution must end SUCCEEDED with redriveCount 1.
 *
 * Run for real with `npm run integ` (deploys, asserts, destroys). CI only
 * synthesises it (test/infra/integ-app.test.ts): there is no account here.
 */
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { type App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { AutohealStack } from '../../bin/autoheal-stack';
import { parseAutohealConfig } from '../../lambda/shared/autoheal-config';

export const INTEG_STATE_MACHINE_NAME = 'autoheal-integ-fails-once';

export function buildRedriveIntegApp(app: App): IntegTest {
  const target = new Stack(app, 'AutohealIntegTarget');
  const failsUntilRedriven = new lambda.Function(target, 'FailsUntilRedriven', {
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: lambda.Code.fromInline(
      [
        'exports.handler = async (event) => {',
        '  if (event.redriveCount === 0) {',
        "    const error = new Error('fails until the execution is redriven');",
        "    error.name = 'SimulatedTransientFailure';",
        '    throw error;',
        '  }',
        '  return { healedAfterRedrives: event.redriveCount };',
        '};',
      ].join('\n'),
    ),
  });
  const stateMachine = new sfn.StateMachine(target, 'FailsOnce', {
    stateMachineName: INTEG_STATE_MACHINE_NAME,
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromChainable(
      new tasks.LambdaInvoke(target, 'FailUntilRedriven', {
        lambdaFunction: failsUntilRedriven,
        payload: sfn.TaskInput.fromObject({
          redriveCount: sfn.JsonPath.numberAt('$$.Execution.RedriveCount'),
        }),
        retryOnServiceExceptions: false,
      }),
    ),
  });

  const autoheal = new AutohealStack(app, 'AutohealInteg', {
    config: parseAutohealConfig({
      redrive: {
        stateMachineNamePrefixes: [INTEG_STATE_MACHINE_NAME],
        // Redrive at once so the test finishes in minutes; deferral has its own unit tests.
        delay: { baseSeconds: 0, capSeconds: 0, jitterRatio: 0 },
      },
    }),
  });

  const integ = new IntegTest(app, 'AutohealRedriveInteg', {
    testCases: [target, autoheal],
    diffAssets: false,
  });
  const start = integ.assertions.awsApiCall('StepFunctions', 'startExecution', {
    stateMachineArn: stateMachine.stateMachineArn,
  });
  const finished = integ.assertions
    .awsApiCall('StepFunctions', 'describeExecution', {
      executionArn: start.getAttString('executionArn'),
    })
    .expect(ExpectedResult.objectLike({ status: 'SUCCEEDED', redriveCount: 1 }))
    .waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(20) });
  start.next(finished);
  return integ;
}
