import { Annotations, Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, type IConstruct } from 'constructs';
import { DEFAULT_DEADLINE_MARGIN_MS, sweepCoverage } from '../../lambda/redrive/sweep-plan';
import type { RedriveConfig, SweeperHandlerConfig } from '../../lambda/shared/autoheal-config';
import {
  CONFIG_SECTION,
  DEFAULT_IDEMPOTENCY_KEY_PREFIX,
  ENV,
  idempotencyKeyPrefixes,
  SWEEPER_SERVICE_NAME,
} from '../../lambda/shared/contract';
import { nagResourceFinding } from '../nag';
import { AutohealFunction } from './autoheal-function';
import type { ConfigTokenRecord } from './config-asset';
import type { EventBuffer } from './event-buffer';
import { type IdempotencyTable, keyPrefixEnvironment } from './idempotency-table';
import type { LiveHealingClock } from './live-healing-clock';
import { grantOnMachineScope } from './scope-roles';
import { stateMachinePrefixPatterns } from './state-machine-arns';

/**
 * The sweeper's timeout. It stops listing well before it (see the handler's
 * deadline margin), and it is never longer than the shortest period (5 min), so
 * two scheduled sweeps do not overlap (a late tick or a manual invoke may: the
 * cursor's lease lets only one of them sweep).
 */
const SWEEP_TIMEOUT = Duration.minutes(5);

export interface ExecutionSweeperProps {
  /** The validated redrive config: scope, policies and the `sweeper` options. */
  readonly config: RedriveConfig;
  /** The redrive buffer whose work queue the sweeper feeds (it is not its consumer). */
  readonly buffer: EventBuffer;
  /** The redrive path's idempotency table: the sweeper reads it, and writes only its cursor record. */
  readonly idempotencyTable: IdempotencyTable;
  /**
   * Since when each scoped state machine has been under live healing: the
   * {@link LiveHealingClock}'s `liveSince` (older failures are not enqueued).
   */
  readonly liveSince: string;
  /**
   * Where the scope's ARNs only known at deploy go when they do not fit the
   * environment: the {@link LiveHealingClock}'s `configTokenRecord`.
   * @default - none: they must fit the environment
   */
  readonly configTokenRecord?: ConfigTokenRecord;
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
      config: { [CONFIG_SECTION.redrive]: runtimeConfig(config) },
      configTokenRecord: props.configTokenRecord,
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
    const acknowledgePrefixWildcards = (on: IConstruct, arns: readonly string[]) => {
      for (const arn of arns) {
        if (!machinePrefixArns.includes(arn)) continue;
        Validations.of(on).acknowledge({
          id: `AwsSolutions::AwsSolutions-IAM5[${nagResourceFinding(this, arn)}]`,
          reason:
            'The scope names state machines by prefix, so ListExecutions is granted on the state machines whose names start with it, in this account and region only.',
        });
      }
    };
    grantOnMachineScope(this.handler, [
      {
        sid: 'ListScopedExecutions',
        description: 'list the executions of the state machines in scope',
        machineValues: config.stateMachineArns,
        prefixValues: machinePrefixArns,
        statement: (arns) =>
          new iam.PolicyStatement({
            sid: 'ListScopedExecutions',
            actions: ['states:ListExecutions'],
            resources: arns,
          }),
        acknowledge: acknowledgePrefixWildcards,
      },
    ]);
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
    warnOfUncoveredScope(this, config);

    props.buffer.grantSend(this.handler);
    props.idempotencyTable.table.grant(fn, 'dynamodb:GetItem');
    // The cursor record (see sweep-cursor.ts): conditional updates only, on its one key.
    const cursorKey = idempotencyKeyPrefixes(
      props.idempotencyKeyPrefix ?? DEFAULT_IDEMPOTENCY_KEY_PREFIX,
    ).sweepCursor;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'OwnSweepCursorOnly',
        actions: ['dynamodb:UpdateItem'],
        resources: [props.idempotencyTable.table.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [cursorKey] } },
      }),
    );
    // Writing the cursor encrypts it: the write half of the key use too.
    props.idempotencyTable.grantKeyUse(fn);
  }
}

/**
 * Warns at synth when the sweeper, at its pace and within its timeout, cannot
 * sweep every machine listed by ARN at least once per `lookbackHours`: the
 * failures of a machine it reaches too late are left to their events alone.
 * Machines matched by name prefixes are unknown at synth and not counted.
 */
function warnOfUncoveredScope(scope: Construct, config: RedriveConfig): void {
  if (!config.sweeper.enabled) return;
  const coverage = sweepCoverage(config, { timeoutMs: SWEEP_TIMEOUT.toMilliseconds() });
  if (coverage.covered) return;
  const { sweeper } = config;
  const count = (n: number) => n.toLocaleString('en-US');
  // The rate at which the sweeps of one lookback make a whole pass.
  const sweepsPerLookback = Math.max(
    1,
    Math.floor(coverage.lookbackMinutes / sweeper.periodMinutes),
  );
  const listingSeconds = (SWEEP_TIMEOUT.toMilliseconds() - DEFAULT_DEADLINE_MARGIN_MS) / 1000;
  const neededRate =
    Math.ceil(
      ((coverage.callsPerPass / sweepsPerLookback + coverage.listStateMachinesPerSweep) /
        listingSeconds) *
        100,
    ) / 100;
  Annotations.of(scope).addWarningV2(
    'autoheal:sweepCoverage',
    `The sweeper cannot sweep every state machine within redrive.sweeper.lookbackHours (${sweeper.lookbackHours} h): ` +
      `${count(coverage.machines)} state machines listed by ARN need ${count(coverage.callsPerPass)} ListExecutions calls a pass (one per machine and redriven status); ` +
      `at requestsPerSecond ${sweeper.requestsPerSecond} a sweep makes at most ${count(coverage.callsPerSweep)} calls` +
      `${coverage.listStateMachinesPerSweep > 0 ? ` (${coverage.listStateMachinesPerSweep} of them ListStateMachines)` : ''} before its ${SWEEP_TIMEOUT.toMinutes()}-minute timeout, ` +
      `so a pass takes ${count(coverage.sweepsPerPass)} sweeps × ${sweeper.periodMinutes} min = ${count(coverage.passMinutes)} min > ${count(coverage.lookbackMinutes)} min. ` +
      `Failures of a machine the sweeper reaches too late are healed only if their event arrives. ` +
      (config.stateMachineNamePrefixes.length > 0
        ? `The state machines of the ${config.stateMachineNamePrefixes.length} name prefixes are not counted (unknown at synth): each adds a call per redriven status. `
        : '') +
      `Raise requestsPerSecond to ${neededRate} or more (ListExecutions' quota is 2 per second in most regions, shared with your other callers), ` +
      `lower periodMinutes, or raise lookbackHours to ${Math.ceil(coverage.passMinutes / 60)} or more.`,
  );
}

/** What the sweeper needs: scope, policies and sweeper options, not the buffer's processing options or the handler's keys. */
function runtimeConfig(config: RedriveConfig): SweeperHandlerConfig {
  const { processing: _processing, kmsKeyArns: _kmsKeyArns, ...rest } = config;
  return rest;
}
