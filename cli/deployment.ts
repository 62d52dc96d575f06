/**
 * The deployment an `autoheal` command acts on: what it needs to know about
 * one Autoheal installation (tables, queues, topic, the deployed config).
 *
 * Discovered from the stack (`--stack`, default `Autoheal`): its outputs name
 * the functions, and each function's own configuration (environment and code
 * asset, through Lambda `GetFunction`) is the deployment as the handlers see
 * it, config file included. Explicit flags override what discovery finds.
 */

import type { LiveSinceDocument } from '../lambda/redrive/live-healing';
import type { AppflowHandlerConfig } from '../lambda/shared/config/appflow-config';
import type { RedriveHandlerConfig } from '../lambda/shared/config/redrive-config';

/** The redrive path of a deployment. */
export interface RedriveDeployment {
  /** The redrive handler's function name. */
  readonly functionName?: string;
  /** The queue the redrive handler consumes (`AUTOHEAL_WORK_QUEUE_URL`). */
  readonly workQueueUrl: string;
  /** Where it parks what it cannot process (`AUTOHEAL_DEAD_LETTER_QUEUE_URL`). */
  readonly deadLetterQueueUrl: string;
  /** `arn:PARTITION:states:REGION:ACCOUNT:` (`AUTOHEAL_STATES_ARN_PREFIX`). */
  readonly statesArnPrefix: string;
  /** The redrive section of the deployed config, as the handler reads it (placeholders filled in). */
  readonly config: RedriveHandlerConfig;
  /** Since when each scoped machine has been under live healing (inline or read from the clock's record). */
  readonly liveSince: LiveSinceDocument;
}

/** The AppFlow paths of a deployment. */
export interface AppflowDeployment {
  /** The flow starter's function name (scheduled flows), when there are schedules. */
  readonly starterFunctionName?: string;
  /** The flow starter's dead-letter queue, when there are schedules. */
  readonly starterDeadLetterQueueUrl?: string;
  /** The flow healer's work queue. */
  readonly healerWorkQueueUrl?: string;
  /** The flow healer's dead-letter queue. */
  readonly healerDeadLetterQueueUrl?: string;
  /** The appflow section of the deployed config. */
  readonly config: AppflowHandlerConfig;
}

/** One Autoheal installation, as the CLI acts on it. */
export interface Deployment {
  /** The CloudFormation stack it was found in (empty when given entirely by flags). */
  readonly stackName: string;
  /** The region its resources are in. */
  readonly region: string;
  /** The installation's idempotency key prefix (`AUTOHEAL_IDEMPOTENCY_KEY_PREFIX`, default `autoheal`). */
  readonly idempotencyKeyPrefix: string;
  /** The Powertools idempotency table (`AUTOHEAL_IDEMPOTENCY_TABLE`). */
  readonly idempotencyTableName: string;
  /** The healing state table (breaker, held failures, digests), when deployed. */
  readonly stateTableName?: string;
  /** The notice topic. */
  readonly noticeTopicArn?: string;
  /** The redrive path, when the config has one. */
  readonly redrive?: RedriveDeployment;
  /** The AppFlow paths, when the config has them. */
  readonly appflow?: AppflowDeployment;
  /** The CloudWatch dashboard's URL, when the stack outputs one. */
  readonly dashboardUrl?: string;
}
