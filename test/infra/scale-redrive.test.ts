/**
 * Evidence for issue 13, redrive side: 1,000 state machines by ARN, 100 name
 * prefixes and 200 overrides (and the same at 1.5×), and 1,000 state machine
 * objects with token ARNs, synthesise within every deploy limit, each limit
 * measured on the template itself, independently of the construct's sizing.
 * The config reaches the functions in their code assets (config-asset.ts).
 */
import { randomUUID } from 'node:crypto';
import { Fn, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AutohealStack } from '../../bin/autoheal-stack';
import { parseAutohealConfig } from '../../lambda/shared/autoheal-config';
import { Autoheal } from '../../lib/autoheal';
import {
  checkLimitsAtSynth,
  MANAGED_POLICY_QUOTA_WARNING,
  RULES_PER_BUS_WARNING,
  synthesisedTemplate,
} from '../../lib/limits/template-limits';
import { templateOnlyApp } from '../support/stack';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const HOME = `arn:aws:states:${REGION}:${ACCOUNT}:`;

/** Generated names as platform teams have them (30-50 characters, no shared prefix to scope by). */
const machineName = (i: number) =>
  `team-${String.fromCharCode(97 + (i % 26))}-${['orders', 'billing', 'inventory', 'shipping-label'][i % 4]}-ingest-${((i * 2_654_435_761) >>> 0).toString(16).slice(0, 6)}-${String(i).padStart(4, '0')}`;
const prefix = (i: number) => `platform-${String(i).padStart(3, '0')}-batch-`;

function scaleConfig(machines: number, prefixes: number, overrides: number) {
  const names = Array.from({ length: machines }, (_, i) => machineName(i));
  return {
    names,
    prefixes: Array.from({ length: prefixes }, (_, i) => prefix(i)),
    raw: {
      redrive: {
        stateMachineArns: names.map((name) => `${HOME}stateMachine:${name}`),
        stateMachineNamePrefixes: Array.from({ length: prefixes }, (_, i) => prefix(i)),
        overrides: Object.fromEntries(
          names.slice(0, overrides).map((name, i) => [name, { maxRedrives: 1 + (i % 5) }]),
        ),
      },
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: template JSON, read field by field by the assertions
type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

/**
 * A template value with every intrinsic at its longest: the partition at 10
 * (`aws-us-gov`), a region at 20, an account at 12, a state machine's `Ref`
 * (its ARN) at 149 and its name at 80, a role's `Ref` (its name) at 64, a rule's ARN at 119, anything else at 256.
 */
function longest(value: unknown, resources: Resources): unknown {
  const at = (n: number) => 'x'.repeat(n);
  if (Array.isArray(value)) return value.map((v) => longest(v, resources));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if ('Ref' in record) {
    const pseudo: Record<string, number> = {
      'AWS::Partition': 10,
      'AWS::Region': 20,
      'AWS::AccountId': 12,
      'AWS::URLSuffix': 20,
    };
    const ref = record.Ref as string;
    if (pseudo[ref]) return at(pseudo[ref]);
    const type = resources[ref]?.Type;
    // A role's name has at most 64 characters (IAM).
    return at(
      type === 'AWS::StepFunctions::StateMachine' ? 149 : type === 'AWS::IAM::Role' ? 64 : 256,
    );
  }
  if ('Fn::GetAtt' in record) {
    const [id, attribute] = record['Fn::GetAtt'] as [string, string];
    const type = resources[id]?.Type;
    if (type === 'AWS::Events::Rule') return at(119);
    // Step Functions names have at most 80 characters.
    return at(type === 'AWS::StepFunctions::StateMachine' && attribute === 'Name' ? 80 : 256);
  }
  if ('Fn::Join' in record) {
    const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
    return parts
      .map((part) => {
        const v = longest(part, resources);
        return typeof v === 'string' ? v : JSON.stringify(v);
      })
      .join(separator);
  }
  if (Object.keys(record).some((key) => key.startsWith('Fn::'))) return at(256);
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, longest(v, resources)]));
}

