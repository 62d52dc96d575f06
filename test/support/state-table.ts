/**
 * The healing state table on DynamoDB Local, shaped like the deployed one
 * (`pk`/`sk` strings, TTL attribute `expiration`, on-demand): a fresh table per
 * test, and a reader of its items.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { STATE_TABLE } from '../../lambda/shared/contract';
import { dynamoDbLocalEndpoint } from './idempotency-table';

export interface StateTable {
  readonly tableName: string;
  readonly client: DynamoDBClient;
  /** Every stored item, unmarshalled. */
  items(): Promise<Record<string, unknown>[]>;
  /** Every stored item as DynamoDB holds it (for sizes). */
  rawItems(): Promise<Record<string, unknown>[]>;
  /** Deletes the table and releases the client. */
  dispose(): Promise<void>;
}

/** Creates a uniquely named healing state table through `client` and returns its name. */
export async function createStateTableOn(client: DynamoDBClient): Promise<string> {
  const tableName = `autoheal-state-${randomUUID()}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [
        { AttributeName: STATE_TABLE.partitionKey, AttributeType: 'S' },
        { AttributeName: STATE_TABLE.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return tableName;
}

/**
 * Creates a uniquely named healing state table on DynamoDB Local.
 *
 * @example
 * ```ts
 * let table: StateTable;
 * beforeEach(async () => { table = await createStateTable(); });
 * afterEach(() => table.dispose());
 * ```
 */
export async function createStateTable(): Promise<StateTable> {
  dynamoDbLocalEndpoint();
  // No endpoint in code: the SDK picks it up from AWS_ENDPOINT_URL_DYNAMODB, as a handler would.
  const client = new DynamoDBClient({});
  const tableName = await createStateTableOn(client);
  const rawItems = async () => {
    const items: Record<string, unknown>[] = [];
    let exclusiveStartKey: Record<string, never> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: tableName,
          ConsistentRead: true,
          ExclusiveStartKey: exclusiveStartKey,
        }),
      );
      items.push(...(page.Items ?? []));
      exclusiveStartKey = page.LastEvaluatedKey as Record<string, never> | undefined;
    } while (exclusiveStartKey !== undefined);
    return items;
  };
  return {
    tableName,
    client,
    rawItems,
    // biome-ignore lint/suspicious/noExplicitAny: Scan items are AttributeValue maps.
    items: async () => (await rawItems()).map((item) => unmarshall(item as any)),
    dispose: async () => {
      try {
        await client.send(new DeleteTableCommand({ TableName: tableName }));
      } finally {
        client.destroy();
      }
    },
  };
}
