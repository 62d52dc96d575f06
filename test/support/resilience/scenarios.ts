/**
 * The resilience scenarios, sized by the caller: `npm test` runs them small,
 * `npm run bench` at full size. Each returns plain figures; the caller asserts
 * or reports them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SweepSummary } from '../../../lambda/redrive/execution-sweeper';
import { parseRedriveConfig } from '../../../lambda/shared/autoheal-config';
import { MESSAGE_ATTRIBUTES } from '../../../lambda/shared/contract';
import { BAD_INPUT_SCOPE, generateMalformedEvents } from '../bad-input';
import { startDynamoDbLocal, stopDynamoDbLocal } from '../dynamodb-local-setup';
import type { TokenBucketQuota } from '../local-aws/local-aws-endpoint';
import { type RedriveRig, type RedriveTally, RIG_CONFIG, startRedriveRig } from './redrive-rig';
import { rigSweeper } from './rig-sweeper';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A deterministic shuffle (LCG), so a failing order can be replayed. */
export function shuffled<T>(items: readonly T[], seed = 7): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

async function withRig<T>(
  rigPromise: Promise<RedriveRig>,
  body: (rig: RedriveRig) => Promise<T>,
): Promise<T> {
  const rig = await rigPromise;
  try {
    return await body(rig);
  } finally {
    await rig.stop();
  }
}

/** What became of the failures of a run, and how the run went. */
export interface RunFigures extends RedriveTally {
  /** The event source gave up with work left (a hang or a livelock). */
  readonly abandoned: boolean;
  /** Events put on the work queue (duplicates included). */
  readonly delivered: number;
}

/** `failures` events plus duplicates of `duplicateRatio` of them, shuffled, drained by `environments` at once. */
export function duplicateStorm(options: {
  readonly failures: number;
  readonly duplicateRatio: number;
  readonly environments: number;
}): Promise<RunFigures> {
  // A duplicate that meets its twin in progress returns after the visibility timeout: SQS seconds run at 10 ms.
  const rig = startRedriveRig({ environments: options.environments, timeScale: 10 });
  return withRig(rig, async (r) => {
    const failures = r.seedFailures(options.failures);
    const bodies = failures.map((arn) => r.failureEventBody(arn));
    const duplicates = bodies.slice(0, Math.round(bodies.length * options.duplicateRatio));
    await r.enqueue(shuffled([...bodies, ...duplicates]));
    const run = await r.drain(600_000);
    return {
      ...r.tally(failures),
      abandoned: run.abandoned,
      delivered: bodies.length + duplicates.length,
    };
  });
}

export interface ThrottledStormFigures extends RunFigures {
  readonly throttledCalls: number;
  /** From the first receive to the last redrive. */
  readonly seconds: number;
  /** The quota-limited optimum: the burst at once, the rest at the refill rate. */
  readonly optimumSeconds: number;
  /** Effective redrives in each second of the run. */
  readonly redrivesPerSecond: readonly number[];
}

/** `failures` events at once while RedriveExecution is limited to `quota`, drained as deployed (5 environments). */
export function throttledStorm(options: {
  readonly failures: number;
  readonly quota: TokenBucketQuota;
  readonly environments?: number;
}): Promise<ThrottledStormFigures> {
  const rig = startRedriveRig({
    environments: options.environments ?? 5,
    faults: { quotas: { RedriveExecution: options.quota } },
  });
  return withRig(rig, async (r) => {
    const failures = r.seedFailures(options.failures);
    await r.enqueue(failures.map((arn) => r.failureEventBody(arn)));
    // The quota refills while the queue fills; start the storm with a full bucket, as after a quiet spell.
    r.endpoint.setFaults({ quotas: { RedriveExecution: options.quota } });
    const started = Date.now();
    const run = await r.drain(1_800_000);
    const tally = r.tally(failures);
    const last = tally.redriveTimes.at(-1) ?? started;
    const perSecond: number[] = [];
    for (const at of tally.redriveTimes) {
      const second = Math.floor((at - started) / 1000);
      while (perSecond.length <= second) perSecond.push(0);
      perSecond[second]++;
    }
    return {
      ...tally,
      abandoned: run.abandoned,
      delivered: failures.length,
      throttledCalls: r.endpoint.countCalls({
        operation: 'RedriveExecution',
        outcome: 'throttled',
      }),
      seconds: (last - started) / 1000,
      optimumSeconds: Math.max(0, options.failures - options.quota.burst) / options.quota.perSecond,
      redrivesPerSecond: perSecond,
    };
  });
}

export interface FaultFigures extends RunFigures {
  readonly serverErrors: number;
  readonly hungCalls: number;
  readonly executionLimitExceeded: number;
  readonly dynamoDbRestarts: number;
}

/**
 * `failures` events through 20% 5xx, 2% hung connections and 2%
 * ExecutionLimitExceeded from Step Functions, with DynamoDB Local stopped for 2 s and restarted once `restartAfter`
 * failures are redriven. Time is scaled: SQS seconds run at 100 ms, the
 * function timeout is 3 s and the SDK's request timeout 300 ms.
 */
