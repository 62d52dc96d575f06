/**
 * The redrive path assembled from real parts for resilience tests and the
 * benchmark: the local AWS endpoint (Step Functions and SQS over their wire
 * protocols, with faults), DynamoDB Local as the idempotency store, and several
 * execution environments of the real redrive handler, each with its own SDK
 * clients configured as in production, fed by the simulated SQS event source.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  createRedriveHandler,
  type RedriveProcessorDeps,
} from '../../../lambda/redrive/redrive-processor';
import { sfnClientsByScopeRole } from '../../../lambda/redrive/scope-roles';
import { parseRedriveConfig } from '../../../lambda/shared/autoheal-config';
import { boundByDeadline } from '../../../lambda/shared/aws-call';
import type { RedriveHandlerConfig } from '../../../lambda/shared/config/redrive-config';
import {
  MESSAGE_ATTRIBUTES,
  METRICS_NAMESPACE,
  REDRIVE_SERVICE_NAME,
} from '../../../lambda/shared/contract';
import type { Notice } from '../../../lambda/shared/notices';
import {
  AUTOHEAL_CLIENT_CONFIG,
  type AutohealClientConfig,
} from '../../../lambda/shared/sdk-clients';
import { loadEvent, toSqsBody, withDetail } from '../fixtures';
import { createIdempotencyTableOn } from '../idempotency-table';
import { liveSinceFor } from '../live-since';
import type { FaultOptions, StoredMessage } from '../local-aws/local-aws-endpoint';
import { LocalAwsEndpoint } from '../local-aws/local-aws-endpoint';
import type { SimulatedClock } from './simulated-clock';
import { type EventSourceRun, runEventSource, type SqsHandler } from './sqs-event-source';

export const RIG_ACCOUNT = '123456789012';
export const RIG_REGION = 'eu-central-1';
export const RIG_MACHINE = 'autoheal-demo-orders';
export const RIG_MACHINE_ARN = `arn:aws:states:${RIG_REGION}:${RIG_ACCOUNT}:stateMachine:${RIG_MACHINE}`;
/** The ARN of a state machine of the rig's account and region. */
export const machineArnOf = (machine: string) =>
  `arn:aws:states:${RIG_REGION}:${RIG_ACCOUNT}:stateMachine:${machine}`;
const WORK_QUEUE = 'autoheal-redrive-work';
const DEAD_LETTER_QUEUE = 'autoheal-redrive-dlq';

export interface RedriveRigOptions {
  /** Concurrent execution environments (the event source's maximum concurrency). @default 5 */
  readonly environments?: number;
  readonly faults?: FaultOptions;
  /** Real ms per simulated SQS second (delays, visibility). @default 1000 */
  readonly timeScale?: number;
  /** The work queue's visibility timeout, simulated seconds. @default 180 (as deployed) */
  readonly visibilityTimeoutSeconds?: number;
  /** @default 5 (as deployed) */
  readonly maxReceiveCount?: number;
  /** The function timeout. @default 30_000 (as deployed) */
  readonly timeoutMs?: number;
  /** DynamoDB Local's endpoint. @default AWS_ENDPOINT_URL_DYNAMODB */
  readonly dynamoDbEndpoint?: string;
  /**
   * SDK client options of the Step Functions, SQS and SNS clients; fault runs
   * scale the timeouts down with the rest. @default production's
   */
  readonly clientConfig?: AutohealClientConfig;
  /**
   * The config the handlers run with: a parsed config, or the section a
   * handler reads from its config file. @default {@link RIG_CONFIG}
   */
  readonly config?: RedriveHandlerConfig;
  /**
   * The function's `AUTOHEAL_SCOPE_ROLES` (`[[firstMachine, roleArn], ...]`):
   * the handlers call the machines of each slice with credentials of that
   * role, from AssumeRole on the rig's endpoint. @default none
   */
  readonly scopeRoles?: string;
  /** The handlers' Powertools log level. @default 'SILENT' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /**
   * A simulated clock for the endpoint (Step Functions, SQS, quotas), the
   * handlers' `now` and the seeded failures' times; `timeScale` is then the
   * clock's. @default real time
   */
  readonly clock?: SimulatedClock;
  /**
   * More dependencies of each environment's handler (e.g. a breaker's store),
   * built from that environment's clients.
   */
  readonly extraDeps?: (clients: RigEnvironmentClients) => Partial<RedriveProcessorDeps>;
}

