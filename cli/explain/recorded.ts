/**
 * What Autoheal recorded about one execution, read through the runtime's own
 * code: its idempotency records (the sweeper's lookup, `redrive-records.ts`)
 * and its breaker (the brake's control functions and held items).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { describeBreaker } from '../../lambda/redrive/breaker/breaker-control';
import {
  createBreakerStore,
  type HeldFailure,
  heldFailureOf,
} from '../../lambda/redrive/breaker/breaker-store';
import type { ExecutionStatusChange } from '../../lambda/redrive/failure-event';
import { redriveRecordReader } from '../../lambda/redrive/redrive-records';
import { breakerOptionsByArn, breakerOptionsFor } from '../../lambda/shared/config/breaker-config';
import { STATE_TABLE, stateKeys } from '../../lambda/shared/contract';
import { autohealPersistenceStore } from '../../lambda/shared/idempotency';
import type { Deployment } from '../deployment';
import { type Explanation, failureRecords } from './explain';

/**
 * The failure as the breaker holds it (one Query on its exact key), if held.
 * Only the current failure can be held: a held failure is released before it
 * is redriven.
 */
async function heldFailure(
  dynamodb: DynamoDBClient,
  tableName: string,
  keyPrefix: string,
  change: ExecutionStatusChange,
): Promise<HeldFailure | undefined> {
  if (change.stopDate === undefined) return undefined;
  const keys = stateKeys(keyPrefix);
  const page = await dynamodb.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: '#pk = :pk AND #sk = :sk',
      ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey, '#sk': STATE_TABLE.sortKey },
      ExpressionAttributeValues: {
        ':pk': { S: keys.heldPartition(change.stateMachineArn) },
        ':sk': { S: keys.heldSortKey(change.stopDate, change.executionArn) },
      },
      ConsistentRead: true,
    }),
  );
  const item = page.Items?.[0];
  return item ? heldFailureOf(item) : undefined;
}

/**
 * Adds what the deployment recorded about the explained execution: the
 * idempotency records of each failure, the machine's breaker state and the
 * held failure. Reads only.
 *
 * @example
 * ```ts
 * const explanation = await withRecords(await explainExecution(setup, sfn, arn, now), deployment, dynamodb, now);
 * ```
 */
export async function withRecords(
  explanation: Explanation,
  deployment: Deployment,
  dynamodb: DynamoDBClient,
  now: number,
): Promise<Explanation> {
  const { executionArn, facts } = explanation;
  if (!executionArn || explanation.action === 'park') return explanation;
  const read = redriveRecordReader(
    autohealPersistenceStore(deployment.idempotencyTableName, dynamodb),
    deployment.idempotencyKeyPrefix,
  );
  const records = await failureRecords(read, executionArn, facts?.redriveCount ?? 0);
  const config = deployment.redrive?.config;
  if (!facts || !config || !deployment.stateTableName || facts.isMapRunChild) {
    return { ...explanation, records };
  }
  if (!breakerOptionsFor(config, facts.stateMachineName).enabled) {
    return { ...explanation, records };
  }
  const store = createBreakerStore({
    dynamodb,
    tableName: deployment.stateTableName,
    keyPrefix: deployment.idempotencyKeyPrefix,
    optionsFor: breakerOptionsByArn(config),
  });
  const description = await describeBreaker(store, facts.stateMachineArn, {
    breaker: breakerOptionsFor(config, facts.stateMachineName),
    now,
    heldSample: 1,
  });
  const held = await heldFailure(
    dynamodb,
    deployment.stateTableName,
    deployment.idempotencyKeyPrefix,
    facts,
  );
  return {
    ...explanation,
    records,
    breaker: {
      effectiveState: description.effectiveState,
      computedState: description.computedState,
      forced: description.forced,
      cooldownEndsAt: description.cooldownEndsAt,
    },
    held,
  };
}
