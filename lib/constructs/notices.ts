import { Annotations, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AutohealFunction } from './autoheal-function';

/**
 * Where Autoheal tells operators what it could not heal: one encrypted SNS
 * topic for give-up and skip notices and for alarms. Subscribe email, chat or
 * a ticketing endpoint to it; filter on the `kind` and `reason` message
 * attributes.
 *
 * CloudWatch alarms of this account and region may publish to it. The topic
 * has a policy (the TLS-only deny), and a topic policy replaces SNS's default
 * access policy, so the alarm service is allowed explicitly, on the topic and
 * on its key, each with confused-deputy conditions.
 *
 * @example
 * ```ts
 * const notices = new Notices(this, 'Notices');
 * alarm.addAlarmAction(notices.alarmAction);
 * ```
 */
export class Notices extends Construct {
  public readonly topic: sns.ITopic;
  /**
   * Customer-managed so CloudWatch alarms may publish to the encrypted topic;
   * absent when the topic was given.
   */
  public readonly key?: kms.IKey;
  public readonly alarmAction: cloudwatch.IAlarmAction;

  public constructor(scope: Construct, id: string, props: NoticesProps = {}) {
    super(scope, id);
    const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    // CloudFormation names the alarms, so: every alarm of this account and region.
    const forAlarmsOfThisAccount = {
      StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
      ArnLike: { 'aws:SourceArn': alarmArnsOf(this) },
    };
    const allowAlarmsToPublish = (topic: sns.ITopic) =>
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: forAlarmsOfThisAccount,
      });
    if (props.topic) {
      this.topic = props.topic;
      this.alarmAction = new cloudwatchActions.SnsAction(this.topic);
      // An imported topic's policy is its owner's: say what the owner must add.
      if (!this.topic.addToResourcePolicy(allowAlarmsToPublish(this.topic)).statementAdded) {
        Annotations.of(this).addWarningV2(
          NOTIFICATION_TOPIC_POLICY_WARNING,
          `Autoheal's alarms publish to ${this.topic.node.path}, whose policy Autoheal cannot change: its owner must allow cloudwatch.amazonaws.com sns:Publish on it (conditions aws:SourceAccount = this account, aws:SourceArn like this account's alarms), and, if it is encrypted, the same principal kms:Decrypt and kms:GenerateDataKey* on its key.`,
        );
      }
      return;
    }
    this.key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'Encrypts Autoheal notices',
        enableKeyRotation: true,
      });
    // An alarm's publish to the encrypted topic uses the key as the CloudWatch service principal.
    const keyStatement = this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToEncryptNotices',
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: forAlarmsOfThisAccount,
      }),
    );
    if (!keyStatement.statementAdded) {
      Annotations.of(this).addWarningV2(
        NOTIFICATION_TOPIC_POLICY_WARNING,
        `Autoheal's notice topic is encrypted with ${this.key.node.path}, whose policy Autoheal cannot change: its owner must allow cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey* on it, or alarms cannot publish.`,
      );
    }
    const topic = new sns.Topic(this, 'Topic', {
      displayName: 'Autoheal notices',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic = topic;
    topic.addToResourcePolicy(allowAlarmsToPublish(topic));
    this.alarmAction = new cloudwatchActions.SnsAction(this.topic);
  }

  /** Lets a function publish notices: sns:Publish on the topic and the key use that needs. */
  public grantPublish(publisher: AutohealFunction): void {
    this.topic.grantPublish(publisher.function);
    Validations.of(publisher.role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        'Publishing to the KMS-encrypted notice topic needs GenerateDataKey* (several variants); the grant is limited to the notice key.',
    });
  }
}

/** CDK warning id of a notification topic or key whose policy Autoheal cannot change. */
export const NOTIFICATION_TOPIC_POLICY_WARNING = '@autoheal/notices:topicPolicy';

export interface NoticesProps {
  /**
   * A topic of the user's own instead of Autoheal's.
   * @default - a topic of its own, encrypted
   */
  readonly topic?: sns.ITopic;
  /**
   * Key of Autoheal's own topic (ignored when `topic` is given).
   * @default - a key of its own
   */
  readonly encryptionKey?: kms.IKey;
}

/** `arn:PARTITION:cloudwatch:REGION:ACCOUNT:alarm:*`: the alarms of the stack's account and region. */
function alarmArnsOf(scope: Construct): string {
  const { partition, region, account } = Stack.of(scope);
  return `arn:${partition}:cloudwatch:${region}:${account}:alarm:*`;
}
