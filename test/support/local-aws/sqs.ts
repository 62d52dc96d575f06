/**
 * The SQS side of the local AWS endpoint: standard queues with delays,
 * visibility timeouts, receive counts and a redrive policy to a dead-letter
 * queue, served over the AWS JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Op>`)
 * with the MD5 digests the SDK checks. Delays, visibility timeouts and long
 * polls are simulated seconds of `timeScale` real milliseconds each.
 */
import { randomUUID } from 'node:crypto';
import {
  AwsError,
  type JsonInput,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  md5Hex,
  optionalArray,
  optionalInteger,
  optionalObject,
  requiredString,
} from './wire';

/** A message attribute as the SQS JSON protocol carries it (`BinaryValue` in base64). */
export interface MessageAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

/** A message as the endpoint holds it. */
export interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly messageAttributes: Readonly<Record<string, MessageAttribute>>;
  /** The system attributes as ReceiveMessage would return them (`SentTimestamp`, `ApproximateReceiveCount`, ...). */
  readonly attributes: Readonly<Record<string, string>>;
  /** How many times it was received (and, after a move, received in the queue it came from). */
  readonly receiveCount: number;
  /** When it was sent, epoch ms. */
  readonly sentAt: number;
}

/** A queue's configuration. */
export interface QueueOptions {
  /** @default 30 */
  readonly visibilityTimeoutSeconds?: number;
  /** The redrive policy: a message received `maxReceiveCount` times moves to `queueName` on its next receive (the queue is created if missing). */
  readonly deadLetter?: { readonly queueName: string; readonly maxReceiveCount: number };
}

/** How many messages a queue holds, as SQS's approximate counts split them. */
export interface QueueDepth {
  /** Receivable now. */
  readonly visible: number;
  /** Never received, still within their DelaySeconds. */
  readonly delayed: number;
  /** Received and within their visibility timeout. */
  readonly inFlight: number;
}

interface Message {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly messageAttributes: Record<string, MessageAttribute>;
  readonly sentAt: number;
  /** Epoch ms (the broker's clock) from which it can be received. */
  visibleAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  /** The receipt handle of its latest receive. */
  receipt?: string;
}

interface Queue {
  readonly name: string;
  readonly url: string;
  options: QueueOptions;
  /** In send order; Map keeps insertion order. */
  readonly messages: Map<string, Message>;
}

const MAX_DELAY_SECONDS = 900;
const MAX_VISIBILITY_SECONDS = 43_200;
const MAX_WAIT_SECONDS = 20;
const MAX_BATCH = 10;
/** How often a long poll looks for messages, real ms. */
const POLL_MS = 10;
const SYSTEM_ATTRIBUTES = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
] as const;

/** Length-prefixed (4-byte big-endian) bytes, as in SQS's message attribute digest. */
function lengthPrefixed(bytes: Buffer): Buffer[] {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return [length, bytes];
}

/**
 * SQS's MD5OfMessageAttributes: over the attributes sorted by name, each as
 * name, data type, transport type (1 string, 2 binary) and value.
 */
export function md5OfMessageAttributes(
  attributes: Readonly<Record<string, MessageAttribute>>,
): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  for (const name of names) {
    const { DataType, StringValue, BinaryValue } = attributes[name] as MessageAttribute;
    parts.push(...lengthPrefixed(Buffer.from(name, 'utf8')));
    parts.push(...lengthPrefixed(Buffer.from(DataType, 'utf8')));
    if (BinaryValue !== undefined) {
      parts.push(Buffer.from([2]), ...lengthPrefixed(Buffer.from(BinaryValue, 'base64')));
    } else {
      parts.push(Buffer.from([1]), ...lengthPrefixed(Buffer.from(StringValue ?? '', 'utf8')));
    }
  }
  return md5Hex(Buffer.concat(parts));
}

function invalidParameter(message: string): AwsError {
  return new AwsError('InvalidParameterValue', message, 400, 'InvalidParameterValue');
}