/** One execution environment's SDK clients, as the rig built them. */
export interface RigEnvironmentClients {
  readonly dynamodb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly now: () => number;
}

/** A notice a handler published (the rig answers SNS Publish itself: the local endpoint has no SNS). */
export interface PublishedNotice {
  readonly subject: string;
  /** The `kind` and `reason` message attributes. */
  readonly kind: string;
  readonly reason: string;
  /** The message, parsed. */
  readonly message: Readonly<Record<string, unknown>>;
  /** When it was published (the rig's clock, epoch ms). */
  readonly at: number;
}

/** What became of every seeded failure. */
export interface RedriveTally {
  readonly failures: number;
  /** Executions redriven exactly once. */
  readonly redriven: number;
  /** Executions redriven more than once for the same failure. */
  readonly duplicates: number;
  /** Not redriven, parked in the dead-letter queue with a reason. */
  readonly parkedWithReason: number;
  /** Neither redriven nor parked with a reason. */
  readonly lost: number;
  /** Effective redrive times (epoch ms), in order. */
  readonly redriveTimes: readonly number[];
  /** Parked reasons, by how often they occurred. */
  readonly parkedReasons: Readonly<Record<string, number>>;
}

export interface RedriveRig {
  readonly endpoint: LocalAwsEndpoint;
  readonly workQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly tableName: string;
  /**
   * Registers `count` FAILED Standard executions of `machine` (default
   * {@link RIG_MACHINE}) that stopped `stoppedAgoMs` ago; returns their ARNs.
   */
  seedFailures(
    count: number,
    options?: { stoppedAgoMs?: number; error?: string; machine?: string },
  ): string[];
  /** The `Step Functions Execution Status Change` event Step Functions sent for an execution. */
  failureEventBody(executionArn: string): string;
  /** Puts message bodies on the work queue (SendMessageBatch, 10 at a time, `parallel` batches at once). */
  enqueue(bodies: readonly string[], parallel?: number): Promise<void>;
  /** Runs the environments until the work queue is empty (and `isDone()` holds). */
  drain(maxRunMs?: number, isDone?: () => boolean): Promise<EventSourceRun>;
  /** Calls the environments' DynamoDB clients made. */
  dynamoDbCalls(): number;
  /** The same, by command (`PutItemCommand`, `UpdateItemCommand`, ...). */
  dynamoDbCallsByCommand(): Readonly<Record<string, number>>;
  /** Calls the environments' SNS clients made (notices). */
  snsCalls(): number;
  /** The notices published, in order. */
  notices(): readonly PublishedNotice[];
  /** Records a notice another function (e.g. the brake keeper) published on the topic. */
  recordNotice(notice: Notice): void;
  /** The rig's clock, epoch ms (simulated when the rig has a simulated clock). */
  now(): number;
  /** Items in the idempotency table. */
  idempotencyItems(): Promise<number>;
  tally(executionArns: readonly string[]): RedriveTally;
  parked(): readonly StoredMessage[];
  stop(): Promise<void>;
}

/** The rig's redrive config: the default policy, scoped to the demo prefix. */
export const RIG_CONFIG = parseRedriveConfig({ stateMachineNamePrefixes: ['autoheal-demo-'] });

