/**
 * The deploy-time limits of CloudFormation, EventBridge, IAM, Scheduler and
 * Lambda, checked on the synthesised template, so synth says which limit a
 * template breaks, where and by how much: never left for CloudFormation (or
 * the service behind it) to find mid-deploy.
 *
 * Sizes are computed from the template itself. A value CloudFormation only
 * knows at deploy (an intrinsic such as `Ref`, `Fn::GetAtt`) is budgeted at
 * its longest (see {@link budgetedValue}): a template that passes here fits
 * in every account, region and partition.
 *
 * Hand-written: CDK validates none of these sizes, and cdk-nag checks
 * security rules, not service limits.
 */

import { Annotations, CfnElement, Stack, Token, Tokenization } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { LIVE_HEALING_CLOCK } from '../../lambda/shared/contract';

/** The limits Autoheal keeps its templates within. */
export const TEMPLATE_LIMITS = {
  /** CloudFormation: resources per stack. */
  resources: 500,
  /** CloudFormation: template body uploaded to S3, as `cdk deploy` does (bytes). */
  templateBytesViaS3: 1_000_000,
  /** CloudFormation: template body passed inline to CreateStack/UpdateStack (bytes). */
  templateBytesInline: 51_200,
  /** EventBridge: characters of one rule's event pattern (the default quota; adjustable to 4,096). */
  eventPatternChars: 2_048,
  /** IAM: characters of all inline policies of one role together (whitespace not counted). */
  roleInlinePolicyChars: 10_240,
  /** IAM: characters of one customer managed policy (whitespace not counted). */
  managedPolicyChars: 6_144,
  /** IAM: managed policies attached to one role (the default quota; adjustable to 20). */
  managedPoliciesPerRole: 10,
  /** IAM: the most managed policies a role may have once the quota is raised (20, not adjustable further). */
  managedPoliciesPerRoleMax: 20,
  /**
   * EventBridge Scheduler: characters of a schedule's target `Input`. Neither
   * the Scheduler API reference (`Target.Input`: length at least 1, no
   * maximum given) nor the Scheduler quotas page documents a maximum, so this
   * is Autoheal's own budget, not a service limit: 8,192 characters per tick,
   * which also bounds one starter invocation to a few hundred flows.
   */
  scheduleInputChars: 8_192,
  /** Lambda: bytes of all environment variables of one function together (keys and values). */
  lambdaEnvironmentBytes: 4_096,
  /**
   * CloudFormation → Lambda: bytes of a custom resource request. CloudFormation
   * invokes the provider function asynchronously (Lambda developer guide,
   * "Using Lambda with CloudFormation"), and CloudFormation documents no request
   * limit of its own (its quotas page names only the 4,096-byte response).
   * Lambda's asynchronous payload limit was 256 KB for years; the Invoke API
   * reference now gives 1 MB, not yet in every partition's documentation.
   * Autoheal budgets 256 KB, and an Update carries the properties twice
   * (`ResourceProperties` and `OldResourceProperties`), see
   * {@link customResourceRequestBytes}.
   */
  customResourceRequestBytes: 262_144,
  /** SQS: bytes of a queue's access policy. */
  queuePolicyBytes: 8_192,
  /** SQS: statements of a queue's access policy. */
  queuePolicyStatements: 20,
  /**
   * EventBridge: rules per event bus (the default quota is 300, adjustable;
   * 100 in af-south-1 and eu-south-1). Autoheal's rules share the bus with
   * every other rule of the account, so it budgets 100: the whole default
   * quota of the smallest regions, a third of it elsewhere. Past it, synth
   * warns ({@link RULES_PER_BUS_WARNING}).
   */
  eventRulesPerBusBudget: 100,
  /**
   * EventBridge: rules per event bus whose pattern holds a `wildcard` filter
   * (30, not adjustable, shared with the account's other rules). Autoheal
   * budgets a third of it.
   */
  wildcardRulesPerBusBudget: 10,
} as const;

/**
 * How Autoheal keeps the exact grants of a large scope (state machines listed
 * by ARN, AppFlow flows) within IAM's per-role quotas
 * (lib/constructs/scope-roles.ts).
 */