/** What a synthesised template holds on the redrive side, read from the template alone. */
function redriveSide(stack: Stack) {
  // The template as CloudFormation gets it, without the synth's validations (which refuse 1.5×).
  const json = synthesisedTemplate(stack) as unknown as { Resources: Resources };
  const resources = json.Resources;
  const chars = (value: unknown) => JSON.stringify(longest(value, resources)).length;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const rules = ofType('AWS::Events::Rule').filter(([id]) =>
    id.includes('RedriveBufferFailedExecutions'),
  );
  const roleOf = (idPrefix: string) => {
    const found = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith(idPrefix));
    if (!found) throw new Error(`no function ${idPrefix}*`);
    return found[1].Properties.Role['Fn::GetAtt'][0] as string;
  };
  const attachedTo = (role: string) => (r: { Properties: Record<string, unknown> }) =>
    JSON.stringify(r.Properties.Roles ?? []).includes(`"${role}"`);
  /** Every value of `key` (Resource, or a condition's values) of the role's statements with `action`. */
  const granted = (role: string, action: string, pick: (s: Statement) => unknown) =>
    [...ofType('AWS::IAM::Policy'), ...ofType('AWS::IAM::ManagedPolicy')]
      .filter(([, r]) => attachedTo(role)(r))
      .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Statement[])
      .filter((s) => [s.Action].flat().includes(action))
      .flatMap((s) => [pick(s)].flat());
  /**
   * The function's role, its scope roles (the roles that trust it), and the
   * routes of its `AUTOHEAL_SCOPE_ROLES` (`[firstMachine, role logical id]`).
   */
  const scopeRolesOf = (idPrefix: string) => {
    const functionRole = roleOf(idPrefix);
    const found = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith(idPrefix));
    const environment = (found?.[1].Properties.Environment.Variables ?? {}) as Record<
      string,
      unknown
    >;
    const scopeRoles = ofType('AWS::IAM::Role')
      .filter(([, r]) =>
        key(r.Properties.AssumeRolePolicyDocument).includes(`"${functionRole}","Arn"`),
      )
      .map(([id]) => id);
    const routes = environment.AUTOHEAL_SCOPE_ROLES
      ? (JSON.parse(inAws(environment.AUTOHEAL_SCOPE_ROLES) as string) as [number, string][]).map(
          ([first, arn]) => [first, arn.split('/').at(-1) as string] as const,
        )
      : [];
    return { functionRole, scopeRoles, routes, environment };
  };
  return { json, resources, chars, ofType, rules, roleOf, attachedTo, granted, scopeRolesOf };
}

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

const key = (value: unknown) => JSON.stringify(value);

/**
 * A template value as CloudFormation resolves it in the stack `stackId` (partition `aws`):
 * `Fn::Join`, `Fn::Select` and `Fn::Split` of the pseudo parameters.
 */
function deployedAs(value: unknown, stackId: string): unknown {
  if (Array.isArray(value)) return value.map((v) => deployedAs(v, stackId));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if (record.Ref === 'AWS::Partition') return 'aws';
  if (record.Ref === 'AWS::StackId') return stackId;
  if ('Fn::Join' in record) {
    const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => deployedAs(part, stackId)).join(separator);
  }
  if ('Fn::Split' in record) {
    const [separator, text] = record['Fn::Split'] as [string, unknown];
    return String(deployedAs(text, stackId)).split(separator);
  }
  if ('Fn::Select' in record) {
    const [index, list] = record['Fn::Select'] as [number | string, unknown];
    return (deployedAs(list, stackId) as unknown[])[Number(index)];
  }
  return value;
}

/** A template value as CloudFormation resolves it in partition `aws` (the stack's own account and region are literal). */
function inAws(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(inAws);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if (record.Ref === 'AWS::Partition') return 'aws';
  // A role's name: its logical id stands for it.
  if (typeof record.Ref === 'string' && !record.Ref.startsWith('AWS::')) return record.Ref;
  if ('Fn::Join' in record) {
    const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
    return parts.map(inAws).join(separator);
  }
  return value;
}

const KMS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

