/**
 * A fresh healing state table per test on DynamoDB Local, shaped like the
 * deployed one (`HealingStateTable`): keys `pk` and `sk` (strings), TTL
 * attribute `expiration`, on-demand billing.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../../lambda/shared/contract';
import { dynamoDbLocalEndpoint } from './idempotency-table';

export interface StateTable {
  readonly tableName: string;
  readonly client: DynamoDBClient;
  /** A new client on the same endpoint (one per simulated Lambda environment). */
  newClient(): DynamoDBClient;
  /** Every stored item, unmarshalled. */
  items(): Promise<Record<string, unknown>[]>;
  /** Deletes the table and releases the clients. */
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
  const extra: DynamoDBClient[] = [];
  const tableName = await createStateTableOn(client);
  return {
    tableName,
    client,
    newClient: () => {
      const another = new DynamoDBClient({});
      extra.push(another);
      return another;
    },
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
        for (const another of extra) another.destroy();
      }
    },
  };
}
