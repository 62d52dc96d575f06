/**
 * Evidence for issue 13, AppFlow side: 500 flows on 50 schedules and 300
 * healed flows (and the same at 1.5×) synthesise within every deploy limit,
 * each limit measured on the template itself, independently of the
 * construct's own sizing code. The config reaches the functions in their
 * code assets (config-asset.ts), so no environment grows with the scope.
 */
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import {
  flowsInScope,
  parseAppflowConfig,
  scheduledFlowsOf,
} from '../../lambda/shared/autoheal-config';
import { MANAGED_POLICY_QUOTA_WARNING } from '../../lib/limits/template-limits';
import {
  FLOW_SCOPE_ROLE_ROUTES,
  flowName,
  flowScaleConfig as scaleConfig,
} from '../support/flow-scale';
import { buildStack } from '../support/stack';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';

/**
 * A template value with every intrinsic at a conservative length: the
 * partition at 10 characters (`aws-us-gov`), anything else at 256.
 */
function longest(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(longest);
  // An EventBridge rule's ARN: arn:aws-us-gov:events: (22), a 14-character region, ':', the account (12), ':rule/' and a 64-character name.
  if (isRuleArn(value)) return 'x'.repeat(22 + 14 + 1 + 12 + 6 + 64);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if ('Ref' in record) return record.Ref === 'AWS::Partition' ? 'aws-us-gov' : 'x'.repeat(256);
  if ('Fn::Join' in record) {
    const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => longest(part)).join(separator);
  }
  if ('Fn::GetAtt' in record || 'Fn::Sub' in record) return 'x'.repeat(256);
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, longest(v)]));
}
let ruleIds = new Set<string>();
function isRuleArn(value: unknown): boolean {
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | null)?.['Fn::GetAtt'];
  return Array.isArray(getAtt) && getAtt[1] === 'Arn' && ruleIds.has(getAtt[0]);
}
const chars = (value: unknown) => JSON.stringify(longest(value)).length;

// biome-ignore lint/suspicious/noExplicitAny: template JSON, read field by field by the assertions
type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;
interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Principal?: { Service?: string };
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

/**
 * A flow function's role, its scope roles (the roles that trust it, in
 * logical-id order, which is the order of their slices: `ScopeRole1`,
 * `ScopeRole2`, ...), and the routes of its `AUTOHEAL_SCOPE_ROLES`
 * (`[first, role logical id]`), read from the template alone.
 */
function scopeRolesOf(resources: Resources, idPrefix: string) {
  const functionRole = roleOf(resources, idPrefix);
  const [, fn] = Object.entries(resources).find(
    ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(idPrefix),
  ) as [string, Resources[string]];
  const scopeRoles = Object.entries(resources)
    .filter(
      ([, r]) =>
        r.Type === 'AWS::IAM::Role' &&
        JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes(`"${functionRole}","Arn"`),
    )
    .map(([id]) => id)
    .sort((a, b) => Number(/ScopeRole(\d+)/.exec(a)?.[1]) - Number(/ScopeRole(\d+)/.exec(b)?.[1]));
  const variable = fn.Properties.Environment.Variables.AUTOHEAL_SCOPE_ROLES;
  const routes = variable
    ? (JSON.parse(inAws(variable) as string) as [number, string][]).map(
        ([first, arn]) => [first, arn.split('/').at(-1) as string] as const,
      )
    : [];
  return { functionRole, scopeRoles, routes };
}

/** A template value as CloudFormation resolves it in partition `aws`; a role's `Ref` (its name) as its logical id. */
function inAws(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(inAws);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if (record.Ref === 'AWS::Partition') return 'aws';
  if (typeof record.Ref === 'string' && !record.Ref.startsWith('AWS::')) return record.Ref;
  if ('Fn::Join' in record) {
    const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
    return parts.map(inAws).join(separator);
  }
  return value;
}

/** Managed policies attached to each role, from the template alone. */
function managedPoliciesPerRole(resources: Resources): Map<string, number> {
  const perRole = new Map<string, number>(
    Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .map(([id, r]) => [id, (r.Properties.ManagedPolicyArns ?? []).length]),
  );
  for (const [, policy] of Object.entries(resources).filter(
    ([, r]) => r.Type === 'AWS::IAM::ManagedPolicy',
  )) {
    for (const { Ref } of policy.Properties.Roles) perRole.set(Ref, (perRole.get(Ref) ?? 0) + 1);
  }
  return perRole;
}

