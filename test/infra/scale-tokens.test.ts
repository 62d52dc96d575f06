/**
 * Evidence for issue 13, opaque tokens: 1,000 state machine objects whose ARNs
 * CloudFormation only knows at deploy (imports of another stack's outputs),
 * with 200 overrides, synthesise within every limit. The ARNs are too many for
 * the Lambda environment: the live-healing clock's config token parts carry
 * them (custom resources, each request within budget), and the handlers'
 * `AUTOHEAL_CONFIG_TOKENS` is a reference to those records.
 */
import { Fn, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { CONFIG_PLACEHOLDER, ENV, LIVE_HEALING_CLOCK } from '../../lambda/shared/contract';
import { Autoheal, RedrivableStatus, type RedrivePolicyOptions } from '../../lib/autoheal';
import {
  checkTemplateLimits,
  customResourceRequestBytes,
  describeBreach,
  environmentVariableBytes,
  synthesisedTemplate,
  TEMPLATE_LIMITS,
} from '../../lib/limits/template-limits';
import { templateOnlyApp } from '../support/stack';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';

// biome-ignore lint/suspicious/noExplicitAny: template JSON, read field by field by the assertions
type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

/** A stack with `count` imported state machines in Autoheal's scope, and its template. */
function importedScope(count: number) {
  const app = templateOnlyApp();
  const stack = new Stack(app, 'Consumer', { env: { account: ACCOUNT, region: REGION } });
  const machines = Array.from({ length: count }, (_, i) =>
    sfn.StateMachine.fromStateMachineArn(stack, `Imported${i}`, Fn.importValue(`machine-${i}-arn`)),
  );
  const autoheal = new Autoheal(stack, 'Autoheal', {
    redrive: {
      stateMachines: machines,
      overrides: Object.fromEntries(
        Array.from({ length: 200 }, (_, i) => [`team-machine-${i}`, { maxRedrives: 2 }]),
      ),
    },
  });
  const resources = (synthesisedTemplate(stack) as unknown as { Resources: Resources }).Resources;
  const types = Object.fromEntries(Object.entries(resources).map(([id, r]) => [id, r.Type]));
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  return { app, stack, autoheal, resources, types, ofType };
}

describe('1,000 state machine objects whose ARNs are imports of another stack, 200 overrides', () => {
  const scope = importedScope(1_000);
  const functions = scope.ofType('AWS::Lambda::Function');
  const variables = (idPrefix: string) => {
    const found = functions.find(([id]) => id.startsWith(idPrefix));
    if (!found) throw new Error(`no function ${idPrefix}*`);
    return found[1].Properties.Environment.Variables as Record<string, unknown>;
  };
  const parts = scope.ofType(LIVE_HEALING_CLOCK.configTokenPart.resourceType);
  const clock = scope.ofType('Custom::AutohealLiveHealingClock');

  it('breaks no limit of the Lambda environment or of custom resource requests', () => {
    // Act
    const breaches = checkTemplateLimits({ Resources: scope.resources }).filter(
      (breach) =>
        scope.types[breach.resource] === 'AWS::Lambda::Function' ||
        scope.types[breach.resource]?.startsWith('Custom::'),
    );

    // Assess
    expect(breaches.map(describeBreach)).toEqual([]);
  });

  it("keeps every function's environment within 4 KB, each import at its longest", () => {
    // Act
    const bytes = functions.map(([, fn]) =>
      Object.entries(
        (fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>,
      ).reduce((sum, [k, v]) => sum + environmentVariableBytes(k, v, scope.types), 0),
    );

    // Assess
    expect(Math.max(...bytes)).toBeLessThanOrEqual(TEMPLATE_LIMITS.lambdaEnvironmentBytes);
  });

  it('hands the redrive handler and the sweeper a reference to the config token parts, one digest a part', () => {
    // Act
    const references = ['AutohealRedriveHandler', 'AutohealRedriveSweeperHandler'].map(
      (fn) => variables(fn)[ENV.configTokens],
    );

    // Assess
    for (const reference of references) {
      const text = JSON.stringify(reference);
      expect(text).toContain('#tokens#');
      for (const [id] of parts) {
        expect(text).toContain(JSON.stringify({ 'Fn::GetAtt': [id, 'Digest'] }));
      }
      expect(text).not.toContain('Fn::ImportValue');
    }
  });

  it('writes each import once across the parts, each part and the clock within the custom resource request budget', () => {
    // Act
    const imported = parts.flatMap(([, part]) =>
      JSON.stringify(part.Properties.Values).match(/machine-\d+-arn/g),
    );
    const requests = [...parts, ...clock].map(([, r]) =>
      customResourceRequestBytes(r.Properties, scope.types),
    );
    const clockConfig = JSON.stringify(clock[0][1].Properties.ClockConfig);

    // Assess
    expect(parts.length).toBeGreaterThan(1);
    expect(new Set(imported)).toEqual(
      new Set(Array.from({ length: 1_000 }, (_, i) => `machine-${i}-arn`)),
    );
    expect(imported).toHaveLength(1_000);
    expect(Math.max(...requests)).toBeLessThanOrEqual(TEMPLATE_LIMITS.customResourceRequestBytes);
    expect(clockConfig).not.toContain('Fn::ImportValue');
    expect(clockConfig).toContain(JSON.stringify(`${CONFIG_PLACEHOLDER.token}999`).slice(1, -1));
  });

  it('lets the clock write its own record and the parts beside it, nothing else', () => {
    // Act
    const statement = Object.values(scope.resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => r.Properties.PolicyDocument.Statement)
      .find((s) => s.Sid === 'OwnClockRecordOnly');

    // Assess
    const keys = statement.Condition['ForAllValues:StringEquals']['dynamodb:LeadingKeys'];
    expect(keys).toHaveLength(1 + parts.length);
    expect(keys.slice(1)).toEqual(parts.map((_, i) => `${keys[0]}#tokens#${i}`));
  });
});

describe('a few opaque tokens', () => {
  it('keeps them in the environment as before: no config token parts', () => {
    // Act
    const scope = importedScope(5);

    // Assess
    expect(scope.ofType(LIVE_HEALING_CLOCK.configTokenPart.resourceType)).toEqual([]);
    const clock = scope.ofType('Custom::AutohealLiveHealingClock')[0][1];
    expect(clock.Properties).not.toHaveProperty(LIVE_HEALING_CLOCK.properties.configTokenParts);
  });
});

describe('the live-healing clock’s own request', () => {
  /** An Autoheal over `arns` and `overrides` (names under the prefix `team-`), in a stack of its account and region. */
  const build = (arns: string[], overrides: Record<string, RedrivePolicyOptions> = {}) => {
    const app = templateOnlyApp();
    const stack = new Stack(app, 'Consumer', { env: { account: ACCOUNT, region: REGION } });
    new Autoheal(stack, 'Autoheal', {
      redrive: { stateMachineArns: arns, stateMachineNamePrefixes: ['team-'], overrides },
    });
    return stack;
  };
  const name80 = (i: number) => `team-${String(i).padStart(4, '0')}-`.padEnd(80, 'x');
  const arn = (name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;

  it('moves every ARN into config token parts when ClockConfig would pass the request budget: 1,500 ARNs of 80-character names', () => {
    // Act
    const stack = build(Array.from({ length: 1_500 }, (_, i) => arn(name80(i))));
    const resources = (synthesisedTemplate(stack) as unknown as { Resources: Resources }).Resources;
    const types = Object.fromEntries(Object.entries(resources).map(([id, r]) => [id, r.Type]));
    const custom = Object.entries(resources).filter(([, r]) => r.Type.startsWith('Custom::'));
    const parts = custom.filter(
      ([, r]) => r.Type === LIVE_HEALING_CLOCK.configTokenPart.resourceType,
    );

    // Assess
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.flatMap(([, r]) => JSON.parse(r.Properties.Values) as string[]).sort()).toEqual(
      Array.from({ length: 1_500 }, (_, i) => arn(name80(i))).sort(),
    );
    for (const [, r] of custom) {
      expect(customResourceRequestBytes(r.Properties, types)).toBeLessThanOrEqual(
        TEMPLATE_LIMITS.customResourceRequestBytes,
      );
    }
  });

  it('refuses at synth, in one line naming the field, a ClockConfig too large even with every ARN in parts', () => {
    // Prepare: 2,500 overrides that set what the clock records (observe-only and statuses)
    const overrides = Object.fromEntries(
      Array.from({ length: 2_500 }, (_, i) => [
        name80(i).slice(0, 60),
        {
          observeOnly: false,
          statuses: [RedrivableStatus.FAILED, RedrivableStatus.TIMED_OUT, RedrivableStatus.ABORTED],
        },
      ]),
    );

    // Act / Assess
    expect(() => build([arn('team-orders')], overrides)).toThrow(
      /^redrive: the live-healing clock's ClockConfig of 1 ARNs \(in parts\), 1 name prefixes and 2500 overrides makes a custom resource request of up to \d+ bytes \(an Update carries it twice\), \d+ over the 262144 Autoheal budgets for it; scope by name prefix .*$/,
    );
  });
});

describe('the synth-time check of custom resource requests', () => {
  it.each([
    // An Update carries the properties twice, plus 4,096 bytes of envelope: 128,000 bytes fit, 130,000 do not.
    [128_000, []],
    [130_000, ['Clock']],
  ])('with a %i-character property, breaches at: %j', (chars, breached) => {
    // Prepare
    const template = {
      Resources: {
        Clock: {
          Type: 'Custom::AnyProvider',
          Properties: { ServiceToken: 'arn', Config: 'x'.repeat(chars) },
        },
      },
    };

    // Act
    const breaches = checkTemplateLimits(template).filter((b) =>
      b.limit.includes('custom resource'),
    );

    // Assess
    expect(breaches.map((b) => b.resource)).toEqual(breached);
  });
});
