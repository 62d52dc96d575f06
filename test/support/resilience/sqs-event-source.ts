/**
 * Lambda's SQS event source, simulated: each execution environment polls the
 * queue, receives up to `batchSize` messages, invokes its handler with them and
 * deletes the ones not reported as batch item failures. A handler that runs
 * past the function timeout is treated as Lambda treats it: the whole batch
 * stays on the queue and comes back after the visibility timeout.
 *
 * Everything goes through the real SQS client to the local endpoint, so
 * receive counts, delays and visibility timeouts behave as the queue says.
 */
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { LocalAwsEndpoint } from '../local-aws/local-aws-endpoint';

/** One execution environment's entry point. */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface EventSourceOptions {
  readonly endpoint: LocalAwsEndpoint;
  readonly queueUrl: string;
  /** One handler per concurrent execution environment (the event source's maximum concurrency). */
  readonly environments: readonly SqsHandler[];
  /** @default 10 */
  readonly batchSize?: number;
  /** The function timeout. @default 30_000 */
  readonly timeoutMs?: number;
  /** Stop once this holds and the queue is empty. @default () => true */
  readonly isDone?: () => boolean;
  /** Give up (and report it) after this long. @default 300_000 */
  readonly maxRunMs?: number;
}

export interface EventSourceRun {
  readonly invocations: number;
  /** Handler duration summed over invocations, each rounded up to the ms as Lambda bills it. */
  readonly billedMs: number;
  readonly timedOut: number;
  /** The run hit maxRunMs with work left. */
  readonly abandoned: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function toRecord(message: Message, queueArn: string): SQSRecord {
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? 'String',
      stringValue: value.StringValue,
      stringListValues: [],
      binaryListValues: [],
    };
  }
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: 'AIDAAUTOHEALLOCAL',
      ApproximateFirstReceiveTimestamp:
        attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'eu-central-1',
  };
}

function contextFor(timeoutMs: number, started: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'autoheal-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-central-1:123456789012:function:autoheal-local',
    memoryLimitInMB: '512',
    awsRequestId: `${started}-${Math.random().toString(16).slice(2)}`,
    logGroupName: '/aws/lambda/autoheal-local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, started + timeoutMs - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Polls `queueUrl` with every environment until the queue is empty and
 * `isDone()` holds (or `maxRunMs` passes).
 */
export async function runEventSource(options: EventSourceOptions): Promise<EventSourceRun> {
  const batchSize = options.batchSize ?? 10;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const isDone = options.isDone ?? (() => true);
  const stopAt = Date.now() + (options.maxRunMs ?? 300_000);
  const queueName = options.queueUrl.split('/').at(-1) ?? '';
  const queueArn = `arn:aws:sqs:eu-central-1:123456789012:${queueName}`;
  let invocations = 0;
  let billedMs = 0;
  let timedOut = 0;
  let abandoned = false;

  const queueEmpty = () => {
    const depth = options.endpoint.queueDepth(queueName);
    return depth.visible + depth.delayed + depth.inFlight === 0;
  };

  const poll = async (handler: SqsHandler) => {
    const sqs = new SQSClient({ endpoint: options.endpoint.url, maxAttempts: 5 });
    try {
      while (true) {
        if (Date.now() > stopAt) {
          abandoned = true;
          return;
        }
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: batchSize,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        const messages = received.Messages ?? [];
        if (messages.length === 0) {
          if (queueEmpty() && isDone()) return;
          await sleep(20);
          continue;
        }
        invocations++;
        const started = Date.now();
        const event: SQSEvent = { Records: messages.map((m) => toRecord(m, queueArn)) };
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        });
        const outcome = await Promise.race([
          handler(event, contextFor(timeoutMs, started)),
          timeout,
        ])
          .catch(() => 'crashed' as const)
          .finally(() => clearTimeout(timer));
        billedMs += Math.max(1, Math.ceil(Date.now() - started));
        if (outcome === 'timeout' || outcome === 'crashed') {
          if (outcome === 'timeout') timedOut++;
          continue; // the whole batch comes back after the visibility timeout
        }
        const failed = new Set(outcome.batchItemFailures.map((f) => f.itemIdentifier));
        const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
        for (let i = 0; i < done.length; i += 10) {
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: options.queueUrl,
              Entries: done.slice(i, i + 10).map((m, j) => ({
                Id: String(j),
                ReceiptHandle: m.ReceiptHandle ?? '',
              })),
            }),
          );
        }
      }
    } finally {
      sqs.destroy();
    }
  };

  await Promise.all(options.environments.map(poll));
  return { invocations, billedMs, timedOut, abandoned };
}
