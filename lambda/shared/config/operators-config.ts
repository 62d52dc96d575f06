/**
 * The `operators` section of the Autoheal config: the people (IAM roles and
 * users) who may put work on Autoheal's work queues by hand, which is how they
 * replay the dead-letter queue.
 */
import type { OperatorsConfig } from './operators-schema';

export type { OperatorsConfig } from './operators-schema';

/**
 * An IAM role or user ARN, with its path: `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
 * No wildcards: each one is matched exactly against `aws:PrincipalArn`.
 */
export const IAM_PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(?:role|user)\/[\w+=,.@/-]{1,512}$/;

/** Nobody but Autoheal sends to the work queues unless the config says otherwise. */
export const DEFAULT_OPERATORS: OperatorsConfig = { principalArns: [] };
