/**
 * Global teardown of the `dynamodb` Jest project: stops the DynamoDB Local
 * process started by the global setup and waits until it has exited, so no
 * Java process outlives the test run.
 */
import { stopDynamoDbLocal } from './dynamodb-local-setup';

export default async function globalTeardown(): Promise<void> {
  const handle = globalThis.__AUTOHEAL_DYNAMODB_LOCAL__;
  if (!handle) return;
  globalThis.__AUTOHEAL_DYNAMODB_LOCAL__ = undefined;
  await stopDynamoDbLocal(handle.process);
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
}
