import { Duration, Lazy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, type IConstruct } from 'constructs';
import {
  allConfiguredStatuses,
  breakerEnabledAnywhere,
  ConfigProblems,
  DEFAULT_NOTICES,
  type NoticesConfig,
  type RedriveConfig,
  type RedriveHandlerConfig,
} from '../../lambda/shared/autoheal-config';
import {
  CONFIG_SECTION,
  DEFAULT_IDEMPOTENCY_KEY_PREFIX,
  ENV,
  REDRIVE_SERVICE_NAME,
  SFN_EVENT,
} from '../../lambda/shared/contract';
import { ConfigError } from '../../lambda/shared/errors';
import { shardId } from '../limits/shards';
import { TEMPLATE_LIMITS } from '../limits/template-limits';
import { nagResourceFinding } from '../nag';
import { warnUncheckedArns } from '../unchecked-environment';
import { AutohealFunction } from './autoheal-function';
import { asTemplatePattern, type BufferedRule, EventBuffer } from './event-buffer';
import { ExecutionSweeper } from './execution-sweeper';
import { HEALING_STATE_ACTIONS, type HealingStateTable } from './healing-state-table';
import { type IdempotencyTable, keyPrefixEnvironment } from './idempotency-table';
import { LiveHealingClock } from './live-healing-clock';
import type { Notices } from './notices';
import { grantOnMachineScope, type MachineScopedGrant } from './scope-roles';
import { ScopeSizer } from './scoped-grants';
import {
  executionArnIn,
  scopedStateMachineArns,
  stateMachineArnIn,
  statesArnPrefix,
} from './state-machine-arns';

/**
 * Event-pattern matcher that drops Distributed Map child runs at the rule. A
 * child's execution ARN is `...:execution:MACHINE/MAP_RUN_LABEL:NAME`, and
 * names cannot contain `/`, so only children carry one. A prefix scope would
 * match them, and an exact ARN too where the child event names its parent
 * machine; a child is redriven through its parent, so its event would only
 * cost an invocation. (EventBridge event buses support `anything-but` with
 * `wildcard`; the handler still ignores any child that arrives.)
 */
export const NOT_A_MAP_RUN_CHILD = { 'anything-but': { wildcard: '*/*' } } as const;

/**
 * What the failure rules also match when the storm brake is enabled for some
 * state machine: a redriven execution that succeeded (a recovery), and no
 * other success. Filtered in the pattern (numeric matching on the event's
 * `redriveCount`), so first-run successes never reach Autoheal.
 */
export const RECOVERY_MATCH = {
  status: ['SUCCEEDED'],
  redriveCount: [{ numeric: ['>=', 1] }],
} as const;

export interface ExecutionRedriveProps {
  /** The validated redrive config (see `parseRedriveConfig`). */
  readonly config: RedriveConfig;
  /** Where the handler records each failure it acted on. */
  readonly idempotencyTable: IdempotencyTable;
  /** Receives give-up and skip notices. */
  readonly notices: Notices /**
   * IAM roles and users (exact ARNs) that may send to the work queue by hand,
   * to replay its dead-letter queue; everyone else but Autoheal is denied.
   * @default []
   */;
  readonly operatorPrincipalArns?: readonly string[];
  /**
   * Execution ARN pattern of each token ARN in the scope (only known at deploy).
   * @default - each token ARN's parts, picked out at deploy
   */
  readonly executionArnPatterns?: ReadonlyMap<string, string>;
  /**
   * The installation's idempotency key prefix.
   * @default 'autoheal' (the app's)
   */
  readonly idempotencyKeyPrefix?: string;
  /**
   * The normalised `notices` section, for the handler's notice digests.
   * @default - the defaults
   */
  readonly noticesConfig?: NoticesConfig;
  /**
   * The healing state table (breakers, held failures, notice digests).
   * @default - none: the breaker and the digests are off
   */
  readonly stateTable?: HealingStateTable;
}

/**
 * Auto-redrive of failed Step Functions executions:
 * EventBridge rule → SQS work queue → redrive Lambda (partial batch failures),
 * with one dead-letter queue for everything that cannot be processed; and,
 * unless `sweeper.enabled` is false, the {@link ExecutionSweeper}, which feeds
 * the same work queue the failures whose event never arrived.
 *
 * @example
 * ```ts
 * new ExecutionRedrive(this, 'Redrive', {
 *   config: parseRedriveConfig({ stateMachineNamePrefixes: ['orders-'] }),
 *   idempotencyTable,
 *   notices,
 * });
 * ```
 */
