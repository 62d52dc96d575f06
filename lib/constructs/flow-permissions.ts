import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { shardId, shardValues } from '../limits/shards';
import { TEMPLATE_LIMITS, TOKEN_BUDGET } from '../limits/template-limits';
import type { AutohealFunction } from './autoheal-function';

/** ARN of an AppFlow flow in this stack's account and region. */
export function flowArn(scope: Construct, flowName: string): string {
  const { partition, region, account } = Stack.of(scope);
  return `arn:${partition}:appflow:${region}:${account}:flow/${flowName}`;
}

/**
 * Characters of the flow grant kept in the role's inline policy. Above it the
 * grant moves to managed policies: the inline policies of a role share 10,240
 * characters with the queue, table, topic and log grants (about 3,000).
 */
export const INLINE_FLOW_GRANT_CHARS = 4_096;

/**
 * Room left in a managed policy for the flow ARNs: the document's own
 * `{"Version":"2012-10-17","Statement":[...]}` wrapper and the statement's
 * Sid, Effect and Action take about 150 characters of the 6,144.
 */
const MANAGED_POLICY_HEADROOM = 200;

const SID = 'StartScopedFlows';
const ACTIONS = ['appflow:StartFlow', 'appflow:DescribeFlow'];

/**
 * The grant statement of `arns`, as it is sized: one statement, exact ARNs.
 * The partition, region and account are tokens in an environment-agnostic
 * stack, measured at their longest (see TOKEN_BUDGET).
 */
function grantStatement(arns: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid: SID, actions: ACTIONS, resources: arns });
}

/** Characters of `{"Sid":..,"Effect":..,"Action":[..],"Resource":[..]}` for `arns`, tokens at their longest. */
function statementChars(
  arns: readonly string[],
  tokenFreeArnChars: (arn: string) => number,
): number {
  const fixed = JSON.stringify({ Sid: SID, Effect: 'Allow', Action: ACTIONS, Resource: [] }).length;
  return arns.reduce((sum, arn, i) => sum + tokenFreeArnChars(arn) + 2 + (i > 0 ? 1 : 0), fixed);
}

/**
 * Lets a function describe and start exactly the named flows.
 *
 * Nothing else is needed to start a flow: AppFlow runs it with the access its
 * connector profiles and destinations already grant to AppFlow itself (set up
 * when the flow was created). `appflow:UseConnectorProfile` and `iam:PassRole`
 * are needed to create or update flows, which Autoheal never does.
 *
 * A grant that fits {@link INLINE_FLOW_GRANT_CHARS} stays in the role's inline
 * policy; a longer one is split across customer managed policies attached to
 * the role, each within IAM's 6,144 characters, with the same exact flow ARNs
 * (never a wildcard).
 *
 * @example
 * grantStartFlows(starter, ['crm-export', 'erp-export']);
 */
export function grantStartFlows(fn: AutohealFunction, flowNames: readonly string[]): void {
  // Each ARN's literal part, plus the partition, region and account at their longest where they are
  // tokens (an environment-agnostic stack); flow names are literal (from the config).
  const { partition, region, account } = Stack.of(fn);
  const sized = (value: string, budget: number) =>
    Token.isUnresolved(value) ? budget : value.length;
  const arnPrefixChars =
    'arn::appflow::::flow/'.length +
    sized(partition, TOKEN_BUDGET.partition) +
    sized(region, TOKEN_BUDGET.region) +
    sized(account, TOKEN_BUDGET.accountId);
  const arnChars = (name: string) => arnPrefixChars + name.length;
  if (statementChars(flowNames, arnChars) <= INLINE_FLOW_GRANT_CHARS) {
    fn.function.addToRolePolicy(grantStatement(flowNames.map((name) => flowArn(fn, name))));
    return;
  }
  const slices = shardValues([...flowNames], {
    render: (names) => ({
      Version: '2012-10-17',
      Statement: [{ Sid: SID, Effect: 'Allow', Action: ACTIONS, Resource: names.map(sizedArn) }],
    }),
    maxChars: TEMPLATE_LIMITS.managedPolicyChars - MANAGED_POLICY_HEADROOM,
    what: 'a managed policy',
  });
  slices.forEach((names, i) => {
    new iam.ManagedPolicy(fn, shardId('StartScopedFlows', i), {
      description: `Autoheal: start and describe the flows in scope (${i + 1} of ${slices.length})`,
      statements: [grantStatement(names.map((name) => flowArn(fn, name)))],
      roles: [fn.role],
    });
  });

  function sizedArn(name: string): string {
    return 'x'.repeat(arnChars(name) - name.length) + name;
  }
}
