import { createHash } from 'node:crypto';
import { Annotations, Duration, Stack, TimeZone, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  type AppflowConfig,
  type AppflowHandlerConfig,
  DEFAULT_NOTICES,
  type FlowSchedule,
  type NoticesConfig,
  scheduledFlowsOf,
} from '../../lambda/shared/autoheal-config';
import {
  CONFIG_SECTION,
  DEFAULT_IDEMPOTENCY_KEY_PREFIX,
  ENV,
  FLOW_STARTER_SERVICE_NAME,
  type ScheduleTickInput,
} from '../../lambda/shared/contract';
import { shardId, shardValues } from '../limits/shards';
import { TEMPLATE_LIMITS } from '../limits/template-limits';
import { nagResourceFinding } from '../nag';
import { daylightSavingConflicts, daylightSavingWarning } from '../schedules/daylight-saving';
import { AutohealFunction } from './autoheal-function';
import { grantStartFlows } from './flow-permissions';
import { HEALING_STATE_ACTIONS, type HealingStateTable } from './healing-state-table';
import { type IdempotencyTable, keyPrefixEnvironment } from './idempotency-table';
import type { Notices } from './notices';

/**
 * A tick not started within this time is parked for a person rather than run
 * late: a nightly export that starts hours late may do more harm than good.
 */
const MAX_TICK_AGE = Duration.hours(1);

export interface ScheduledFlowsProps {
  /** The validated `appflow` config; one Scheduler schedule per entry of `schedules`. */
  readonly config: AppflowConfig;
  /** Where the starter records each flow it started in each tick. */
  readonly idempotencyTable: IdempotencyTable;
  /** Receives skip and failure notices. */
  readonly notices: Notices;
  /**
   * The installation's idempotency key prefix.
   * @default 'autoheal' (the app's)
   */
  readonly idempotencyKeyPrefix?: string;
  /**
   * The normalised `notices` section, for the notice digests.
   * @default - the defaults
   */
  readonly noticesConfig?: NoticesConfig;
  /**
   * The healing state table, where notices are counted into digests.
   * @default - none: one notice per failure
   */
  readonly stateTable?: HealingStateTable;
  /**
   * Name of the schedule group.
   * @default - a name CDK derives from the construct path, unique per installation
   */
  readonly scheduleGroupName?: string;
}

/**
 * Scheduled AppFlow runs: EventBridge Scheduler schedules (time-zone aware)
 * invoke the flow starter with the tick's flows and scheduled time; the
 * starter starts each OnDemand flow exactly once per tick.
 *
 * Nothing is dropped: a tick Scheduler cannot deliver, a tick that still fails
 * after Lambda's two retries, and a malformed tick all land in the dead-letter
 * queue, the last with its reason.
 *
 * @example
 * ```ts
 * new ScheduledFlows(this, 'ScheduledFlows', { config: appflowConfig, idempotencyTable, notices });
 * ```
 */
export class ScheduledFlows extends Construct {
  public readonly starter: AutohealFunction;
  public readonly schedules: scheduler.Schedule[];
  /**
   * Autoheal's own schedule group (the app's is `STACKNAME-flows`): its
   * schedules are easy to find, and the scheduler role trusts this group only.
   */
  public readonly scheduleGroup: scheduler.ScheduleGroup;
  /** Assumed by EventBridge Scheduler, for the schedules of {@link scheduleGroup} only, to invoke the starter. */
  public readonly schedulerRole: iam.Role;
  /** Ticks that could not be delivered, started or parsed. */
  public readonly deadLetterQueue: sqs.Queue;