describe.each([
  ['the issue’s scope: 1,000 ARNs, 100 prefixes, 200 overrides', 1, false],
  ['1.5× that scope: 1,500 ARNs, 150 prefixes, 300 overrides', 1.5, false],
  ['the issue’s scope with kmsKeyArns (each machine named twice in the redrive grants)', 1, true],
])('%s', (_, scale, withKeys) => {
  const { names, prefixes, raw } = scaleConfig(1_000 * scale, 100 * scale, 200 * scale);
  const app = templateOnlyApp();
  const stack = new AutohealStack(app, 'Autoheal', {
    config: parseAutohealConfig({
      redrive: { ...raw.redrive, ...(withKeys && { kmsKeyArns: [KMS_KEY] }) },
    }),
    env: { account: ACCOUNT, region: REGION },
  });
  const side = redriveSide(stack);
  const machineArns = names.map((name) => `${HOME}stateMachine:${name}`);
  const prefixArns = prefixes.map((p) => `${HOME}stateMachine:${p}`);
  const executionPatterns = [
    ...names.map((name) => `${HOME}execution:${name}:*`),
    ...prefixes.map((p) => `${HOME}execution:${p}*`),
  ];
  const machinePatterns = [...machineArns, ...prefixArns.map((p) => `${p}*`)];

  it('fits every event pattern within 2,048 characters, and the failure rules match exactly the scope, once each, into one queue', () => {
    // Act
    const patterns = side.rules.map(([, r]) => r.Properties.EventPattern);
    const matched = patterns.flatMap((p) =>
      p.detail.stateMachineArn.map((v: string | { prefix: unknown }) =>
        typeof v === 'string' ? v : `prefix:${inAws(v.prefix)}`,
      ),
    );
    const queues = new Set(side.rules.map(([, r]) => key(r.Properties.Targets[0].Arn)));

    // Assess
    expect(side.rules.length).toBeGreaterThan(1);
    expect(Math.max(...patterns.map(side.chars))).toBeLessThanOrEqual(2_048);
    expect(matched).toHaveLength(new Set(matched).size);
    expect(new Set(matched)).toEqual(
      new Set([...machineArns, ...prefixArns.map((p) => `prefix:${p}`)]),
    );
    expect(queues.size).toBe(1);
  });

  it('keeps the Distributed Map child filter (a wildcard) on the rules with name prefixes only, within 10 wildcard rules', () => {
    // Act
    const withFilter = side.rules.filter(([, r]) => r.Properties.EventPattern.detail.executionArn);
    const withPrefixes = side.rules.filter(([, r]) =>
      r.Properties.EventPattern.detail.stateMachineArn.some((v: unknown) => typeof v !== 'string'),
    );

    // Assess
    expect(withFilter.map(([id]) => id)).toEqual(withPrefixes.map(([id]) => id));
    expect(withFilter.length).toBeLessThanOrEqual(10);
  });

  it("fits every role's inline policies within 10,240 characters, every managed policy within 6,144, and every role within IAM's default quota of 10 managed policies", () => {
    // Act
    const { inline, managed } = policySizes(side);
    const perRole = managedPoliciesPerRole(side);
    const quotaWarnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp(MANAGED_POLICY_QUOTA_WARNING),
    );

    // Assess
    expect(Math.max(...inline)).toBeLessThanOrEqual(10_240);
    expect(managed.length).toBeGreaterThan(0);
    expect(Math.max(...managed)).toBeLessThanOrEqual(6_144);
    expect(Math.max(...perRole.values())).toBeLessThanOrEqual(10);
    expect(quotaWarnings).toEqual([]);
  });

  it.each([
    ['redrive handler', 'RedriveHandler', 'states:RedriveExecution', () => executionPatterns],
    ['redrive handler', 'RedriveHandler', 'states:DescribeExecution', () => executionPatterns],
    ['sweeper', 'RedriveSweeperHandler', 'states:ListExecutions', () => machinePatterns],
  ])(
    "grants the %s's %s on exactly the scope over its role and its scope roles, each machine once, on the role the function's AUTOHEAL_SCOPE_ROLES names for it",
    (_fn, functionId, action, expected) => {
      // Prepare
      const { functionRole, scopeRoles, routes } = side.scopeRolesOf(functionId);

      // Act
      const byRole = [functionRole, ...scopeRoles].map(
        (role) => [role, side.granted(role, action, (s) => s.Resource).map(inAws)] as const,
      );
      const all = byRole.flatMap(([, values]) => values);

      // Assess: the union is the scope, each value once
      expect(all).toHaveLength(expected().length);
      expect(new Set(all)).toEqual(new Set(expected()));
      // Each scope role holds exactly the slice of machines its route names; the function's role the rest and the prefixes
      const slices = routes.map(([first], k) => [first, routes[k + 1]?.[0] ?? names.length]);
      expect(routes.map(([, role]) => role)).toEqual(scopeRoles);
      for (const [k, [from, to]] of slices.entries()) {
        expect(byRole[k + 1][1]).toEqual(expected().slice(from, to));
      }
      const ownMachines = routes[0]?.[0] ?? names.length;
      expect(new Set(byRole[0][1])).toEqual(
        new Set([...expected().slice(0, ownMachines), ...expected().slice(names.length)]),
      );
    },
  );

  it("lets each function assume exactly its scope roles, and each scope role trusts only its function's role", () => {
    for (const functionId of ['RedriveHandler', 'RedriveSweeperHandler']) {
      // Prepare
      const { functionRole, scopeRoles } = side.scopeRolesOf(functionId);

      // Act
      const assumable = side
        .granted(functionRole, 'sts:AssumeRole', (s) => s.Resource)
        .map((arn) => inAws(arn));
      const trusts = scopeRoles.map(
        (role) => side.resources[role].Properties.AssumeRolePolicyDocument.Statement,
      );

      // Assess
      expect(scopeRoles.length).toBeGreaterThan(0);
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
  });

  if (withKeys) {
    it('grants kms:Decrypt for each machine on the role that describes its executions, with the same slicing', () => {
      // Prepare
      const { functionRole, scopeRoles } = side.scopeRolesOf('RedriveHandler');
      const machineOf = (value: unknown) =>
        String(value).replace(':execution:', ':stateMachine:').replace(/:\*$/, '');

      for (const role of [functionRole, ...scopeRoles]) {
        // Act
        const decrypt = side
          .granted(
            role,
            'kms:Decrypt',
            // The scoped statements (the table's key grant has no such condition).
            (s) =>
              s.Condition?.StringLike?.['kms:EncryptionContext:aws:states:stateMachineArn'] ?? [],
          )
          .map(inAws);
        const described = side
          .granted(role, 'states:DescribeExecution', (s) => s.Resource)
          .map(inAws)
          .map(machineOf);

        // Assess
        expect(new Set(decrypt)).toEqual(new Set(described));
        expect(decrypt).toHaveLength(described.length);
      }
    });
  }

  it('stays within 500 resources and 1,000,000 template bytes', () => {
    // Act
    const count = Object.keys(side.resources).length;
    const bytes = Buffer.byteLength(JSON.stringify(side.json));

    // Assess
    expect(count).toBeLessThanOrEqual(500);
    expect(bytes).toBeLessThanOrEqual(1_000_000);
  });

  it('synthesises, passing the synth-time limit check', () => {
    // Act
    const synth = () => app.synth();

    // Assess
    expect(synth).not.toThrow();
  });
});