/** Every flow ARN granted `appflow:StartFlow` to the role, inline or by managed policy, with the statements that grant them. */
function flowGrants(resources: Resources, roleId: string) {
  const documents = Object.values(resources)
    .filter(
      (r) =>
        (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') &&
        JSON.stringify(r.Properties.Roles ?? []).includes(`"${roleId}"`),
    )
    .map((r) => r.Properties.PolicyDocument);
  const statements = documents
    .flatMap((d) => d.Statement)
    .filter((s: { Action: unknown }) => JSON.stringify(s.Action).includes('appflow:StartFlow'));
  const arns = statements.flatMap((s: { Resource: unknown }) =>
    [s.Resource].flat().map((r) => longest(r) as string),
  );
  return { arns, statements };
}

function roleOf(resources: Resources, idPrefix: string): string {
  const found = Object.entries(resources).find(
    ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(idPrefix),
  );
  if (!found) throw new Error(`no function ${idPrefix}*`);
  return found[1].Properties.Role['Fn::GetAtt'][0];
}

describe.each([
  ['the issue’s scope: 500 flows on 50 schedules, 300 healed', 1],
  ['1.5× that scope: 750 flows on 75 schedules, 450 healed', 1.5],
])('%s', (_, scale) => {
  const config = scaleConfig(500 * scale, 50 * scale, 300 * scale);
  const scheduled = config.appflow.schedules;
  const inScope = [
    ...new Set([...scheduled.flatMap((s) => s.flows), ...config.appflow.healedFlows]),
  ];
  const { template, app, stack } = buildStack(config, {
    env: { account: ACCOUNT, region: REGION },
  });
  const json = template.toJSON() as { Resources: Resources };
  const resources = json.Resources;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  beforeEach(() => {
    ruleIds = new Set(ofType('AWS::Events::Rule').map(([id]) => id));
  });

  it('fits every event pattern within 2,048 characters, and the flow-healer rules match exactly the flows in scope, once each, into one queue', () => {
    // Prepare
    const rules = ofType('AWS::Events::Rule');
    const healerRules = (prefix: string) =>
      rules.filter(([id]) => id.startsWith(`FlowHealingBuffer${prefix}`));

    // Act
    // Event rules only: the brake keeper's schedule has no pattern.
    const longestPattern = Math.max(
      ...rules
        .filter(([, r]) => r.Properties.EventPattern !== undefined)
        .map(([, r]) => chars(r.Properties.EventPattern)),
    );

    // Assess
    expect(longestPattern).toBeLessThanOrEqual(2_048);
    for (const prefix of ['FailedFlowRuns', 'DeactivatedFlows']) {
      const shards = healerRules(prefix);
      expect(shards.length).toBeGreaterThan(1);
      const matched = shards.flatMap(([, r]) => r.Properties.EventPattern.detail['flow-name']);
      expect(matched.sort()).toEqual([...inScope].sort());
      const queues = new Set(shards.map(([, r]) => JSON.stringify(r.Properties.Targets[0].Arn)));
      expect(queues.size).toBe(1);
    }
  });

  it("fits every schedule's input within 8,192 characters, and each config schedule's slices start its flows once each, on its expression, zone and window", () => {
    // Prepare
    const schedules = ofType('AWS::Scheduler::Schedule').map(([, r]) => r.Properties);

    // Act
    const inputs = schedules.map((s) => ({ schedule: s, input: JSON.parse(s.Target.Input) }));

    // Assess
    expect(Math.max(...schedules.map((s) => s.Target.Input.length))).toBeLessThanOrEqual(8_192);
    for (const configured of scheduled) {
      const slices = inputs.filter(({ input }) => input.schedule === configured.name);
      expect(slices.flatMap(({ input }) => input.flows).sort()).toEqual(
        [...configured.flows].sort(),
      );
      for (const { schedule } of slices) {
        expect(schedule.ScheduleExpression).toBe(configured.expression);
        expect(schedule.ScheduleExpressionTimezone ?? 'UTC').toBe(configured.timeZone ?? 'UTC');
        expect(schedule.FlexibleTimeWindow).toEqual(slices[0].schedule.FlexibleTimeWindow);
      }
    }
    const bulkSlices = inputs.filter(({ input }) => input.schedule === 'bulk');
    expect(bulkSlices.length).toBeGreaterThan(1);
  });

  it("fits every role's inline policies within 10,240 characters, every managed policy within 6,144, and every role within IAM's default quota of 10 managed policies, without a quota warning", () => {
    // Prepare
    const roles = ofType('AWS::IAM::Role').map(([id]) => id);

    // Act
    const inline = roles.map((role) =>
      ofType('AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${role}"`))
        .reduce((sum, [, p]) => sum + chars(p.Properties.PolicyDocument), 0),
    );
    const managed = ofType('AWS::IAM::ManagedPolicy').map(([, p]) =>
      chars(p.Properties.PolicyDocument),
    );
    const perRole = managedPoliciesPerRole(resources);
    const quotaWarnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp(MANAGED_POLICY_QUOTA_WARNING),
    );

    // Assess
    expect(Math.max(...inline)).toBeLessThanOrEqual(10_240);
    expect(managed.length).toBeGreaterThan(0);
    expect(Math.max(...managed)).toBeLessThanOrEqual(6_144);
    expect([...perRole].filter(([, count]) => count > 10)).toEqual([]);
    expect(quotaWarnings.map((warning) => String(warning.entry.data))).toEqual([]);
  });

  it.each([
    // The lists the handlers read their AUTOHEAL_SCOPE_ROLES against.
    [
      'starter',
      'ScheduledFlowsStarter',
      () => scheduledFlowsOf(parseAppflowConfig(config.appflow)),
    ],
    ['healer', 'FlowHealingHealer', () => flowsInScope(parseAppflowConfig(config.appflow))],
  ])(
    'grants the flow %s StartFlow and DescribeFlow on exactly its flows over its role and its scope roles, each flow once by its exact ARN, on the role its AUTOHEAL_SCOPE_ROLES names for it',
    (fn, functionId, listed) => {
      // Prepare
      const arn = (name: string) => `arn:aws-us-gov:appflow:${REGION}:${ACCOUNT}:flow/${name}`;
      const expected = listed().map(arn);
      const { functionRole, scopeRoles, routes } = scopeRolesOf(resources, functionId);

      // Act
      const byRole = [functionRole, ...scopeRoles].map((role) => flowGrants(resources, role));
      const all = byRole.flatMap(({ arns }) => arns);

      // Assess: the union is the function's flows, each once, no wildcard
      expect(all).toHaveLength(expected.length);
      expect(new Set(all)).toEqual(new Set(expected));
      expect(all.filter((granted) => granted.includes('*'))).toEqual([]);
      for (const { statements } of byRole) {
        for (const statement of statements) {
          expect(statement.Action).toEqual(['appflow:StartFlow', 'appflow:DescribeFlow']);
        }
      }
      // Each scope role holds exactly the slice its route names, in list order; the function's role the first flows
      expect(routes.map(([, role]) => role)).toEqual(scopeRoles);
      // The routes the resilience test runs the handlers with (large-flow-scope.test.ts)
      expect(routes.map(([first]) => first)).toEqual(
        FLOW_SCOPE_ROLE_ROUTES[scale][fn as 'starter' | 'healer'],
      );
      const starts = [0, ...routes.map(([first]) => first), expected.length];
      byRole.forEach(({ arns }, k) => {
        expect(arns).toEqual(expected.slice(starts[k], starts[k + 1]));
      });
    },
  );

  it("lets each flow function assume exactly its scope roles, and each scope role trusts only its function's role", () => {
    for (const functionId of ['ScheduledFlowsStarter', 'FlowHealingHealer']) {
      // Prepare
      const { functionRole, scopeRoles } = scopeRolesOf(resources, functionId);

      // Act
      const assumable = Object.values(resources)
        .filter(
          (r) =>
            r.Type === 'AWS::IAM::Policy' &&
            JSON.stringify(r.Properties.Roles).includes(`"${functionRole}"`),
        )
        .flatMap((r) => r.Properties.PolicyDocument.Statement)
        .filter((statement: { Action: unknown }) =>
          [statement.Action].flat().includes('sts:AssumeRole'),
        )
        .flatMap((statement: { Resource: unknown }) => [statement.Resource].flat().map(inAws));
      const trusts = scopeRoles.map(
        (role) => resources[role].Properties.AssumeRolePolicyDocument.Statement,
      );

      // Assess
      expect(assumable).toEqual(scopeRoles.map((role) => `arn:aws:iam::${ACCOUNT}:role/${role}`));
      for (const trust of trusts) {
        expect(trust).toEqual([
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { AWS: { 'Fn::GetAtt': [functionRole, 'Arn'] } },
          },
        ]);
      }
    }
    // The healer's 800 flows (1,200 at 1.5×) outgrow its role; the starter's 750 at 1.5× too
    expect(scopeRolesOf(resources, 'FlowHealingHealer').scopeRoles.length).toBeGreaterThan(0);
    expect(scopeRolesOf(resources, 'ScheduledFlowsStarter').scopeRoles.length > 0).toBe(scale > 1);
  });

  it("fits every queue policy within SQS's 20 statements and 8,192 bytes, and lets exactly the buffer's rules deliver", () => {
    // Prepare
    const policies = ofType('AWS::SQS::QueuePolicy').map(([, p]) => p.Properties);
    const healerRuleIds = ofType('AWS::Events::Rule')
      .map(([id]) => id)
      .filter((id) => id.startsWith('FlowHealingBuffer'))
      .sort();

    // Act
    const sizes = policies.map((p) => Buffer.byteLength(JSON.stringify(longest(p.PolicyDocument))));
    const statementCounts = policies.map((p) => p.PolicyDocument.Statement.length);
    const healerQueuePolicies = policies.filter((p) =>
      JSON.stringify(p.Queues).includes('FlowHealingBuffer'),
    );

    // Assess
    expect(Math.max(...sizes)).toBeLessThanOrEqual(8_192);
    expect(Math.max(...statementCounts)).toBeLessThanOrEqual(20);
    expect(healerQueuePolicies).toHaveLength(2);
    for (const policy of healerQueuePolicies) {
      const delivery = policy.PolicyDocument.Statement.find(
        (s: { Principal?: { Service?: string } }) =>
          s.Principal?.Service === 'events.amazonaws.com',
      );
      const allowed = delivery.Condition.ArnEquals['aws:SourceArn'].map(
        (arn: { 'Fn::GetAtt': [string] }) => arn['Fn::GetAtt'][0],
      );
      expect([...allowed].sort()).toEqual(healerRuleIds);
    }
  });

  /** A template value with ARNs as CloudFormation resolves them in this account and region, partition `aws`. */
  function resolved(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(resolved);
    if (value === null || typeof value !== 'object') return value;
    const record = value as Record<string, unknown>;
    if ('Ref' in record) return record.Ref === 'AWS::Partition' ? 'aws' : `ref-${record.Ref}`;
    if ('Fn::GetAtt' in record) {
      const [id] = record['Fn::GetAtt'] as [string];
      const type = resources[id].Type;
      if (type === 'AWS::Events::Rule') return `arn:aws:events:${REGION}:${ACCOUNT}:rule/${id}`;
      if (type === 'AWS::IAM::Role') return `arn:aws:iam::${ACCOUNT}:role/${id}`;
      return `arn:aws:${type}:${id}`;
    }
    if ('Fn::Join' in record) {
      const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
      return parts.map(resolved).join(separator);
    }
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, resolved(v)]));
  }

  /**
   * Whether the flow healer's work queue accepts `sqs:SendMessage` from a
   * request, by IAM's rules for a resource policy: an explicit Deny wins; a
   * service principal needs an Allow; the account's own roles need none
   * here (their identity policy may grant it). Negated operators hold when
   * the key is absent; all operators of a statement must hold.
   */
  function accepts(request: { service?: string; principalArn?: string; sourceArn?: string }) {
    const [, policy] = ofType('AWS::SQS::QueuePolicy').find(([, p]) =>
      JSON.stringify(p.Properties.Queues).includes('FlowHealingBufferWorkQueue'),
    ) as unknown as [string, { Properties: { PolicyDocument: { Statement: Statement[] } } }];
    const values: Record<string, string | undefined> = {
      'aws:PrincipalArn': request.principalArn,
      'aws:SourceArn': request.sourceArn,
    };
    const glob = (pattern: string) =>
      new RegExp(
        `^${pattern
          .split('*')
          .map((p) => p.replace(/[.?+^$()[\]{}|\\]/g, '\\$&'))
          .join('.*')}$`,
      );
    const holds = (operator: string, key: string, listed: string[]) => {
      const value = values[key];
      const match = (v: string) =>
        value !== undefined && (operator.endsWith('Like') ? glob(v).test(value) : v === value);
      return operator.includes('Not') ? !listed.some(match) : listed.some(match);
    };
    const applies = (statement: Statement) =>
      Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
        Object.entries(keys).every(([key, listed]) => holds(operator, key, [listed].flat())),
      );
    const statements = (
      resolved(policy.Properties.PolicyDocument) as { Statement: Statement[] }
    ).Statement.filter((st) => [st.Action].flat().includes('sqs:SendMessage'));
    if (statements.some((st) => st.Effect === 'Deny' && applies(st))) return false;
    if (request.service === undefined) return true;
    return statements.some(
      (st) => st.Effect === 'Allow' && st.Principal?.Service === request.service && applies(st),
    );
  }

  it.each([
    ['the last shard of the flow-healer rules', true, 'last-rule'],
    ['another rule of the account', false, 'other-rule'],
    ['the flow healer, deferring', true, 'healer'],
    ['another role of the account', false, 'other-role'],
  ] as const)('work queue with many rules: %s may send: %s', (_name, accepted, who) => {
    // Prepare
    const lastRule = ofType('AWS::Events::Rule')
      .map(([id]) => id)
      .filter((id) => id.startsWith('FlowHealingBuffer'))
      .sort()
      .at(-1);
    const rule = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`;
    const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
    const requests = {
      'last-rule': { service: 'events.amazonaws.com', sourceArn: rule(lastRule ?? '') },
      'other-rule': { service: 'events.amazonaws.com', sourceArn: rule('hand-made') },
      healer: { principalArn: role(roleOf(resources, 'FlowHealingHealer')) },
      'other-role': { principalArn: role('app') },
    };

    // Act & Assess
    expect(accepts(requests[who])).toBe(accepted);
  });

  it('stays within 500 resources and 1,000,000 template bytes', () => {
    // Act
    const count = Object.keys(resources).length;
    const bytes = Buffer.byteLength(JSON.stringify(json));

    // Assess
    expect(count).toBeLessThanOrEqual(500);
    expect(bytes).toBeLessThanOrEqual(1_000_000);
  });

  it('synthesises without a limit error', () => {
    expect(() => app.synth()).not.toThrow();
    expect(Template.fromJSON(json)).toBeDefined();
  });
});

describe('where the flow grants move onto scope roles', () => {
  /** `flows` scheduled flows, round robin on 10 schedules. */
  const scheduledOnly = (flows: number) => ({
    appflow: {
      schedules: Array.from({ length: 10 }, (_, s) => ({
        name: `batch-${s}`,
        expression: `cron(${s} 2 * * ? *)`,
        flows: Array.from({ length: flows }, (_, i) => flowName(i)).filter((_, i) => i % 10 === s),
      })),
    },
  });

  it.each([
    // With these names (some 80 characters an ARN at its longest), some 710 flows fit the
    // function's role and 790 more each scope role.
    [600, 0],
    [800, 1],
    [1_400, 1],
    [1_600, 2],
  ])(
    '%i scheduled flows: %i scope role(s) for the flow starter, each within 10 managed policies',
    (flows, expected) => {
      // Act
      const { template } = buildStack(scheduledOnly(flows), {
        env: { account: ACCOUNT, region: REGION },
      });
      const resources = template.toJSON().Resources as Resources;
      const { scopeRoles, routes } = scopeRolesOf(resources, 'ScheduledFlowsStarter');

      // Assess
      expect(scopeRoles).toHaveLength(expected);
      expect(routes).toHaveLength(expected);
      expect(Math.max(...managedPoliciesPerRole(resources).values())).toBeLessThanOrEqual(10);
    },
  );

  it('passes cdk-nag with a scope role (no finding to acknowledge: every grant names its flows)', () => {
    // Act
    const { stack } = buildStack(scheduledOnly(800), {
      env: { account: ACCOUNT, region: REGION },
      nag: true,
    });
    const nagFindings = [
      ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-')),
      ...Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-')),
    ];

    // Assess
    expect(
      scopeRolesOf(Template.fromStack(stack).toJSON().Resources, 'ScheduledFlowsStarter')
        .scopeRoles,
    ).toHaveLength(1);
    expect(nagFindings.map((e) => `${e.id}: ${String(e.entry.data).slice(0, 160)}`)).toEqual([]);
  });

  it("refuses, naming the field, flows that need more scope roles than Autoheal's cap of 6 per function", () => {
    // Act
    const build = () =>
      buildStack(scheduledOnly(6_000), { env: { account: ACCOUNT, region: REGION } });

    // Assess
    expect(build).toThrow(
      /^Invalid Autoheal config at appflow\.schedules: 6000 flows need 7 scope roles for the grants of \S*ScheduledFlows\/Starter, over Autoheal's cap of 6 per function/,
    );
  });
});
