import { Annotations, Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The parts of a stack's environment an ARN check compares against. */
export type EnvironmentPart = 'account' | 'region';

/** What an ARN check could not do, for {@link warnUncheckedArns}. */
export interface UncheckedArns {
  /** The config field holding the ARNs, e.g. `redrive.stateMachineArns`. */
  readonly field: string;
  /** How many ARNs the field holds: no ARNs, no warning. */
  readonly count: number;
  /** The parts of the stack's environment the check compares each ARN with. */
  readonly against: readonly EnvironmentPart[];
  /** What an ARN of another account or region does in a deployed instance. */
  readonly consequence: string;
}

/** Id of the warning, for `Annotations.of(stack).acknowledgeWarning(...)`. */
export function uncheckedArnsWarningId(field: string): string {
  return `autoheal:uncheckedEnvironment:${field}`;
}

/**
 * Says, as a synth warning on `scope`, which ARN check was skipped because the
 * stack's account or region is unknown at synth (an environment-agnostic
 * stack, as in a StackSet): the check compares literal values, and a pseudo
 * parameter has none until deploy. Returns the environment parts that were
 * known, which the caller still checks.
 *
 * @example
 * ```ts
 * const known = warnUncheckedArns(this, {
 *   field: 'operators.principalArns',
 *   count: principalArns.length,
 *   against: ['account'],
 *   consequence: 'a principal of another account gains nothing there',
 * });
 * if (known.includes('account')) refuseOtherAccounts(principalArns);
 * ```
 */
export function warnUncheckedArns(scope: IConstruct, check: UncheckedArns): EnvironmentPart[] {
  const stack = Stack.of(scope);
  const unknown = check.against.filter((part) => Token.isUnresolved(stack[part]));
  if (check.count > 0 && unknown.length > 0) {
    const parts = unknown.join(' and ');
    Annotations.of(scope).addWarningV2(
      uncheckedArnsWarningId(check.field),
      `${check.field} not checked against the stack's ${parts}: the stack is environment-agnostic, so its ${parts} ${unknown.length > 1 ? 'are' : 'is'} known only at deploy (CloudFormation pseudo parameters); ${check.consequence}. Give the stack an env (account and region) to have them checked at synth.`,
    );
  }
  return check.against.filter((part) => !unknown.includes(part));
}
