/**
 * Lambda entry point of the live-healing clock (a custom resource's onEvent):
 * wiring only. The behaviour lives in {@link createLiveHealingClock}.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { autohealClient } from '../shared/aws-call';
import { ENV } from '../shared/contract';
import { requireEnv } from '../shared/errors';
import { createLiveHealingClock } from './live-healing-clock';

export const handler = createLiveHealingClock({
  dynamodb: autohealClient(DynamoDBClient),
  tableName: requireEnv(ENV.idempotencyTable),
});
