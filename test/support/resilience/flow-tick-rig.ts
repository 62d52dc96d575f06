/**
 * Scheduled AppFlow ticks under duplication, concurrency and faults: each tick
 * is delivered several times at once (EventBridge Scheduler and Lambda's async
 * invocation are at-least-once) to several execution environments of the real
 * flow starter, whose AppFlow calls go through the SDK to the local endpoint.
 * A delivery that fails is invoked again, as Lambda's async retries would.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { AppflowClient } from '@aws-sdk/client-appflow';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { flowClientToken } from '../../../lambda/appflow/flow-api';
import { createFlowStarterHandler } from '../../../lambda/appflow/flow-starter';
import { parseAppflowConfig } from '../../../lambda/shared/autoheal-config';
import { FLOW_STARTER_SERVICE_NAME, METRICS_NAMESPACE } from '../../../lambda/shared/contract';
import { AUTOHEAL_CLIENT_CONFIG } from '../../../lambda/shared/sdk-clients';
import { createIdempotencyTableOn } from '../idempotency-table';
import { type FaultOptions, LocalAwsEndpoint } from '../local-aws/local-aws-endpoint';

export interface TickStormOptions {
  readonly flows: number;
  readonly ticks: number;
  /** Deliveries of each tick, all at once. @default 3 */
  readonly deliveries?: number;
  /** @default 4 */
  readonly environments?: number;
  readonly faults?: FaultOptions;
  /** Invocations of one delivery before it is given up (Lambda retries twice, Scheduler more). @default 20 */
  readonly maxInvocations?: number;
}

export interface TickStormResult {
  readonly flowTicks: number;
  /** Flow-tick pairs started exactly once. */
  readonly startedOnce: number;
  /** Flow-tick pairs started more than once. */
  readonly startedTwice: number;
  /** Flow-tick pairs never started. */
  readonly notStarted: number;
  readonly startFlowCalls: number;
  readonly faultsInjected: number;
}

const context = (): Context =>
  ({
    functionName: 'autoheal-flow-starter',
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => 60_000,
  }) as Context;

export async function runTickStorm(options: TickStormOptions): Promise<TickStormResult> {
  const endpoint = await LocalAwsEndpoint.start({ faults: options.faults });
  const dynamoDbEndpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
  const clients: { destroy(): void }[] = [];
  try {
    const flowNames = Array.from({ length: options.flows }, (_, i) => `autoheal-demo-export-${i}`);
    for (const flowName of flowNames) endpoint.addFlow({ flowName, triggerType: 'OnDemand' });
    const config = parseAppflowConfig({
      schedules: [{ name: 'nightly', expression: 'cron(0 2 * * ? *)', flows: flowNames }],
    });
    const admin = new DynamoDBClient({ endpoint: dynamoDbEndpoint });
    clients.push(admin);
    const tableName = await createIdempotencyTableOn(admin);
    const environments = Array.from({ length: options.environments ?? 4 }, () => {
      const appflow = new AppflowClient({ ...AUTOHEAL_CLIENT_CONFIG, endpoint: endpoint.url });
      const sns = new SNSClient({ ...AUTOHEAL_CLIENT_CONFIG, endpoint: endpoint.url });
      const sqs = new SQSClient({ ...AUTOHEAL_CLIENT_CONFIG, endpoint: endpoint.url });
      const dynamodb = new DynamoDBClient({
        ...AUTOHEAL_CLIENT_CONFIG,
        endpoint: dynamoDbEndpoint,
      });
      clients.push(appflow, sns, sqs, dynamodb);
      const logger = new Logger({ serviceName: FLOW_STARTER_SERVICE_NAME, logLevel: 'SILENT' });
      return createFlowStarterHandler({
        config,
        appflow,
        sns,
        sqs,
        persistenceStore: new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: dynamodb }),
        noticeTopicArn: 'arn:aws:sns:eu-central-1:123456789012:autoheal-notices',
        deadLetterQueueUrl: endpoint.createQueue('autoheal-flow-starter-dlq'),
        logger,
        metrics: new Metrics({
          namespace: METRICS_NAMESPACE,
          serviceName: FLOW_STARTER_SERVICE_NAME,
          logger,
        }),
      });
    });

    const base = Date.parse('2026-11-21T02:00:00Z');
    const ticks = Array.from({ length: options.ticks }, (_, i) => ({
      schedule: 'nightly',
      scheduledTime: new Date(base + i * 86_400_000).toISOString(),
      flows: flowNames,
    }));
    const maxInvocations = options.maxInvocations ?? 20;
    let next = 0;
    const deliver = async (tick: (typeof ticks)[number]) => {
      for (let invocation = 0; invocation < maxInvocations; invocation++) {
        const handler = environments[next++ % environments.length];
        try {
          await handler(structuredClone(tick), context());
          return;
        } catch {
          // a transient failure: Lambda's async retry invokes the tick again
        }
      }
    };
    const deliveries = options.deliveries ?? 3;
    await Promise.all(
      ticks.flatMap((tick) => Array.from({ length: deliveries }, () => deliver(tick))),
    );

    let startedOnce = 0;
    let startedTwice = 0;
    let notStarted = 0;
    for (const flowName of flowNames) {
      const runs = endpoint.flowRuns(flowName);
      for (const tick of ticks) {
        // Runs are told apart by the token the starter derives from flow and tick.
        const token = flowClientToken(flowName, tick.scheduledTime);
        const perTick = runs.filter((run) => run.clientToken === token).length;
        if (perTick === 1) startedOnce++;
        else if (perTick > 1) startedTwice++;
        else notStarted++;
      }
      // A run under any other token would be a start no tick asked for.
      const stray = runs.filter(
        (run) =>
          !ticks.some((tick) => run.clientToken === flowClientToken(flowName, tick.scheduledTime)),
      ).length;
      startedTwice += stray;
    }
    return {
      flowTicks: flowNames.length * ticks.length,
      startedOnce,
      startedTwice,
      notStarted,
      startFlowCalls: endpoint.countCalls({ operation: 'StartFlow' }),
      faultsInjected: endpoint.countCalls({ outcome: 'server-error' }),
    };
  } finally {
    for (const client of clients) client.destroy();
    await endpoint.stop();
  }
}
