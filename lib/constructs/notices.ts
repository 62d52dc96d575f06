import { Validations } from 'aws-cdk-lib';
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
 */
export class Notices extends Construct {
  public readonly topic: sns.Topic;
  /** Customer-managed so CloudWatch alarms may publish to the encrypted topic. */
  public readonly key: kms.Key;
  public readonly alarmAction: cloudwatch.IAlarmAction;

  public constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts Autoheal notices',
      enableKeyRotation: true,
    });
    // Alarms publish through the CloudWatch service principal, which needs the key.
    this.key.grant(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Autoheal notices',
      masterKey: this.key,
      enforceSSL: true,
    });
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
