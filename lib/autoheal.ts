import { createHash } from 'node:crypto';
import { Aws, type CfnElement, CfnOutput, Fn, Lazy, Stack, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  breakerEnabledAnywhere,
  type DashboardConfig,
  digestsEnabled,
} from '../lambda/shared/autoheal-config';
import {
  DEFAULT_IDEMPOTENCY_KEY_PREFIX,
  INSTALLATION_OUTPUT,
  type InstallationFunction,
} from '../lambda/shared/contract';
import { ConfigError } from '../lambda/shared/errors';
import type { AutohealProps } from './autoheal-props';

export * from './autoheal-props';

import { configFromProps } from './config-from-props';
import type { AutohealFunction } from './constructs/autoheal-function';
import { AutohealMonitoring, type WatchedDeadLetterQueue } from './constructs/autoheal-monitoring';
import { BrakeKeeper } from './constructs/brake-keeper';
import { ExecutionRedrive } from './constructs/execution-redrive';
import { FlowHealing } from './constructs/flow-healing';
import { HealingStateTable } from './constructs/healing-state-table';
import { IdempotencyTable } from './constructs/idempotency-table';
import { Notices } from './constructs/notices';
import { ScheduledFlows } from './constructs/scheduled-flows';
import { checkLimitsAtSynth } from './limits/template-limits';
import { warnUncheckedArns } from './unchecked-environment';

/**
 * Self-healing for Step Functions executions and AppFlow flows, in any stack:
 * failed executions are redriven, failed flow runs re-run and deactivated
 * flows re-activated, within the limits the props set.
 *
 * Props are validated at construction with the rules of the app's JSON config:
 * a bad value throws a one-line error naming the field as the JSON config
 * spells it (e.g. `Invalid Autoheal config at redrive.maxRedrives: ...`).
 * Two instances, in one stack or in two stacks of one account, share no
 * physical name and no idempotency key.
 *
 * @example
 * const sm = new sfn.StateMachine(this, 'Orders', { definitionBody });
 * new Autoheal(this, 'Heal', { redrive: { stateMachines: [sm] } });
 */
export class Autoheal extends Construct {
  /** Where give-up and skip notices and the alarms go (the one given, or Autoheal's own). */
  public readonly notificationTopic: sns.ITopic;
  /** The idempotency table: a record per failure acted on, and the healing state. */
  public readonly table: dynamodb.ITable;
  /**
   * The healing state table: storm brake state, held failures and notice
   * digests; present with every redrive path (its keeper re-sends what the
   * breaker holds, also after the breaker is switched off) and whenever notices
   * are digested (the default).
   */
  public readonly stateTable?: dynamodb.ITable;
  /** Every Lambda function Autoheal installs. */
  public readonly functions: lambda.IFunction[];
  /** Every EventBridge rule Autoheal installs (event rules and the sweeper's schedule). */
  public readonly rules: events.IRule[];
  /** The EventBridge Scheduler schedules of the AppFlow flows. */
  public readonly schedules: scheduler.ISchedule[];
  /** The redrive work queue; present when `redrive` is configured. */
  public readonly redriveWorkQueue?: sqs.IQueue;
  /** What the redrive path could not process, with a reason; present when `redrive` is configured. */
  public readonly redriveDeadLetterQueue?: sqs.IQueue;
  /** The flow healer's work queue; present when `appflow` is configured. */
  public readonly flowHealerWorkQueue?: sqs.IQueue;
  /** What the flow healer could not process; present when `appflow` is configured. */
  public readonly flowHealerDeadLetterQueue?: sqs.IQueue;
  /** Schedule ticks that could not be delivered or started; present when `appflow` has schedules. */
  public readonly flowStarterDeadLetterQueue?: sqs.IQueue;
  /** Prefix of this installation's idempotency record keys. */
  public readonly idempotencyKeyPrefix: string;

  /** The schedule group of the AppFlow schedules; present when `appflow` has schedules. */
  public readonly scheduleGroup?: scheduler.IScheduleGroup;
  /** Every alarm Autoheal installs (dead letters, function errors); each notifies the topic. */
  public readonly alarms: cloudwatch.IAlarm[];
  /** The CloudWatch dashboard; absent when `dashboard.enabled` is false. */
  public readonly dashboard?: cloudwatch.Dashboard;

