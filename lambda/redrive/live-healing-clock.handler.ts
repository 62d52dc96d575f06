/**
 * Lambda entry point of the live-healing clock (a custom resource's onEvent):
 * wiring only. The behaviour lives in {@link createLiveHealingClock}.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ENV } from '../shared/contract';
import { requireEnv } from '../shared/errors';
import { AUTOHEAL_CLIENT_CONFIG } from '../shared/sdk-clients';
import { createLiveHealingClock } from './live-healing-clock';

export const handler = createLiveHealingClock({
  dynamodb: new DynamoDBClient(AUTOHEAL_CLIENT_CONFIG),
  tableName: requireEnv(ENV.idempotencyTable),
});
