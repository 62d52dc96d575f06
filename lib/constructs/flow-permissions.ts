import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { AutohealFunction } from './autoheal-function';

/** ARN of an AppFlow flow in this stack's account and region. */
export function flowArn(scope: Construct, flowName: string): string {
  const { partition, region, account } = Stack.of(scope);
  return `arn:${partition}:appflow:${region}:${account}:flow/${flowName}`;
}

/**
 * Lets a function describe and start exactly the named flows.
 *
 * Nothing else is needed to start a flow: AppFlow runs it with the access its
 * connector profiles and destinations already grant to AppFlow itself (set up
 * when the flow was created). `appflow:UseConnectorProfile` and `iam:PassRole`
 * are needed to create or update flows, which Autoheal never does.
 */
export function grantStartFlows(fn: AutohealFunction, flowNames: readonly string[]): void {
  fn.function.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'StartScopedFlows',
      actions: ['appflow:StartFlow', 'appflow:DescribeFlow'],
      resources: flowNames.map((name) => flowArn(fn, name)),
    }),
  );
}
