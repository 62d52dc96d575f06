import { Duration, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { RedriveConfig, SweeperHandlerConfig } from '../../lambda/shared/autoheal-config';
import {
  CONFIG_SECTION,
  DEFAULT_IDEMPOTENCY_KEY_PREFIX,
  ENV,
  SWEEPER_SERVICE_NAME,
} from '../../lambda/shared/contract';
import { nagResourceFinding } from '../nag';
import { AutohealFunction } from './autoheal-function';
import type { EventBuffer } from './event-buffer';
import { type IdempotencyTable, keyPrefixEnvironment } from './idempotency-table';
import type { LiveHealingClock } from './live-healing-clock';
import { scopedStateMachineArns, stateMachinePrefixPatterns } from './state-machine-arns';

/**
 * The sweeper's timeout. It stops listing well before it (see the handler's
 * deadline margin), and it is never longer than the shortest period (5 min), so
 * two sweeps do not overlap.
 */
const SWEEP_TIMEOUT = Duration.minutes(5);

export interface ExecutionSweeperProps {
  /** The validated redrive config: scope, policies and the `sweeper` options. */
  readonly config: RedriveConfig;
  /** The redrive buffer whose work queue the sweeper feeds (it is not its consumer). */
  readonly buffer: EventBuffer;
  /** The redrive path's idempotency table: the sweeper only reads it. */
  readonly idempotencyTable: IdempotencyTable;
  /**
   * Since when each scoped state machine has been under live healing: the
   * {@link LiveHealingClock}'s `liveSince` (older failures are not enqueued).
   */
  readonly liveSince: string;
  /**
   * What the sweeper's error alarm does.
   * @default - the alarm only changes state
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
  /**
   * The installation's idempotency key prefix: the sweeper reads the redrive handler's records.
   * @default 'autoheal' (the app's)
   */
  readonly idempotencyKeyPrefix?: string;
}

/**
 * The sweeper: every `periodMinutes` it lists the failed executions of the
 * scoped state machines (ListExecutions, paced) and puts the failures the
 * redrive path has not handled on the redrive work queue, for the failures
 * whose best-effort Step Functions event never arrived. It only sends to the
 * work queue: it is not a consumer of the buffer.
 *
 * Triggered by an EventBridge rule rather than EventBridge Scheduler: a fixed
 * rate needs no time zone or flexible window, the rule needs no role of its own
 * (Lambda's resource policy admits it), and a missed tick is harmless because
 * every sweep's lookback overlaps the one before.
 *
 * @example
 * ```ts
 * new ExecutionSweeper(this, 'Sweeper', {
 *   config: redriveConfig,
 *   buffer,
 *   idempotencyTable,
 *   liveSince: liveHealingClock.liveSince,
 *   alarmAction: notices.alarmAction,
 * });
 * ```
 */
export class ExecutionSweeper extends Construct {
  public readonly handler: AutohealFunction;
  /** The schedule that starts each sweep. */
  public readonly schedule: events.Rule;

  public constructor(scope: Construct, id: string, props: ExecutionSweeperProps) {
    super(scope, id);
    const { config } = props;

    this.handler = new AutohealFunction(this, 'Handler', {
      entry: 'redrive/sweeper.handler.ts',
      description:
        'Autoheal: finds failed Step Functions executions whose event never arrived and enqueues them for redrive',
      serviceName: SWEEPER_SERVICE_NAME,
      timeout: SWEEP_TIMEOUT,
      alarmAction: props.alarmAction,
      config: { [CONFIG_SECTION.redrive]: runtimeConfig(config) },
      environment: {
        [ENV.idempotencyTable]: props.idempotencyTable.table.tableName,
        [ENV.workQueueUrl]: props.buffer.workQueue.queueUrl,
        [ENV.liveSince]: props.liveSince,
        ...keyPrefixEnvironment(props.idempotencyKeyPrefix ?? DEFAULT_IDEMPOTENCY_KEY_PREFIX),
      },
    });
    const fn = this.handler.function;
    // The next sweep is the retry: its lookback overlaps this one. A failed sweep raises the error alarm.
    fn.configureAsyncInvoke({ retryAttempts: 0 });

    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Autoheal: sweeps for failed executions every ${config.sweeper.periodMinutes} minutes`,
      schedule: events.Schedule.rate(Duration.minutes(config.sweeper.periodMinutes)),
    });
    this.schedule.addTarget(
      new targets.LambdaFunction(fn, {
        retryAttempts: 2,
        // A tick older than a period is superseded by the next one.
        maxEventAge: Duration.minutes(config.sweeper.periodMinutes),
      }),
    );

    const machinePrefixArns = stateMachinePrefixPatterns(this, config.stateMachineNamePrefixes);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListScopedExecutions',
        actions: ['states:ListExecutions'],
        resources: scopedStateMachineArns(this, config),
      }),
    );
    for (const arn of machinePrefixArns) {
      Validations.of(this.handler.role).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[${nagResourceFinding(this, arn)}]`,
        reason:
          'The scope names state machines by prefix, so ListExecutions is granted on the state machines whose names start with it, in this account and region only.',
      });
    }
    if (config.stateMachineNamePrefixes.length > 0) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'FindScopedStateMachines',
          actions: ['states:ListStateMachines'],
          resources: ['*'],
        }),
      );
      Validations.of(this.handler.role).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason:
          'ListStateMachines supports no resource-level permissions (its resource must be *); the sweeper calls it to find the state machines of the configured name prefixes, and it reveals names only.',
      });
    }
    props.buffer.grantSend(this.handler);
    props.idempotencyTable.table.grant(fn, 'dynamodb:GetItem');
    props.idempotencyTable.grantKeyUse(fn, { readOnly: true });
  }
}

/** What the sweeper needs: scope, policies and sweeper options, not the buffer's processing options or the handler's keys. */
function runtimeConfig(config: RedriveConfig): SweeperHandlerConfig {
  const { processing: _processing, kmsKeyArns: _kmsKeyArns, ...rest } = config;
  return rest;
}