/** Managed policies attached to each role, from the template alone. */
function managedPoliciesPerRole(side: ReturnType<typeof redriveSide>): Map<string, number> {
  const perRole = new Map<string, number>(
    side
      .ofType('AWS::IAM::Role')
      .map(([id, role]) => [id, (role.Properties.ManagedPolicyArns ?? []).length]),
  );
  for (const [, policy] of side.ofType('AWS::IAM::ManagedPolicy')) {
    for (const { Ref } of policy.Properties.Roles) perRole.set(Ref, (perRole.get(Ref) ?? 0) + 1);
  }
  return perRole;
}

describe('where the grants move onto scope roles', () => {
  it.each([
    // With these names (about 95 characters an execution pattern), some 600 machines fit the role within 10 managed policies.
    [500, 0],
    [1_000, 1],
  ])(
    '%i ARNs: %i scope role(s) for the redrive handler, and AUTOHEAL_SCOPE_ROLES only with scope roles',
    (machines, expectedScopeRoles) => {
      // Act
      const side = redriveSide(
        new AutohealStack(templateOnlyApp(), 'Autoheal', {
          config: parseAutohealConfig({
            redrive: {
              stateMachineArns: Array.from(
                { length: machines },
                (_, i) => `${HOME}stateMachine:${machineName(i)}`,
              ),
            },
          }),
          env: { account: ACCOUNT, region: REGION },
        }),
      );
      const { scopeRoles, environment } = side.scopeRolesOf('RedriveHandler');

      // Assess
      expect(scopeRoles).toHaveLength(expectedScopeRoles);
      expect(environment.AUTOHEAL_SCOPE_ROLES !== undefined).toBe(expectedScopeRoles > 0);
      expect(Math.max(...managedPoliciesPerRole(side).values())).toBeLessThanOrEqual(10);
    },
  );

  it("refuses, naming the field, a scope that needs more scope roles than Autoheal's cap of 6 per function", () => {
    // Prepare: with kmsKeyArns a scope role holds some 350 machines
    const { raw } = scaleConfig(2_500, 0, 0);

    // Act
    const build = () =>
      new AutohealStack(templateOnlyApp(), 'Autoheal', {
        config: parseAutohealConfig({ redrive: { ...raw.redrive, kmsKeyArns: [KMS_KEY] } }),
        env: { account: ACCOUNT, region: REGION },
      });

    // Assess
    expect(build).toThrow(
      /^Invalid Autoheal config at redrive\.stateMachineArns: 2500 state machines listed by ARN need \d+ scope roles for the grants of \S*Redrive\/Handler, over Autoheal's cap of 6 per function/,
    );
  });
});

