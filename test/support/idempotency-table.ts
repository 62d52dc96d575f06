/**
 * Helpers for tests against DynamoDB Local: a fresh idempotency table per test
 * (shaped like the deployed one), the Powertools persistence layer on it, and
 * the Lambda inputs of an SQS-triggered handler (records, batch, context).
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { IDEMPOTENCY_TABLE } from '../../lambda/shared/contract';

/** The endpoint the `dynamodb` project's global setup exported; refuses to run without it. */
export function dynamoDbLocalEndpoint(): string {
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
  if (!endpoint?.startsWith('http://127.0.0.1:')) {
    throw new Error(
      'AWS_ENDPOINT_URL_DYNAMODB does not point at DynamoDB Local on 127.0.0.1: run these tests with ' +
        '`jest --selectProjects dynamodb`, whose global setup starts it.',
    );
  }
  return endpoint;
}

export interface IdempotencyTable {
  readonly tableName: string;
  readonly client: DynamoDBClient;
  /** A new persistence layer on this table (one per IdempotencyConfig, as Powertools requires). */
  persistenceLayer(): DynamoDBPersistenceLayer;
  /** Every stored item, unmarshalled. */
  items(): Promise<Record<string, unknown>[]>;
  /** Deletes the table and releases the client. */
  dispose(): Promise<void>;
}

/**
 * Creates a uniquely named idempotency table through `client` (partition key
 * `id`, on-demand billing, as the construct deploys it) and returns its name.
 * The resilience rigs use it on the DynamoDB Local they were given.
 */
export async function createIdempotencyTableOn(client: DynamoDBClient): Promise<string> {
  const tableName = `autoheal-idempotency-${randomUUID()}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return tableName;
}

/**
 * Creates a uniquely named idempotency table on DynamoDB Local: partition key
 * `id` (string), on-demand billing, as the construct deploys it.
 *
 * @example
 * ```ts
 * let table: IdempotencyTable;
 * beforeEach(async () => { table = await createIdempotencyTable(); });
 * afterEach(() => table.dispose());
 * ```
 */
export async function createIdempotencyTable(): Promise<IdempotencyTable> {
  dynamoDbLocalEndpoint();
  // No endpoint in code: the SDK picks it up from AWS_ENDPOINT_URL_DYNAMODB, as a handler would.
  const client = new DynamoDBClient({});
  const tableName = await createIdempotencyTableOn(client);
  return {
    tableName,
    client,
    persistenceLayer: () =>
      new DynamoDBPersistenceLayer({
        tableName,
        keyAttr: IDEMPOTENCY_TABLE.partitionKey,
        expiryAttr: IDEMPOTENCY_TABLE.timeToLive,
        awsSdkV3Client: client,
      }),
    items: async () => {
      const documents = DynamoDBDocumentClient.from(client);
      const result = await documents.send(
        new ScanCommand({ TableName: tableName, ConsistentRead: true }),
      );
      return result.Items ?? [];
    },
    dispose: async () => {
      try {
        await client.send(new DeleteTableCommand({ TableName: tableName }));
      } finally {
        client.destroy();
      }
    },
  };
}

export interface SqsRecordOptions {
  readonly messageId?: string;
  /** `attributes.ApproximateReceiveCount`: 1 on the first delivery. @default 1 */
  readonly receiveCount?: number;
  /** String message attributes, e.g. the provenance attributes Autoheal stamps. */
  readonly messageAttributes?: Readonly<Record<string, string>>;
}

export const WORK_QUEUE_ARN = 'arn:aws:sqs:eu-central-1:123456789012:autoheal-redrive-work';

/** An SQS record as Lambda's event source mapping delivers it. */
export function sqsRecord(body: string, options: SqsRecordOptions = {}): SQSRecord {
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(options.messageAttributes ?? {})) {
    messageAttributes[name] = {
      stringValue: value,
      stringListValues: [],
      binaryListValues: [],
      dataType: 'String',
    };
  }
  return {
    messageId: options.messageId ?? randomUUID(),
    receiptHandle: `receipt-${randomUUID()}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes,
    md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
    eventSource: 'aws:sqs',
    eventSourceARN: WORK_QUEUE_ARN,
    awsRegion: 'eu-central-1',
  };
}

/** The same message received again (SQS at-least-once, or a retry after a failure). */
export function receivedAgain(record: SQSRecord): SQSRecord {
  const count = Number(record.attributes.ApproximateReceiveCount) + 1;
  return {
    ...record,
    attributes: { ...record.attributes, ApproximateReceiveCount: String(count) },
  };
}

/** An SQS batch of the given records. */
export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** A Lambda context with `remainingMs` left (fixed: tests do not race the clock). */
export function lambdaContext(remainingMs = 60_000): Context {
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'autoheal-redrive',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-central-1:123456789012:function:autoheal-redrive',
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/autoheal-redrive',
    logStreamName: `2026/01/01/[$LATEST]${requestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