  public constructor(scope: Construct, id: string, props: ScheduledFlowsProps) {
    super(scope, id);
    const { config, notices } = props;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the schedules and of the starter’s asynchronous invocations (an on-failure destination), which cdk-nag does not recognise as DLQ use.',
    });

    this.starter = new AutohealFunction(this, 'Starter', {
      entry: 'appflow/flow-starter.handler.ts',
      description: 'Autoheal: starts scheduled AppFlow flows, once per tick',
      serviceName: FLOW_STARTER_SERVICE_NAME,
      timeout: Duration.seconds(60),
      config: {
        [CONFIG_SECTION.appflow]: runtimeConfig(config),
        [CONFIG_SECTION.notices]: props.noticesConfig ?? DEFAULT_NOTICES,
      },
      environment: {
        [ENV.idempotencyTable]: props.idempotencyTable.table.tableName,
        [ENV.noticeTopicArn]: notices.topic.topicArn,
        ...keyPrefixEnvironment(props.idempotencyKeyPrefix ?? DEFAULT_IDEMPOTENCY_KEY_PREFIX),
        [ENV.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
      },
    });
    // Scheduler invokes asynchronously: Lambda retries a failed tick twice, then parks it here.
    this.starter.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: MAX_TICK_AGE,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });
    // In the order the starter lists them (scheduledFlowsOf): its scope roles' slices index that list.
    grantStartFlows(this.starter, scheduledFlowsOf(config), 'appflow.schedules');
    props.idempotencyTable.grantIdempotency(this.starter.function);
    notices.grantPublish(this.starter);
    props.stateTable?.grantItems(
      this.starter,
      HEALING_STATE_ACTIONS.digests,
      props.idempotencyKeyPrefix ?? DEFAULT_IDEMPOTENCY_KEY_PREFIX,
    );
    this.deadLetterQueue.grantSendMessages(this.starter.function);

    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'ScheduleGroup', {
      scheduleGroupName: props.scheduleGroupName,
    });
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'EventBridge Scheduler invokes the Autoheal flow starter',
      // Scheduler sends the schedule group's ARN as aws:SourceArn (its confused-deputy guide).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnEquals: { 'aws:SourceArn': this.scheduleGroup.scheduleGroupArn },
        },
      }),
    });
    this.schedules = config.schedules.flatMap((schedule) => this.schedulesOf(schedule));
    // The schedules name their group by its literal name, which alone does not order creation.
    for (const schedule of this.schedules) schedule.node.addDependency(this.scheduleGroup);
    Validations.of(this.schedulerRole).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[${nagResourceFinding(this, `${this.starter.function.functionArn}:*`)}]`,
      reason:
        'The Scheduler target grants invoke on the starter and its versions and aliases (the :* suffix); nothing else can be invoked with this role.',
    });
  }

  /**
   * The schedules of one config schedule: one whose input lists all its flows
   * when that input fits {@link TEMPLATE_LIMITS.scheduleInputChars}, else one
   * per slice of the flows, with the same expression, time zone and window.
   *
   * Each flow is in exactly one slice, and every slice's tick carries the same
   * `scheduledTime`, so the starter's key (flow and scheduled time) still
   * starts each flow once per tick. The first slice keeps the schedule's
   * logical id; on the deploy that splits a schedule, it is updated only
   * after the other slices exist (a dependency), so a tick in that window
   * reaches a flow through the old list and its new slice, and the key
   * starts it once, rather than through neither.
   */
  private schedulesOf(schedule: FlowSchedule): scheduler.Schedule[] {
    const slices = tickSlices(schedule);
    const created = slices.map((flows, i) =>
      this.scheduleOf(schedule, flows, {
        id: shardId(`Schedule-${schedule.name}`, i, SLICE_SEPARATOR),
        part: slices.length === 1 ? '' : ` (part ${i + 1} of ${slices.length} of ${schedule.name})`,
      }),
    );
    const [first, ...others] = created;
    for (const other of others) first.node.addDependency(other);
    warnOfDaylightSaving(first, schedule);
    return created;
  }

  private scheduleOf(
    schedule: FlowSchedule,
    flows: readonly string[],
    { id, part }: { id: string; part: string },
  ): scheduler.Schedule {
    return new scheduler.Schedule(this, id, {
      scheduleGroup: this.scheduleGroup,
      description: `Autoheal${part}: starts ${flows.join(', ')}`.slice(0, 512),
      schedule: scheduler.ScheduleExpression.expression(
        schedule.expression,
        TimeZone.of(schedule.timeZone),
      ),
      timeWindow:
        schedule.flexibleWindowMinutes > 0
          ? scheduler.TimeWindow.flexible(Duration.minutes(schedule.flexibleWindowMinutes))
          : scheduler.TimeWindow.off(),
      target: new schedulerTargets.LambdaInvoke(this.starter.function, {
        input: scheduler.ScheduleTargetInput.fromObject(tickInput(schedule, flows)),
        role: this.schedulerRole,
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 185,
        maxEventAge: MAX_TICK_AGE,
      }),
    });
  }
}

/**
 * Joins a schedule's construct id and its slice number; schedule names allow
 * only letters, digits, `-`, `_` and `.`, so no schedule's id can collide
 * with another's slice.
 */
const SLICE_SEPARATOR = '#part';

/**
 * The flows of `schedule` in consecutive slices, one Scheduler schedule each:
 * one slice when the tick's input fits {@link TEMPLATE_LIMITS.scheduleInputChars}.
 *
 * @example
 * tickSlices({ name: 'nightly', flows: ['crm-export'], ... }); // [['crm-export']]
 */
export function tickSlices(schedule: FlowSchedule): string[][] {
  return shardValues([...schedule.flows], {
    render: (flows) => tickInput(schedule, flows),
    maxChars: TEMPLATE_LIMITS.scheduleInputChars,
    what: "a schedule's input",
  });
}

/** What Scheduler passes the starter on each tick of `schedule`, for `flows`. */
function tickInput(schedule: FlowSchedule, flows: readonly string[]): ScheduleTickInput {
  return {
    schedule: schedule.name,
    scheduledTime: scheduler.ContextAttribute.scheduledTime,
    flows,
  };
}

/** CDK warning id of a schedule that a daylight-saving change skips or repeats; acknowledge it with this id. */
export const DAYLIGHT_SAVING_WARNING = '@autoheal/scheduled-flows:daylightSaving';

/** Warns at synth when a run of the next 12 months falls into a daylight-saving gap or repeat of the schedule's zone. */
function warnOfDaylightSaving(created: scheduler.Schedule, schedule: FlowSchedule): void {
  const conflicts = daylightSavingConflicts(schedule.expression, schedule.timeZone, {
    from: new Date(),
  });
  if (conflicts.length === 0) return;
  Annotations.of(created).addWarningV2(
    DAYLIGHT_SAVING_WARNING,
    daylightSavingWarning(schedule.name, schedule.expression, schedule.timeZone, conflicts),
  );
}

/** Schedule group names allow 64 characters; stack names 128. */
const MAX_SCHEDULE_GROUP_NAME = 64;

/**
 * The app's schedule group name, `STACKNAME-flows`: one group per installation (stack names are unique per
 * account and region, so two installations never share a group), found at a
 * glance in the Scheduler console. A stack name too long for a group name is
 * shortened and made unique again with a hash of it.
 */
export function appScheduleGroupName(stack: Stack): string | undefined {
  // A token stack name (a nested stack) cannot be measured: CDK's path-derived name instead.
  if (Token.isUnresolved(stack.stackName)) return undefined;
  const name = `${stack.stackName}-flows`;
  if (name.length <= MAX_SCHEDULE_GROUP_NAME) return name;
  const hash = createHash('sha256').update(stack.stackName).digest('hex').slice(0, 8);
  const suffix = `-${hash}-flows`;
  return `${stack.stackName.slice(0, MAX_SCHEDULE_GROUP_NAME - suffix.length)}${suffix}`;
}

/** What the starter needs: schedules and healing policy, not the healer's buffer options. */
function runtimeConfig(config: AppflowConfig): AppflowHandlerConfig {
  const { processing: _processing, ...rest } = config;
  return rest;
}