/** Each role's inline policies added up, and each managed policy, in characters (tokens at their longest). */
function policySizes(side: ReturnType<typeof redriveSide>): {
  inline: number[];
  managed: number[];
} {
  const inline = side.ofType('AWS::IAM::Role').map(([role]) =>
    side
      .ofType('AWS::IAM::Policy')
      .filter(([, p]) => side.attachedTo(role)(p))
      .reduce((sum, [, p]) => sum + side.chars(p.Properties.PolicyDocument), 0),
  );
  const managed = side
    .ofType('AWS::IAM::ManagedPolicy')
    .map(([, p]) => side.chars(p.Properties.PolicyDocument));
  return { inline, managed };
}

describe('1,000 state machine objects with token ARNs (994 fromStateMachineName, and 6 opaque tokens: 2 fromStateMachineArn of an import, 4 StateMachine; each opaque token travels in the environment), 200 overrides, in a stack of its account and region', () => {
  const byName = 994;
  const imported = 2;
  const built = 4;
  const app = templateOnlyApp();
  const stack = new Stack(app, 'Consumer', { env: { account: ACCOUNT, region: REGION } });
  const machines: sfn.IStateMachine[] = [
    ...Array.from({ length: byName }, (_, i) =>
      sfn.StateMachine.fromStateMachineName(stack, `ByName${i}`, machineName(i)),
    ),
    ...Array.from({ length: imported }, (_, i) =>
      sfn.StateMachine.fromStateMachineArn(
        stack,
        `Imported${i}`,
        Fn.importValue(`machine-${i}-arn`),
      ),
    ),
    ...Array.from(
      { length: built },
      (_, i) =>
        new sfn.StateMachine(stack, `Built${i}`, {
          definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, `Pass${i}`)),
        }),
    ),
  ];
  const props = {
    redrive: {
      stateMachines: machines,
      stateMachineNamePrefixes: Array.from({ length: 100 }, (_, i) => prefix(i)),
      overrides: Object.fromEntries(
        Array.from({ length: 200 }, (_, i) => [machineName(i), { maxRedrives: 2 }]),
      ),
    },
  };
  for (const machine of machines.slice(byName + imported)) {
    // The consumer's own machines, stand-ins here: only Autoheal's findings are under test.
    for (const rule of ['SF1', 'SF2']) {
      Validations.of(machine).acknowledge({
        id: `AwsSolutions::AwsSolutions-${rule}`,
        reason: 'A stand-in state machine of the test, not part of Autoheal',
      });
    }
  }
  new Autoheal(stack, 'Autoheal', props);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const side = redriveSide(stack);
  const resolved = (values: readonly string[]) => values.map((v) => key(stack.resolve(v)));

  it('fits every event pattern within 2,048 characters, each token ARN at its longest, and the rules match exactly the scope, once each', () => {
    // Act
    const patterns = side.rules.map(([, r]) => r.Properties.EventPattern);
    const matched = patterns.flatMap((p) => p.detail.stateMachineArn.map((v: unknown) => key(v)));
    const expected = [
      ...resolved(machines.map((m) => m.stateMachineArn)),
      ...Array.from({ length: 100 }, (_, i) =>
        key({
          prefix: stack.resolve(
            `arn:${stack.partition}:states:${stack.region}:${stack.account}:stateMachine:${prefix(i)}`,
          ),
        }),
      ),
    ];

    // Assess
    expect(Math.max(...patterns.map(side.chars))).toBeLessThanOrEqual(2_048);
    expect(matched).toHaveLength(expected.length);
    expect(new Set(matched)).toEqual(new Set(expected));
    expect(new Set(side.rules.map(([, r]) => key(r.Properties.Targets[0].Arn))).size).toBe(1);
  });

  it('grants RedriveExecution on one execution pattern per machine and prefix over the function role and its scope roles, exactly as the construct scopes it', () => {
    // Prepare
    const { functionRole, scopeRoles } = side.scopeRolesOf('AutohealRedriveHandler');

    // Act
    const redrive = [functionRole, ...scopeRoles].flatMap((role) =>
      side.granted(role, 'states:RedriveExecution', (s) => s.Resource).map(key),
    );

    // Assess
    expect(redrive).toHaveLength(machines.length + 100);
    expect(new Set(redrive).size).toBe(redrive.length);
    const byNameGrants = machines
      .slice(0, byName)
      .map((m) =>
        key(stack.resolve(`${m.stateMachineArn.replace(':stateMachine:', ':execution:')}:*`)),
      );
    expect(redrive).toEqual(expect.arrayContaining(byNameGrants));
  });

  it("fits every role's inline policies within 10,240 characters and every managed policy within 6,144, and passes the synth limit check and cdk-nag", () => {
    // Act
    const { inline, managed } = policySizes(side);
    const nagErrors = Annotations.fromStack(stack).findError(
      '*',
      Match.stringLikeRegexp('AwsSolutions-'),
    );

    // Assess
    expect(Math.max(...inline)).toBeLessThanOrEqual(10_240);
    expect(Math.max(...managed)).toBeLessThanOrEqual(6_144);
    expect(nagErrors.map((e) => `${e.id}: ${String(e.entry.data).slice(0, 160)}`)).toEqual([]);
    expect(() => app.synth()).not.toThrow();
  });
});

