/**
 * The public, jsii-compatible props of the {@link Autoheal} construct.
 *
 * Every option mirrors a field of the app's JSON config (see the README's
 * config reference) and is validated by the same rules: a bad value fails
 * construction with a one-line error that names the field as the JSON config
 * spells it (`redrive.delay.capSeconds`, `appflow.schedules[0].expression`).
 */
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';

/** Terminal execution statuses Autoheal may redrive. */
export enum RedrivableStatus {
  /** The execution failed. */
  FAILED = 'FAILED',
  /** The execution timed out. */
  TIMED_OUT = 'TIMED_OUT',
  /** Someone stopped the execution; redriven only when listed. */
  ABORTED = 'ABORTED',
}

/**
 * Which errors are worth a redrive. Entries are exact error names or globs (`*`, `?`).
 *
 * @example
 * const errors: RedriveErrorFilter = { allow: ['Lambda.*', 'States.Timeout'] };
 */
export interface RedriveErrorFilter {
  /**
   * Errors never redriven; checked first.
   * @example ['States.Runtime', 'States.DataLimitExceeded', 'Orders.InvalidInput']
   * @default - the deterministic `States.*` errors (`States.Runtime`, `States.DataLimitExceeded`, ...)
   */
  readonly deny?: string[];
  /**
   * When non-empty, only errors matching an entry are redriven.
   * @example ['Lambda.*', 'States.Timeout']
   * @default - every error that is not denied
   */
  readonly allow?: string[];
}

/**
 * How long to wait before an attempt: `min(maxDelay, baseDelay × factor^attempt)`,
 * shortened by up to `jitterRatio` of itself. Durations are whole seconds, at most 12 hours.
 *
 * @example
 * const delay: BackoffDelay = { baseDelay: Duration.minutes(2), factor: 2, maxDelay: Duration.hours(1) };
 */
export interface BackoffDelay {
  /**
   * Delay before the first attempt (JSON `baseSeconds`).
   * @example Duration.minutes(2)
   * @default - 1 minute for redrives, 5 minutes for AppFlow re-runs
   */
  readonly baseDelay?: Duration;
  /**
   * Multiplier per further attempt, 1-10.
   * @example 2
   * @default - 4 for redrives, 2 for AppFlow re-runs
   */
  readonly factor?: number;
  /**
   * Upper bound of any delay, at least `baseDelay` (JSON `capSeconds`).
   * @example Duration.minutes(30)
   * @default Duration.hours(1)
   */
  readonly maxDelay?: Duration;
  /**
   * Fraction (0-1) of a delay that jitter may take off; 0 disables jitter.
   * @example 0.1
   * @default 0.2
   */
  readonly jitterRatio?: number;
}

/**
 * The storm brake: a circuit breaker per state machine. When redriven
 * executions keep failing again (relapses) the breaker opens: no more
 * redrives for that state machine, its failures are held (not lost, not
 * counted as attempts) and one `breaker-opened` notice is sent. After a
 * cool-down, a few held failures are redriven as probes; if they succeed the
 * breaker closes and the held backlog is redriven, otherwise it opens again
 * with a longer cool-down. Times are whole minutes, at most 1 day.
 *
 * @example
 * const breaker: RedriveBreakerOptions = { minRelapses: 10, cooldown: Duration.minutes(10) };
 */
export interface RedriveBreakerOptions {
  /**
   * Install the brake for these state machines.
   * @example false
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Sliding window of settled redrives the breaker counts (JSON `windowMinutes`).
   * @example Duration.minutes(15)
   * @default Duration.minutes(10)
   */
  readonly window?: Duration;
  /**
   * Relapses (redriven executions that failed again) within the window needed to open, 1-10000.
   * @example 50
   * @default 20
   */
  readonly minRelapses?: number;
  /**
   * Share of relapses among the window's settled redrives needed to open, above 0 and at most 1.
   * @example 0.9
   * @default 0.8
   */
  readonly relapseRatio?: number;
  /**
   * Wait of an opened breaker before its probes (JSON `cooldownMinutes`).
   * @example Duration.minutes(10)
   * @default Duration.minutes(5)
   */
  readonly cooldown?: Duration;
  /**
   * Growth of the cool-down on each re-open, 1-10.
   * @example 3
   * @default 2
   */
  readonly cooldownFactor?: number;
  /**
   * Longest cool-down, at least `cooldown` (JSON `maxCooldownMinutes`).
   * @example Duration.hours(2)
   * @default Duration.minutes(60)
   */
  readonly maxCooldown?: Duration;
  /**
   * Held failures redriven (oldest first) when the cool-down ends, 1-50.
   * @example 5
   * @default 3
   */
  readonly probes?: number;
}

