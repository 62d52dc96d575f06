/**
 * The `operators` section of the Autoheal config: the people (IAM roles and
 * users) who may put work on Autoheal's work queues by hand, which is how they
 * replay the dead-letter queue.
 */
import { check } from './common';

/**
 * An IAM role or user ARN, with its path: `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
 * No wildcards: each one is matched exactly against `aws:PrincipalArn`.
 */
export const IAM_PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(?:role|user)\/[\w+=,.@/-]{1,512}$/;

/** Who besides Autoheal and its EventBridge rules may send to the work queues. */
export interface OperatorsConfig {
  /**
   * IAM roles and users of the stack's account that may send to the work
   * queues, for example to replay a dead-letter queue with
   * `aws sqs start-message-move-task`. Everyone else is denied
   * `sqs:SendMessage` there, whatever their own IAM policies allow.
   * @default []
   */
  readonly principalArns: readonly string[];
}

export const DEFAULT_OPERATORS: OperatorsConfig = { principalArns: [] };

/**
 * Validates the `operators` section and fills in its default.
 *
 * @throws {ConfigError} naming the bad field, e.g. `operators.principalArns[0]`
 * @example
 * ```ts
 * parseOperatorsConfig({ principalArns: ['arn:aws:iam::123456789012:role/ops'] }).principalArns;
 * ```
 */
export function parseOperatorsConfig(value: unknown, field = 'operators'): OperatorsConfig {
  const raw = check.object(value, field);
  check.onlyKeys(raw, field, ['principalArns']);
  return {
    principalArns: check.array(raw.principalArns ?? [], `${field}.principalArns`, (v, f) =>
      check.string(v, f, {
        pattern: IAM_PRINCIPAL_ARN,
        patternHint:
          'an IAM role or user ARN without wildcards (arn:aws:iam::ACCOUNT:role/NAME or arn:aws:iam::ACCOUNT:user/NAME)',
      }),
    ),
  };
}
