/**
 * The zod schema of the `operators` section. Synth side only; the constants
 * are in `operators-config.ts`.
 */
import type { z } from 'zod';
import type { Immutable } from './common';
import { parseWith } from './config-issues';
import { IAM_PRINCIPAL_ARN } from './operators-config';
import { list, section, text } from './zod-rules';

/** Who besides Autoheal and its EventBridge rules may send to the work queues. */
export const operatorsSchema = section({
  principalArns: list(
    text({
      pattern: IAM_PRINCIPAL_ARN,
      patternHint:
        'an IAM role or user ARN without wildcards (arn:aws:iam::ACCOUNT:role/NAME or arn:aws:iam::ACCOUNT:user/NAME)',
    }),
  )
    .default(() => [])
    .describe(
      "IAM roles and users of the stack's account that may send to the work queues, e.g. to replay a dead-letter queue with aws sqs start-message-move-task. Everyone else is denied sqs:SendMessage there.",
    ),
}).describe('Who besides Autoheal may send to the work queues by hand (dead-letter replays).');

/** Who besides Autoheal and its EventBridge rules may send to the work queues. */
export type OperatorsConfig = Immutable<z.output<typeof operatorsSchema>>;

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
  return parseWith(operatorsSchema, value, field);
}