describe('where the failure rule splits', () => {
  const build = (machines: number, breaker = true) => {
    const app = templateOnlyApp();
    const stack = new AutohealStack(app, 'Autoheal', {
      config: parseAutohealConfig({
        redrive: {
          stateMachineArns: Array.from(
            { length: machines },
            (_, i) => `${HOME}stateMachine:${machineName(i)}`,
          ),
          breaker: { enabled: breaker },
        },
      }),
      env: { account: ACCOUNT, region: REGION },
    });
    return redriveSide(stack);
  };

  it.each([
    // With these names (about 85 characters an ARN), 19 fit one pattern that also matches
    // redriven successes (the breaker's recoveries, some 90 characters more), 20 without them.
    [19, true, 1, true],
    [20, true, 2, false],
    [20, false, 1, true],
    [38, true, 2, false],
    [1_000, true, 53, false],
    [1_000, false, 50, false],
  ])(
    '%i ARNs, breaker %s: %i rule(s), each within 2,048 characters; the child filter only when it is one rule: %s',
    (machines, breaker, expectedRules, childFilter) => {
      // Act
      const side = build(machines, breaker);
      const patterns = side.rules.map(([, r]) => r.Properties.EventPattern);

      // Assess
      expect(side.rules).toHaveLength(expectedRules);
      expect(side.rules[0][0]).toMatch(/^RedriveBufferFailedExecutions[0-9A-F]{8}$/);
      expect(Math.max(...patterns.map(side.chars))).toBeLessThanOrEqual(2_048);
      for (const pattern of patterns) {
        expect(pattern.detail.executionArn !== undefined).toBe(childFilter);
      }
    },
  );

  it('lets the rules deliver to the queues by the first rule’s ARN and a name prefix the other rules carry, past 48 rules, unique to each deployed stack', () => {
    // Prepare: the same template deployed twice in one account and region, under two stack names
    const side = build(1_000);
    const stackIds = ['Autoheal-blue', 'Autoheal-green'].map(
      (name) => `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${name}/${randomUUID()}`,
    );

    // Act
    const deployments = stackIds.map((stackId) => {
      const names = side.rules.map(([, r]) => deployedAs(r.Properties.Name, stackId));
      const deliveries = side
        .ofType('AWS::SQS::QueuePolicy')
        .filter(([, p]) => key(p.Properties.Queues).includes('RedriveBuffer'))
        .map(([, p]) =>
          p.Properties.PolicyDocument.Statement.find(
            (s: { Principal?: { Service?: string } }) =>
              s.Principal?.Service === 'events.amazonaws.com',
          ),
        );
      return { names, deliveries, stackId };
    });

    // Assess
    for (const { names, deliveries, stackId } of deployments) {
      expect(names[0]).toBeUndefined();
      const prefix = String(names[1]).replace(/2$/, '');
      // 20 characters of the buffer's unique name, then the deployed stack's GUID.
      expect(prefix).toMatch(/^Autohe\w*Buffer[0-9A-F]{8}-[0-9a-f-]{36}-$/);
      expect(prefix).toContain(`-${stackId.split('/')[2]}-`);
      expect(names.slice(1)).toEqual(names.slice(1).map((_, i) => `${prefix}${i + 2}`));
      expect(Math.max(...names.slice(1).map((name) => String(name).length))).toBeLessThanOrEqual(
        64,
      );
      expect(deliveries).toHaveLength(2);
      for (const delivery of deliveries) {
        const [first, others] = delivery.Condition.ArnLike['aws:SourceArn'];
        expect(first).toEqual({ 'Fn::GetAtt': [side.rules[0][0], 'Arn'] });
        expect(deployedAs(others, stackId)).toBe(
          `arn:aws:events:${REGION}:${ACCOUNT}:rule/${prefix}*`,
        );
      }
    }
    const [blue, green] = deployments;
    const greenPattern = String(
      deployedAs(green.deliveries[0].Condition.ArnLike['aws:SourceArn'][1], green.stackId),
    );
    const matchesGreen = (name: unknown) =>
      `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`.startsWith(greenPattern.slice(0, -1));
    expect(blue.names.slice(1).filter((name) => green.names.includes(name))).toEqual([]);
    expect(blue.names.slice(1).filter(matchesGreen)).toEqual([]);
  });
});

