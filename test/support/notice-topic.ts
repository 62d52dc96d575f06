/**
 * A notice topic that records what is published to it, for the digest
 * suites: one SNS client per simulated environment, every publish in one list,
 * and publishes that fail on demand (as SNS can).
 */
import type { PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import type { NoticeDigest } from '../../lambda/shared/notice-digest';

export interface PublishedNotice {
  readonly subject: string;
  readonly kind: string;
  readonly reason: string;
  readonly digest: boolean;
  readonly body: Record<string, unknown>;
}

export interface NoticeTopic {
  readonly topicArn: string;
  /** Every message the topic accepted, in order. */
  readonly published: PublishedNotice[];
  /** Publishes the topic refused. */
  readonly refused: PublishCommandInput[];
  /** A client of the topic, as one environment holds it. */
  client(): SNSClient;
  /** The next `count` publishes fail with `error`. */
  failNext(count: number, error?: Error): void;
  /** The accepted digests' bodies. */
  digests(): NoticeDigest[];
  /** The accepted notices published on their own. */
  immediate(): PublishedNotice[];
}

/** A 500 from SNS, which Autoheal classes as transient. */
export function snsServerError(): Error {
  return Object.assign(new Error('We encountered an internal error. Please try again.'), {
    name: 'InternalErrorException',
    $fault: 'server',
    $metadata: { httpStatusCode: 500 },
  });
}

export function noticeTopic(topicArn: string): NoticeTopic {
  const published: PublishedNotice[] = [];
  const refused: PublishCommandInput[] = [];
  let failures: { count: number; error: Error } = { count: 0, error: snsServerError() };
  const send = async (command: { input: PublishCommandInput }) => {
    // A real publish takes a network round trip: let other environments interleave.
    await new Promise((resolve) => setImmediate(resolve));
    const input = command.input;
    if (input.TopicArn !== topicArn) throw new Error(`published to ${input.TopicArn}`);
    if (failures.count > 0) {
      failures.count -= 1;
      refused.push(input);
      throw failures.error;
    }
    published.push({
      subject: input.Subject ?? '',
      kind: input.MessageAttributes?.kind?.StringValue ?? '',
      reason: input.MessageAttributes?.reason?.StringValue ?? '',
      digest: input.MessageAttributes?.digest?.StringValue === 'true',
      body: JSON.parse(input.Message ?? '{}') as Record<string, unknown>,
    });
    return { MessageId: String(published.length) };
  };
  return {
    topicArn,
    published,
    refused,
    client: () => ({ send }) as unknown as SNSClient,
    failNext: (count, error = snsServerError()) => {
      failures = { count, error };
    },
    digests: () => published.filter((p) => p.digest).map((p) => p.body as unknown as NoticeDigest),
    immediate: () => published.filter((p) => !p.digest),
  };
}
