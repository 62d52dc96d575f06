/**
 * Scope roles: IAM roles that hold the exact per-item grants of a scope too
 * large for the function's own role, one mechanism for every service Autoheal
 * calls about a listed scope (Step Functions state machines, AppFlow flows).
 *
 * Why: a scope of 1,000 state machines listed by ARN needs about 100,000
 * characters of exact grants (one execution pattern per machine for
 * RedriveExecution and DescribeExecution, one ARN per machine for
 * ListExecutions, and as many kms:EncryptionContext values with `kmsKeyArns`);
 * 800 flows need some 65,000 (one flow ARN each for StartFlow and
 * DescribeFlow). A role holds 10,240 characters inline and 10 customer
 * managed policies of 6,144 characters by default (20 once raised, never
 * more), so one role holds some 650 machines, or 700 flows of 35-character
 * names (a scope role, whose inline policy holds no other grant, 790); a
 * wildcard would be wider than the scope. Past that, the function keeps what fits its role
 * (within IAM's default quota of 10 managed policies, so no account needs a
 * quota raise), and the rest of the list is split into consecutive slices,
 * each granted, exactly as before, to a scope role of its own. The
 * function's role may assume exactly those roles (sts:AssumeRole on their
 * ARNs), each trusts only the function's role, and the function learns from
 * {@link ENV.scopeRoles} which slice of its list each covers: at runtime an
 * item of a slice is called with that role's credentials (see
 * lambda/shared/scope-role-clients.ts).
 *
 * Own values (the state machines' name prefixes: few and short, and the
 * machines they match are only known at runtime) stay on the function's
 * role, and so does every scope that fits it: the template of such a scope is
 * exactly what {@link grantOnScope} gives.
 *
 * Hand-written: neither CDK nor a library splits grants across roles.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { ENV } from '../../lambda/shared/contract';
import { ConfigError } from '../../lambda/shared/errors';
import { shardId } from '../limits/shards';
import { SCOPE_ROLE_BUDGET, TEMPLATE_LIMITS } from '../limits/template-limits';
import type { AutohealFunction } from './autoheal-function';
import {
  applyScopedGrant,
  INLINE_SCOPED_GRANT_CHARS,
  MANAGED_POLICY_HEADROOM,
  planScopedGrant,
  ScopeSizer,
} from './scoped-grants';

/**
 * One statement granting on every item of a function's listed scope (a state
 * machine listed by ARN, a flow), one value per item, for
 * {@link grantOnScopeRoles}.
 */
export interface ScopeRoleGrant {
  /** Sid of the statement (unique among the grants of one function). */
  readonly sid: string;
  /** What the grant allows, for the managed policies' descriptions. */
  readonly description: string;
  /** One value per listed item, in the order of the list {@link ENV.scopeRoles} indexes. */
  readonly listedValues: readonly string[];
  /**
   * Values always granted on the function's own role, before the listed ones
   * (the state machines' name prefixes: few, short, and matching machines only known at runtime).
   * @default []
   */
  readonly ownValues?: readonly string[];
  /** The statement for a slice of the values. */
  readonly statement: (slice: string[]) => iam.PolicyStatement;
  /** Acknowledges nag findings of `values` granted on `on` (a role, or a managed policy). */
  readonly acknowledge?: (on: IConstruct, values: readonly string[]) => void;
}

/** What a function's listed scope is, for the synth errors and the roles' descriptions. */
export interface ListedScope {
  /** The configured field the list comes from, e.g. `redrive.stateMachineArns`. */
  readonly field: string;
  /** What the list holds, plural, for the scope roles' descriptions, e.g. `state machines`, `flows`. */
  readonly items: string;
  /** The same, for the synth error, e.g. `state machines listed by ARN`. @default items */
  readonly listedItems?: string;
  /** The configured field of the own values, for the error when they alone outgrow the role. @default - no own values */
  readonly ownValuesField?: string;
  /** What to do when the scope needs more scope roles than {@link SCOPE_ROLE_BUDGET.scopeRolesPerFunction}. */
  readonly remedy: string;
}

