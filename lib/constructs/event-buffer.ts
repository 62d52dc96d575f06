import { Aws, Duration, Fn, Lazy, Names, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ProcessingOptions } from '../../lambda/shared/autoheal-config';
import { ENV } from '../../lambda/shared/contract';
import { shardEventPattern, shardId } from '../limits/shards';
import type { AutohealFunction } from './autoheal-function';

/**
 * How long a received message stays hidden. AWS's guidance for Lambda consumers
 * is six times the function timeout, so consumers may run for up to 30 s.
 */
const VISIBILITY_TIMEOUT = Duration.seconds(180);

/**
 * Up to this many rules, each rule's target grants itself on the queues, as
 * CDK's SQS target does (one queue-policy statement per rule and queue). More
 * rules share one statement per queue: SQS allows a queue policy only 20
 * statements and 8,192 bytes.
 */
export const MAX_RULES_WITH_OWN_GRANTS = 4;

/**
 * Up to this many rules, the queue policies list each rule's ARN (119
 * characters budgeted each): 48 of them and the Deny fit SQS's 8,192 bytes.
 * More rules (a scope of a thousand ARNs) get names sharing one prefix, unique
 * to this buffer, and the queue policies admit the first rule by its ARN and
 * the others by that prefix.
 */
export const MAX_RULES_LISTED_IN_QUEUE_POLICY = 48;

/**
 * CDK's SQS target without its per-rule grant; the buffer grants all its
 * rules in one statement per queue instead (see {@link MAX_RULES_WITH_OWN_GRANTS}).
 */
class UngrantedQueueTarget implements events.IRuleTarget {
  public constructor(
    private readonly queue: sqs.IQueue,
    private readonly deadLetterQueue: sqs.IQueue,
    private readonly retry: { retryAttempts: number; maxEventAge: Duration },
  ) {}

  public bind(): events.RuleTargetConfig {
    return {
      arn: this.queue.queueArn,
      deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
      retryPolicy: {
        maximumRetryAttempts: this.retry.retryAttempts,
        maximumEventAgeInSeconds: this.retry.maxEventAge.toSeconds(),
      },
    };
  }
}

/** One EventBridge rule feeding the buffer. */
export interface BufferedRule {
  /** Construct id of the rule. */
  readonly id: string;
  readonly description: string;
  readonly eventPattern: events.EventPattern;
}

/**
 * An event pattern as CloudFormation holds it, for sizing: CDK writes
 * `detailType` as `detail-type`, one character longer.
 */
export function asTemplatePattern(pattern: events.EventPattern): Record<string, unknown> {
  const { detailType, ...rest } = pattern;
  return detailType === undefined ? rest : { ...rest, 'detail-type': detailType };
}

/** A rule whose pattern lists many values, for {@link shardedRules}. */
export interface ShardableRule {
  /** Construct id of the first rule; the others get `2`, `3`, ... appended. */
  readonly id: string;
  readonly description: string;
  /** The pattern of a rule matching `slice` of the values. */
  readonly eventPattern: (slice: string[]) => events.EventPattern;
  /**
   * Characters a CDK token among the values counts as (an ARN of unknown length).
   * @default 256
   */
  readonly tokenChars?: number;
}

/**
 * As many rules as it takes for each event pattern to fit EventBridge's 2,048
 * characters, each matching a consecutive slice of `values`, all meant for
 * one buffer. One rule, with `rule.id`, when the pattern fits: a small scope
 * keeps its logical id.
 *
 * @example
 * new EventBuffer(this, 'Buffer', {
 *   rules: shardedRules(flowNames, { id: 'FailedFlowRuns', description, eventPattern: (names) => ({ detail: { 'flow-name': names } }) }),
 *   processing, purpose: 'flow healer',
 * });
 */
export function shardedRules(values: readonly string[], rule: ShardableRule): BufferedRule[] {
  const slices = shardEventPattern(
    values,
    (slice) => asTemplatePattern(rule.eventPattern(slice)),
    rule.tokenChars,
  );
  return slices.map((slice, i) => ({
    id: shardId(rule.id, i),
    description:
      slices.length === 1 ? rule.description : `${rule.description} (${i + 1} of ${slices.length})`,
    eventPattern: rule.eventPattern(slice),
  }));
}

export interface EventBufferProps {
  /** The rules whose events are buffered. */
  readonly rules: readonly BufferedRule[];
  /** Batch size, concurrency and receive count of the consumer. */
  readonly processing: ProcessingOptions;
  /** What the buffer feeds, e.g. `redrive`: named on the dashboard and in the dead-letter alarm. */
  readonly purpose: string;
  /**
   * IAM roles and users (exact ARNs) that may send to the work queue besides
   * Autoheal's own functions and the rules: the operators who replay the
   * dead-letter queue.
   * @default []
   */
  readonly operatorPrincipalArns?: readonly string[];
}