export class ExecutionRedrive extends Construct {
  /** The validated redrive config the construct was built from. */
  public readonly config: RedriveConfig;
  public readonly buffer: EventBuffer;
  public readonly handler: AutohealFunction;
  /** Present unless the config's `sweeper.enabled` is false. */
  public readonly sweeper?: ExecutionSweeper;
  /** Since when each scoped state machine has been under live healing (handler and sweeper read it). */
  public readonly liveHealingClock: LiveHealingClock;
  /** The functions besides the handler that send to the work queue as Autoheal. */
  private readonly senders: AutohealFunction[] = [];

  public constructor(scope: Construct, id: string, props: ExecutionRedriveProps) {
    super(scope, id);
    const { config } = props;
    this.config = config;
    const keyPrefix = props.idempotencyKeyPrefix ?? DEFAULT_IDEMPOTENCY_KEY_PREFIX;
    refuseArnsElsewhere(this, config);

    this.buffer = new EventBuffer(this, 'Buffer', {
      purpose: 'redrive',
      processing: config.processing,
      operatorPrincipalArns: props.operatorPrincipalArns,
      rules: failedExecutionRules(this, config),
    });
    for (const rule of this.buffer.rules) {
      Validations.of(rule).acknowledge({
        id: 'CloudFormation-Validate::E9014',
        reason:
          'The stateMachineArn prefix is built with Fn::Join from the stack partition, region and account; CloudFormation resolves it to a plain string before EventBridge sees it.',
      });
    }

    this.liveHealingClock = new LiveHealingClock(this, 'LiveHealingClock', {
      config,
      idempotencyTable: props.idempotencyTable,
    });

    this.handler = new AutohealFunction(this, 'Handler', {
      entry: 'redrive/redrive.handler.ts',
      description: 'Autoheal: redrives failed Step Functions executions',
      serviceName: REDRIVE_SERVICE_NAME,
      timeout: Duration.seconds(30),
      config: {
        [CONFIG_SECTION.redrive]: runtimeConfig(config),
        [CONFIG_SECTION.notices]: props.noticesConfig ?? DEFAULT_NOTICES,
      },
      configTokenRecord: this.liveHealingClock.configTokenRecord,
      environment: {
        [ENV.idempotencyTable]: props.idempotencyTable.table.tableName,
        [ENV.noticeTopicArn]: props.notices.topic.topicArn,
        [ENV.statesArnPrefix]: statesArnPrefix(this),
        [ENV.liveSince]: this.liveHealingClock.liveSince,
        ...keyPrefixEnvironment(keyPrefix),
      },
    });
    this.buffer.attachConsumer(this.handler);
    const fn = this.handler.function;

    const executionArns = scopedExecutionArns(this, config, props.executionArnPatterns);
    const acknowledgeExecutionWildcards = (on: IConstruct, arns: readonly string[]) => {
      for (const arn of arns) {
        Validations.of(on).acknowledge({
          id: `AwsSolutions::AwsSolutions-IAM5[${nagResourceFinding(this, arn)}]`,
          reason:
            'Execution ARNs are created per execution, so the grant names the configured state machine and ends in a wildcard for its executions only.',
        });
      }
    };
    // One value per machine listed by ARN, then one per name prefix (see scopedExecutionArns).
    const machines = config.stateMachineArns.length;
    const executionGrant: MachineScopedGrant = {
      sid: 'RedriveScopedExecutions',
      description: 'redrive and describe the executions of the state machines in scope',
      machineValues: executionArns.slice(0, machines),
      prefixValues: executionArns.slice(machines),
      statement: (arns) =>
        new iam.PolicyStatement({
          sid: 'RedriveScopedExecutions',
          actions: ['states:RedriveExecution', 'states:DescribeExecution'],
          resources: arns,
        }),
      acknowledge: acknowledgeExecutionWildcards,
    };
    const machineArns = scopedStateMachineArns(this, config);
    const { region, urlSuffix } = Stack.of(this);
    // DescribeExecution on a state machine encrypted with a customer managed key
    // needs kms:Decrypt (Step Functions API reference); RedriveExecution lists no KMS error.
    // Granted on the role that describes the machine's executions (the same slice).
    const decryptGrant: MachineScopedGrant = {
      sid: 'DecryptScopedExecutions',
      description: 'decrypt the executions of the state machines in scope',
      machineValues: machineArns.slice(0, machines),
      prefixValues: machineArns.slice(machines),
      statement: (arns) =>
        new iam.PolicyStatement({
          sid: 'DecryptScopedExecutions',
          actions: ['kms:Decrypt'],
          resources: [...config.kmsKeyArns],
          conditions: {
            StringEquals: { 'kms:ViaService': `states.${region}.${urlSuffix}` },
            StringLike: { 'kms:EncryptionContext:aws:states:stateMachineArn': arns },
          },
        }),
    };
    grantOnMachineScope(
      this.handler,
      config.kmsKeyArns.length > 0 ? [executionGrant, decryptGrant] : [executionGrant],
    );
    props.idempotencyTable.grantIdempotency(fn);
    props.notices.grantPublish(this.handler);
    props.stateTable?.grantItems(this.handler, HEALING_STATE_ACTIONS.redrive, keyPrefix);

    if (config.sweeper.enabled) {
      this.sweeper = new ExecutionSweeper(this, 'Sweeper', {
        config,
        buffer: this.buffer,
        idempotencyTable: props.idempotencyTable,
        liveSince: this.liveHealingClock.liveSince,
        configTokenRecord: this.liveHealingClock.configTokenRecord,
        idempotencyKeyPrefix: keyPrefix,
      });
    }
    if (this.sweeper) this.senders.push(this.sweeper.handler);
    // Who may claim to be Autoheal on the work queue: its deferral hops, the sweeper's messages
    // and the brake keeper's probes and released failures.
    fn.addEnvironment(
      ENV.senderRoleIds,
      Lazy.string({
        produce: () =>
          [this.handler.role.roleId, ...this.senders.map((sender) => sender.role.roleId)].join(','),
      }),
    );
  }