  /**
   * The building blocks, for this package's own tests and the app. Internal:
   * their props carry the normalised config, which is not a jsii type.
   * @internal
   */
  public readonly _notices: Notices;
  /** @internal */
  public readonly _idempotencyTable: IdempotencyTable;
  /** @internal */
  public readonly _redrive?: ExecutionRedrive;
  /** @internal */
  public readonly _scheduledFlows?: ScheduledFlows;
  /** @internal */
  public readonly _flowHealing?: FlowHealing;
  /** @internal */
  public readonly _healingStateTable?: HealingStateTable;
  /** @internal */
  public readonly _brakeKeeper?: BrakeKeeper;
  /** @internal */
  public readonly _monitoring: AutohealMonitoring;

  public constructor(scope: Construct, id: string, props: AutohealProps) {
    super(scope, id);
    const { config, executionArnPatterns } = configFromProps(this, props);
    this.idempotencyKeyPrefix = props.idempotencyKeyPrefix ?? defaultKeyPrefix(this);
    const keyPrefix = this.idempotencyKeyPrefix;
    this._notices = new Notices(this, 'Notices', {
      topic: props.notificationTopic,
      encryptionKey: props.encryptionKey,
    });
    this.notificationTopic = this._notices.topic;
    this._idempotencyTable = new IdempotencyTable(this, 'Idempotency', {
      encryptionKey: props.encryptionKey,
    });
    this.table = this._idempotencyTable.table;
    const noticesConfig = config.notices;
    // The handlers use the table while a breaker or digests are on. The table and its keeper stay
    // with every redrive path even when both are off: failures held before the breaker was
    // switched off are then re-sent by the keeper, never dropped with the table.
    const handlersNeedState =
      (config.redrive !== undefined && breakerEnabledAnywhere(config.redrive)) ||
      digestsEnabled(noticesConfig);
    if (handlersNeedState || config.redrive) {
      this._healingStateTable = new HealingStateTable(this, 'HealingState', {
        encryptionKey: props.encryptionKey,
      });
      this.stateTable = this._healingStateTable.table;
    }
    const stateTable = handlersNeedState ? this._healingStateTable : undefined;
    const operatorPrincipalArns = config.operators?.principalArns ?? [];
    refuseOperatorsElsewhere(this, operatorPrincipalArns);
    const handlers: AutohealFunction[] = [];
    const rules: events.IRule[] = [];
    const queues: sqs.Queue[] = [];
    if (config.redrive) {
      this._redrive = new ExecutionRedrive(this, 'Redrive', {
        config: config.redrive,
        operatorPrincipalArns,
        idempotencyTable: this._idempotencyTable,
        notices: this._notices,
        executionArnPatterns,
        idempotencyKeyPrefix: keyPrefix,
        noticesConfig,
        stateTable,
      });
      const { buffer, sweeper } = this._redrive;
      this.redriveWorkQueue = buffer.workQueue;
      this.redriveDeadLetterQueue = buffer.deadLetterQueue;
      queues.push(buffer.workQueue, buffer.deadLetterQueue);
      rules.push(...buffer.rules, ...(sweeper ? [sweeper.schedule] : []));
      handlers.push(
        this._redrive.handler,
        this._redrive.liveHealingClock.handler,
        ...(sweeper ? [sweeper.handler] : []),
      );
      new CfnOutput(this, 'RedriveDeadLetterQueueUrl', {
        description:
          'Step Functions events Autoheal could not process, each with its autoheal-parked-reason',
        value: this._redrive.buffer.deadLetterQueue.queueUrl,
      });
    }
    const { appflow } = config;
    if (appflow) {
      const shared = {
        config: appflow,
        idempotencyTable: this._idempotencyTable,
        notices: this._notices,
        idempotencyKeyPrefix: keyPrefix,
        noticesConfig,
        stateTable,
      };
      if (appflow.schedules.length > 0) {
        this._scheduledFlows = new ScheduledFlows(this, 'ScheduledFlows', {
          ...shared,
          scheduleGroupName: props.scheduleGroupName,
        });
        this.flowStarterDeadLetterQueue = this._scheduledFlows.deadLetterQueue;
        queues.push(this._scheduledFlows.deadLetterQueue);
        handlers.push(this._scheduledFlows.starter);
        new CfnOutput(this, 'FlowStarterDeadLetterQueueUrl', {
          description: 'Schedule ticks Autoheal could not deliver, start or parse',
          value: this._scheduledFlows.deadLetterQueue.queueUrl,
        });
      }
      this._flowHealing = new FlowHealing(this, 'FlowHealing', {
        ...shared,
        operatorPrincipalArns,
      });
      const { buffer } = this._flowHealing;
      this.flowHealerWorkQueue = buffer.workQueue;
      this.flowHealerDeadLetterQueue = buffer.deadLetterQueue;
      queues.push(buffer.workQueue, buffer.deadLetterQueue);
      rules.push(...buffer.rules);
      handlers.push(this._flowHealing.healer);
      new CfnOutput(this, 'FlowHealerDeadLetterQueueUrl', {
        description:
          'AppFlow events Autoheal could not process, each with its autoheal-parked-reason',
        value: this._flowHealing.buffer.deadLetterQueue.queueUrl,
      });
    }
    if (this._healingStateTable) {
      this._brakeKeeper = new BrakeKeeper(this, 'BrakeKeeper', {
        stateTable: this._healingStateTable,
        notices: this._notices,
        noticesConfig,
        redrive: this._redrive,
        idempotencyKeyPrefix: keyPrefix,
      });
      handlers.push(this._brakeKeeper.handler);
      rules.push(this._brakeKeeper.schedule);
    }
    this.functions = handlers.map((handler) => handler.function);
    this.rules = rules;
    this.schedules = this._scheduledFlows?.schedules ?? [];
    this.scheduleGroup = this._scheduledFlows?.scheduleGroup;
    this._monitoring = new AutohealMonitoring(this, 'Monitoring', {
      functions: handlers,
      deadLetterQueues: this.watchedDeadLetterQueues(),
      alarmTopic: this._notices.topic,
      // Not the idempotency key prefix: a user may give two installations the same one.
      alarmNamePrefix: defaultKeyPrefix(this),
      dashboardName: dashboardNameOf(this, config.dashboard, props.dashboard?.name),
      sections: {
        redrive: this._redrive !== undefined,
        breaker: config.redrive !== undefined && breakerEnabledAnywhere(config.redrive),
        sweeper: this._redrive?.sweeper !== undefined,
        flowStarter: this._scheduledFlows !== undefined,
        flowHealer: this._flowHealing !== undefined,
      },
      queryFolder: Fn.join('/', [Aws.STACK_NAME, this.node.id]),
    });
    this.alarms = this._monitoring.alarms;
    this.dashboard = this._monitoring.dashboard;

    if (props.removalPolicy !== undefined) {
      this._idempotencyTable.table.applyRemovalPolicy(props.removalPolicy);
      this._healingStateTable?.table.applyRemovalPolicy(props.removalPolicy);
      for (const queue of queues) queue.applyRemovalPolicy(props.removalPolicy);
    }
    if (props.logRetention !== undefined) applyLogRetention(this, props.logRetention);

    // Every size limit CloudFormation, EventBridge, IAM, Scheduler and Lambda enforce at deploy, checked at synth.
    checkLimitsAtSynth(this);

    if (this.dashboard) {
      new CfnOutput(this, 'DashboardUrl', {
        description: "Autoheal's CloudWatch dashboard",
        value: `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${this.dashboard.dashboardName}`,
      });
    }
    new CfnOutput(this, 'NoticeTopicArn', {
      description: 'Subscribe here to hear when Autoheal gives up or skips a failure',
      value: this._notices.topic.topicArn,
    });
    installationOutput(this, {
      redrive: this._redrive?.handler,
      sweeper: this._redrive?.sweeper?.handler,
      flowStarter: this._scheduledFlows?.starter,
      flowHealer: this._flowHealing?.healer,
      brakeKeeper: this._brakeKeeper?.handler,
    });
  }

