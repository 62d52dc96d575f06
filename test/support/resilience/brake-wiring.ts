/**
 * What the brake scenarios need of the storm brake, in one place: the redrive
 * config of a run (breaker on or off), the handler's extra dependencies, and,
 * with the breaker on, the keeper invoked every simulated minute, the
 * breaker's state and the held failures, read from the healing state table on
 * DynamoDB Local.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { type AttributeValue, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createBrakeKeeper } from '../../../lambda/brake/brake-keeper';
import {
  createBreakerStore,
  type KeeperBreakerStore,
} from '../../../lambda/redrive/breaker/breaker-store';
import type { RedriveProcessorDeps } from '../../../lambda/redrive/redrive-processor';
import { parseRedriveConfig } from '../../../lambda/shared/autoheal-config';
import { breakerOptionsByArn } from '../../../lambda/shared/config/breaker-config';
import type { RedriveHandlerConfig } from '../../../lambda/shared/config/redrive-config';
import {
  BRAKE_KEEPER_SERVICE_NAME,
  METRICS_NAMESPACE,
  STATE_TABLE,
  stateKeys,
} from '../../../lambda/shared/contract';
import { createStateTableOn } from '../state-table';
import type { RedriveRig, RigEnvironmentClients } from './redrive-rig';

export type BreakerMode = 'on' | 'off';

/** The breaker's state as the timeline shows it; `off` when the run has no breaker. */
export type BreakerTimelineState = 'closed' | 'open' | 'half-open' | 'off';

/**
 * The retry policy of the brake scenarios: 10 s, doubling, capped at 60 s,
 * 20% jitter, 3 redrives. The naive baseline's three redrives all fall inside
 * a two-minute outage, as the default policy's (1, 4, 16 minutes) fall
 * inside an outage of half an hour: the storm the brake exists for.
 */
export const BRAKE_SCENARIO_DELAY = {
  baseSeconds: 10,
  factor: 2,
  capSeconds: 60,
  jitterRatio: 0.2,
} as const;

/** The state machines the scenarios scope: every name under the rig's demo prefix. */
export const BRAKE_SCENARIO_PREFIX = 'autoheal-demo-';

/** The redrive config of a brake scenario: the breaker's defaults, enabled or not. */
export function brakeScenarioConfig(breaker: BreakerMode): RedriveHandlerConfig {
  return parseRedriveConfig({
    stateMachineNamePrefixes: [BRAKE_SCENARIO_PREFIX],
    maxRedrives: 3,
    delay: { ...BRAKE_SCENARIO_DELAY },
    breaker: { enabled: breaker === 'on' },
  });
}

/** The breaker of one run, attached to its rig. */
export interface AttachedBrake {
  /** False while the keeper is not wired in: nothing half-opens, probes or re-sends held failures. */
  readonly keeperWired: boolean;
  /** One invocation of the keeper at `now` (simulated epoch ms). */
  keeperTick(now: number): Promise<void>;
  breakerState(stateMachineArn: string): Promise<BreakerTimelineState>;
  /**
   * Every transition a store won for the machine (the handlers' and the
   * keeper's), at the simulated time it was made: exact, where sampling the
   * state once a second would credit a probe redriven in the second the keeper
   * half-opened the breaker to the open state.
   */
  transitions(
    stateMachineArn: string,
  ): readonly { readonly at: number; readonly state: BreakerTimelineState }[];
  /** The executions whose failure the breaker holds, across machines. */
  heldExecutions(): Promise<ReadonlySet<string>>;
  destroy(): void;
}

/** The storm brake of one breaker-on run. */
export interface BrakeWiring {
  readonly config: RedriveHandlerConfig;
  /** The handler's extra dependencies (the breaker's store), from one environment's clients. */
  handlerDeps(clients: RigEnvironmentClients): Partial<RedriveProcessorDeps>;
  /** Builds the keeper on the rig (its work queue, its clock). */
  attach(rig: RedriveRig): Promise<AttachedBrake>;
}

