/**
 * Sizing and sharding for documents that list the scope one value at a time
 * (state machine ARNs, execution ARN patterns): event patterns and IAM
 * statements of a thousand machines or more.
 *
 * A value holding CDK tokens (an `IStateMachine`'s ARN, the stack's
 * partition, region and account) is sized as the synth-time limit check sizes
 * it in the template (see `budgetedValue`): each intrinsic at its longest, a
 * state machine's own ARN at 149 characters. So what is sharded here passes
 * `checkLimitsAtSynth`, in every account, region and partition.
 *
 * Hand-written: neither CDK nor a library splits a policy or a pattern by size.
 */

import { CfnResource, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { shardId, shardValues } from '../limits/shards';
import { budgetedLength, TEMPLATE_LIMITS, TOKEN_BUDGET } from '../limits/template-limits';
import type { AutohealFunction } from './autoheal-function';

/**
 * Characters of one scoped statement kept in a role's inline policy; above
 * it the statement moves to managed policies. The redrive handler's role
 * holds two scoped statements (executions, and KMS when keys are set) and
 * about 3,000 characters of queue, table, topic and log grants: 2 × 3,072 +
 * 3,000 stays within IAM's 10,240 per role.
 */
export const INLINE_SCOPED_GRANT_CHARS = 3_072;

/**
 * Room left in a managed policy for the CDK's rendering of the document
 * beyond what is measured here (key order, a `Version` CDK may add).
 */
export const MANAGED_POLICY_HEADROOM = 100;

/** Resource types of the stack's resources by logical id, for sizing `Ref`s (a state machine's ARN). */
export function resourceTypes(stack: Stack): Record<string, string> {
  const types: Record<string, string> = {};
  for (const child of stack.node.findAll()) {
    if (!CfnResource.isCfnResource(child) || Stack.of(child) !== stack) continue;
    types[stack.resolve(child.logicalId) as string] = child.cfnResourceType;
  }
  return types;
}

/**
 * Sizes each value of a scope as the template will hold it, tokens at their
 * longest; literal values at their length.
 */
export class ScopeSizer {
  private types?: Record<string, string>;
  private readonly stack: Stack;

  public constructor(scope: IConstruct) {
    this.stack = Stack.of(scope);
  }

  /** Characters `value` takes in the template (a string, tokens at their longest). */
  public chars(value: string): number {
    if (!Token.isUnresolved(value)) return value.length;
    this.types ??= resourceTypes(this.stack);
    try {
      return budgetedLength(this.stack.resolve(value), this.types);
    } catch {
      // A token this stack cannot resolve yet (another stack's): an ARN at its longest.
      return TOKEN_BUDGET.other;
    }
  }

  /**
   * `values` in consecutive slices whose `render`ed document (resolved, tokens
   * at their longest) fits `maxChars`. `render` receives stand-ins of the
   * values' budgeted lengths, and `original` gives the value a stand-in stands for.
   */
  public shard<T>(
    values: readonly string[],
    render: (slice: string[], original: (standIn: string) => string) => T,
    maxChars: number,
    what: string,
  ): string[][] {
    const { standIns, original } = this.standIns(values);
    const slices = shardValues(standIns, {
      render: (slice) => this.stack.resolve(render(slice, original)),
      maxChars,
      what,
    });
    return slices.map((slice) => slice.map(original));
  }

  /**
   * Row indices of `rows` (one row: a value of each statement, say an
   * execution pattern and a state machine ARN of one machine) in
   * consecutive slices whose `render`ed document fits `maxChars`, at most
   * `maxSlices` of them (the rows past them are left out). `render` receives
   * each row as stand-ins of its values' budgeted lengths.
   */
  public shardRows<T>(
    rows: readonly (readonly string[])[],
    render: (sliceRows: string[][]) => T,
    maxChars: number,
    what: string,
    maxSlices?: number,
  ): number[][] {
    const standIns = rows.map((row, r) =>
      row.map((value, c) =>
        `${r}.${c}`.padStart(Math.max(this.chars(value), `${r}.${c}`.length + 1), 'x'),
      ),
    );
    const slices = shardValues(
      rows.map((_, r) => `${r}`),
      {
        render: (keys) => this.stack.resolve(render(keys.map((key) => standIns[Number(key)]))),
        maxChars,
        what,
        maxSlices,
      },
    );
    return slices.map((slice) => slice.map(Number));
  }

  /** Characters of the document `render` makes of all `values` (resolved, tokens at their longest). */
  public measure(
    values: readonly string[],
    render: (slice: string[], original: (standIn: string) => string) => unknown,
  ): number {
    const { standIns, original } = this.standIns(values);
    return budgetedLength(this.stack.resolve(render(standIns, original)));
  }

  /** Literal strings of each value's budgeted length, unique by index, needing no JSON escaping. */
  private standIns(values: readonly string[]) {
    const standIns = values.map((value, i) =>
      `${i}`.padStart(Math.max(this.chars(value), `${i}`.length + 1), 'x'),
    );
    const originalOf = new Map(standIns.map((standIn, i) => [standIn, values[i]]));
    const original = (standIn: string) => originalOf.get(standIn) ?? standIn;
    return { standIns, original };
  }
}

/** A statement granting on the scope, for {@link grantOnScope}. */
export interface ScopedStatement {
  /** Sid of the statement, and the construct id of its managed policies. */
  readonly sid: string;
  /** What the managed policies say they grant. */
  readonly description: string;
  /** The scope's values (resources, or condition values) the statement lists. */
  readonly values: readonly string[];
  /** The statement for a slice of the values. */
  readonly statement: (slice: string[]) => iam.PolicyStatement;
  /** Called with the values granted inline (to acknowledge nag findings on the role). */
  readonly onInline?: (slice: readonly string[]) => void;
  /** Called with each managed policy created (to acknowledge nag findings on it). */
  readonly onManagedPolicy?: (policy: iam.ManagedPolicy, slice: readonly string[]) => void;
}

/**
 * Grants `grant.statement(values)` to the function's role: inline when it
 * fits {@link INLINE_SCOPED_GRANT_CHARS}, as before; otherwise the first
 * values that fit stay inline and the rest are split across customer managed
 * policies attached to the role, each within IAM's 6,144
 * characters, listing the same exact values (never a wider wildcard).
 *
 * @returns the managed policies; none when the statement stayed inline
 * @example
 * grantOnScope(handler, {
 *   sid: 'RedriveScopedExecutions',
 *   description: 'redrive the executions of the state machines in scope',
 *   values: executionArns,
 *   statement: (arns) => new iam.PolicyStatement({ sid: 'RedriveScopedExecutions', actions: ['states:RedriveExecution'], resources: arns }),
 * });
 */
export function grantOnScope(fn: AutohealFunction, grant: ScopedStatement): iam.ManagedPolicy[] {
  return applyScopedGrant(fn, grant, planScopedGrant(new ScopeSizer(fn), grant));
}

/** Where {@link grantOnScope} puts a statement's values: inline, and in each managed policy. */
export interface ScopedGrantPlan {
  readonly inline: readonly string[];
  readonly managed: readonly string[][];
}

/**
 * The layout {@link grantOnScope} gives `grant`, without creating anything:
 * how many managed policies it takes is known before any is made.
 */
export function planScopedGrant(sizer: ScopeSizer, grant: ScopedStatement): ScopedGrantPlan {
  const inlineChars = sizer.measure(grant.values, (slice) =>
    grant.statement(slice).toStatementJson(),
  );
  if (inlineChars <= INLINE_SCOPED_GRANT_CHARS) return { inline: grant.values, managed: [] };
  // The inline budget holds the first slice; managed policies the rest.
  const [inlineSlice] = sizer.shard(
    grant.values,
    (slice) => grant.statement(slice).toStatementJson(),
    INLINE_SCOPED_GRANT_CHARS,
    'a policy statement',
  );
  const managed = sizer.shard(
    grant.values.slice(inlineSlice.length),
    (slice) => ({ Version: '2012-10-17', Statement: [grant.statement(slice).toStatementJson()] }),
    TEMPLATE_LIMITS.managedPolicyChars - MANAGED_POLICY_HEADROOM,
    'a managed policy',
  );
  return { inline: inlineSlice, managed };
}

/** Creates the grants of a {@link planScopedGrant} layout on the function's role. */
export function applyScopedGrant(
  fn: AutohealFunction,
  grant: ScopedStatement,
  plan: ScopedGrantPlan,
): iam.ManagedPolicy[] {
  fn.function.addToRolePolicy(grant.statement([...plan.inline]));
  grant.onInline?.(plan.inline);
  return plan.managed.map((slice, i) => {
    const policy = new iam.ManagedPolicy(fn, shardId(grant.sid, i), {
      description: `Autoheal: ${grant.description} (${i + 1} of ${plan.managed.length})`,
      statements: [grant.statement(slice)],
      roles: [fn.role],
    });
    grant.onManagedPolicy?.(policy, slice);
    return policy;
  });
}
