import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import type {
  NoticesConfig,
  RedriveConfig,
  RedriveHandlerConfig,
} from '../../lambda/shared/autoheal-config';
import {
  BRAKE_KEEPER_SERVICE_NAME,
  CONFIG_SECTION,
  DEFAULT_IDEMPOTENCY_KEY_PREFIX,
  ENV,
} from '../../lambda/shared/contract';
import { AutohealFunction } from './autoheal-function';
import type { ExecutionRedrive } from './execution-redrive';
import { HEALING_STATE_ACTIONS, type HealingStateTable } from './healing-state-table';
import { keyPrefixEnvironment } from './idempotency-table';
import type { Notices } from './notices';

/**
 * The keeper's period: a digest is sent at most a minute after its window
 * ends, and an open breaker turns half-open at most a minute after its
 * cool-down (whose shortest is a minute).
 */
export const BRAKE_KEEPER_PERIOD = Duration.minutes(1);

/**
 * The keeper's timeout: shorter than its period, so one tick's run has ended
 * before the next starts (a late tick or a retry may still overlap: the
 * table's conditional writes keep that safe).
 */
const KEEPER_TIMEOUT = Duration.seconds(50);

export interface BrakeKeeperProps {
  /** The healing state table: breakers, held failures, digests. */
  readonly stateTable: HealingStateTable;
  /** Where breaker, held-failure and digest notices go. */
  readonly notices: Notices;
  /** The normalised `notices` section: the digest window and examples. */
  readonly noticesConfig: NoticesConfig;
  /**
   * The redrive path: the keeper reads its config (breakers per state
   * machine) and sends probes and the held backlog to its work queue, as one
   * of Autoheal's own senders.
   * @default - no redrive path: the keeper only sends the digests
   */
  readonly redrive?: ExecutionRedrive;
  /**
   * The installation's key prefix: every item the keeper touches starts with it.
   * @default 'autoheal' (the app's)
   */
  readonly idempotencyKeyPrefix?: string;
}

/**
 * The brake keeper: once a minute it sends the notice digests whose window has
 * ended (so a digest goes out even if no further event arrives), moves open
 * breakers past their cool-down to half-open and sends their probes, re-sends
 * the held backlog of closed breakers to the work queue, reports held
 * failures nearing the end of their 14-day redrive window, and emits the
 * `BreakerState` gauge of every watched state machine.
 *
 * Triggered by an EventBridge rule rather than EventBridge Scheduler, as the
 * sweeper is: a fixed rate needs no time zone or flexible window, the rule
 * needs no role of its own (Lambda's resource policy admits it) nor the
 * AppFlow schedule group (which exists only with AppFlow schedules), and a
 * missed tick is harmless because the next one does the same work.
 *
 * @example
 * ```ts
 * new BrakeKeeper(this, 'BrakeKeeper', { stateTable, notices, noticesConfig, redrive: executionRedrive });
 * ```
 */
export class BrakeKeeper extends Construct {
  public readonly handler: AutohealFunction;
  /** The rule that starts the keeper every minute. */
  public readonly schedule: events.Rule;

  public constructor(scope: Construct, id: string, props: BrakeKeeperProps) {
    super(scope, id);
    const keyPrefix = props.idempotencyKeyPrefix ?? DEFAULT_IDEMPOTENCY_KEY_PREFIX;
    const { redrive } = props;

    this.handler = new AutohealFunction(this, 'Handler', {
      entry: 'brake/brake-keeper.handler.ts',
      description:
        'Autoheal: sends notice digests, probes and releases the storm brake, reports held failures nearing expiry',
      serviceName: BRAKE_KEEPER_SERVICE_NAME,
      timeout: KEEPER_TIMEOUT,
      config: {
        ...(redrive && { [CONFIG_SECTION.redrive]: runtimeConfig(redrive.config) }),
        [CONFIG_SECTION.notices]: props.noticesConfig,
      },
      environment: {
        [ENV.noticeTopicArn]: props.notices.topic.topicArn,
        ...(redrive && { [ENV.workQueueUrl]: redrive.buffer.workQueue.queueUrl }),
        ...keyPrefixEnvironment(keyPrefix),
      },
    });
    const fn = this.handler.function;
    // The next tick is the retry; a failed tick raises the error alarm.
    fn.configureAsyncInvoke({ retryAttempts: 0 });

    this.schedule = new events.Rule(this, 'Schedule', {
      description:
        'Autoheal: every minute, sends due notice digests and moves the storm brake on (cool-downs, probes, held failures)',
      schedule: events.Schedule.rate(BRAKE_KEEPER_PERIOD),
    });
    this.schedule.addTarget(
      new targets.LambdaFunction(fn, {
        retryAttempts: 2,
        // A tick older than the period is superseded by the next one.
        maxEventAge: BRAKE_KEEPER_PERIOD,
      }),
    );

    props.stateTable.grantItems(this.handler, HEALING_STATE_ACTIONS.keeper, keyPrefix);
    props.notices.grantPublish(this.handler);
    // Probes and the held backlog go back through the work queue, paced by its consumer.
    redrive?.admitSender(this.handler);
  }
}

/**
 * What the keeper reads of the redrive section: the policies and breakers per
 * machine name. Not the scope: the keeper only watches machines the handler
 * registered, and a scope of deploy-time ARNs (tokens) would otherwise have to
 * travel to it too.
 */
function runtimeConfig(config: RedriveConfig): RedriveHandlerConfig {
  const { processing: _processing, sweeper: _sweeper, kmsKeyArns: _kmsKeyArns, ...rest } = config;
  return { ...rest, stateMachineArns: [], stateMachineNamePrefixes: [] };
}
