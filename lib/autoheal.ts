import { CfnOutput, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { AutohealConfig } from '../lambda/shared/autoheal-config';
import { ConfigError } from '../lambda/shared/errors';
import { ExecutionRedrive } from './constructs/execution-redrive';
import { FlowHealing } from './constructs/flow-healing';
import { IdempotencyTable } from './constructs/idempotency-table';
import { Notices } from './constructs/notices';
import { ScheduledFlows } from './constructs/scheduled-flows';
import { warnUncheckedArns } from './unchecked-environment';

export interface AutohealProps {
  /** The validated config (see `loadAutohealConfig`). */
  readonly config: AutohealConfig;
}

/**
 * Everything Autoheal installs, in any stack. `AutohealStack` places it with
 * the id `Default`, which CDK leaves out of logical ids, so the app's
 * template keeps the logical ids it had when these resources sat in the stack.
 */
export class Autoheal extends Construct {
  public readonly notices: Notices;
  public readonly idempotencyTable: IdempotencyTable;
  /** Present when the config has a `redrive` section. */
  public readonly redrive?: ExecutionRedrive;
  /** Present when the config's `appflow` section has schedules. */
  public readonly scheduledFlows?: ScheduledFlows;
  /** Present when the config has an `appflow` section. */
  public readonly flowHealing?: FlowHealing;

  public constructor(scope: Construct, id: string, props: AutohealProps) {
    super(scope, id);
    this.notices = new Notices(this, 'Notices');
    this.idempotencyTable = new IdempotencyTable(this, 'Idempotency');
    const operatorPrincipalArns = props.config.operators?.principalArns ?? [];
    refuseOperatorsElsewhere(this, operatorPrincipalArns);
    if (props.config.redrive) {
      this.redrive = new ExecutionRedrive(this, 'Redrive', {
        config: props.config.redrive,
        operatorPrincipalArns,
        idempotencyTable: this.idempotencyTable,
        notices: this.notices,
      });
      new CfnOutput(this, 'RedriveDeadLetterQueueUrl', {
        description:
          'Step Functions events Autoheal could not process, each with its autoheal-parked-reason',
        value: this.redrive.buffer.deadLetterQueue.queueUrl,
      });
    }
    const { appflow } = props.config;
    if (appflow) {
      const shared = {
        config: appflow,
        idempotencyTable: this.idempotencyTable,
        notices: this.notices,
      };
      if (appflow.schedules.length > 0) {
        this.scheduledFlows = new ScheduledFlows(this, 'ScheduledFlows', shared);
        new CfnOutput(this, 'FlowStarterDeadLetterQueueUrl', {
          description: 'Schedule ticks Autoheal could not deliver, start or parse',
          value: this.scheduledFlows.deadLetterQueue.queueUrl,
        });
      }
      this.flowHealing = new FlowHealing(this, 'FlowHealing', { ...shared, operatorPrincipalArns });
      new CfnOutput(this, 'FlowHealerDeadLetterQueueUrl', {
        description:
          'AppFlow events Autoheal could not process, each with its autoheal-parked-reason',
        value: this.flowHealing.buffer.deadLetterQueue.queueUrl,
      });
    }

    new CfnOutput(this, 'NoticeTopicArn', {
      description: 'Subscribe here to hear when Autoheal gives up or skips a failure',
      value: this.notices.topic.topicArn,
    });
  }
}

/**
 * Refuses, when the stack's account is known, an operator of another account:
 * the work queues' policy exempts principals by ARN, and a principal of
 * another account could not send to them anyway. Unknown (an
 * environment-agnostic stack): a synth warning says so instead.
 */
function refuseOperatorsElsewhere(scope: Construct, principalArns: readonly string[]): void {
  const known = warnUncheckedArns(scope, {
    field: 'operators.principalArns',
    count: principalArns.length,
    against: ['account'],
    consequence:
      "in each deployed instance, a principal of another account is exempt from the work queues' deny but cannot send to them without that account's own grant",
  });
  if (!known.includes('account')) return;
  const stack = Stack.of(scope);
  principalArns.forEach((arn, i) => {
    const account = arn.split(':')[4];
    if (account === stack.account) return;
    throw new ConfigError(
      `operators.principalArns[${i}]`,
      `is in account ${account}, but this stack deploys to account ${stack.account}; name roles or users of the stack's own account`,
    );
  });
}
