/**
 * The construct's props → the raw JSON config → `parseAutohealConfig`: the
 * construct validates with exactly the rules and the one-line, field-named
 * errors of the app's JSON config.
 *
 * Values CDK only knows at deploy (token ARNs of state machines and keys,
 * token flow names) cannot pass a pattern check. Each stands in the raw config
 * as a placeholder of the right shape, so every other rule (an empty scope,
 * duplicates) still applies; after parsing, the placeholders are swapped back
 * for the tokens, which CloudFormation resolves in the rule, the policies and
 * the handlers' config.
 */
import { Arn, ArnFormat, type Duration, Stack, Token } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import {
  type AutohealConfig,
  isNameInScope,
  parseAutohealConfig,
  STATE_MACHINE_NAME,
} from '../lambda/shared/autoheal-config';
import { ConfigError } from '../lambda/shared/errors';
import type {
  AppflowOptions,
  AutohealProps,
  BackoffDelay,
  EventProcessingOptions,
  FlowHealingOptions,
  NoticeOptions,
  RedriveBreakerOptions,
  RedriveOptions,
  RedrivePolicyOptions,
} from './autoheal-props';

/** The normalised config, and what the constructs need to scope the unresolved ARNs. */
export interface ConfigFromProps {
  readonly config: AutohealConfig;
  /**
   * Execution ARN pattern (`...:execution:NAME:*`) of each token state machine
   * ARN in `config.redrive.stateMachineArns`.
   */
  readonly executionArnPatterns: ReadonlyMap<string, string>;
}

/**
 * Validates the props as the app validates its JSON config and returns the normalised config.
 *
 * @throws {ConfigError} naming the field as the JSON config spells it; a `ConfigErrors` when there are several
 * @example
 * ```ts
 * const { config } = configFromProps(this, { redrive: { stateMachines: [sm] } });
 * ```
 */
export function configFromProps(scope: Construct, props: AutohealProps): ConfigFromProps {
  const placeholders = new Placeholders();
  const executionArnPatterns = new Map<string, string>();
  const redrive =
    props.redrive && rawRedrive(scope, props.redrive, placeholders, executionArnPatterns);
  const raw = dropUndefined({
    redrive,
    appflow: props.appflow && rawAppflow(props.appflow, placeholders),
    operators:
      props.operatorPrincipalArns === undefined
        ? undefined
        : { principalArns: props.operatorPrincipalArns },
    notices: props.notices && rawNotices(props.notices),
    // A token name cannot pass the pattern; the construct uses the props' own value.
    dashboard:
      props.dashboard &&
      dropUndefined({
        enabled: props.dashboard.enabled,
        name: Token.isUnresolved(props.dashboard.name) ? undefined : props.dashboard.name,
      }),
  });
  const parsed = parseAutohealConfig(raw);
  return { config: placeholders.restore(parsed), executionArnPatterns };
}