/** Reads and checks a request's MessageAttributes. */
function readMessageAttributes(input: JsonInput): Record<string, MessageAttribute> {
  const raw = optionalObject(input, 'MessageAttributes') ?? {};
  const attributes: Record<string, MessageAttribute> = {};
  for (const [name, value] of Object.entries(raw)) {
    const { DataType, StringValue, BinaryValue } = (value ?? {}) as Record<string, unknown>;
    if (typeof DataType !== 'string' || !/^(String|Number|Binary)(\..+)?$/.test(DataType)) {
      throw invalidParameter(
        `The message attribute '${name}' has an invalid message attribute type`,
      );
    }
    if (DataType.startsWith('Binary')) {
      if (typeof BinaryValue !== 'string') {
        throw invalidParameter(
          `The message attribute '${name}' must contain a non-empty value of message attribute type '${DataType}'.`,
        );
      }
      attributes[name] = { DataType, BinaryValue };
    } else {
      if (typeof StringValue !== 'string' || StringValue === '') {
        throw invalidParameter(
          `The message attribute '${name}' must contain a non-empty message attribute value for message attribute type '${DataType}'.`,
        );
      }
      if (DataType.startsWith('Number') && !Number.isFinite(Number(StringValue))) {
        throw invalidParameter(
          `Can't cast the value of message (user) attribute '${name}' to a number.`,
        );
      }
      attributes[name] = { DataType, StringValue };
    }
  }
  return attributes;
}

function receiptOf(queueName: string, messageId: string, receiveCount: number): string {
  return Buffer.from(`${queueName}\n${messageId}\n${receiveCount}\n${randomUUID()}`).toString(
    'base64',
  );
}

function parseReceipt(handle: string): {
  readonly messageId: string;
  readonly receiveCount: number;
} {
  const [, messageId, count] = Buffer.from(handle, 'base64').toString('utf8').split('\n');
  const receiveCount = Number(count);
  if (!messageId || !Number.isInteger(receiveCount)) {
    throw new AwsError(
      'ReceiptHandleIsInvalid',
      `The input receipt handle "${handle}" is not a valid receipt handle.`,
      404,
      'ReceiptHandleIsInvalid',
    );
  }
  return { messageId, receiveCount };
}

/** True when `name` is selected by a list of names, `All`, `.*` or `prefix.*` patterns. */
function selected(name: string, patterns: readonly string[]): boolean {
  return patterns.some(
    (p) =>
      p === name ||
      p === 'All' ||
      p === '.*' ||
      (p.endsWith('.*') && name.startsWith(p.slice(0, -1))),
  );
}

/** SQS queues and the API operations on them. */
export class SqsBroker {
  private readonly queues = new Map<string, Queue>();
  /** Per queue: which SendMessageBatch entries SQS fails on its side (see {@link failSendEntries}). */
  private readonly sendEntryFaults = new Map<string, (body: string) => boolean>();

  constructor(
    private readonly endpointUrl: string,
    /** Clock ms per simulated second: real ms by default, 1000 on a simulated clock. */
    private readonly timeScale: number,
    /** Waits real ms (a timer the endpoint clears when it stops). */
    private readonly sleep: (ms: number) => Promise<void>,
    /** The queues' clock, epoch ms: sent times, delays, visibility. @default Date.now */
    private readonly clock: () => number = Date.now,
  ) {}

  /** Creates a queue (again: updates its options) and returns its URL. */
  createQueue(name: string, options: QueueOptions = {}): string {
    if (options.deadLetter && !this.queues.has(options.deadLetter.queueName)) {
      this.createQueue(options.deadLetter.queueName);
    }
    const existing = this.queues.get(name);
    if (existing) {
      existing.options = options;
      return existing.url;
    }
    const url = `${this.endpointUrl}/${LOCAL_ACCOUNT}/${name}`;
    this.queues.set(name, { name, url, options, messages: new Map() });
    return url;
  }

  /**
   * From now on, SendMessageBatch entries to the queue whose body `matches`
   * fail on SQS's side (`Failed` with `SenderFault: false`, code
   * `InternalError`) while the call and the other entries succeed; `undefined`
   * stops it.
   */
  failSendEntries(queueName: string, matches: ((body: string) => boolean) | undefined): void {
    if (matches) this.sendEntryFaults.set(queueName, matches);
    else this.sendEntryFaults.delete(queueName);
  }

  /** The queue's messages by state, now. */
  queueDepth(queueName: string): QueueDepth {
    const queue = this.queue(queueName);
    const now = this.clock();
    let visible = 0;
    let delayed = 0;
    let inFlight = 0;
    for (const m of queue.messages.values()) {
      if (m.visibleAt <= now) visible++;
      else if (m.receiveCount === 0) delayed++;
      else inFlight++;
    }
    return { visible, delayed, inFlight };
  }

  /**
   * When the queue's next delayed or in-flight message becomes receivable
   * (clock ms), or undefined when none is waiting.
   */
  nextVisibleAt(queueName: string): number | undefined {
    const now = this.clock();
    let next: number | undefined;
    for (const m of this.queue(queueName).messages.values()) {
      if (m.visibleAt > now && (next === undefined || m.visibleAt < next)) next = m.visibleAt;
    }
    return next;
  }