export const SCOPE_ROLE_BUDGET = {
  /**
   * Managed policies Autoheal attaches to one role: IAM's default quota, so
   * no account needs a quota raise. A scope that needs more moves the rest of
   * its machines, or flows, onto scope roles.
   */
  managedPoliciesPerRole: TEMPLATE_LIMITS.managedPoliciesPerRole,
  /**
   * Scope roles one function may assume; past it synth refuses. A scope role
   * holds some 750 machines (350 with `kmsKeyArns`, whose grant names each
   * machine again), so six take a function to about 5,000 machines (2,300
   * with keys). Six is chosen so that scope roles are never what stops a
   * scope: the template passes CloudFormation's 1,000,000 bytes first, at
   * about 2,200 machines listed by ARN (1,750 with keys; names of some 45
   * characters), and Autoheal's budget of 100 EventBridge rules at about
   * 2,000. The cap bounds what scope roles cost where it is counted: 12 of
   * the stack's 500 resources per role (the role, its inline policy, 10
   * managed policies), about 110 bytes per role of the function's 4 KB
   * environment and of its role's inline policy, and an AssumeRole call per
   * role and hour.
   */
  scopeRolesPerFunction: 6,
} as const;

/**
 * The longest a deploy-time value can be, in characters:
 * - `AWS::Partition`: `aws-us-gov` (10); budgeted 10.
 * - `AWS::Region`: the longest region names have 14 (`ap-southeast-7`, `us-isob-east-1`); budgeted 20.
 * - `AWS::AccountId`: 12 digits.
 * - `AWS::URLSuffix`: `amazonaws.com.cn` (16); budgeted 20.
 * - `Fn::GetAtt` of an EventBridge rule's `Arn`: 119, `arn:aws-us-gov:events:`,
 *   a 14-character region, the account, `:rule/` and a 64-character rule name.
 * - a state machine's ARN (`Ref` of an `AWS::StepFunctions::StateMachine`):
 *   149, `arn:aws-us-gov:states:`, the region at 20, `:`, the account,
 *   `:stateMachine:` and an 80-character name (the longest Step Functions allows).
 * - any other `Ref`, `Fn::GetAtt`, `Fn::ImportValue`, ...: 256, the length
 *   most ARN-typed API fields allow, and more than any name, URL or ARN of
 *   Autoheal's own resources (their names are at most 80 characters).
 */
export const TOKEN_BUDGET = {
  partition: 10,
  region: 20,
  accountId: 12,
  urlSuffix: 20,
  ruleArn: 119,
  stateMachineArn: 149,
  other: 256,
} as const;

/** The longest `Fn::GetAtt` of a resource type's attribute, where shorter than {@link TOKEN_BUDGET.other}. */
const GETATT_BUDGET: Record<string, number> = {
  'AWS::Events::Rule.Arn': TOKEN_BUDGET.ruleArn,
  // IAM's RoleId has at most 128 characters (IAM API reference, Role); in practice 21 (AROA…).
  'AWS::IAM::Role.RoleId': 128,
  // Step Functions allows names of 80 characters.
  'AWS::StepFunctions::StateMachine.Name': 80,
  // The live-healing clock's config token parts return a digest of fixed length.
  [`${LIVE_HEALING_CLOCK.configTokenPart.resourceType}.${LIVE_HEALING_CLOCK.configTokenPart.attribute}`]:
    LIVE_HEALING_CLOCK.configTokenPart.digestChars,
};

/** The longest `Ref` of a resource type, where shorter than {@link TOKEN_BUDGET.other}. */
const REF_BUDGET: Record<string, number> = {
  'AWS::StepFunctions::StateMachine': TOKEN_BUDGET.stateMachineArn,
  // A role's name: IAM allows 64 characters.
  'AWS::IAM::Role': 64,
};

const PSEUDO_BUDGET: Record<string, number> = {
  'AWS::Partition': TOKEN_BUDGET.partition,
  'AWS::Region': TOKEN_BUDGET.region,
  'AWS::AccountId': TOKEN_BUDGET.accountId,
  'AWS::URLSuffix': TOKEN_BUDGET.urlSuffix,
};

/** Characters a placeholder of `length` stands for; `x` never needs JSON escaping. */
const placeholder = (length: number) => 'x'.repeat(length);

/**
 * A resolved template value with every intrinsic replaced by a string of its
 * longest length (see {@link TOKEN_BUDGET}); `Fn::Join` and `Fn::Sub` keep
 * their literal parts. Measure the result with `JSON.stringify`.
 *
 * @example
 * budgetedValue({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':appflow']] }); // 'arn:xxxxxxxxxx:appflow'
 */
