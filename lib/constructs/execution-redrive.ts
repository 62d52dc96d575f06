import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { allConfiguredStatuses, type RedriveConfig } from '../../lambda/shared/autoheal-config';
import { ENV, REDRIVE_SERVICE_NAME, SFN_EVENT } from '../../lambda/shared/contract';
import { ConfigError } from '../../lambda/shared/errors';
import { nagResourceFinding } from '../nag';
import { AutohealFunction, configEnvironment } from './autoheal-function';
import { EventBuffer } from './event-buffer';
import { ExecutionSweeper } from './execution-sweeper';
import type { IdempotencyTable } from './idempotency-table';
import type { Notices } from './notices';
import { executionArnIn, stateMachineArnIn, statesArnPrefix } from './state-machine-arns';

export interface ExecutionRedriveProps {
  /** The validated redrive config (see `parseRedriveConfig`). */
  readonly config: RedriveConfig;
  /** Where the handler records each failure it acted on. */
  readonly idempotencyTable: IdempotencyTable;
  /** Receives give-up and skip notices, and the alarms. */
  readonly notices: Notices;
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
  public readonly buffer: EventBuffer;
  public readonly handler: AutohealFunction;
  /** Present unless the config's `sweeper.enabled` is false. */
  public readonly sweeper?: ExecutionSweeper;

  public constructor(scope: Construct, id: string, props: ExecutionRedriveProps) {
    super(scope, id);
    const { config } = props;
    refuseArnsElsewhere(this, config);

    this.buffer = new EventBuffer(this, 'Buffer', {
      purpose: 'redrive',
      processing: config.processing,
      alarmAction: props.notices.alarmAction,
      rules: [
        {
          id: 'FailedExecutions',
          description: 'Step Functions executions that ended in a status Autoheal redrives',
          eventPattern: {
            source: [SFN_EVENT.source],
            detailType: [SFN_EVENT.detailType],
            detail: {
              status: allConfiguredStatuses(config),
              stateMachineArn: [
                ...config.stateMachineArns,
                // Raw matcher objects: events.Match.prefix() renders as an array of its own.
                ...config.stateMachineNamePrefixes.map((prefix) => ({
                  prefix: stateMachineArnIn(this, prefix),
                })),
              ],
            },
          },
        },
      ],
    });
    Validations.of(this.buffer.rules[0]).acknowledge({
      id: 'CloudFormation-Validate::E9014',
      reason:
        'The stateMachineArn prefix is built with Fn::Join from the stack partition, region and account; CloudFormation resolves it to a plain string before EventBridge sees it.',
    });

    this.handler = new AutohealFunction(this, 'Handler', {
      entry: 'redrive/redrive.handler.ts',
      description: 'Autoheal: redrives failed Step Functions executions',
      serviceName: REDRIVE_SERVICE_NAME,
      timeout: Duration.seconds(30),
      alarmAction: props.notices.alarmAction,
      environment: {
        [ENV.redriveConfig]: configEnvironment(runtimeConfig(config)),
        [ENV.idempotencyTable]: props.idempotencyTable.table.tableName,
        [ENV.noticeTopicArn]: props.notices.topic.topicArn,
        [ENV.statesArnPrefix]: statesArnPrefix(this),
      },
    });
    this.buffer.attachConsumer(this.handler);
    const fn = this.handler.function;

    const executionArns = scopedExecutionArns(this, config);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RedriveScopedExecutions',
        actions: ['states:RedriveExecution', 'states:DescribeExecution'],
        resources: executionArns,
      }),
    );
    for (const arn of executionArns) {
      Validations.of(this.handler.role).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[${nagResourceFinding(this, arn)}]`,
        reason:
          'Execution ARNs are created per execution, so the grant names the configured state machine and ends in a wildcard for its executions only.',
      });
    }
    props.idempotencyTable.grantIdempotency(fn);
    props.notices.grantPublish(this.handler);

    if (config.sweeper.enabled) {
      this.sweeper = new ExecutionSweeper(this, 'Sweeper', {
        config,
        workQueue: this.buffer.workQueue,
        idempotencyTable: props.idempotencyTable,
        alarmAction: props.notices.alarmAction,
      });
    }
    // Who may claim to be Autoheal on the work queue: its deferral hops and the sweeper's messages.
    fn.addEnvironment(
      ENV.senderRoleIds,
      [this.handler.role.roleId, ...(this.sweeper ? [this.sweeper.handler.role.roleId] : [])].join(
        ',',
      ),
    );
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
  const home: ReadonlyArray<readonly [string, string, number]> = [
    ['partition', partition, 1],
    ['region', region, 3],
    ['account', account, 4],
  ];
  config.stateMachineArns.forEach((arn, i) => {
    const parts = arn.split(':');
    for (const [what, value, index] of home) {
      if (Token.isUnresolved(value) || parts[index] === value) continue;
      throw new ConfigError(
        `redrive.stateMachineArns[${i}]`,
        `is in ${what} ${parts[index]}, but this stack deploys to ${what} ${value}; Autoheal redrives state machines of its own account and region, so deploy a stack there for it`,
      );
    }
  });
}

/** Execution ARNs of exactly the scoped state machines (execution ARNs carry the machine name). */
export function scopedExecutionArns(scope: Construct, config: RedriveConfig): string[] {
  return [
    ...config.stateMachineArns.map((arn) => `${arn.replace(':stateMachine:', ':execution:')}:*`),
    ...config.stateMachineNamePrefixes.map((prefix) => `${executionArnIn(scope, prefix)}*`),
  ];
}

/** What the handler needs: the policy and scope, not the infra-only processing and sweeper options. */
function runtimeConfig(config: RedriveConfig): Omit<RedriveConfig, 'processing' | 'sweeper'> {
  const { processing: _processing, sweeper: _sweeper, ...rest } = config;
  return rest;
}