/**
 * How give-up, skip and breaker notices (redrive and AppFlow) are sent in a
 * storm: the first `immediateNotices` of each (state machine or flow, kind,
 * reason) at once, the rest counted into one digest per window.
 *
 * @example
 * const notices: NoticeOptions = { digestWindow: Duration.minutes(30), digestExamples: 5 };
 */
export interface NoticeOptions {
  /**
   * Digest window: whole minutes, at most 1 day; `Duration.minutes(0)` turns
   * digests off (one notice per failure) (JSON `digestWindowMinutes`).
   * @example Duration.minutes(30)
   * @default Duration.minutes(15)
   */
  readonly digestWindow?: Duration;
  /**
   * Notices of one (state machine or flow, kind, reason) sent at once in each window, 1-1000.
   * @example 3
   * @default 1
   */
  readonly immediateNotices?: number;
  /**
   * Example execution ARNs or flow run ids a digest lists, 0-100.
   * @example 5
   * @default 10
   */
  readonly digestExamples?: number;
}

/**
 * How failures of state machines are redriven. Every option left out keeps
 * the value of the level above (the defaults, or the `redrive` options for an override).
 *
 * @example
 * const policy: RedrivePolicyOptions = { maxRedrives: 5, statuses: [RedrivableStatus.FAILED] };
 */
export interface RedrivePolicyOptions {
  /**
   * Execution statuses to redrive.
   * @example [RedrivableStatus.FAILED, RedrivableStatus.ABORTED]
   * @default [RedrivableStatus.FAILED, RedrivableStatus.TIMED_OUT]
   */
  readonly statuses?: RedrivableStatus[];
  /**
   * Redrives per execution, 0-100; at this count Autoheal gives up and sends a notice.
   * @example 5
   * @default 3
   */
  readonly maxRedrives?: number;
  /**
   * Which errors are redriven.
   * @example { allow: ['Lambda.*'] }
   * @default - deny the deterministic `States.*` errors, allow the rest
   */
  readonly errors?: RedriveErrorFilter;
  /**
   * Delay before each redrive, counted from the end of the failed execution.
   * @example { baseDelay: Duration.minutes(5), maxDelay: Duration.hours(2) }
   * @default - base 1 minute, factor 4, cap 1 hour, jitter 0.2
   */
  readonly delay?: BackoffDelay;
  /**
   * Decide, log and count, but never call RedriveExecution.
   * @example true
   * @default false
   */
  readonly observeOnly?: boolean;
  /**
   * The storm brake. In an override, the options set replace those of the
   * `redrive` options for that state machine only. With `observeOnly`, the
   * breaker is computed and reported but holds nothing.
   * @example { cooldown: Duration.minutes(10), probes: 5 }
   * @default - enabled: opens at 20 relapses making 80 % of 10 minutes' settled redrives; cool-down 5 minutes, ×2 per re-open, at most 60; 3 probes
   */
  readonly breaker?: RedriveBreakerOptions;
}

/**
 * How an event buffer (SQS work queue → Lambda) is consumed.
 *
 * @example
 * const processing: EventProcessingOptions = { maxConcurrency: 2 };
 */
export interface EventProcessingOptions {
  /**
   * Messages per Lambda invocation, 1-10.
   * @example 5
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * Most concurrent invocations draining the queue, 2-1000: the brake on a storm.
   * @example 2
   * @default 5
   */
  readonly maxConcurrency?: number;
  /**
   * Receives of one message before it is parked in the dead-letter queue, 2-100.
   * @example 10
   * @default 5
   */
  readonly maxReceiveCount?: number;
}