function rawRedrive(
  scope: Construct,
  options: RedriveOptions,
  placeholders: Placeholders,
  executionArnPatterns: Map<string, string>,
): unknown {
  const stack = Stack.of(scope);
  const machines = options.stateMachines ?? [];
  for (const [i, machine] of machines.entries()) refuseMachineElsewhere(stack, machine.env, i);
  const arns = [...(options.stateMachineArns ?? []), ...machines.map((m) => m.stateMachineArn)];
  for (const machine of machines) {
    // Only a StateMachine (not IStateMachine) has its name; the others are split below.
    if (!Token.isUnresolved(machine.stateMachineArn) || !(machine instanceof sfn.StateMachine)) {
      continue;
    }
    // The machine's own name and environment, as tokens: the grant names exactly this machine.
    executionArnPatterns.set(
      machine.stateMachineArn,
      `arn:${stack.partition}:states:${machine.env.region}:${machine.env.account}:execution:${machine.stateMachineName}:*`,
    );
  }
  for (const arn of arns) {
    if (!Token.isUnresolved(arn) || executionArnPatterns.has(arn)) continue;
    // Its name is literal (fromStateMachineName, a formatted ARN): the grant replaces `:stateMachine:`
    // in the text, as for a literal ARN, with no Fn::Split to size at its longest.
    if (arn.includes(':stateMachine:')) continue;
    // An imported token ARN: its parts are picked out at deploy (Fn::Split / Fn::Select).
    const parts = Arn.split(arn, ArnFormat.COLON_RESOURCE_NAME);
    executionArnPatterns.set(
      arn,
      `arn:${parts.partition}:states:${parts.region}:${parts.account}:execution:${parts.resourceName}:*`,
    );
  }
  const unresolvedArns = arns.filter((arn) => Token.isUnresolved(arn));
  const literalScope = {
    stateMachineArns: arns.filter((arn) => !Token.isUnresolved(arn)),
    stateMachineNamePrefixes: options.stateMachineNamePrefixes ?? [],
  };
  // An override may name a machine only known by a token ARN: it cannot be checked at synth,
  // so it stands in the scope as a placeholder of its own name.
  const overrideNames =
    unresolvedArns.length === 0
      ? []
      : Object.keys(options.overrides ?? {}).filter(
          (name) => STATE_MACHINE_NAME.test(name) && !isNameInScope(literalScope, name),
        );
  const stateMachineArns = [
    ...arns.map((arn) => placeholders.stateMachineArn(arn)),
    ...overrideNames.map((name) => placeholders.overrideArn(name)),
  ];
  const kmsKeyArns = [
    ...(options.kmsKeyArns ?? []),
    ...(options.kmsKeys ?? []).map((key) => key.keyArn),
  ].map((arn) => placeholders.kmsKeyArn(arn));
  return dropUndefined({
    ...rawPolicy(options),
    stateMachineArns: arns.length + overrideNames.length > 0 ? stateMachineArns : undefined,
    stateMachineNamePrefixes: options.stateMachineNamePrefixes,
    overrides:
      options.overrides &&
      Object.fromEntries(
        Object.entries(options.overrides).map(([name, override]) => [name, rawPolicy(override)]),
      ),
    processing: rawProcessing(options.processing),
    sweeper: options.sweeper && {
      enabled: options.sweeper.enabled,
      periodMinutes: options.sweeper.period?.toMinutes({ integral: false }),
      lookbackHours: options.sweeper.lookback?.toHours({ integral: false }),
      requestsPerSecond: options.sweeper.requestsPerSecond,
    },
    kmsKeyArns: kmsKeyArns.length > 0 ? kmsKeyArns : undefined,
  });
}

/**
 * Refuses a state machine object whose environment is known and is not the
 * stack's: its events never reach this stack's event bus.
 */
function refuseMachineElsewhere(
  stack: Stack,
  env: { account: string; region: string },
  index: number,
): void {
  for (const what of ['account', 'region'] as const) {
    const home = stack[what];
    if (Token.isUnresolved(home) || Token.isUnresolved(env[what]) || env[what] === home) continue;
    throw new ConfigError(
      `redrive.stateMachines[${index}]`,
      `is in ${what} ${env[what]}, but this stack deploys to ${what} ${home}; Autoheal redrives state machines of its own account and region`,
    );
  }
}

function rawPolicy(options: RedrivePolicyOptions): Record<string, unknown> {
  return dropUndefined({
    statuses: options.statuses,
    maxRedrives: options.maxRedrives,
    errors:
      options.errors && dropUndefined({ deny: options.errors.deny, allow: options.errors.allow }),
    delay: rawDelay(options.delay),
    observeOnly: options.observeOnly,
    breaker: options.breaker && rawBreaker(options.breaker),
  });
}

function rawBreaker(breaker: RedriveBreakerOptions): unknown {
  return dropUndefined({
    enabled: breaker.enabled,
    windowMinutes: minutes(breaker.window),
    minRelapses: breaker.minRelapses,
    relapseRatio: breaker.relapseRatio,
    cooldownMinutes: minutes(breaker.cooldown),
    cooldownFactor: breaker.cooldownFactor,
    maxCooldownMinutes: minutes(breaker.maxCooldown),
    probes: breaker.probes,
  });
}

function rawNotices(notices: NoticeOptions): unknown {
  return dropUndefined({
    digestWindowMinutes: minutes(notices.digestWindow),
    immediateNotices: notices.immediateNotices,
    digestExamples: notices.digestExamples,
  });
}

function rawDelay(delay: BackoffDelay | undefined): unknown {
  return (
    delay &&
    dropUndefined({
      baseSeconds: seconds(delay.baseDelay),
      factor: delay.factor,
      capSeconds: seconds(delay.maxDelay),
      jitterRatio: delay.jitterRatio,
    })
  );
}