export async function startRedriveRig(options: RedriveRigOptions = {}): Promise<RedriveRig> {
  const endpoint = await LocalAwsEndpoint.start({
    faults: options.faults,
    timeScale: options.timeScale,
    ...(options.clock && { simulatedClock: options.clock.now }),
  });
  const now = options.clock?.now ?? Date.now;
  const notices: PublishedNotice[] = [];
  const maxReceiveCount = options.maxReceiveCount ?? 5;
  const deadLetterQueueUrl = endpoint.createQueue(DEAD_LETTER_QUEUE);
  const workQueueUrl = endpoint.createQueue(WORK_QUEUE, {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 180,
    deadLetter: { queueName: DEAD_LETTER_QUEUE, maxReceiveCount },
  });
  const clientConfig = options.clientConfig ?? AUTOHEAL_CLIENT_CONFIG;
  const dynamoDbEndpoint = options.dynamoDbEndpoint ?? process.env.AWS_ENDPOINT_URL_DYNAMODB;
  if (!dynamoDbEndpoint)
    throw new Error('The redrive rig needs DynamoDB Local: set AWS_ENDPOINT_URL_DYNAMODB');

  const admin = new DynamoDBClient({ endpoint: dynamoDbEndpoint });
  const tableName = await createIdempotencyTableOn(admin);

  let dynamoDbCalls = 0;
  const dynamoDbCallsByCommand: Record<string, number> = {};
  let snsCalls = 0;
  const clients: { destroy(): void }[] = [admin];
  const environments: SqsHandler[] = Array.from({ length: options.environments ?? 5 }, () => {
    // DynamoDB Local is stopped in fault runs, never slowed: it keeps production's timeouts.
    const dynamodb = boundByDeadline(
      new DynamoDBClient({ ...AUTOHEAL_CLIENT_CONFIG, endpoint: dynamoDbEndpoint }),
    );
    dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        dynamoDbCalls++;
        const command = context.commandName ?? 'unknown';
        dynamoDbCallsByCommand[command] = (dynamoDbCallsByCommand[command] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: 'countDynamoDbCalls' },
    );
    // Bounded by the deadline as the handler's clients are (see aws-call.ts).
    const sfn = boundByDeadline(new SFNClient({ ...clientConfig, endpoint: endpoint.url }));
    const sqs = boundByDeadline(new SQSClient({ ...clientConfig, endpoint: endpoint.url }));
    const sns = boundByDeadline(new SNSClient({ ...clientConfig, endpoint: endpoint.url }));
    sns.middlewareStack.add(
      (next, context) => async (args) => {
        snsCalls++;
        if (context.commandName !== 'PublishCommand') return next(args);
        // The local endpoint serves no SNS: the rig records the notice and answers as SNS would.
        const input = args.input as PublishCommandInput;
        notices.push({
          subject: input.Subject ?? '',
          kind: input.MessageAttributes?.kind?.StringValue ?? '',
          reason: input.MessageAttributes?.reason?.StringValue ?? '',
          message: JSON.parse(input.Message ?? '{}'),
          at: now(),
        });
        return { output: { MessageId: randomUUID(), $metadata: {} }, response: {} } as never;
      },
      { step: 'initialize', name: 'countSnsCalls' },
    );
    clients.push(dynamodb, sfn, sqs, sns);
    const logger = new Logger({
      serviceName: REDRIVE_SERVICE_NAME,
      logLevel: options.logLevel ?? 'SILENT',
    });
    const config = options.config ?? RIG_CONFIG;
    return createRedriveHandler({
      config,
      liveSince: liveSinceFor(config),
      sfn,
      // As redrive.handler.ts builds it, against the rig's endpoint.
      sfnFor: sfnClientsByScopeRole({
        stateMachineArns: config.stateMachineArns,
        scopeRoles: options.scopeRoles,
        own: sfn,
        sessionName: `autoheal-${REDRIVE_SERVICE_NAME}`,
        clientConfig: { ...clientConfig, endpoint: endpoint.url },
      }),
      statesArnPrefix: `arn:aws:states:${RIG_REGION}:${RIG_ACCOUNT}:`,
      sns,
      sqs,
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName,
        awsSdkV3Client: dynamodb,
      }),
      noticeTopicArn: `arn:aws:sns:${RIG_REGION}:${RIG_ACCOUNT}:autoheal-notices`,
      workQueueUrl,
      deadLetterQueueUrl,
      maxReceiveCount,
      logger,
      metrics: new Metrics({
        namespace: METRICS_NAMESPACE,
        serviceName: REDRIVE_SERVICE_NAME,
        logger,
      }),
      ...(options.clock && { now }),
      ...options.extraDeps?.({ dynamodb, sfn, sqs, sns, now }),
    });
  });

  const template = loadEvent('failed-redrivable');
  const executions = new Map<string, { stopDate: number; error: string; machine: string }>();
  const sender = new SQSClient({ endpoint: endpoint.url, maxAttempts: 10 });
  clients.push(sender);

  const parked = () => endpoint.peek(DEAD_LETTER_QUEUE);

  return {
    endpoint,
    workQueueUrl,
    deadLetterQueueUrl,
    tableName,
    seedFailures(count, seed = {}) {
      const stopDate = now() - (seed.stoppedAgoMs ?? 10 * 60_000);
      const error = seed.error ?? 'States.TaskFailed';
      const machine = seed.machine ?? RIG_MACHINE;
      return Array.from({ length: count }, () => {
        const name = `order-${randomUUID()}`;
        const executionArn = `arn:aws:states:${RIG_REGION}:${RIG_ACCOUNT}:execution:${machine}:${name}`;
        endpoint.addExecution({
          executionArn,
          stateMachineArn: machineArnOf(machine),
          status: 'FAILED',
          startDate: stopDate - 60_000,
          stopDate,
          error,
          redriveCount: 0,
        });
        executions.set(executionArn, { stopDate, error, machine });
        return executionArn;
      });
    },
    failureEventBody(executionArn) {
      const facts = executions.get(executionArn);
      if (!facts) throw new Error(`${executionArn} was not seeded`);
      const event = withDetail(template, {
        executionArn,
        stateMachineArn: machineArnOf(facts.machine),
        name: executionArn.split(':').at(-1),
        startDate: facts.stopDate - 60_000,
        stopDate: facts.stopDate,
        error: facts.error,
        cause: null,
        input: null,
        inputDetails: null,
      });
      // EventBridge stamps the event when the execution stops: the facts are as old as the failure.
      const time = new Date(facts.stopDate).toISOString();
      return toSqsBody({ ...event, id: randomUUID(), time, resources: [executionArn] });
    },
    async enqueue(bodies, parallel = 8) {
      const batches: string[][] = [];
      for (let i = 0; i < bodies.length; i += 10) batches.push(bodies.slice(i, i + 10));
      let next = 0;
      const worker = async () => {
        while (next < batches.length) {
          const batch = batches[next++];
          const result = await sender.send(
            new SendMessageBatchCommand({
              QueueUrl: workQueueUrl,
              Entries: batch.map((body, id) => ({ Id: String(id), MessageBody: body })),
            }),
          );
          if (result.Failed?.length)
            throw new Error(`enqueue failed: ${JSON.stringify(result.Failed)}`);
        }
      };
      await Promise.all(Array.from({ length: parallel }, worker));
    },
    drain: (maxRunMs, isDone) =>
      runEventSource({
        endpoint,
        queueUrl: workQueueUrl,
        environments,
        timeoutMs: options.timeoutMs ?? 30_000,
        maxRunMs,
        isDone,
      }),
    dynamoDbCalls: () => dynamoDbCalls,
    dynamoDbCallsByCommand: () => ({ ...dynamoDbCallsByCommand }),
    snsCalls: () => snsCalls,
    notices: () => [...notices],
    recordNotice: (notice) =>
      notices.push({
        subject: notice.subject,
        kind: notice.kind,
        reason: notice.reason,
        message: { kind: notice.kind, reason: notice.reason, ...notice.facts },
        at: now(),
      }),
    now,
    async idempotencyItems() {
      const result = await admin.send(new ScanCommand({ TableName: tableName, Select: 'COUNT' }));
      return result.Count ?? 0;
    },
    tally(executionArns) {
      const parkedByExecution = new Map<string, string>();
      const parkedReasons: Record<string, number> = {};
      for (const message of parked()) {
        const reason = message.messageAttributes[MESSAGE_ATTRIBUTES.parkedReason]?.StringValue;
        if (!reason) continue;
        const kind = reason
          .replace(/ after \d+ receives/, '')
          .split(':')
          .slice(0, 2)
          .join(':');
        parkedReasons[kind] = (parkedReasons[kind] ?? 0) + 1;
        try {
          const arn = JSON.parse(message.body)?.detail?.executionArn;
          if (typeof arn === 'string') parkedByExecution.set(arn, reason);
        } catch {
          // an unparseable body names no execution
        }
      }
      let redriven = 0;
      let duplicates = 0;
      let parkedWithReason = 0;
      let lost = 0;
      const redriveTimes: number[] = [];
      for (const arn of executionArns) {
        const redrives = endpoint.execution(arn)?.redrives ?? [];
        for (const redrive of redrives) redriveTimes.push(redrive.at);
        if (redrives.length === 1) redriven++;
        else if (redrives.length > 1) duplicates++;
        else if (parkedByExecution.has(arn)) parkedWithReason++;
        else lost++;
      }
      redriveTimes.sort((a, b) => a - b);
      return {
        failures: executionArns.length,
        redriven,
        duplicates,
        parkedWithReason,
        lost,
        redriveTimes,
        parkedReasons,
      };
    },
    parked,
    async stop() {
      for (const client of clients) client.destroy();
      await endpoint.stop();
    },
  };
}
