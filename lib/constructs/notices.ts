import { Stack, Validations } from 'aws-cdk-lib';
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
  public readonly topic: sns.Topic;
  /** Customer-managed so CloudWatch alarms may publish to the encrypted topic. */
  public readonly key: kms.Key;
  public readonly alarmAction: cloudwatch.IAlarmAction;

  public constructor(scope: Construct, id: string) {
    super(scope, id);
    const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    // CloudFormation names the alarms, so: every alarm of this account and region.
    const forAlarmsOfThisAccount = {
      StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
      ArnLike: { 'aws:SourceArn': alarmArnsOf(this) },
    };
    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts Autoheal notices',
      enableKeyRotation: true,
    });
    // An alarm's publish to the encrypted topic uses the key as the CloudWatch service principal.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToEncryptNotices',
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: forAlarmsOfThisAccount,
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Autoheal notices',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: forAlarmsOfThisAccount,
      }),
    );
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

/** `arn:PARTITION:cloudwatch:REGION:ACCOUNT:alarm:*`: the alarms of the stack's account and region. */
function alarmArnsOf(scope: Construct): string {
  const { partition, region, account } = Stack.of(scope);
  return `arn:${partition}:cloudwatch:${region}:${account}:alarm:*`;
}
