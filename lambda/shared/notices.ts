/**
 * Notices to operators on the SNS topic: when Autoheal gives up on a failure
 * or decides a failure is not worth a redrive. Message attributes carry the
 * kind and reason so subscribers can filter; the body never carries execution
 * input, output or error cause.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { rethrowClassified } from './aws-errors';

export interface Notice {
  /** e.g. `redrive-gave-up`, `redrive-skipped`. */
  readonly kind: string;
  /** Machine-readable reason, e.g. `max-redrives`, `error-denied`. */
  readonly reason: string;
  /** One line for humans. */
  readonly subject: string;
  /** Plain JSON facts; never execution data. */
  readonly facts: Readonly<Record<string, string | number | boolean | undefined>>;
}

/** SNS subjects are ASCII, at most 100 characters, and may not contain line breaks. */
export function toSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= 100 ? ascii : `${ascii.slice(0, 97)}...`;
}

export async function publishNotice(
  sns: SNSClient,
  topicArn: string,
  notice: Notice,
): Promise<void> {
  try {
    await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: toSubject(notice.subject),
        Message: JSON.stringify(
          { kind: notice.kind, reason: notice.reason, ...notice.facts },
          null,
          2,
        ),
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: notice.kind },
          reason: { DataType: 'String', StringValue: notice.reason },
        },
      }),
    );
  } catch (error) {
    rethrowClassified(error, 'Publishing the notice (SNS Publish)');
  }
}