export function budgetedValue(
  value: unknown,
  resourceTypes: Readonly<Record<string, string>> = {},
): unknown {
  const budgeted = (inner: unknown) => budgetedValue(inner, resourceTypes);
  if (Array.isArray(value)) return value.map(budgeted);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, arg] = entries[0];
    if (key === 'Ref') {
      const budget =
        PSEUDO_BUDGET[arg as string] ??
        REF_BUDGET[resourceTypes[arg as string]] ??
        TOKEN_BUDGET.other;
      return placeholder(budget);
    }
    if (key === 'Fn::Join' && Array.isArray(arg) && Array.isArray(arg[1])) {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map((part) => budgetedString(budgeted(part))).join(separator);
    }
    if (key === 'Fn::Sub') {
      const text = typeof arg === 'string' ? arg : (arg as [string])[0];
      return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) =>
        placeholder(PSEUDO_BUDGET[name] ?? TOKEN_BUDGET.other),
      );
    }
    if (key === 'Fn::GetAtt' && Array.isArray(arg)) {
      const [id, attribute] = arg as [string, string];
      return placeholder(GETATT_BUDGET[`${resourceTypes[id]}.${attribute}`] ?? TOKEN_BUDGET.other);
    }
    if (key === 'Fn::Select' && Array.isArray(arg)) {
      const budget = arnFieldBudget(arg as [unknown, unknown], resourceTypes);
      if (budget !== undefined) return placeholder(budget);
    }
    if (key.startsWith('Fn::') || key === 'Condition') return placeholder(TOKEN_BUDGET.other);
  }
  return Object.fromEntries(entries.map(([key, inner]) => [key, budgeted(inner)]));
}

/**
 * The longest field `index` of a deploy-time ARN split at `:` (how CDK takes
 * a token ARN apart, e.g. a state machine's name for its execution ARNs): the
 * fields before the resource have fixed maxima (`arn`, the partition, the
 * service, the region, the account), and no field is longer than the whole
 * value. Undefined for any other `Fn::Select`.
 */
function arnFieldBudget(
  [index, list]: [unknown, unknown],
  resourceTypes: Readonly<Record<string, string>>,
): number | undefined {
  const split = (list as { 'Fn::Split'?: unknown } | null)?.['Fn::Split'];
  if (!Array.isArray(split) || split[0] !== ':' || typeof index !== 'number') return undefined;
  const whole = budgetedString(budgetedValue(split[1], resourceTypes)).length;
  const field = [
    3,
    TOKEN_BUDGET.partition,
    ARN_SERVICE_BUDGET,
    TOKEN_BUDGET.region,
    TOKEN_BUDGET.accountId,
  ][index];
  return Math.min(field ?? whole, whole);
}

/** The longest service name in an ARN (`states`, `appflow`, ...): none is longer than 64. */
const ARN_SERVICE_BUDGET = 64;

