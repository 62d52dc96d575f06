import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AutohealConfig } from '../lambda/shared/autoheal-config';
import { DEFAULT_IDEMPOTENCY_KEY_PREFIX } from '../lambda/shared/contract';
import { Autoheal } from '../lib/autoheal';
import { appScheduleGroupName } from '../lib/constructs/scheduled-flows';
import { autohealPropsFromConfig } from './config/props-from-config';

export interface AutohealStackProps extends StackProps {
  /** The validated config (see `loadAutohealConfig`). */
  readonly config: AutohealConfig;
}

/**
 * The app's one stack: an {@link Autoheal} construct and nothing else, built
 * from the JSON config.
 *
 * It keeps what the app's deployments already have: the logical ids ('Default'
 * is left out of them), the schedule group `STACKNAME-flows` (a new name would
 * replace the group and its schedules), and the idempotency key prefix
 * `autoheal` (records written before an upgrade still dedupe after it).
 */
export class AutohealStack extends Stack {
  public readonly autoheal: Autoheal;

  public constructor(scope: Construct, id: string, props: AutohealStackProps) {
    super(scope, id, {
      description: 'Autoheal: self-healing for Step Functions executions and AppFlow flows',
      ...props,
    });
    this.autoheal = new Autoheal(this, 'Default', {
      ...autohealPropsFromConfig(props.config),
      idempotencyKeyPrefix: DEFAULT_IDEMPOTENCY_KEY_PREFIX,
      scheduleGroupName: appScheduleGroupName(this),
    });
  }
}
