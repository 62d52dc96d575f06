/**
 * The real sweeper on a redrive rig: its Step Functions and SQS clients go to
 * the rig's local AWS endpoint, its idempotency records and cursor to the
 * rig's table on DynamoDB Local.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  createExecutionSweeper,
  type SweepSummary,
} from '../../../lambda/redrive/execution-sweeper';
import { sfnClientsByScopeRole } from '../../../lambda/redrive/scope-roles';
import type { SweeperHandlerConfig } from '../../../lambda/shared/config/redrive-config';
import { METRICS_NAMESPACE, SWEEPER_SERVICE_NAME } from '../../../lambda/shared/contract';
import { autohealPersistenceStore } from '../../../lambda/shared/idempotency';
import { AUTOHEAL_CLIENT_CONFIG } from '../../../lambda/shared/sdk-clients';
import { liveSinceFor } from '../live-since';
import type { RedriveRig } from './redrive-rig';

export interface RigSweeper {
  /** One sweep, as one invocation of `invocationMs`. */
  sweep(): Promise<SweepSummary>;
  /** Seconds on the sweeper's clock since it was built (the simulated clock includes the waits it skipped). */
  simulatedSeconds(): number;
  /** Destroys the sweeper's clients. */
  destroy(): void;
}

/**
 * @param options.simulatedClock the pacer's waits advance a simulated clock instead of waiting
 * @param options.invocationMs the invocation's time budget @default 300_000
 * @param options.scopeRoles the function's `AUTOHEAL_SCOPE_ROLES` @default none
 * @example
 * const sweeper = rigSweeper(rig, config);
 * try { await sweeper.sweep(); } finally { sweeper.destroy(); }
 */
export function rigSweeper(
  rig: Pick<RedriveRig, 'endpoint' | 'tableName' | 'workQueueUrl'>,
  config: SweeperHandlerConfig,
  options: { simulatedClock?: boolean; invocationMs?: number; scopeRoles?: string } = {},
): RigSweeper {
  const sfn = new SFNClient({ ...AUTOHEAL_CLIENT_CONFIG, endpoint: rig.endpoint.url });
  const sqs = new SQSClient({ ...AUTOHEAL_CLIENT_CONFIG, endpoint: rig.endpoint.url });
  const dynamodb = new DynamoDBClient({
    ...AUTOHEAL_CLIENT_CONFIG,
    endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB,
  });
  let sleptMs = 0;
  const now = () => Date.now() + sleptMs;
  const started = now();
  const invocationMs = options.invocationMs ?? 300_000;
  const logger = new Logger({ serviceName: SWEEPER_SERVICE_NAME, logLevel: 'SILENT' });
  const sweep = createExecutionSweeper({
    config,
    sfn,
    // As sweeper.handler.ts builds it, against the rig's endpoint.
    sfnFor: sfnClientsByScopeRole({
      stateMachineArns: config.stateMachineArns,
      scopeRoles: options.scopeRoles,
      own: sfn,
      sessionName: `autoheal-${SWEEPER_SERVICE_NAME}`,
      clientConfig: { ...AUTOHEAL_CLIENT_CONFIG, endpoint: rig.endpoint.url },
    }),
    sqs,
    persistenceStore: autohealPersistenceStore(rig.tableName, dynamodb),
    cursorTable: { dynamodb, tableName: rig.tableName },
    workQueueUrl: rig.workQueueUrl,
    liveSince: liveSinceFor(config),
    logger,
    metrics: new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: SWEEPER_SERVICE_NAME,
      logger,
    }),
    ...(options.simulatedClock && {
      now,
      sleep: async (ms: number) => {
        sleptMs += ms;
      },
    }),
  });
  return {
    sweep: () => sweep({ getRemainingTimeInMillis: () => invocationMs - (now() - started) }),
    simulatedSeconds: () => (now() - started) / 1000,
    destroy: () => {
      sfn.destroy();
      sqs.destroy();
      dynamodb.destroy();
    },
  };
}