  /** The queue's messages, in send order, without removing them. */
  peek(queueName: string): readonly StoredMessage[] {
    return [...this.queue(queueName).messages.values()].map((m) => this.stored(m));
  }

  /** Removes and returns every message of the queue, in send order. */
  drain(queueName: string): readonly StoredMessage[] {
    const queue = this.queue(queueName);
    const messages = this.peek(queueName);
    queue.messages.clear();
    return messages;
  }

  /** The queue name a call is about, for the call log. */
  target(input: JsonInput): string | undefined {
    if (typeof input.QueueUrl === 'string') return input.QueueUrl.split('/').filter(Boolean).pop();
    return typeof input.QueueName === 'string' ? input.QueueName : undefined;
  }

  /** Runs one operation; throws an {@link AwsError} for the service's error answers. */
  invoke(operation: string, input: JsonInput): unknown {
    switch (operation) {
      case 'SendMessage':
        return this.sendMessage(input);
      case 'SendMessageBatch':
        return this.sendMessageBatch(input);
      case 'ReceiveMessage':
        return this.receiveMessage(input);
      case 'DeleteMessage':
        this.deleteMessage(
          this.queueOf(input),
          requiredString(input, 'ReceiptHandle', 'MissingParameter'),
        );
        return {};
      case 'DeleteMessageBatch':
        return this.deleteMessageBatch(input);
      case 'ChangeMessageVisibility':
        return this.changeMessageVisibility(input);
      case 'ChangeMessageVisibilityBatch':
        return this.changeMessageVisibilityBatch(input);
      case 'GetQueueUrl':
        return { QueueUrl: this.queue(requiredString(input, 'QueueName', 'MissingParameter')).url };
      case 'GetQueueAttributes':
        return this.getQueueAttributes(input);
      case 'PurgeQueue':
        this.queueOf(input).messages.clear();
        return {};
      default:
        throw new AwsError('UnknownOperationException', `Unknown operation ${operation}`);
    }
  }

