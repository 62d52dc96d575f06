import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { RedriveScope } from '../../lambda/shared/autoheal-config';

/**
 * `arn:PARTITION:states:REGION:ACCOUNT:` of the stack: where name-prefix scope
 * applies (the redrive handler receives it as `AUTOHEAL_STATES_ARN_PREFIX`).
 */
export function statesArnPrefix(scope: Construct): string {
  const { partition, region, account } = Stack.of(scope);
  return `arn:${partition}:states:${region}:${account}:`;
}

/** ARN prefix of the state machines whose names start with `namePrefix`, in this stack's account and region. */
export function stateMachineArnIn(scope: Construct, namePrefix: string): string {
  return `${statesArnPrefix(scope)}stateMachine:${namePrefix}`;
}

/** ARN prefix of the executions of the state machines whose names start with `namePrefix`, in this stack's account and region. */
export function executionArnIn(scope: Construct, namePrefix: string): string {
  return `${statesArnPrefix(scope)}execution:${namePrefix}`;
}

/** IAM patterns (`…:stateMachine:PREFIX*`) of the state machines each name prefix scopes. */
export function stateMachinePrefixPatterns(
  scope: Construct,
  namePrefixes: readonly string[],
): string[] {
  return namePrefixes.map((prefix) => `${stateMachineArnIn(scope, prefix)}*`);
}

/** ARNs (and ARN patterns, for name prefixes) of exactly the scoped state machines. */
export function scopedStateMachineArns(scope: Construct, config: RedriveScope): string[] {
  return [
    ...config.stateMachineArns,
    ...stateMachinePrefixPatterns(scope, config.stateMachineNamePrefixes),
  ];
}