  /**
   * Lets another Autoheal function (the brake keeper) send to the work queue
   * as Autoheal: `sqs:SendMessage`, an exemption from the queue policy's deny,
   * and its role among those the handler trusts as senders.
   */
  public admitSender(sender: AutohealFunction): void {
    this.buffer.grantSend(sender);
    this.senders.push(sender);
  }
}

/**
 * Refuses, when the stack's environment is known, a configured state machine of
 * another partition, region or account: its events never reach this stack's
 * event bus and its executions are beyond this stack's regional client, so it
 * would be in scope in name only.
 */
function refuseArnsElsewhere(scope: Construct, config: RedriveConfig): void {
  const { partition, region, account } = Stack.of(scope);
  // Environment-agnostic (e.g. a StackSet): the checks below skip what is unknown; say so.
  warnUncheckedArns(scope, {
    field: 'redrive.stateMachineArns',
    count: config.stateMachineArns.length,
    against: ['account', 'region'],
    consequence:
      'each deployed instance heals only the state machines of its own account and region, so an ARN of another one matches no event there and its grants are never used',
  });
  warnUncheckedArns(scope, {
    field: 'redrive.kmsKeyArns',
    count: config.kmsKeyArns.length,
    against: ['region'],
    consequence:
      "a key of another region decrypts nothing there: the grant's kms:ViaService names the instance's own region",
  });
  const home: ReadonlyArray<readonly [string, string, number]> = [
    ['partition', partition, 1],
    ['region', region, 3],
    ['account', account, 4],
  ];
  const problems = new ConfigProblems();
  config.stateMachineArns.forEach((arn, i) => {
    // A token ARN (a state machine object, an import) is only known at deploy.
    if (Token.isUnresolved(arn)) return;
    const parts = arn.split(':');
    const elsewhere = home.find(
      ([, value, index]) => !Token.isUnresolved(value) && parts[index] !== value,
    );
    if (!elsewhere) return;
    const [what, value, index] = elsewhere;
    problems.record(
      new ConfigError(
        `redrive.stateMachineArns[${i}]`,
        `is in ${what} ${parts[index]}, but this stack deploys to ${what} ${value}; Autoheal redrives state machines of its own account and region, so deploy a stack there for it: ${HOW_TO_TARGET[what](parts[index])}`,
      ),
    );
  });
  // A state machine's key is in its region, but may be in another account.
  config.kmsKeyArns.forEach((arn, i) => {
    if (Token.isUnresolved(arn)) return;
    const parts = arn.split(':');
    const elsewhere = home
      .slice(0, 2)
      .find(([, value, index]) => !Token.isUnresolved(value) && parts[index] !== value);
    if (!elsewhere) return;
    const [what, value, index] = elsewhere;
    problems.record(
      new ConfigError(
        `redrive.kmsKeyArns[${i}]`,
        `is in ${what} ${parts[index]}, but this stack deploys to ${what} ${value}; a state machine's key is in the state machine's ${what}`,
      ),
    );
  });
  problems.throwIfAny();
}