  /** The dead-letter queues installed, each with what its alarm tells the person it pages. */
  private watchedDeadLetterQueues(): WatchedDeadLetterQueue[] {
    const buffers = [this._redrive?.buffer, this._flowHealing?.buffer].filter(
      (buffer) => buffer !== undefined,
    );
    const watched: WatchedDeadLetterQueue[] = buffers.map((buffer) => ({
      purpose: buffer.purpose,
      deadLetterQueue: buffer.deadLetterQueue,
      workQueue: buffer.workQueue,
      alarmDescription: `Autoheal (${buffer.purpose}) parked events it could not process. Read the autoheal-parked-reason attribute of the messages in the dead-letter queue.`,
    }));
    if (this._scheduledFlows) {
      watched.push({
        purpose: 'flow starter',
        deadLetterQueue: this._scheduledFlows.deadLetterQueue,
        alarmDescription:
          'Autoheal (flow starter) parked a schedule tick. Read the message: a Lambda failure record carries the error, a parked tick its autoheal-parked-reason.',
      });
    }
    return watched;
  }
}

/**
 * The dashboard's name, or none when it is turned off. The default joins the
 * stack name (unique per account and region), the region (dashboards are
 * global to the account) and the installation's hash (two in one stack).
 * The name was validated with the props (`dashboard.name`).
 */