function rawProcessing(processing: EventProcessingOptions | undefined): unknown {
  return (
    processing &&
    dropUndefined({
      batchSize: processing.batchSize,
      maxConcurrency: processing.maxConcurrency,
      maxReceiveCount: processing.maxReceiveCount,
    })
  );
}

function rawAppflow(options: AppflowOptions, placeholders: Placeholders): unknown {
  return dropUndefined({
    schedules: options.schedules?.map((schedule) =>
      dropUndefined({
        name: schedule.name,
        expression: schedule.schedule.expressionString,
        timeZone: schedule.schedule.timeZone?.timezoneName,
        flexibleWindowMinutes: schedule.flexibleWindow?.toMinutes({ integral: false }),
        flows: schedule.flows.map((flow) => placeholders.flowName(flow)),
      }),
    ),
    healedFlows: options.healedFlows?.map((flow) => placeholders.flowName(flow)),
    healing: options.healing && rawHealing(options.healing),
    maxConcurrentStarts: options.maxConcurrentStarts,
    processing: rawProcessing(options.processing),
  });
}

function rawHealing(healing: FlowHealingOptions): unknown {
  return dropUndefined({
    rerunFailedRuns: healing.rerunFailedRuns,
    maxReruns: healing.maxReruns,
    delay: rawDelay(healing.delay),
    reactivateDeactivated: healing.reactivateDeactivated,
    reactivationCooldownMinutes: healing.reactivationCooldown?.toMinutes({ integral: false }),
    maxReactivations: healing.maxReactivations,
    reactivationWindowHours: healing.reactivationWindow?.toHours({ integral: false }),
  });
}

/** Minutes of a duration, fractions kept so the parser names the field of a non-integer. */
function minutes(duration: Duration | undefined): number | undefined {
  return duration?.toMinutes({ integral: false });
}

/** Seconds of a duration, fractions kept so the parser names the field of a non-integer. */
function seconds(duration: Duration | undefined): number | undefined {
  return duration?.toSeconds({ integral: false });
}

function dropUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Stand-ins of the right shape for values only known at deploy, and the way
 * back. Hand-written: no library swaps CDK tokens for pattern-valid strings.
 */
class Placeholders {
  private readonly tokens = new Map<string, string>();
  private readonly dropped = new Set<string>();

  public stateMachineArn(arn: string): string {
    return this.swap(
      arn,
      (n) => `arn:aws:states:us-east-1:000000000000:stateMachine:autoheal-unresolved-${n}`,
    );
  }

  /** A scope entry that only lets an override through; gone after parsing. */
  public overrideArn(name: string): string {
    const placeholder = `arn:aws:states:us-east-1:000000000000:stateMachine:${name}`;
    this.dropped.add(placeholder);
    return placeholder;
  }

  public kmsKeyArn(arn: string): string {
    return this.swap(
      arn,
      (n) =>
        `arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-${n.toString(16).padStart(12, '0')}`,
    );
  }

  public flowName(name: string): string {
    return this.swap(name, (n) => `autoheal-unresolved-flow-${n}`);
  }

  /** The parsed config with every placeholder swapped back for its token. */
  public restore(config: AutohealConfig): AutohealConfig {
    if (this.tokens.size === 0 && this.dropped.size === 0) return config;
    const tokenOf = new Map([...this.tokens].map(([token, placeholder]) => [placeholder, token]));
    const swapBack = (values: readonly string[]): string[] =>
      values.filter((v) => !this.dropped.has(v)).map((v) => tokenOf.get(v) ?? v);
    const { redrive, appflow } = config;
    return {
      ...config,
      ...(redrive && {
        redrive: {
          ...redrive,
          stateMachineArns: swapBack(redrive.stateMachineArns),
          kmsKeyArns: swapBack(redrive.kmsKeyArns),
        },
      }),
      ...(appflow && {
        appflow: {
          ...appflow,
          schedules: appflow.schedules.map((s) => ({ ...s, flows: swapBack(s.flows) })),
          healedFlows: swapBack(appflow.healedFlows),
        },
      }),
    };
  }

  private swap(value: string, placeholderOf: (n: number) => string): string {
    if (!Token.isUnresolved(value)) return value;
    const known = this.tokens.get(value);
    if (known) return known;
    const placeholder = placeholderOf(this.tokens.size);
    this.tokens.set(value, placeholder);
    return placeholder;
  }
}
