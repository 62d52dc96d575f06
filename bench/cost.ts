/**
 * What 1,000 redrives cost to run, from calls the benchmark counts and
 * durations it measures, priced with public list prices.
 *
 * The run: `failures` FAILED executions whose delay has elapsed, their events
 * on the work queue, drained by 2 execution environments of the real redrive
 * handler (logs at INFO, metrics on, as deployed) through the real SDK to the
 * local AWS endpoint and DynamoDB Local. Counted: the Step Functions,
 * DynamoDB (by command) and SNS calls of the handlers, the SQS requests of the
 * event source (receives that carried messages, deletes) and of the handlers
 * (deferrals, parking). Measured: each invocation's duration, rounded up to
 * the ms as Lambda bills it, and the bytes the handlers wrote to stdout (their
 * JSON logs and metrics), which CloudWatch Logs ingests.
 *
 * The local endpoints answer in about a millisecond; AWS takes longer, so the
 * measured duration is a lower bound of the billed one. The README's "What it
 * costs to run" shows the arithmetic.
 */
import { startRedriveRig } from '../test/support/resilience/redrive-rig';

/** When the prices below were read from the public AWS pricing pages (list prices, no free tier). */
export const PRICES_TAKEN_ON = '2026-11-30';

/** Public list prices in USD, US East (N. Virginia), read on {@link PRICES_TAKEN_ON}. */
export const PRICES = {
  region: 'us-east-1',
  /** Lambda, per million requests (both architectures). */
  lambdaPerMillionRequests: 0.2,
  /** Lambda duration on arm64 (Autoheal's functions are arm64), per GB-second, first tier. */
  lambdaArmPerGbSecond: 0.0000133334,
  /** The same on x86_64, for comparison. */
  lambdaX86PerGbSecond: 0.0000166667,
  /** SQS standard queue, per million requests (each 64 KiB of a payload is one request). */
  sqsPerMillionRequests: 0.4,
  /** DynamoDB on-demand, per million write request units (1 KiB each). */
  dynamoDbPerMillionWriteUnits: 0.625,
  /** DynamoDB on-demand, per million read request units (4 KiB each, strongly consistent). */
  dynamoDbPerMillionReadUnits: 0.125,
  /** EventBridge: AWS service events (Step Functions' status changes) matched by a rule are free. */
  eventBridgePerMillionAwsServiceEvents: 0,
  /** SNS standard topic, per million publishes (deliveries are priced per protocol on top). */
  snsPerMillionPublishes: 0.5,
  /** CloudWatch Logs, standard class, per GB ingested (first tier of Lambda's tiered log pricing). */
  cloudWatchLogsPerGbIngested: 0.5,
  /** Step Functions Standard, per 1,000 state transitions: what the redriven part of a workflow costs. */
  stepFunctionsPerThousandTransitions: 0.025,
} as const;

/** The memory of every Autoheal function (AUTOHEAL_DEFAULT_MEMORY_MB), in GB as Lambda bills it. */
const MEMORY_GB = 512 / 1024;
const GIB = 1024 ** 3;

export interface RedriveCostRun {
  readonly failures: number;
  readonly redriven: number;
  /** Invocations of the handler (each received batch). */
  readonly invocations: number;
  /** Handler durations summed, each rounded up to the ms. */
  readonly billedHandlerMs: number;
  readonly stepFunctionsCalls: number;
  readonly dynamoDbCallsByCommand: Readonly<Record<string, number>>;
  readonly snsPublishes: number;
  /** SQS requests: one per event EventBridge delivers, receives that carried messages, deletes, handler sends. */
  readonly sqsRequests: {
    readonly eventDeliveries: number;
    readonly receives: number;
    readonly deletes: number;
    readonly handlerSends: number;
  };
  /** Bytes the handlers wrote to stdout: their JSON log lines and metrics (EMF). */
  readonly logBytes: number;
}

