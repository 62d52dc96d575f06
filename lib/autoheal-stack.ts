import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AutohealConfig } from '../lambda/shared/autoheal-config';
import { Autoheal } from './autoheal';

export interface AutohealStackProps extends StackProps {
  /** The validated config (see `loadAutohealConfig`). */
  readonly config: AutohealConfig;
}

/** The app's one stack: an {@link Autoheal} construct and nothing else. */
export class AutohealStack extends Stack {
  public readonly autoheal: Autoheal;

  public constructor(scope: Construct, id: string, props: AutohealStackProps) {
    super(scope, id, {
      description: 'Autoheal: self-healing for Step Functions executions and AppFlow flows',
      ...props,
    });
    // 'Default' is left out of logical ids: the template keeps the ids it had before the construct existed.
    this.autoheal = new Autoheal(this, 'Default', { config: props.config });
  }
}