/**
 * The sweeper: a scheduled ListExecutions that feeds the redrive path the
 * failures whose (best-effort) Step Functions event never arrived.
 *
 * @example
 * const sweeper: RedriveSweeperOptions = { period: Duration.minutes(30), lookback: Duration.hours(6) };
 */
export interface RedriveSweeperOptions {
  /**
   * Install the sweeper.
   * @example false
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Time between two sweeps: whole minutes, 5 minutes to 1 day (JSON `periodMinutes`).
   * @example Duration.minutes(30)
   * @default Duration.minutes(60)
   */
  readonly period?: Duration;
  /**
   * How far back a sweep looks, by execution start: whole hours, 1-336, longer
   * than `period` (JSON `lookbackHours`).
   * @example Duration.hours(6)
   * @default Duration.hours(24)
   */
  readonly lookback?: Duration;
  /**
   * Most Step Functions list calls per second, above 0 and at most 2.
   * @example 0.5
   * @default 1
   */
  readonly requestsPerSecond?: number;
}

/**
 * Auto-redrive of failed Step Functions executions. Scope with at least one
 * of `stateMachines`, `stateMachineArns` and `stateMachineNamePrefixes`.
 *
 * @example
 * const redrive: RedriveOptions = {
 *   stateMachines: [ordersStateMachine],
 *   stateMachineNamePrefixes: ['billing-'],
 *   maxRedrives: 5,
 *   overrides: { 'billing-nightly': { observeOnly: true } },
 * };
 */
export interface RedriveOptions extends RedrivePolicyOptions {
  /**
   * State machines in scope, as CDK objects. Their ARNs may be tokens: they are
   * resolved at deploy, in the rule, the IAM policies and the handler's config.
   * @example [ordersStateMachine]
   * @default - none
   */
  readonly stateMachines?: sfn.IStateMachine[];
  /**
   * State machines in scope, by exact ARN, of this stack's account and region.
   * Token ARNs (imports) are accepted; literal ARNs are checked.
   * @example ['arn:aws:states:eu-west-1:123456789012:stateMachine:orders', Fn.importValue('BillingStateMachineArn')]
   * @default - none
   */
  readonly stateMachineArns?: string[];
  /**
   * State machines in scope, by name prefix, in this stack's account and region.
   * @example ['billing-', 'etl-']
   * @default - none
   */
  readonly stateMachineNamePrefixes?: string[];
  /**
   * Policy overrides keyed by state machine name; each names a machine in scope.
   * @example { 'billing-close': { statuses: [RedrivableStatus.FAILED, RedrivableStatus.ABORTED], maxRedrives: 1 } }
   * @default - none
   */
  readonly overrides?: { [stateMachineName: string]: RedrivePolicyOptions };
  /**
   * How the redrive work queue is consumed.
   * @example { maxConcurrency: 2 }
   * @default - batches of 10, at most 5 concurrent, parked after 5 receives
   */
  readonly processing?: EventProcessingOptions;
  /**
   * The sweeper.
   * @example { period: Duration.minutes(30), lookback: Duration.hours(6) }
   * @default - enabled, every hour, looking back 24 hours
   */
  readonly sweeper?: RedriveSweeperOptions;
  /**
   * Customer managed KMS keys that encrypt scoped state machines: the redrive
   * handler gets kms:Decrypt on them, for the scoped state machines only.
   * @example [ordersKey]
   * @default - none
   */
  readonly kmsKeys?: kms.IKey[];
  /**
   * The same as `kmsKeys`, by key ARN (not an alias).
   * @example ['arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab']
   * @default - none
   */
  readonly kmsKeyArns?: string[];
}

/**
 * One schedule that starts OnDemand AppFlow flows.
 *
 * @example
 * const nightly: FlowScheduleOptions = {
 *   name: 'nightly',
 *   schedule: scheduler.ScheduleExpression.cron({ minute: '0', hour: '2', timeZone: TimeZone.EUROPE_BERLIN }),
 *   flows: ['crm-export'],
 * };
 */