export async function faultRun(options: {
  readonly failures: number;
  readonly restartAfter: number;
}): Promise<FaultFigures> {
  const dbPath = mkdtempSync(join(tmpdir(), 'autoheal-ddb-'));
  let dynamodb = await startDynamoDbLocal({ dbPath });
  try {
    const port = Number(new URL(dynamodb.endpoint).port);
    const rig = startRedriveRig({
      environments: 4,
      faults: {
        serverErrorRate: 0.2,
        hangRate: 0.02,
        executionLimitExceededRate: 0.02,
        services: ['sfn'],
      },
      timeScale: 100,
      visibilityTimeoutSeconds: 40,
      timeoutMs: 3_000,
      dynamoDbEndpoint: dynamodb.endpoint,
      clientConfig: {
        maxAttempts: 3,
        requestHandler: {
          connectionTimeout: 200,
          requestTimeout: 300,
          throwOnRequestTimeout: true,
        },
      },
    });
    return await withRig(rig, async (r) => {
      const failures = r.seedFailures(options.failures);
      await r.enqueue(failures.map((arn) => r.failureEventBody(arn)));
      const drained = r.drain(600_000);
      while (r.tally(failures).redriven < options.restartAfter) await sleep(10);
      await stopDynamoDbLocal(dynamodb.process);
      await sleep(2_000);
      dynamodb = await startDynamoDbLocal({ dbPath, port });
      const run = await drained;
      return {
        ...r.tally(failures),
        abandoned: run.abandoned,
        delivered: failures.length,
        serverErrors: r.endpoint.countCalls({ outcome: 'server-error' }),
        hungCalls: r.endpoint.countCalls({ outcome: 'hung' }),
        executionLimitExceeded: r.endpoint.countCalls({ outcome: 'execution-limit' }),
        dynamoDbRestarts: 1,
      };
    });
  } finally {
    await stopDynamoDbLocal(dynamodb.process);
    rmSync(dbPath, { recursive: true, force: true });
  }
}

export interface BadInputFigures {
  readonly generated: number;
  /** Parked in the dead-letter queue, body intact, naming the expected field. */
  readonly rejectedWithReason: number;
  /** Step Functions, DynamoDB and SNS calls made for them (parking is the one SQS call each). */
  readonly awsCalls: number;
  readonly abandoned: boolean;
}

/** `count` generated malformed events through the work queue. */
export function badInputRun(options: { readonly count: number }): Promise<BadInputFigures> {
  const rig = startRedriveRig({ config: parseRedriveConfig(BAD_INPUT_SCOPE) });
  return withRig(rig, async (r) => {
    const events = generateMalformedEvents(options.count);
    await r.enqueue(events.map((e) => e.body));
    const run = await r.drain(600_000);
    const expected = new Map<string, string[]>();
    for (const event of events) {
      expected.set(event.body, [...(expected.get(event.body) ?? []), event.expectedField]);
    }
    let rejectedWithReason = 0;
    for (const message of r.parked()) {
      const field = message.messageAttributes[MESSAGE_ATTRIBUTES.invalidField]?.StringValue;
      const reason = message.messageAttributes[MESSAGE_ATTRIBUTES.parkedReason]?.StringValue;
      const fields = expected.get(message.body);
      const at = fields?.indexOf(field ?? '') ?? -1;
      if (fields && at >= 0 && reason?.startsWith(`invalid-event: ${field}`)) {
        fields.splice(at, 1);
        rejectedWithReason++;
      }
    }
    return {
      generated: events.length,
      rejectedWithReason,
      awsCalls: r.endpoint.countCalls({ service: 'sfn' }) + r.dynamoDbCalls() + r.snsCalls(),
      abandoned: run.abandoned,
    };
  });
}

export interface CostFigures {
  readonly redriven: number;
  readonly awsCalls: number;
  readonly describeCalls: number;
  readonly callsPerRedrive: number;
}

/** `failures` events that carry the redrive fields, on healthy services: AWS calls per redrive. */
export function costRun(options: { readonly failures: number }): Promise<CostFigures> {
  return withRig(startRedriveRig({ environments: 2 }), async (r) => {
    const failures = r.seedFailures(options.failures);
    await r.enqueue(failures.map((arn) => r.failureEventBody(arn)));
    await r.drain(600_000);
    const { redriven } = r.tally(failures);
    const awsCalls = r.endpoint.countCalls({ service: 'sfn' }) + r.dynamoDbCalls() + r.snsCalls();
    return {
      redriven,
      awsCalls,
      describeCalls: r.endpoint.countCalls({ operation: 'DescribeExecution' }),
      callsPerRedrive: redriven === 0 ? 0 : awsCalls / redriven,
    };
  });
}

export interface LostEventFigures {
  readonly failures: number;
  /** Failures whose event never reached the work queue. */
  readonly dropped: number;
  /** Dropped failures redriven once after one sweep. */
  readonly recovered: number;
  /** Failures redriven more than once (by event and sweep together). */
  readonly duplicates: number;
  readonly lost: number;
  readonly sweep: SweepSummary;
}

/**
 * `failures` failures whose events are delivered except `dropRatio` of them;
 * after the events are drained, the sweeper runs once (one period) and its
 * messages are drained too.
 */
export function lostEventsRun(options: {
  readonly failures: number;
  readonly dropRatio: number;
}): Promise<LostEventFigures> {
  return withRig(startRedriveRig({ environments: 4 }), async (r) => {
    // Stopped long enough ago that the sweeper's grace for in-flight events has passed.
    const failures = r.seedFailures(options.failures, { stoppedAgoMs: 30 * 60_000 });
    const every = Math.round(1 / options.dropRatio);
    const dropped = failures.filter((_, i) => i % every === 0);
    const delivered = failures.filter((_, i) => i % every !== 0);
    await r.enqueue(delivered.map((arn) => r.failureEventBody(arn)));
    await r.drain(600_000);

    const sweeper = rigSweeper(r, RIG_CONFIG);
    try {
      const summary = await sweeper.sweep();
      await r.drain(600_000);
      const tally = r.tally(failures);
      return {
        failures: failures.length,
        dropped: dropped.length,
        recovered: r.tally(dropped).redriven,
        duplicates: tally.duplicates,
        lost: tally.lost,
        sweep: summary,
      };
    } finally {
      sweeper.destroy();
    }
  });
}