  private queue(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) {
      throw new AwsError(
        'QueueDoesNotExist',
        'The specified queue does not exist.',
        400,
        'AWS.SimpleQueueService.NonExistentQueue',
      );
    }
    return queue;
  }

  private queueOf(input: JsonInput): Queue {
    requiredString(input, 'QueueUrl', 'MissingParameter');
    return this.queue(this.target(input) ?? '');
  }

  private stored(m: Message): StoredMessage {
    return {
      messageId: m.messageId,
      body: m.body,
      messageAttributes: { ...m.messageAttributes },
      attributes: this.systemAttributes(m),
      receiveCount: m.receiveCount,
      sentAt: m.sentAt,
    };
  }

  private systemAttributes(m: Message): Record<string, string> {
    return {
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      SentTimestamp: String(m.sentAt),
      ApproximateReceiveCount: String(m.receiveCount),
      ...(m.firstReceiveAt !== undefined && {
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt),
      }),
    };
  }

  /** Adds a message; the entry's checks throw before anything is added. */
  private enqueue(queue: Queue, entry: JsonInput) {
    const body = requiredString(entry, 'MessageBody', 'MissingParameter');
    const delaySeconds = optionalInteger(entry, 'DelaySeconds', 'InvalidParameterValue') ?? 0;
    if (delaySeconds < 0 || delaySeconds > MAX_DELAY_SECONDS) {
      throw invalidParameter(
        `Value ${delaySeconds} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.`,
      );
    }
    const messageAttributes = readMessageAttributes(entry);
    const now = this.clock();
    const message: Message = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5Hex(body),
      messageAttributes,
      sentAt: now,
      visibleAt: now + delaySeconds * this.timeScale,
      receiveCount: 0,
    };
    queue.messages.set(message.messageId, message);
    const md5OfAttributes = md5OfMessageAttributes(messageAttributes);
    return {
      MessageId: message.messageId,
      MD5OfMessageBody: message.md5OfBody,
      ...(md5OfAttributes && { MD5OfMessageAttributes: md5OfAttributes }),
    };
  }

  private sendMessage(input: JsonInput) {
    return this.enqueue(this.queueOf(input), input);
  }

  private batchEntries(input: JsonInput): readonly JsonInput[] {
    const entries = optionalArray(input, 'Entries') as readonly JsonInput[];
    if (entries.length === 0) {
      throw new AwsError(
        'EmptyBatchRequest',
        'There should be at least one SendMessageBatchRequestEntry in the request.',
        400,
        'AWS.SimpleQueueService.EmptyBatchRequest',
      );
    }
    if (entries.length > MAX_BATCH) {
      throw new AwsError(
        'TooManyEntriesInBatchRequest',
        `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
        400,
        'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
      );
    }
    const ids = new Set(entries.map((e) => e.Id));
    if (ids.size !== entries.length) {
      throw new AwsError(
        'BatchEntryIdsNotDistinct',
        'Id must be unique in a batch request.',
        400,
        'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
      );
    }
    return entries;
  }

  private sendMessageBatch(input: JsonInput) {
    const queue = this.queueOf(input);
    const Successful: unknown[] = [];
    const Failed: unknown[] = [];
    const fault = this.sendEntryFaults.get(queue.name);
    for (const entry of this.batchEntries(input)) {
      if (fault && typeof entry.MessageBody === 'string' && fault(entry.MessageBody)) {
        Failed.push({
          Id: entry.Id,
          SenderFault: false,
          Code: 'InternalError',
          Message: 'We encountered an internal error. Please try again.',
        });
        continue;
      }
      try {
        Successful.push({ Id: entry.Id, ...this.enqueue(queue, entry) });
      } catch (error) {
        if (!(error instanceof AwsError)) throw error;
        Failed.push({ Id: entry.Id, SenderFault: true, Code: error.code, Message: error.message });
      }
    }
    return { Successful, Failed };
  }

  private async receiveMessage(input: JsonInput) {
    const queue = this.queueOf(input);
    const max = optionalInteger(input, 'MaxNumberOfMessages', 'InvalidParameterValue') ?? 1;
    if (max < 1 || max > MAX_BATCH) {
      throw invalidParameter(
        `Value ${max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
      );
    }
    const visibilitySeconds =
      optionalInteger(input, 'VisibilityTimeout', 'InvalidParameterValue') ??
      queue.options.visibilityTimeoutSeconds ??
      30;
    if (visibilitySeconds < 0 || visibilitySeconds > MAX_VISIBILITY_SECONDS) {
      throw invalidParameter(
        `Value ${visibilitySeconds} for parameter VisibilityTimeout is invalid.`,
      );
    }
    const waitSeconds = optionalInteger(input, 'WaitTimeSeconds', 'InvalidParameterValue') ?? 0;
    if (waitSeconds < 0 || waitSeconds > MAX_WAIT_SECONDS) {
      throw invalidParameter(
        `Value ${waitSeconds} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.`,
      );
    }
    const attributeNames = [
      ...optionalArray(input, 'AttributeNames'),
      ...optionalArray(input, 'MessageSystemAttributeNames'),
    ].filter((n): n is string => typeof n === 'string');
    const messageAttributeNames = optionalArray(input, 'MessageAttributeNames').filter(
      (n): n is string => typeof n === 'string',
    );
    const deadline = this.clock() + waitSeconds * this.timeScale;
    let received = this.take(queue, max, visibilitySeconds * this.timeScale);
    while (received.length === 0 && this.clock() < deadline) {
      await this.sleep(Math.min(POLL_MS, deadline - this.clock()));
      received = this.take(queue, max, visibilitySeconds * this.timeScale);
    }
    if (received.length === 0) return {};
    return {
      Messages: received.map((m) => {
        const attributes = this.systemAttributes(m);
        const chosenAttributes = Object.fromEntries(
          SYSTEM_ATTRIBUTES.filter(
            (name) => attributes[name] !== undefined && selected(name, attributeNames),
          ).map((name) => [name, attributes[name]]),
        );
        const chosenMessageAttributes = Object.fromEntries(
          Object.entries(m.messageAttributes).filter(([name]) =>
            selected(name, messageAttributeNames),
          ),
        );
        const md5OfAttributes = md5OfMessageAttributes(chosenMessageAttributes);
        return {
          MessageId: m.messageId,
          ReceiptHandle: m.receipt,
          MD5OfBody: m.md5OfBody,
          Body: m.body,
          ...(Object.keys(chosenAttributes).length > 0 && { Attributes: chosenAttributes }),
          ...(md5OfAttributes && {
            MD5OfMessageAttributes: md5OfAttributes,
            MessageAttributes: chosenMessageAttributes,
          }),
        };
      }),
    };
  }

  /**
   * Receives up to `max` visible messages, oldest first; a message already
   * received `maxReceiveCount` times moves to the dead-letter queue instead.
   */
  private take(queue: Queue, max: number, visibilityMs: number): Message[] {
    const now = this.clock();
    const taken: Message[] = [];
    const deadLetter = queue.options.deadLetter;
    for (const m of queue.messages.values()) {
      if (taken.length >= max) break;
      if (m.visibleAt > now) continue;
      if (deadLetter && m.receiveCount >= deadLetter.maxReceiveCount) {
        queue.messages.delete(m.messageId);
        const target = this.queue(deadLetter.queueName);
        m.visibleAt = now;
        m.receipt = undefined;
        target.messages.set(m.messageId, m);
        continue;
      }
      m.receiveCount += 1;
      m.firstReceiveAt ??= now;
      m.visibleAt = now + visibilityMs;
      m.receipt = receiptOf(queue.name, m.messageId, m.receiveCount);
      taken.push(m);
    }
    return taken;
  }

  /**
   * Deletes the message of a receipt handle. As SQS documents, a handle of an
   * earlier receive succeeds without deleting, and so does a handle of a
   * message already gone.
   */
  private deleteMessage(queue: Queue, handle: string): void {
    const { messageId, receiveCount } = parseReceipt(handle);
    const m = queue.messages.get(messageId);
    if (m && m.receiveCount === receiveCount) queue.messages.delete(messageId);
  }

  private deleteMessageBatch(input: JsonInput) {
    const queue = this.queueOf(input);
    const Successful: unknown[] = [];
    const Failed: unknown[] = [];
    for (const entry of this.batchEntries(input)) {
      try {
        this.deleteMessage(queue, requiredString(entry, 'ReceiptHandle', 'MissingParameter'));
        Successful.push({ Id: entry.Id });
      } catch (error) {
        if (!(error instanceof AwsError)) throw error;
        Failed.push({ Id: entry.Id, SenderFault: true, Code: error.code, Message: error.message });
      }
    }
    return { Successful, Failed };
  }

  private changeMessageVisibilityBatch(input: JsonInput) {
    const queue = this.queueOf(input);
    const Successful: unknown[] = [];
    const Failed: unknown[] = [];
    for (const entry of this.batchEntries(input)) {
      try {
        this.changeVisibility(queue, entry);
        Successful.push({ Id: entry.Id });
      } catch (error) {
        if (!(error instanceof AwsError)) throw error;
        Failed.push({ Id: entry.Id, SenderFault: true, Code: error.code, Message: error.message });
      }
    }
    return { Successful, Failed };
  }

  private changeMessageVisibility(input: JsonInput) {
    this.changeVisibility(this.queueOf(input), input);
    return {};
  }

  /** Sets the visibility of one received message (a ChangeMessageVisibility request or batch entry). */
  private changeVisibility(queue: Queue, input: JsonInput): void {
    const { messageId, receiveCount } = parseReceipt(
      requiredString(input, 'ReceiptHandle', 'MissingParameter'),
    );
    const seconds = optionalInteger(input, 'VisibilityTimeout', 'InvalidParameterValue');
    if (seconds === undefined || seconds < 0 || seconds > MAX_VISIBILITY_SECONDS) {
      throw invalidParameter(
        `Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.`,
      );
    }
    const m = queue.messages.get(messageId);
    const now = this.clock();
    if (!m || m.receiveCount !== receiveCount || m.visibleAt <= now) {
      throw new AwsError(
        'MessageNotInflight',
        'The message referred to is not in flight.',
        400,
        'AWS.SimpleQueueService.MessageNotInflight',
      );
    }
    m.visibleAt = now + seconds * this.timeScale;
  }

  private getQueueAttributes(input: JsonInput) {
    const queue = this.queueOf(input);
    const names = optionalArray(input, 'AttributeNames').filter(
      (n): n is string => typeof n === 'string',
    );
    const depth = this.queueDepth(queue.name);
    const { deadLetter, visibilityTimeoutSeconds } = queue.options;
    const all: Record<string, string> = {
      QueueArn: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${queue.name}`,
      ApproximateNumberOfMessages: String(depth.visible),
      ApproximateNumberOfMessagesDelayed: String(depth.delayed),
      ApproximateNumberOfMessagesNotVisible: String(depth.inFlight),
      VisibilityTimeout: String(visibilityTimeoutSeconds ?? 30),
      ...(deadLetter && {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${deadLetter.queueName}`,
          maxReceiveCount: deadLetter.maxReceiveCount,
        }),
      }),
    };
    const Attributes = Object.fromEntries(
      Object.entries(all).filter(([name]) => selected(name, names)),
    );
    return Object.keys(Attributes).length > 0 ? { Attributes } : {};
  }
}