export interface FlowScheduleOptions {
  /**
   * Unique name of the schedule: 1-48 letters, digits, `-`, `_` or `.`.
   * @example 'nightly'
   */
  readonly name: string;
  /**
   * When the flows start: a `cron(...)` or `rate(...)` expression, with its
   * time zone (`ScheduleExpression.cron({ ..., timeZone })`). One-time `at(...)` schedules are refused.
   * @example scheduler.ScheduleExpression.cron({ minute: '0', hour: '4', timeZone: TimeZone.EUROPE_BERLIN })
   */
  readonly schedule: scheduler.ScheduleExpression;
  /**
   * Window within which Scheduler may start the tick, to spread load: whole minutes, at most 1 day.
   * @example Duration.minutes(15)
   * @default - none: the tick runs on time
   */
  readonly flexibleWindow?: Duration;
  /**
   * OnDemand flows started at each tick, by name (a `@cdklabs/cdk-appflow`
   * flow gives its name as `flow.name`).
   * @example ['crm-export', 'erp-export']
   */
  readonly flows: string[];
}

/**
 * How failed AppFlow runs and deactivated flows are healed.
 *
 * @example
 * const healing: FlowHealingOptions = { maxReruns: 1, reactivateDeactivated: false };
 */
export interface FlowHealingOptions {
  /**
   * Re-run an OnDemand flow whose run failed.
   * @example false
   * @default true
   */
  readonly rerunFailedRuns?: boolean;
  /**
   * Re-runs per original failed run, 0-10; then Autoheal gives up and sends a notice.
   * @example 1
   * @default 2
   */
  readonly maxReruns?: number;
  /**
   * Delay before each re-run, counted from the end of the failed run.
   * @example { baseDelay: Duration.minutes(10), factor: 3 }
   * @default - base 5 minutes, factor 2, cap 1 hour, jitter 0.2
   */
  readonly delay?: BackoffDelay;
  /**
   * Re-activate a scheduled flow that AppFlow deactivated after repeated failures.
   * @example false
   * @default true
   */
  readonly reactivateDeactivated?: boolean;
  /**
   * Wait after a deactivation before re-activating: whole minutes, at most 1 day
   * (JSON `reactivationCooldownMinutes`).
   * @example Duration.minutes(10)
   * @default Duration.minutes(30)
   */
  readonly reactivationCooldown?: Duration;
  /**
   * Re-activations of one flow within the window, 0-100; beyond, Autoheal gives up.
   * @example 5
   * @default 3
   */
  readonly maxReactivations?: number;
  /**
   * Window re-activations are counted in: whole hours, 1-720 (JSON `reactivationWindowHours`).
   * @example Duration.hours(12)
   * @default Duration.hours(24)
   */
  readonly reactivationWindow?: Duration;
}

/**
 * Scheduled AppFlow runs and their healing. List at least one schedule or healed flow.
 *
 * Flows are named, not passed as `@cdklabs/cdk-appflow` objects: that library
 * pins alpha modules of an older aws-cdk-lib, so it cannot be a peer
 * dependency, and a structural flow interface would not cross jsii's
 * language bindings. Pass `flow.name`.
 *
 * @example
 * const appflow: AppflowOptions = {
 *   schedules: [{ name: 'nightly', schedule: scheduler.ScheduleExpression.expression('cron(0 2 * * ? *)'), flows: ['crm-export'] }],
 *   healedFlows: ['salesforce-sync'],
 * };
 */
export interface AppflowOptions {
  /**
   * Schedules that start OnDemand flows.
   * @example [{ name: 'nightly', schedule: scheduler.ScheduleExpression.expression('cron(0 4 * * ? *)', TimeZone.EUROPE_BERLIN), flows: ['crm-export'] }]
   * @default - none
   */
  readonly schedules?: FlowScheduleOptions[];
  /**
   * Flows healed besides the scheduled ones, e.g. flows AppFlow itself runs on a schedule.
   * @example ['salesforce-sync']
   * @default - none
   */
  readonly healedFlows?: string[];
  /**
   * How failed runs and deactivated flows are healed.
   * @example { maxReruns: 1, reactivateDeactivated: false }
   * @default - see {@link FlowHealingOptions}
   */
  readonly healing?: FlowHealingOptions;
  /**
   * Flows of one tick started at the same time, 1-50.
   * @example 10
   * @default 5
   */
  readonly maxConcurrentStarts?: number;
  /**
   * How the flow healer's work queue is consumed.
   * @example { batchSize: 1 }
   * @default - batches of 10, at most 5 concurrent, parked after 5 receives
   */
  readonly processing?: EventProcessingOptions;
}