function budgetedString(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Characters of a template value as the service counts them (JSON without whitespace), tokens at their longest. */
export function budgetedLength(
  value: unknown,
  resourceTypes: Readonly<Record<string, string>> = {},
): number {
  const budgeted = budgetedValue(value, resourceTypes);
  return typeof budgeted === 'string' ? budgeted.length : JSON.stringify(budgeted).length;
}

/**
 * A string that may hold CDK tokens, with each token replaced by a
 * placeholder of `tokenChars` characters: for sizing values before they
 * reach the template (a token ARN of an `IStateMachine`, say).
 */
export function budgetedText(text: string, tokenChars: number = TOKEN_BUDGET.other): string {
  if (!Token.isUnresolved(text)) return text;
  return Tokenization.reverseString(text)
    .mapTokens({ mapToken: () => placeholder(tokenChars) })
    .join({ join: (left, right) => `${left}${right}` }) as string;
}

/**
 * Bytes of one Lambda environment variable as {@link TEMPLATE_LIMITS.lambdaEnvironmentBytes}
 * counts it: its key and its value, intrinsics at their longest. The one measure
 * of the environment: the synth-time check and the config asset's choice of
 * where its tokens go (`lib/constructs/config-asset.ts`) both use it.
 *
 * @param value the resolved template value
 * @example
 * environmentVariableBytes('AUTOHEAL_CONFIG_TOKENS', { 'Fn::Join': ['', ['["', { 'Fn::ImportValue': 'x' }, '"]']] }); // 22 + 260
 */
export function environmentVariableBytes(
  key: string,
  value: unknown,
  resourceTypes: Readonly<Record<string, string>> = {},
): number {
  return (
    Buffer.byteLength(key) + Buffer.byteLength(budgetedString(budgetedValue(value, resourceTypes)))
  );
}

/**
 * What CloudFormation's request to a custom resource provider takes beyond
 * the properties: request type, ids, the stack ARN, the resource type and a
 * presigned response URL (some 1,000 characters, more with session tokens).
 */
const CUSTOM_RESOURCE_REQUEST_ENVELOPE_BYTES = 4_096;

/**
 * Bytes of the largest request CloudFormation sends a custom resource with
 * these (resolved) properties: an Update, which carries them twice (new and
 * old), plus the envelope; intrinsics at their longest.
 *
 * @example
 * customResourceRequestBytes({ ServiceToken: 'arn:…', Config: '…' }) <= TEMPLATE_LIMITS.customResourceRequestBytes;
 */
export function customResourceRequestBytes(
  properties: unknown,
  resourceTypes: Readonly<Record<string, string>> = {},
): number {
  const budgeted = budgetedValue(properties, resourceTypes);
  return 2 * Buffer.byteLength(JSON.stringify(budgeted)) + CUSTOM_RESOURCE_REQUEST_ENVELOPE_BYTES;
}

/** `type` when it names a custom resource (`Custom::…`), so a `switch` can match any of them. */
function customResourceType(type: string): string | undefined {
  return type.startsWith('Custom::') ? type : undefined;
}

/** One limit a template breaks. */
export interface LimitBreach {
  readonly limit: string;
  /** Logical id of the resource, or `template`. */
  readonly resource: string;
  readonly actual: number;
  readonly maximum: number;
  readonly unit: string;
}

/** A one-line message naming the limit, the resource and by how much it is exceeded. */
export function describeBreach(breach: LimitBreach): string {
  return `${breach.resource}: ${breach.limit} is ${breach.actual} ${breach.unit}, ${breach.actual - breach.maximum} over the limit of ${breach.maximum}`;
}

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** Template shape the checks read. */
export interface TemplateJson {
  readonly Resources?: Record<string, TemplateResource>;
}

/** Logical ids of the roles a policy or managed policy attaches to (`Roles: [{ Ref }]`). */
function attachedRoles(properties: Record<string, unknown> | undefined): string[] {
  const roles = (properties?.Roles as unknown[] | undefined) ?? [];
  return roles
    .map((role) => (role as { Ref?: string }).Ref)
    .filter((id): id is string => typeof id === 'string');
}

/** Event patterns of a rule; CloudFormation takes an object or a JSON string. */
function patternLength(pattern: unknown, types: Readonly<Record<string, string>>): number {
  return typeof pattern === 'string' ? pattern.length : budgetedLength(pattern, types);
}

/**
 * Every limit of {@link TEMPLATE_LIMITS} the template breaks, except the
 * managed-policy count per role (an adjustable quota: see
 * {@link managedPolicyCounts}). Pure: reads the template JSON only.
 *
 * @example
 * checkTemplateLimits(Template.fromStack(stack).toJSON()).map(describeBreach);
 */
export function checkTemplateLimits(template: TemplateJson): LimitBreach[] {
  const breaches: LimitBreach[] = [];
  const breach = (
    limit: string,
    resource: string,
    actual: number,
    maximum: number,
    unit: string,
  ) => {
    if (actual > maximum) breaches.push({ limit, resource, actual, maximum, unit });
  };
  const resources = Object.entries(template.Resources ?? {});
  const types = Object.fromEntries(resources.map(([id, resource]) => [id, resource.Type]));
  breach(
    'the resource count (CloudFormation, per stack)',
    'template',
    resources.length,
    TEMPLATE_LIMITS.resources,
    'resources',
  );
  breach(
    'the template body (CloudFormation, via S3 as cdk deploy uploads it)',
    'template',
    Buffer.byteLength(JSON.stringify(template)),
    TEMPLATE_LIMITS.templateBytesViaS3,
    'bytes',
  );
  const inlineByRole = new Map<string, number>();
  const addInline = (role: string, chars: number) =>
    inlineByRole.set(role, (inlineByRole.get(role) ?? 0) + chars);
  for (const [id, resource] of resources) {
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::Events::Rule':
        if (props.EventPattern !== undefined) {
          breach(
            'the event pattern (EventBridge)',
            id,
            patternLength(props.EventPattern, types),
            TEMPLATE_LIMITS.eventPatternChars,
            'characters',
          );
        }
        break;
      case 'AWS::IAM::Role':
        for (const policy of (props.Policies as { PolicyDocument: unknown }[] | undefined) ?? []) {
          addInline(id, budgetedLength(policy.PolicyDocument, types));
        }
        break;
      case 'AWS::IAM::Policy':
        for (const role of attachedRoles(props))
          addInline(role, budgetedLength(props.PolicyDocument, types));
        break;
      case 'AWS::IAM::ManagedPolicy':
        breach(
          'the managed policy document (IAM)',
          id,
          budgetedLength(props.PolicyDocument, types),
          TEMPLATE_LIMITS.managedPolicyChars,
          'characters',
        );
        break;
      case 'AWS::Scheduler::Schedule': {
        const input = (props.Target as { Input?: unknown } | undefined)?.Input;
        if (input !== undefined) {
          breach(
            "the schedule's target input (Scheduler, Autoheal's budget)",
            id,
            budgetedLength(input),
            TEMPLATE_LIMITS.scheduleInputChars,
            'characters',
          );
        }
        break;
      }
      case 'AWS::CloudFormation::CustomResource':
      case customResourceType(resource.Type):
        breach(
          'the custom resource request, an Update carrying old and new properties (CloudFormation → Lambda, asynchronous)',
          id,
          customResourceRequestBytes(props, types),
          TEMPLATE_LIMITS.customResourceRequestBytes,
          'bytes',
        );
        break;
      case 'AWS::SQS::QueuePolicy': {
        const document = props.PolicyDocument as { Statement?: unknown[] } | undefined;
        breach(
          'the queue policy (SQS)',
          id,
          Buffer.byteLength(JSON.stringify(budgetedValue(document, types))),
          TEMPLATE_LIMITS.queuePolicyBytes,
          'bytes',
        );
        breach(
          'the statements of the queue policy (SQS)',
          id,
          document?.Statement?.length ?? 0,
          TEMPLATE_LIMITS.queuePolicyStatements,
          'statements',
        );
        break;
      }
      case 'AWS::Lambda::Function': {
        const variables =
          (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
          {};
        const bytes = Object.entries(variables).reduce(
          (sum, [key, value]) => sum + environmentVariableBytes(key, value, types),
          0,
        );
        breach(
          'the environment variables, keys and values together (Lambda)',
          id,
          bytes,
          TEMPLATE_LIMITS.lambdaEnvironmentBytes,
          'bytes',
        );
        break;
      }
    }
  }
  for (const [role, chars] of inlineByRole) {
    breach(
      "the role's inline policies together (IAM)",
      role,
      chars,
      TEMPLATE_LIMITS.roleInlinePolicyChars,
      'characters',
    );
  }
  return breaches;
}

/** Managed policies attached to each role (`ManagedPolicyArns` and `AWS::IAM::ManagedPolicy` `Roles`). */
export function managedPolicyCounts(template: TemplateJson): Map<string, number> {
  const counts = new Map<string, number>();
  const resources = Object.entries(template.Resources ?? {});
  for (const [id, resource] of resources) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    const arns = (resource.Properties?.ManagedPolicyArns as unknown[] | undefined) ?? [];
    counts.set(id, arns.length);
  }
  for (const [, resource] of resources) {
    if (resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
    for (const role of attachedRoles(resource.Properties)) {
      counts.set(role, (counts.get(role) ?? 0) + 1);
    }
  }
  return counts;
}

/** CDK warning id of a role with more managed policies than IAM's default quota; acknowledge it once the quota is raised. */
export const MANAGED_POLICY_QUOTA_WARNING = '@autoheal/limits:managedPoliciesPerRole';

/** CDK warning id of a stack whose EventBridge rules pass Autoheal's budget of the rules-per-bus quota. */
export const RULES_PER_BUS_WARNING = '@autoheal/limits:rulesPerBus';

/** The stack's EventBridge rules, and those whose pattern holds a `wildcard` filter. */
export function eventRuleCounts(template: TemplateJson): { rules: number; wildcardRules: number } {
  const rules = Object.values(template.Resources ?? {}).filter(
    (resource) => resource.Type === 'AWS::Events::Rule',
  );
  const wildcardRules = rules.filter((rule) =>
    JSON.stringify(rule.Properties?.EventPattern ?? {}).includes('"wildcard"'),
  ).length;
  return { rules: rules.length, wildcardRules };
}

/** The template of `stack` as CloudFormation will get it, built from its elements. */
export function synthesisedTemplate(stack: Stack): TemplateJson & Record<string, unknown> {
  const template: Record<string, Record<string, unknown>> = {};
  for (const child of stack.node.findAll()) {
    if (!CfnElement.isCfnElement(child) || Stack.of(child) !== stack) continue;
    const fragment = stack.resolve(child._toCloudFormation()) as Record<string, object>;
    for (const [section, entries] of Object.entries(fragment)) {
      template[section] = { ...template[section], ...entries };
    }
  }
  return template;
}

const CHECKED_STACKS = new WeakSet<Stack>();

/**
 * Checks the stack holding `scope` against {@link TEMPLATE_LIMITS} when the
 * app synthesises: a breach fails synth with one line per limit, naming it,
 * the resource and the excess; a role past IAM's default managed-policy
 * quota is a warning (the quota is adjustable to 20).
 *
 * @example
 * checkLimitsAtSynth(this); // in a construct's constructor
 */
export function checkLimitsAtSynth(scope: IConstruct): void {
  // Once per stack: two Autoheal instances in one stack report each breach once.
  const stack = Stack.of(scope);
  if (CHECKED_STACKS.has(stack)) return;
  CHECKED_STACKS.add(stack);
  scope.node.addValidation({
    validate: () => {
      const template = synthesisedTemplate(stack);
      const tooMany: string[] = [];
      for (const [role, count] of managedPolicyCounts(template)) {
        if (count <= TEMPLATE_LIMITS.managedPoliciesPerRole) continue;
        if (count > TEMPLATE_LIMITS.managedPoliciesPerRoleMax) {
          tooMany.push(
            `Autoheal's stack ${stack.stackName} breaks a deploy limit: ${role} has ${count} managed policies, ${count - TEMPLATE_LIMITS.managedPoliciesPerRoleMax} over IAM's maximum of ${TEMPLATE_LIMITS.managedPoliciesPerRoleMax} per role (the raised quota): its grants name each resource in scope one by one. Autoheal moves the grants of its state machines and flows past ${SCOPE_ROLE_BUDGET.managedPoliciesPerRole} managed policies onto scope roles, so these are grants added to the role outside Autoheal: move them to a role of their own.`,
          );
          continue;
        }
        Annotations.of(scope).addWarningV2(
          MANAGED_POLICY_QUOTA_WARNING,
          `${role} has ${count} managed policies, ${count - TEMPLATE_LIMITS.managedPoliciesPerRole} over IAM's default quota of ${TEMPLATE_LIMITS.managedPoliciesPerRole} per role: raise "Managed policies per role" (up to 20) in Service Quotas before deploying.`,
        );
      }
      warnOfRulesPerBus(scope, eventRuleCounts(template));
      return [
        ...checkTemplateLimits(template).map(
          (breach) =>
            `Autoheal's stack ${stack.stackName} breaks a deploy limit: ${describeBreach(breach)}`,
        ),
        ...tooMany,
      ];
    },
  });
}

/**
 * Warns when the stack's EventBridge rules (all on the default bus) pass
 * {@link TEMPLATE_LIMITS.eventRulesPerBusBudget} or, with wildcard filters,
 * {@link TEMPLATE_LIMITS.wildcardRulesPerBusBudget}: the quotas are per bus
 * and account, so what else the account runs decides whether they are met.
 */
function warnOfRulesPerBus(
  scope: IConstruct,
  counts: { rules: number; wildcardRules: number },
): void {
  const { eventRulesPerBusBudget, wildcardRulesPerBusBudget } = TEMPLATE_LIMITS;
  if (counts.rules > eventRulesPerBusBudget) {
    Annotations.of(scope).addWarningV2(
      RULES_PER_BUS_WARNING,
      `The stack has ${counts.rules} EventBridge rules on the default event bus, over Autoheal's budget of ${eventRulesPerBusBudget}: the bus allows 300 rules per account by default (100 in af-south-1 and eu-south-1), shared with every other rule of the account. Check "Number of rules" in Service Quotas before deploying, or scope by name prefix (one prefix replaces every ARN it covers).`,
    );
  }
  if (counts.wildcardRules > wildcardRulesPerBusBudget) {
    Annotations.of(scope).addWarningV2(
      RULES_PER_BUS_WARNING,
      `The stack has ${counts.wildcardRules} EventBridge rules with wildcard filters, over Autoheal's budget of ${wildcardRulesPerBusBudget}: a bus allows 30 such rules per account (not adjustable), shared with every other rule of the account.`,
    );
  }
}
