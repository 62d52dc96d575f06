import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AutohealConfig } from '../lambda/shared/autoheal-config';
import { ExecutionRedrive } from './constructs/execution-redrive';
import { IdempotencyTable } from './constructs/idempotency-table';
import { Notices } from './constructs/notices';

export interface AutohealStackProps extends StackProps {
  /** The validated config (see `loadAutohealConfig`). */
  readonly config: AutohealConfig;
}

/** Everything one `cdk deploy` installs. */
export class AutohealStack extends Stack {
  public readonly notices: Notices;
  public readonly idempotencyTable: IdempotencyTable;
  /** Present when the config has a `redrive` section. */
  public readonly redrive?: ExecutionRedrive;

  public constructor(scope: Construct, id: string, props: AutohealStackProps) {
    super(scope, id, {
      description: 'Autoheal: self-healing for Step Functions workflows',
      ...props,
    });
    this.notices = new Notices(this, 'Notices');
    this.idempotencyTable = new IdempotencyTable(this, 'Idempotency');
    if (props.config.redrive) {
      this.redrive = new ExecutionRedrive(this, 'Redrive', {
        config: props.config.redrive,
        idempotencyTable: this.idempotencyTable,
        notices: this.notices,
      });
      new CfnOutput(this, 'RedriveDeadLetterQueueUrl', {
        description:
          'Step Functions events Autoheal could not process, each with its autoheal-parked-reason',
        value: this.redrive.buffer.deadLetterQueue.queueUrl,
      });
    }

    new CfnOutput(this, 'NoticeTopicArn', {
      description: 'Subscribe here to hear when Autoheal gives up or skips a failure',
      value: this.notices.topic.topicArn,
    });
  }
}