function dashboardNameOf(
  scope: Construct,
  options: DashboardConfig,
  givenName: string | undefined,
): string | undefined {
  if (!options.enabled) return undefined;
  // The given name, not the config's: the config leaves out a token name, which it cannot check.
  return givenName ?? Fn.join('-', [Aws.STACK_NAME, Aws.REGION, defaultKeyPrefix(scope)]);
}

/**
 * The output the operator CLI finds the installation by (see
 * {@link INSTALLATION_OUTPUT}): its functions by logical id, a plain string
 * (logical ids are known at synth), one per Autoheal construct.
 */
function installationOutput(
  scope: Construct,
  functions: Readonly<Record<InstallationFunction, AutohealFunction | undefined>>,
): void {
  const stack = Stack.of(scope);
  // Lazy: a logical id overridden after construction is the one written.
  const logicalIds = () =>
    Object.entries(functions).flatMap(([role, fn]) =>
      fn ? [[role, stack.resolve((fn.function.node.defaultChild as CfnElement).logicalId)]] : [],
    );
  new CfnOutput(scope, INSTALLATION_OUTPUT.id, {
    description: `${INSTALLATION_OUTPUT.descriptionPrefix} ${scope.node.path}: its functions, for the autoheal CLI`,
    value: Lazy.string({
      produce: () =>
        JSON.stringify({
          kind: INSTALLATION_OUTPUT.kind,
          version: INSTALLATION_OUTPUT.version,
          path: scope.node.path,
          functions: Object.fromEntries(logicalIds()),
        }),
    }),
  });
}

/**
 * `autoheal-` and 8 hex characters of the stack name and construct path:
 * stable across deploys, distinct for every installation in an account and
 * region (stack names are unique there, construct paths within a stack).
 */
function defaultKeyPrefix(scope: Construct): string {
  const stack = Stack.of(scope);
  const stackName = Token.isUnresolved(stack.stackName) ? stack.node.path : stack.stackName;
  const hash = createHash('sha256').update(`${stackName}/${scope.node.path}`).digest('hex');
  const prefix = `${DEFAULT_IDEMPOTENCY_KEY_PREFIX}-${hash.slice(0, 8)}`;
  return prefix;
}

/**
 * Sets the retention of every log group of the installation (the functions'
 * and the custom resource provider's). Done on the finished tree, so every
 * log group, whoever created it, gets the one setting.
 */
function applyLogRetention(scope: Construct, retention: logs.RetentionDays): void {
  for (const child of scope.node.findAll()) {
    if (!(child instanceof logs.CfnLogGroup)) continue;
    child.retentionInDays = retention === logs.RetentionDays.INFINITE ? undefined : retention;
  }
}

/**
 * Refuses, when the stack's account is known, an operator of another account:
 * the work queues' policy exempts principals by ARN, and a principal of
 * another account could not send to them anyway. Unknown (an
 * environment-agnostic stack): a synth warning says so instead.
 */
function refuseOperatorsElsewhere(scope: Construct, principalArns: readonly string[]): void {
  const known = warnUncheckedArns(scope, {
    field: 'operators.principalArns',
    count: principalArns.length,
    against: ['account'],
    consequence:
      "in each deployed instance, a principal of another account is exempt from the work queues' deny but cannot send to them without that account's own grant",
  });
  if (!known.includes('account')) return;
  const stack = Stack.of(scope);
  principalArns.forEach((arn, i) => {
    if (Token.isUnresolved(arn)) return;
    const account = arn.split(':')[4];
    if (account === stack.account) return;
    throw new ConfigError(
      `operators.principalArns[${i}]`,
      `is in account ${account}, but this stack deploys to account ${stack.account}; name roles or users of the stack's own account`,
    );
  });
}