/**
 * A durable buffer between EventBridge and a Lambda consumer, so no event is
 * lost: rules → SQS work queue → consumer with partial batch failures, and one
 * dead-letter queue for what EventBridge could not deliver, what exhausted its
 * receives, and what the consumer parked with a reason.
 *
 * Only the rules, the functions given {@link grantSend} (the consumer among
 * them) and the `operatorPrincipalArns` may send to the work queue: its policy
 * denies everyone else `sqs:SendMessage`, even principals of the account whose
 * own IAM policies allow it, so a hand-made message cannot pose as an event.
 *
 * @example
 * ```ts
 * const buffer = new EventBuffer(this, 'Buffer', { rules, processing, purpose: 'redrive' });
 * buffer.attachConsumer(handler, Duration.seconds(30));
 * ```
 */
export class EventBuffer extends Construct {
  public readonly rules: events.Rule[];
  /** Buffers events and deferred work for the consumer. */
  public readonly workQueue: sqs.Queue;
  /**
   * Holds what could not be delivered or processed: events EventBridge could not
   * deliver (attributes ERROR_CODE, ERROR_MESSAGE), messages that exhausted their
   * receives, and events the consumer parked with an `autoheal-parked-reason`.
   */
  public readonly deadLetterQueue: sqs.Queue;
  /** What the buffer feeds (its props' `purpose`). */
  public readonly purpose: string;
  private readonly props: EventBufferProps;
  /** Roles of the functions that send to the work queue: the consumer (deferrals) and feeders. */
  private readonly senderRoles: iam.IRole[] = [];
  /** Whether each rule's target grants itself (CDK's way), or one statement per queue grants all rules. */
  private readonly grantsPerRule: boolean;
  /** The name prefix of the rules after the first, when they are too many to list (see {@link MAX_RULES_LISTED_IN_QUEUE_POLICY}). */
  private readonly ruleNamePrefix?: string;

  public constructor(scope: Construct, id: string, props: EventBufferProps) {
    super(scope, id);
    this.props = props;
    this.purpose = props.purpose;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.workQueue = new sqs.Queue(this, 'WorkQueue', {
      // The longest retention, so an outage of the consumer loses nothing.
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: VISIBILITY_TIMEOUT,
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: props.processing.maxReceiveCount,
      },
    });