/** What a user sets so the CDK CLI targets another partition, region or account. */
const HOW_TO_TARGET: Record<string, (value: string) => string> = {
  partition: (value) => `use credentials and a region of partition ${value}`,
  region: (value) =>
    `set AWS_REGION=${value} (or AWS_DEFAULT_REGION, or pass --profile with a profile whose region is ${value}; the CDK CLI overwrites an exported CDK_DEFAULT_REGION)`,
  account: (value) =>
    `use that account's credentials (e.g. --profile with a profile of account ${value})`,
};

/**
 * The failure rules of the scope: one rule when its pattern fits
 * EventBridge's 2,048 characters (as before: the logical id
 * `FailedExecutions`), otherwise as many as it takes, each matching a
 * consecutive slice of the ARNs and name prefixes, all into one buffer.
 *
 * Sized with each token ARN at its longest as the template holds it (see
 * {@link ScopeSizer}), not with the flat token budget of `shardedRules`: a
 * state machine object of another construct is 149 characters at most, and
 * `fromStateMachineName` leaves only the partition, region and account to
 * budget.
 *
 * The Distributed Map child filter ({@link NOT_A_MAP_RUN_CHILD}) holds a
 * `wildcard`, and EventBridge allows 30 such rules per bus and account (not
 * adjustable). A split scope keeps it only on the rules with name prefixes,
 * which match children's `MACHINE/LABEL` ARNs; a rule of exact ARNs rarely
 * sees a child, and the handler ignores the ones that arrive.
 */
export function failedExecutionRules(scope: Construct, config: RedriveConfig): BufferedRule[] {
  const prefixArns = config.stateMachineNamePrefixes.map((prefix) =>
    stateMachineArnIn(scope, prefix),
  );
  const isPrefix = new Set(prefixArns);
  const status = allConfiguredStatuses(config);
  // With the breaker: the failures, or a redriven execution's success (a recovery), and nothing else.
  const outcome = breakerEnabledAnywhere(config)
    ? { $or: [{ status }, RECOVERY_MATCH] }
    : { status };
  const pattern = (values: readonly string[], withChildFilter: boolean) => ({
    source: [SFN_EVENT.source],
    detailType: [SFN_EVENT.detailType],
    detail: {
      ...outcome,
      stateMachineArn: values.map((value) =>
        // Raw matcher objects: events.Match.prefix() renders as an array of its own.
        isPrefix.has(value) ? { prefix: value } : value,
      ),
      ...(withChildFilter && { executionArn: [NOT_A_MAP_RUN_CHILD] }),
    },
  });
  const slices = new ScopeSizer(scope).shard(
    [...config.stateMachineArns, ...prefixArns],
    (slice, original) => {
      // With the child filter (the longest a slice renders), each value as its sized stand-in.
      const full = pattern(slice.map(original), true);
      const stateMachineArn = full.detail.stateMachineArn.map((value, i) =>
        typeof value === 'string' ? slice[i] : { prefix: slice[i] },
      );
      return asTemplatePattern({ ...full, detail: { ...full.detail, stateMachineArn } });
    },
    TEMPLATE_LIMITS.eventPatternChars,
    'an event pattern',
  );
  const description = breakerEnabledAnywhere(config)
    ? 'Step Functions executions that ended in a status Autoheal redrives, and redriven executions that succeeded'
    : 'Step Functions executions that ended in a status Autoheal redrives';
  return slices.map((slice, i) => ({
    id: shardId('FailedExecutions', i),
    description:
      slices.length === 1 ? description : `${description} (${i + 1} of ${slices.length})`,
    eventPattern: pattern(slice, slices.length === 1 || slice.some((value) => isPrefix.has(value))),
  }));
}

/** Execution ARNs of exactly the scoped state machines (execution ARNs carry the machine name). */
export function scopedExecutionArns(
  scope: Construct,
  config: RedriveConfig,
  executionArnPatterns: ReadonlyMap<string, string> = new Map(),
): string[] {
  return [
    ...config.stateMachineArns.map(
      (arn) => executionArnPatterns.get(arn) ?? `${arn.replace(':stateMachine:', ':execution:')}:*`,
    ),
    ...config.stateMachineNamePrefixes.map((prefix) => `${executionArnIn(scope, prefix)}*`),
  ];
}

/** What the handler needs: the policy and scope, not the infra-only processing, sweeper and key options. */
function runtimeConfig(config: RedriveConfig): RedriveHandlerConfig {
  const { processing: _processing, sweeper: _sweeper, kmsKeyArns: _kmsKeyArns, ...rest } = config;
  return rest;
}