/**
 * The CloudWatch dashboard of an installation. Its alarms and saved Logs
 * Insights queries are created either way.
 *
 * @example
 * const dashboard: DashboardOptions = { name: 'orders-autoheal' };
 */
export interface DashboardOptions {
  /**
   * Create the dashboard.
   * @example false
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Name of the dashboard: 1-255 letters, digits, `-` and `_`, unique in the
   * account (dashboards are not regional).
   * @example 'orders-autoheal'
   * @default - the stack name, the region and `autoheal-` with a hash of the stack name and construct path
   */
  readonly name?: string;
}

/**
 * Props of {@link Autoheal}. Configure `redrive`, `appflow`, or both.
 *
 * @example
 * new Autoheal(this, 'Heal', {
 *   redrive: { stateMachines: [ordersStateMachine] },
 *   notificationTopic: opsTopic,
 *   logRetention: logs.RetentionDays.THREE_MONTHS,
 * });
 */
export interface AutohealProps {
  /**
   * Auto-redrive of Step Functions executions.
   * @example { stateMachines: [ordersStateMachine], maxRedrives: 5 }
   * @default - not installed
   */
  readonly redrive?: RedriveOptions;
  /**
   * Scheduled AppFlow runs and their healing.
   * @example { healedFlows: ['salesforce-sync'] }
   * @default - not installed
   */
  readonly appflow?: AppflowOptions;
  /**
   * How give-up, skip and breaker notices are sent in a storm (digests).
   * @example { digestWindow: Duration.minutes(30) }
   * @default - the first notice of each (state machine or flow, kind, reason) at once, the rest in one digest per 15 minutes with up to 10 examples
   */
  readonly notices?: NoticeOptions;
  /**
   * Where give-up and skip notices and the alarms go. Autoheal adds the
   * statement that lets CloudWatch alarms of this account and region publish
   * when it can change the topic's policy; for an imported topic it warns at
   * synth, and the topic's owner must add it (and, for an encrypted topic,
   * allow `cloudwatch.amazonaws.com` to use the key).
   * @example new sns.Topic(this, 'OpsNotices')
   * @default - a topic of its own, encrypted with `encryptionKey` or a key of its own
   */
  readonly notificationTopic?: sns.ITopic;
  /**
   * Customer managed key for Autoheal's own notice topic, idempotency table
   * and healing state table. The work and dead-letter queues stay SQS-managed
   * encrypted.
   * @example new kms.Key(this, 'AutohealKey', { enableKeyRotation: true })
   * @default - a key of its own for the topic; the AWS managed key `aws/dynamodb` for the tables
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * How long the functions' logs are kept.
   * @example logs.RetentionDays.THREE_MONTHS
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the idempotency table, the healing state table and the queues when they leave the stack.
   * @example RemovalPolicy.RETAIN
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * IAM roles and users (exact ARNs, of this stack's account) that may send to
   * the work queues by hand, e.g. to replay a dead-letter queue; everyone else
   * but Autoheal is denied (JSON `operators.principalArns`).
   * @example ['arn:aws:iam::123456789012:role/ops']
   * @default - nobody but Autoheal
   */
  readonly operatorPrincipalArns?: string[];
  /**
   * Prefix of the idempotency records' keys. Two installations never share a
   * prefix unless told to.
   * @example 'autoheal-orders'
   * @default - `autoheal-` and a hash of the stack name and construct path
   */
  readonly idempotencyKeyPrefix?: string;
  /**
   * The CloudWatch dashboard (outcomes, skips by reason, breaker state,
   * dead-letter queues, functions, sweeper, AppFlow), output as `DashboardUrl`.
   * @example { name: 'orders-autoheal' }
   * @default - a dashboard named after the stack, the region and the installation
   */
  readonly dashboard?: DashboardOptions;
  /**
   * Name of the EventBridge Scheduler group of the AppFlow schedules.
   * @example 'orders-autoheal-flows'
   * @default - a name CDK derives from the stack and construct path, unique per installation
   */
  readonly scheduleGroupName?: string;
}