/**
 * Whether the keeper is wired into the breaker-on runs. Without it, an open
 * breaker never half-opens, probes or re-sends what it holds: a breaker-on
 * run ends with the failures held, and the benchmark reports no breaker-on
 * figures.
 */
export const BRAKE_KEEPER_WIRED = true;

/**
 * The storm brake for a breaker-on run: a healing state table on DynamoDB
 * Local, each environment's handler with its own breaker store on it (as each
 * Lambda environment builds one), and the keeper.
 */
export async function createBrakeWiring(): Promise<BrakeWiring> {
  const config = brakeScenarioConfig('on');
  const admin = new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });
  const tableName = await createStateTableOn(admin);
  const keys = stateKeys();
  const transitions: { machine: string; at: number; state: BreakerTimelineState }[] = [];
  /** The store with every won transition recorded. */
  const recording = (store: KeeperBreakerStore): KeeperBreakerStore => ({
    ...store,
    transition: async (machine, from, to, at, options) => {
      const won = await store.transition(machine, from, to, at, options);
      if (won) transitions.push({ machine, at, state: to });
      return won;
    },
  });
  return {
    config,
    handlerDeps: (clients) => ({
      breakerStore: recording(
        createBreakerStore({
          dynamodb: clients.dynamodb,
          tableName,
          optionsFor: breakerOptionsByArn(config),
        }),
      ),
    }),
    async attach(rig) {
      const optionsFor = breakerOptionsByArn(config);
      const reader = createBreakerStore({ dynamodb: admin, tableName, optionsFor });
      // The keeper as its schedule runs it: its own clients, the rig's clock, notices on the rig's topic.
      const keeperDynamoDb = new DynamoDBClient({
        endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB,
      });
      const keeperSqs = new SQSClient({ endpoint: rig.endpoint.url });
      const logger = new Logger({ serviceName: BRAKE_KEEPER_SERVICE_NAME, logLevel: 'SILENT' });
      const keep = createBrakeKeeper({
        store: recording(createBreakerStore({ dynamodb: keeperDynamoDb, tableName, optionsFor })),
        optionsFor,
        sqs: keeperSqs,
        workQueueUrl: rig.workQueueUrl,
        notify: async (notice) => rig.recordNotice(notice),
        logger,
        metrics: new Metrics({
          namespace: METRICS_NAMESPACE,
          serviceName: BRAKE_KEEPER_SERVICE_NAME,
          logger,
        }),
        now: rig.now,
      });
      return {
        keeperWired: BRAKE_KEEPER_WIRED,
        keeperTick: () => keep({}, { getRemainingTimeInMillis: () => 60_000 }),
        transitions: (stateMachineArn) =>
          transitions
            .filter((t) => t.machine === stateMachineArn)
            .sort((a, b) => a.at - b.at)
            .map(({ at, state }) => ({ at, state })),
        async breakerState(stateMachineArn) {
          const view = await reader.read(stateMachineArn, rig.now(), { fresh: true });
          return view.forced ?? view.state;
        },
        async heldExecutions() {
          const held = new Set<string>();
          for (const machineArn of await reader.machinesToWatch()) {
            let startKey: Record<string, AttributeValue> | undefined;
            do {
              const page = await admin.send(
                new QueryCommand({
                  TableName: tableName,
                  KeyConditionExpression: '#pk = :pk',
                  ExpressionAttributeNames: {
                    '#pk': STATE_TABLE.partitionKey,
                    '#arn': 'executionArn',
                  },
                  ExpressionAttributeValues: { ':pk': { S: keys.heldPartition(machineArn) } },
                  ProjectionExpression: '#arn',
                  ConsistentRead: true,
                  ExclusiveStartKey: startKey,
                }),
              );
              for (const item of page.Items ?? []) {
                if (item.executionArn?.S) held.add(item.executionArn.S);
              }
              startKey = page.LastEvaluatedKey;
            } while (startKey);
          }
          return held;
        },
        destroy: () => {
          for (const client of [admin, keeperDynamoDb, keeperSqs]) client.destroy();
        },
      };
    },
  };
}