describe('the rules-per-bus budget', () => {
  it.each([
    [100, 0, 0],
    [101, 1, 0],
    [101, 1, 11],
  ])(
    '%i rules, %i warning(s) about rules; %i wildcard rules',
    (ruleCount, _ruleWarnings, wildcardRules) => {
      // Prepare
      const app = templateOnlyApp();
      const stack = new Stack(app, 'Bus');
      for (let i = 0; i < ruleCount; i++) {
        new events.Rule(stack, `Rule${i}`, {
          eventPattern: {
            source: ['aws.states'],
            detail:
              i < wildcardRules
                ? { executionArn: [{ 'anything-but': { wildcard: '*/*' } }] }
                : { status: ['FAILED'] },
          },
        });
      }
      checkLimitsAtSynth(stack);

      // Act
      const warnings = Annotations.fromStack(stack)
        .findWarning('*', Match.stringLikeRegexp(RULES_PER_BUS_WARNING))
        .map((w) => String(w.entry.data));

      // Assess
      expect(
        warnings.filter((w) =>
          w.includes(`${ruleCount} EventBridge rules on the default event bus`),
        ),
      ).toHaveLength(ruleCount > 100 ? 1 : 0);
      expect(
        warnings.filter((w) =>
          w.includes(`${wildcardRules} EventBridge rules with wildcard filters`),
        ),
      ).toHaveLength(wildcardRules > 10 ? 1 : 0);
    },
  );
});
