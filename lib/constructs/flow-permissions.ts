import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { AutohealFunction } from './autoheal-function';
import { grantOnScopeRoles, type ScopeRoleGrants } from './scope-roles';

/** ARN of an AppFlow flow in this stack's account and region. */
export function flowArn(scope: Construct, flowName: string): string {
  const { partition, region, account } = Stack.of(scope);
  return `arn:${partition}:appflow:${region}:${account}:flow/${flowName}`;
}

const SID = 'StartScopedFlows';
const ACTIONS = ['appflow:StartFlow', 'appflow:DescribeFlow'];

/**
 * Lets a function describe and start exactly the named flows.
 *
 * Nothing else is needed to start a flow: AppFlow runs it with the access its
 * connector profiles and destinations already grant to AppFlow itself (set up
 * when the flow was created). `appflow:UseConnectorProfile` and `iam:PassRole`
 * are needed to create or update flows, which Autoheal never does.
 *
 * The grant is sized and split like every scoped grant ({@link grantOnScopeRoles}):
 * inline while it fits, else the first flows inline and the next across
 * customer managed policies attached to the role, each within IAM's 6,144
 * characters, with the same exact flow ARNs (never a wildcard); flows past
 * IAM's default quota of 10 managed policies per role go, in list order, to
 * scope roles the function assumes (its `AUTOHEAL_SCOPE_ROLES` indexes
 * `flowNames`, so the handler must list the flows in the same order).
 *
 * @param field the configured field the flows come from, for the synth error
 * @returns the scope roles; none when the function's role holds every flow
 * @example
 * grantStartFlows(starter, scheduledFlowsOf(config), 'appflow.schedules');
 */
export function grantStartFlows(
  fn: AutohealFunction,
  flowNames: readonly string[],
  field: string,
): ScopeRoleGrants {
  return grantOnScopeRoles(
    fn,
    [
      {
        sid: SID,
        description: 'start and describe the flows in scope',
        listedValues: flowNames.map((name) => flowArn(fn, name)),
        statement: (arns) =>
          new iam.PolicyStatement({ sid: SID, actions: ACTIONS, resources: arns }),
      },
    ],
    {
      field,
      items: 'flows',
      remedy:
        'split the flows across two Autoheal stacks (a flow ARN names one flow: AppFlow has no narrower grant)',
    },
  );
}