/** What {@link grantOnScopeRoles} made. */
export interface ScopeRoleGrants {
  /** The scope roles, in the order of the slices they cover; none when the function's role holds the scope. */
  readonly scopeRoles: readonly iam.Role[];
  /** Index into the listed scope of the first item of each scope role's slice. */
  readonly firstListed: readonly number[];
}

/** One statement granting on every scoped state machine, one value per machine: see {@link grantOnMachineScope}. */
export interface MachineScopedGrant {
  /** Sid of the statement (unique among the grants of one function). */
  readonly sid: string;
  /** What the grant allows, for the managed policies' descriptions. */
  readonly description: string;
  /** One value per state machine listed by ARN, in the order of `stateMachineArns`. */
  readonly machineValues: readonly string[];
  /** One value per name prefix: always granted on the function's own role. */
  readonly prefixValues: readonly string[];
  /** The statement for a slice of the values. */
  readonly statement: (slice: string[]) => iam.PolicyStatement;
  /** Acknowledges nag findings of `values` granted on `on` (a role, or a managed policy). */
  readonly acknowledge?: (on: IConstruct, values: readonly string[]) => void;
}

/** The listed scope of a Step Functions function: `stateMachineArns`, and its name prefixes on its own role. */
const MACHINE_SCOPE: ListedScope = {
  field: 'redrive.stateMachineArns',
  items: 'state machines',
  listedItems: 'state machines listed by ARN',
  ownValuesField: 'redrive.stateMachineNamePrefixes',
  remedy:
    'scope the machines by name prefix (one prefix replaces every ARN it covers), or split the scope across two Autoheal stacks',
};

/**
 * {@link grantOnScopeRoles} for the state machines of a redrive scope: the
 * machines listed by ARN are sliced onto scope roles when the function's
 * role cannot hold them, the name prefixes stay on the function's role.
 *
 * @throws ConfigError naming `redrive.stateMachineArns` when the scope needs
 *   more than {@link SCOPE_ROLE_BUDGET.scopeRolesPerFunction} scope roles
 * @example
 * grantOnMachineScope(sweeper, [{
 *   sid: 'ListScopedExecutions',
 *   description: 'list the executions of the state machines in scope',
 *   machineValues: config.stateMachineArns,
 *   prefixValues: stateMachinePrefixPatterns(this, config.stateMachineNamePrefixes),
 *   statement: (arns) => new iam.PolicyStatement({ actions: ['states:ListExecutions'], resources: arns }),
 * }]);
 */
export function grantOnMachineScope(
  fn: AutohealFunction,
  grants: readonly MachineScopedGrant[],
): ScopeRoleGrants {
  return grantOnScopeRoles(
    fn,
    grants.map(({ machineValues, prefixValues, ...grant }) => ({
      ...grant,
      listedValues: machineValues,
      ownValues: prefixValues,
    })),
    MACHINE_SCOPE,
  );
}

/**
 * The longest ARN of a scope role, as the sts:AssumeRole statement and
 * {@link ENV.scopeRoles} hold it: `arn:`, a partition of 10, `:iam::`, the
 * account, `:role/` and a name of 64 (see the role `Ref` budget).
 */
const SCOPE_ROLE_ARN_CHARS = 4 + 10 + 6 + 12 + 6 + 64;

/**
 * Characters of the role's inline policy kept back for the sts:AssumeRole
 * statement on the most scope roles a function may have: its frame and each
 * ARN quoted and comma-separated.
 */
const ASSUME_STATEMENT_CHARS =
  100 + SCOPE_ROLE_BUDGET.scopeRolesPerFunction * (SCOPE_ROLE_ARN_CHARS + 3);

/**
 * A scope role's inline policy: all IAM allows a role, but room for the
 * document's frame. It is a policy of its own, not the role's default policy,
 * which CDK moves past 10,000 characters of its own estimate (tokens counted
 * as CloudFormation intrinsics) into "OverflowPolicy" managed policies.
 */
const SCOPE_ROLE_INLINE_CHARS = TEMPLATE_LIMITS.roleInlinePolicyChars - MANAGED_POLICY_HEADROOM;

