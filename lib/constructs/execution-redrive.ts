import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { allConfiguredStatuses, type RedriveConfig } from '../../lambda/shared/autoheal-config';
import { ENV, REDRIVE_SERVICE_NAME, SFN_EVENT } from '../../lambda/shared/contract';
import { nagResourceFinding } from '../nag';
import { AutohealFunction } from './autoheal-function';
import type { IdempotencyTable } from './idempotency-table';

/** Lambda's async pattern allows at most 4 KiB of environment; the config shares it. */
const MAX_CONFIG_ENV_BYTES = 3 * 1024;

export interface ExecutionRedriveProps {
  /** The validated redrive config (see `parseAutohealConfig`). */
  readonly config: RedriveConfig;
  /** Where the handler records each failure it acted on. */
  readonly idempotencyTable: IdempotencyTable;
  /** Receives give-up and skip notices. */
  readonly noticeTopic: sns.ITopic;
  /**
   * What the dead-letter and error alarms do.
   * @default - the alarms only change state
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/**
 * Auto-redrive of failed Step Functions executions:
 * EventBridge rule → SQS work queue → redrive Lambda (partial batch failures),
 * with one dead-letter queue for everything that cannot be processed.
 *
 * @example
 * ```ts
 * new ExecutionRedrive(this, 'Redrive', {
 *   config: parseAutohealConfig({ redrive: { stateMachineNamePrefixes: ['orders-'] } }).redrive,
 *   idempotencyTable,
 *   noticeTopic: notices.topic,
 * });
 * ```
 */
export class ExecutionRedrive extends Construct {
  public readonly rule: events.Rule;
  /** Buffers status-change events and deferred failures for the handler. */
  public readonly workQueue: sqs.Queue;
  /**
   * Holds what could not be delivered or processed: events EventBridge could not
   * deliver, messages that exhausted their receives, and invalid or exhausted
   * events parked by the handler with an `autoheal-parked-reason` attribute.
   */
  public readonly deadLetterQueue: sqs.Queue;
  public readonly handler: AutohealFunction;
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  public readonly errorAlarm: cloudwatch.Alarm;

  public constructor(scope: Construct, id: string, props: ExecutionRedriveProps) {
    super(scope, id);
    const { config } = props;
    const handlerTimeout = Duration.seconds(30);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.workQueue = new sqs.Queue(this, 'WorkQueue', {
      // AWS's guidance for Lambda consumers: six times the function timeout.
      visibilityTimeout: Duration.seconds(handlerTimeout.toSeconds() * 6),
      // The longest retention, so an outage of the consumer loses nothing.
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: config.processing.maxReceiveCount,
      },
    });

    this.rule = new events.Rule(this, 'FailedExecutions', {
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
    });
    Validations.of(this.rule).acknowledge({
      id: 'CloudFormation-Validate::E9014',
      reason:
        'The stateMachineArn prefix is built with Fn::Join from the stack partition, region and account; CloudFormation resolves it to a plain string before EventBridge sees it.',
    });
    this.rule.addTarget(
      new targets.SqsQueue(this.workQueue, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
      }),
    );

    const configJson = JSON.stringify(runtimeConfig(config));
    if (Buffer.byteLength(configJson) > MAX_CONFIG_ENV_BYTES) {
      throw new Error(
        `The redrive config is ${Buffer.byteLength(configJson)} bytes as JSON; Lambda environment ` +
          `variables allow about ${MAX_CONFIG_ENV_BYTES}. Scope by name prefix instead of many ARNs, ` +
          'or fold overrides together.',
      );
    }
    this.handler = new AutohealFunction(this, 'Handler', {
      entry: 'redrive/redrive.handler.ts',
      description: 'Autoheal: redrives failed Step Functions executions',
      serviceName: REDRIVE_SERVICE_NAME,
      timeout: handlerTimeout,
      environment: {
        [ENV.redriveConfig]: configJson,
        [ENV.idempotencyTable]: props.idempotencyTable.table.tableName,
        [ENV.noticeTopicArn]: props.noticeTopic.topicArn,
        [ENV.workQueueUrl]: this.workQueue.queueUrl,
        [ENV.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
        [ENV.maxReceiveCount]: String(config.processing.maxReceiveCount),
      },
    });
    const fn = this.handler.function;
    fn.addEventSource(
      new SqsEventSource(this.workQueue, {
        batchSize: config.processing.batchSize,
        maxConcurrency: config.processing.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );

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
    props.noticeTopic.grantPublish(fn);
    Validations.of(this.handler.role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        'Publishing to the KMS-encrypted notice topic needs GenerateDataKey* (several variants); the grant is limited to the notice key.',
    });
    // Deferral re-sends to the work queue; parking sends to the dead-letter queue.
    this.workQueue.grantSendMessages(fn);
    this.deadLetterQueue.grantSendMessages(fn);

    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
      alarmDescription:
        'Autoheal parked events it could not process. Read the autoheal-parked-reason attribute of the messages in the dead-letter queue.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.errorAlarm = new cloudwatch.Alarm(this, 'HandlerErrorsAlarm', {
      alarmDescription: 'The Autoheal redrive function failed. Read its log group for the error.',
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmAction) {
      this.deadLetterAlarm.addAlarmAction(props.alarmAction);
      this.errorAlarm.addAlarmAction(props.alarmAction);
    }
  }
}

/** ARN prefix of the state machines whose names start with `namePrefix`, in this stack's account and region. */
function stateMachineArnIn(scope: Construct, namePrefix: string): string {
  const { partition, region, account } = Stack.of(scope);
  return `arn:${partition}:states:${region}:${account}:stateMachine:${namePrefix}`;
}

/** Execution ARNs of exactly the scoped state machines (execution ARNs carry the machine name). */
export function scopedExecutionArns(scope: Construct, config: RedriveConfig): string[] {
  const { partition, region, account } = Stack.of(scope);
  return [
    ...config.stateMachineArns.map((arn) => `${arn.replace(':stateMachine:', ':execution:')}:*`),
    ...config.stateMachineNamePrefixes.map(
      (prefix) => `arn:${partition}:states:${region}:${account}:execution:${prefix}*`,
    ),
  ];
}

/** What the handler needs: the policy and scope, not the infra-only processing options. */
function runtimeConfig(config: RedriveConfig): Omit<RedriveConfig, 'processing'> {
  const { processing: _processing, ...rest } = config;
  return rest;
}