/** Runs `failures` due failures through the redrive path and counts what they cost. */
export async function runRedriveCost(failures: number): Promise<RedriveCostRun> {
  // Metrics as deployed: the bench turns them off for the other scenarios.
  const metricsDisabled = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  const rig = await startRedriveRig({ environments: 2, logLevel: 'INFO' }).finally(() => {
    if (metricsDisabled === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = metricsDisabled;
  });
  try {
    const executions = rig.seedFailures(failures);
    await rig.enqueue(executions.map((arn) => rig.failureEventBody(arn)));
    let logBytes = 0;
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof process.stdout.write;
    let run: Awaited<ReturnType<typeof rig.drain>>;
    try {
      run = await rig.drain(600_000);
    } finally {
      process.stdout.write = write;
    }
    const { redriven } = rig.tally(executions);
    return {
      failures,
      redriven,
      invocations: run.invocations,
      billedHandlerMs: run.billedMs,
      stepFunctionsCalls: rig.endpoint.countCalls({ service: 'sfn' }),
      dynamoDbCallsByCommand: rig.dynamoDbCallsByCommand(),
      snsPublishes: rig.snsCalls(),
      sqsRequests: {
        eventDeliveries: failures,
        receives: run.invocations,
        deletes: rig.endpoint.countCalls({ operation: 'DeleteMessageBatch' }),
        handlerSends:
          rig.endpoint.countCalls({ operation: 'SendMessage' }) +
          rig.endpoint.countCalls({ operation: 'SendMessageBatch' }) -
          Math.ceil(failures / 10), // the rig's own enqueue, 10 a batch
      },
      logBytes,
    };
  } finally {
    await rig.stop();
  }
}

/** DynamoDB commands that consume write units; the rest read. */
const DYNAMODB_WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
]);

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/**
 * The run's counts and durations scaled to 1,000 redrives and priced with
 * {@link PRICES}. Each item assumes the smallest unit per call (records under
 * 1 KiB, messages under 64 KiB), which holds for Autoheal's records and
 * messages.
 */
export function costPer1000Redrives(run: RedriveCostRun) {
  if (run.redriven === 0) throw new Error('No redrive in the cost run');
  const scale = 1000 / run.redriven;
  let dynamoDbWrites = 0;
  let dynamoDbReads = 0;
  for (const [command, calls] of Object.entries(run.dynamoDbCallsByCommand)) {
    if (DYNAMODB_WRITES.has(command)) dynamoDbWrites += calls;
    else dynamoDbReads += calls;
  }
  const sqs = run.sqsRequests;
  const counted = {
    stepFunctionsCalls: run.stepFunctionsCalls * scale,
    dynamoDbWrites: dynamoDbWrites * scale,
    dynamoDbReads: dynamoDbReads * scale,
    snsPublishes: run.snsPublishes * scale,
    sqsRequests: (sqs.eventDeliveries + sqs.receives + sqs.deletes + sqs.handlerSends) * scale,
    eventBridgeEvents: run.failures * scale,
    lambdaInvocations: run.invocations * scale,
  };
  const measured = {
    billedHandlerMs: run.billedHandlerMs * scale,
    gbSeconds: (run.billedHandlerMs / 1000) * MEMORY_GB * scale,
    logBytes: run.logBytes * scale,
  };
  const usd = {
    lambdaRequests: (counted.lambdaInvocations / 1e6) * PRICES.lambdaPerMillionRequests,
    lambdaDuration: measured.gbSeconds * PRICES.lambdaArmPerGbSecond,
    sqs: (counted.sqsRequests / 1e6) * PRICES.sqsPerMillionRequests,
    dynamoDb:
      (counted.dynamoDbWrites / 1e6) * PRICES.dynamoDbPerMillionWriteUnits +
      (counted.dynamoDbReads / 1e6) * PRICES.dynamoDbPerMillionReadUnits,
    eventBridge: (counted.eventBridgeEvents / 1e6) * PRICES.eventBridgePerMillionAwsServiceEvents,
    sns: (counted.snsPublishes / 1e6) * PRICES.snsPerMillionPublishes,
    logs: (measured.logBytes / GIB) * PRICES.cloudWatchLogsPerGbIngested,
  };
  const total = Object.values(usd).reduce((a, b) => a + b, 0);
  return {
    pricesTakenOn: PRICES_TAKEN_ON,
    prices: PRICES,
    architecture: 'arm64',
    memoryMb: 512,
    counted: Object.fromEntries(Object.entries(counted).map(([k, v]) => [k, round(v, 1)])),
    measured: {
      billedHandlerMs: round(measured.billedHandlerMs, 0),
      gbSeconds: round(measured.gbSeconds, 3),
      logBytes: round(measured.logBytes, 0),
    },
    usd: {
      ...Object.fromEntries(Object.entries(usd).map(([k, v]) => [k, round(v, 6)])),
      total: round(total, 6),
    },
    stepFunctionsPerRedrivenTransition: PRICES.stepFunctionsPerThousandTransitions / 1000,
    notIncluded: [
      'state transitions of the redriven part of each workflow (Step Functions bills them as usual)',
      'a deferral hop per event that arrives before its delay (one SQS send, one receive and delete, part of an invocation)',
      "Lambda's own START/END/REPORT log lines per invocation",
      'fixed monthly costs: the KMS key, alarms, custom metrics, idle SQS polling by Lambda',
    ],
  };
}