    this.grantsPerRule = props.rules.length <= MAX_RULES_WITH_OWN_GRANTS;
    if (props.rules.length > MAX_RULES_LISTED_IN_QUEUE_POLICY) {
      // Unique to the deployed stack, not only to the synthesised one: the same template deployed
      // twice in one account and region (under two stack names) must not clash on rule names, nor
      // let one stack's rules match the other's queue policy. So the prefix carries the stack's GUID
      // (the last part of AWS::StackId, 36 characters) after 20 characters of the construct's unique
      // name; with the `-`s and a 4-digit index it stays within the 64 characters rule names allow.
      const stackGuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
      this.ruleNamePrefix = `${Names.uniqueResourceName(this, { maxLength: 20 })}-${stackGuid}-`;
    }
    const retry = { retryAttempts: 185, maxEventAge: Duration.hours(24) };
    this.rules = props.rules.map((rule, i) => {
      const created = new events.Rule(this, rule.id, {
        description: rule.description,
        eventPattern: rule.eventPattern,
        // The first rule keeps its generated name (and logical id), so a growing scope does not replace it.
        ruleName: this.ruleNamePrefix && i > 0 ? `${this.ruleNamePrefix}${i + 1}` : undefined,
      });
      created.addTarget(
        this.grantsPerRule
          ? new targets.SqsQueue(this.workQueue, {
              deadLetterQueue: this.deadLetterQueue,
              ...retry,
            })
          : new UngrantedQueueTarget(this.workQueue, this.deadLetterQueue, retry),
      );
      return created;
    });
    if (!this.grantsPerRule) {
      for (const queue of [this.workQueue, this.deadLetterQueue]) {
        queue.addToResourcePolicy(this.rulesDeliver(queue));
      }
    }
    this.workQueue.addToResourcePolicy(this.onlyKnownSenders());
    // An empty exemption list would deny everyone: a buffer without its consumer is a wiring mistake.
    this.node.addValidation({
      validate: () =>
        this.senderRoles.length === 0
          ? [
              `${this.node.path} has no consumer: call attachConsumer() so its work queue is drained`,
            ]
          : [],
    });
  }

  /**
   * Makes `consumer` drain the work queue, and gives it what it needs to defer
   * (re-send to the work queue) and park (send to the dead-letter queue).
   */
  public attachConsumer(consumer: AutohealFunction): void {
    const { processing } = this.props;
    const fn = consumer.function;
    if (consumer.timeout.toSeconds() * 6 > VISIBILITY_TIMEOUT.toSeconds()) {
      throw new Error(
        `A buffer consumer may run at most ${VISIBILITY_TIMEOUT.toSeconds() / 6} s (six times that is the work queue's visibility timeout); ${fn.node.path} has ${consumer.timeout.toSeconds()} s.`,
      );
    }
    fn.addEventSource(
      new SqsEventSource(this.workQueue, {
        batchSize: processing.batchSize,
        maxConcurrency: processing.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    fn.addEnvironment(ENV.workQueueUrl, this.workQueue.queueUrl);
    fn.addEnvironment(ENV.deadLetterQueueUrl, this.deadLetterQueue.queueUrl);
    fn.addEnvironment(ENV.maxReceiveCount, String(processing.maxReceiveCount));
    this.workQueue.grantSendMessages(fn);
    this.senderRoles.push(consumer.role);
    this.deadLetterQueue.grantSendMessages(fn);
  }

  /**
   * Lets `sender` put work on the work queue (`sqs:SendMessage`), and exempts
   * its role from the queue policy's deny.
   */
  public grantSend(sender: AutohealFunction): void {
    this.workQueue.grant(sender.function, 'sqs:SendMessage');
    this.senderRoles.push(sender.role);
  }

  /**
   * Denies `sqs:SendMessage` to every principal that is not one of the sender
   * roles or operators (`aws:PrincipalArn`), unless the send is a delivery by
   * one of the rules (`aws:SourceArn`, which only AWS services set).
   *
   * Negated operators are true when the key is absent, and the two keys of one
   * operator must both hold, so: a role of the account sends no `aws:SourceArn`
   * and is denied unless listed; a rule's delivery carries its rule ARN and is
   * never denied; another rule's delivery is denied. An operator's
   * StartMessageMoveTask sends with the operator's own permissions, so a
   * listed operator may replay the dead-letter queue.
   */
  private onlyKnownSenders(): iam.PolicyStatement {
    const allowedPrincipals = Lazy.list({
      produce: () => [
        ...this.senderRoles.map((role) => role.roleArn),
        ...(this.props.operatorPrincipalArns ?? []),
      ],
    });
    return new iam.PolicyStatement({
      sid: 'OnlyAutohealItsRulesAndOperatorsSend',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['sqs:SendMessage'],
      resources: [this.workQueue.queueArn],
      conditions: this.grantsPerRule
        ? {
            ArnNotEquals: {
              'aws:PrincipalArn': allowedPrincipals,
              'aws:SourceArn': this.rules.map((rule) => rule.ruleArn),
            },
          }
        : {
            // Many rules: the exact list lives once, in the Allow of rulesDeliver(). A delivery by
            // another rule of the account escapes this Deny but has no Allow, so it is still refused.
            ArnNotEquals: { 'aws:PrincipalArn': allowedPrincipals },
            ArnNotLike: { 'aws:SourceArn': this.accountRulesArnPattern() },
          },
    });
  }

  /**
   * The one statement letting EventBridge deliver this buffer's rules (exact
   * ARNs) to `queue`, in place of one statement per rule: SQS allows a queue
   * policy 20 statements and 8,192 bytes.
   */
  private rulesDeliver(queue: sqs.IQueue): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: 'AutohealRulesDeliver',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['sqs:SendMessage'],
      resources: [queue.queueArn],
      conditions: this.ruleNamePrefix
        ? {
            // The first rule exactly; the others by the name prefix only this buffer's rules carry.
            ArnLike: {
              'aws:SourceArn': [
                this.rules[0].ruleArn,
                Stack.of(this).formatArn({
                  service: 'events',
                  resource: 'rule',
                  resourceName: `${this.ruleNamePrefix}*`,
                }),
              ],
            },
          }
        : { ArnEquals: { 'aws:SourceArn': this.rules.map((rule) => rule.ruleArn) } },
    });
  }

  /** `arn:PARTITION:events:REGION:ACCOUNT:rule/*`: every rule of the stack's account and region. */
  private accountRulesArnPattern(): string {
    return Stack.of(this).formatArn({ service: 'events', resource: 'rule', resourceName: '*' });
  }
}