/**
 * Grants `grants` on every item of a function's listed scope: on the
 * function's role as {@link grantOnScope} does when that takes at most
 * {@link SCOPE_ROLE_BUDGET.managedPoliciesPerRole} managed policies;
 * otherwise on the function's role up to that budget (own values first), and
 * the remaining items, in list order, in consecutive slices on scope roles,
 * each within the same budget, all grants of an item on one role, with the
 * same exact values (never a wildcard). Sets {@link ENV.scopeRoles} on the
 * function when there are scope roles.
 *
 * @throws ConfigError naming `scope.field` when the scope needs more than
 *   {@link SCOPE_ROLE_BUDGET.scopeRolesPerFunction} scope roles
 * @example
 * grantOnScopeRoles(starter, [{
 *   sid: 'StartScopedFlows',
 *   description: 'start and describe the flows in scope',
 *   listedValues: flowNames.map((name) => flowArn(starter, name)),
 *   statement: (arns) => new iam.PolicyStatement({ actions: ['appflow:StartFlow'], resources: arns }),
 * }], { field: 'appflow.schedules', items: 'scheduled flows', remedy: 'split the flows across two Autoheal stacks' });
 */
export function grantOnScopeRoles(
  fn: AutohealFunction,
  grants: readonly ScopeRoleGrant[],
  scope: ListedScope,
): ScopeRoleGrants {
  const sizer = new ScopeSizer(fn);
  const budget = SCOPE_ROLE_BUDGET.managedPoliciesPerRole;

  // As before, while the function's role holds it all within the budget.
  const asBefore = grants.map((grant) => ({
    grant,
    statement: {
      sid: grant.sid,
      description: grant.description,
      values: [...grant.listedValues, ...(grant.ownValues ?? [])],
      statement: grant.statement,
      onInline: (values: readonly string[]) => grant.acknowledge?.(fn.role, values),
      onManagedPolicy: (policy: iam.ManagedPolicy, values: readonly string[]) =>
        grant.acknowledge?.(policy, values),
    },
  }));
  const plans = asBefore.map(({ statement }) => planScopedGrant(sizer, statement));
  if (plans.reduce((sum, plan) => sum + plan.managed.length, 0) <= budget) {
    asBefore.forEach(({ statement }, i) => {
      applyScopedGrant(fn, statement, plans[i]);
    });
    return { scopeRoles: [], firstListed: [] };
  }

  // Rows: one per own value, then one per listed item; a row holds each grant's value.
  const ownCount = grants[0].ownValues?.length ?? 0;
  const listedCount = grants[0].listedValues.length;
  const rows = [
    ...Array.from({ length: ownCount }, (_, p) => grants.map((g) => g.ownValues?.[p] ?? '')),
    ...Array.from({ length: listedCount }, (_, m) => grants.map((g) => g.listedValues[m])),
  ];
  const statementsOf = (sliceRows: readonly (readonly string[])[]) =>
    grants.map((grant, g) => grant.statement(sliceRows.map((row) => row[g])));
  const inlineDocument = (sliceRows: string[][]) =>
    statementsOf(sliceRows).map((statement) => statement.toStatementJson());
  const managedDocument = (sliceRows: string[][]) => ({
    Version: '2012-10-17',
    Statement: inlineDocument(sliceRows),
  });
  const managedChars = TEMPLATE_LIMITS.managedPolicyChars - MANAGED_POLICY_HEADROOM;

  /** The rows from `start` a role holds: an inline slice within `inlineChars`, then `budget` managed policies. */
  const fill = (start: number, inlineChars: number) => {
    const rest = rows.slice(start);
    const [inline] = sizer.shardRows(rest, inlineDocument, inlineChars, 'a policy statement', 1);
    const after = rest.slice(inline.length);
    const managed = (
      after.length === 0
        ? []
        : sizer.shardRows(after, managedDocument, managedChars, 'a managed policy', budget)
    ).map((slice) => slice.map((row) => row + inline.length));
    const end = start + inline.length + managed.reduce((sum, slice) => sum + slice.length, 0);
    return { inline, managed, end };
  };
  const toRows = (start: number, slice: readonly number[]) =>
    slice.map((offset) => rows[start + offset]);

  // The function's role: its scoped inline budget less the sts:AssumeRole statement, in a
  // policy of its own beside the default policy (which keeps the function's other grants).
  const own = fill(0, grants.length * INLINE_SCOPED_GRANT_CHARS - ASSUME_STATEMENT_CHARS);
  if (own.end < ownCount) {
    throw new ConfigError(
      scope.ownValuesField ?? scope.field,
      `${ownCount} name prefixes need more than the ${budget} managed policies Autoheal attaches to a role (they stay on the function's role): scope by fewer, shorter prefixes`,
    );
  }
  const slices: { start: number; inline: number[]; managed: number[][]; end: number }[] = [];
  for (let start = own.end; start < rows.length; ) {
    const slice = fill(start, SCOPE_ROLE_INLINE_CHARS);
    slices.push({ start, ...slice });
    start = slice.end;
  }
  const cap = SCOPE_ROLE_BUDGET.scopeRolesPerFunction;
  if (slices.length > cap) {
    throw new ConfigError(
      scope.field,
      `${listedCount} ${scope.listedItems ?? scope.items} need ${slices.length} scope roles for the grants of ${fn.node.path}, over Autoheal's cap of ${cap} per function (each role holds at most ${budget} managed policies, IAM's default quota): ${scope.remedy}`,
    );
  }

  const describe = (what: string, i: number, of: number) =>
    `Autoheal: ${grants.map((g) => g.description).join('; ')} (${what}, ${i + 1} of ${of})`;
  const grantOn = (
    role: iam.Role,
    on: IConstruct,
    idPrefix: string,
    start: number,
    fillSlice: { inline: number[]; managed: number[][] },
    what: string,
  ) => {
    const inlineRows = toRows(start, fillSlice.inline);
    // A policy of its own, not the role's default policy: see SCOPE_ROLE_INLINE_CHARS.
    const policy = new iam.Policy(role, 'ScopeGrants', {
      statements: statementsOf(inlineRows),
      roles: [role],
    });
    grants.forEach((grant, g) => {
      grant.acknowledge?.(
        role,
        inlineRows.map((row) => row[g]),
      );
    });
    fillSlice.managed.forEach((offsets, i) => {
      const sliceRows = toRows(start, offsets);
      const managed = new iam.ManagedPolicy(on, shardId(idPrefix, i), {
        description: describe(what, i, fillSlice.managed.length),
        statements: statementsOf(sliceRows),
        roles: [role],
      });
      grants.forEach((grant, g) => {
        grant.acknowledge?.(
          managed,
          sliceRows.map((row) => row[g]),
        );
      });
    });
    return policy;
  };

  const ownPolicy = grantOn(
    fn.role,
    fn,
    'ScopeGrant',
    0,
    own,
    "the function's own slice of the scope",
  );
  if (slices.length === 0) return { scopeRoles: [], firstListed: [] };
  // Past here the function's own policy also holds sts:AssumeRole (budgeted in ASSUME_STATEMENT_CHARS).
  const stack = Stack.of(fn);
  const scopeRoles = slices.map((slice, k) => {
    const id = `ScopeRole${k + 1}`;
    const role = new iam.Role(fn, id, {
      // The function's role alone, by ARN: no service principal, so no confused deputy to guard.
      assumedBy: new iam.ArnPrincipal(fn.role.roleArn),
      description: `Autoheal: assumed by ${fn.node.path} for ${scope.items} ${slice.start - ownCount + 1} to ${slice.end - ownCount} of its scope`,
    });
    grantOn(role, role, 'Grant', slice.start, slice, `scope role ${k + 1}`);
    return role;
  });
  // Each ARN from the role's name (a Ref of at most 64 characters), not its Arn attribute (budgeted at 256).
  const roleArns = scopeRoles.map((role) =>
    stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: role.roleName }),
  );
  ownPolicy.addStatements(
    new iam.PolicyStatement({
      sid: 'AssumeScopeRoles',
      actions: ['sts:AssumeRole'],
      resources: roleArns,
    }),
  );
  const firstListed = slices.map((slice) => slice.start - ownCount);
  fn.function.addEnvironment(
    ENV.scopeRoles,
    stack.toJsonString(firstListed.map((first, k) => [first, roleArns[k]])),
  );
  return { scopeRoles, firstListed };
}
