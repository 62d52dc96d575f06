/**
 * `autoheal redrive` at bulk size (issue 11): 10,000 failed executions on the
 * local AWS endpoint (Step Functions over its wire protocol, with the
 * RedriveExecution quota of the larger regions, 1,300 / 300 a second) and
 * DynamoDB Local, through the CLI's own plan and run (cli/redrive/) and the
 * real SDK.
 *
 * - `cli.redriven`, `cli.secondsVsOptimum`, `cli.resumeDuplicates`: the CLI
 *   alone redrives 10,000 failures at `--rate` 150, is interrupted (as by
 *   Ctrl-C) once 5,000 are redriven, and is run again. `secondsVsOptimum` is
 *   the quota-limited optimum at the chosen rate (10,000 / 150 = 66.7 s)
 *   divided by the real seconds both runs spent redriving (target >= 0.95).
 *   Real time, not a simulated clock: the figure then shows that the tool
 *   keeps its rate with a record write, a RedriveExecution call and a record
 *   update per failure (on a simulated clock it would be 1 by construction).
 *   150 a second is RedriveExecution's refill in most regions, so the optimum
 *   is a real account's there; it is a legal `--rate` (at most 300), and the
 *   local rig sustains it even on a busy 2-core machine. At the default 50 the
 *   same run would take 200 s of waiting.
 * - `cli.duplicates`: another 10,000 failures, redriven by the CLI while the
 *   redrive Lambda (4 environments of the real handler) processes the events
 *   of the same failures at the same time. Executions redriven more than once.
 *
 * Part of `npm run bench` (the `cli` keys of bench/results.json). Alone:
 * `npx ts-node --transpile-only bench/cli-redrive.ts` (starts its own
 * DynamoDB Local unless AWS_ENDPOINT_URL_DYNAMODB names one).
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { type RunSummary, runRedrive } from '../cli/redrive/execute';
import { type RedriveRequest, redriveRequestOf } from '../cli/redrive/options';
import { planRedrive } from '../cli/redrive/plan';
import { autohealPersistenceStore } from '../lambda/shared/idempotency';
import { liveSinceFor } from '../test/support/live-since';
import {
  type RedriveRig,
  RIG_ACCOUNT,
  RIG_CONFIG,
  RIG_REGION,
  startRedriveRig,
} from '../test/support/resilience/redrive-rig';
import { runStandalone } from './standalone';

/** `CLI_BENCH_CANDIDATES` overrides it for a quick look. */
const CANDIDATES = Number(process.env.CLI_BENCH_CANDIDATES ?? 10_000);
const MACHINES = 10;
/** Redrives a second: a legal `--rate` (see the module comment); `CLI_BENCH_RATE` overrides it. */
const RATE = Number(process.env.CLI_BENCH_RATE ?? 150);
/** The RedriveExecution quota of us-east-1, us-west-2, eu-west-1. */
const QUOTA = { burst: 1300, perSecond: 300 };

/** What the bench reports under `cli`. */
export interface CliRedriveResults {
  readonly candidates: number;
  readonly rate: number;
  /** Failures the CLI redrove in its two runs (interrupted, resumed). */
  readonly redriven: number;
  /** Executions redriven more than once with the Lambda on the same failures at the same time. */
  readonly duplicates: number;
  /** Optimum seconds (candidates / rate) over the seconds spent redriving. */
  readonly secondsVsOptimum: number;
  /** Executions redriven more than once after the interrupt at 50 % and the re-run. */
  readonly resumeDuplicates: number;
  readonly details: Readonly<Record<string, unknown>>;
}

function seed(rig: RedriveRig): string[] {
  return Array.from({ length: MACHINES }, (_, i) =>
    rig.seedFailures(CANDIDATES / MACHINES, { machine: `autoheal-demo-m${i}` }),
  ).flat();
}

function deploymentOf(rig: RedriveRig) {
  return {
    workQueueUrl: rig.workQueueUrl,
    deadLetterQueueUrl: rig.deadLetterQueueUrl,
    statesArnPrefix: `arn:aws:states:${RIG_REGION}:${RIG_ACCOUNT}:`,
    config: RIG_CONFIG,
    liveSince: liveSinceFor(RIG_CONFIG),
  };
}

/** The CLI's plan and run on the rig, as `autoheal redrive --yes --rate RATE` does them. */
async function cliRun(rig: RedriveRig, interruptAfter?: number) {
  const sfn = new SFNClient({ endpoint: rig.endpoint.url, region: RIG_REGION });
  const dynamodb = new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });
  try {
    const request: RedriveRequest = {
      ...redriveRequestOf({ yes: true }, Date.now()),
      rate: RATE,
      // The local endpoint has no list or describe quota: plan fast, so the bench measures the redrives.
      listRate: 50,
      describeRate: 2000,
    };
    const planStarted = Date.now();
    const plan = await planRedrive(request, {
      sfn,
      redrive: deploymentOf(rig),
      idempotencyKeyPrefix: 'autoheal',
      persistenceStore: autohealPersistenceStore(rig.tableName, dynamodb),
      now: Date.now,
    });
    const planSeconds = (Date.now() - planStarted) / 1000;
    let latest = { redriven: 0 };
    const run = await runRedrive(plan.candidates, {
      sfn,
      persistenceStore: autohealPersistenceStore(rig.tableName, dynamodb),
      idempotencyKeyPrefix: 'autoheal',
      rate: RATE,
      now: Date.now,
      interrupted: () => interruptAfter !== undefined && latest.redriven >= interruptAfter,
      progress: {
        tick: (counts) => {
          latest = counts as typeof latest;
        },
        stop: () => undefined,
      },
    });
    return { plan, planSeconds, summary: run.summary, results: run.results };
  } finally {
    sfn.destroy();
    dynamodb.destroy();
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** Interrupt at 50 %, re-run: redriven, seconds vs optimum, duplicates after the resume. */
async function interruptAndResume(log: (line: string) => void) {
  const rig = await startRedriveRig({
    config: RIG_CONFIG,
    faults: { quotas: { RedriveExecution: QUOTA } },
  });
  try {
    const failures = seed(rig);
    const first = await cliRun(rig, CANDIDATES / 2);
    log(
      `bench: cli: first run redrove ${first.summary.redriven} in ${first.summary.seconds.toFixed(1)} s (planned in ${first.planSeconds.toFixed(1)} s), interrupted`,
    );
    const second = await cliRun(rig);
    log(
      `bench: cli: re-run redrove ${second.summary.redriven} in ${second.summary.seconds.toFixed(1)} s (planned in ${second.planSeconds.toFixed(1)} s)`,
    );
    const tally = rig.tally(failures);
    const redrivingSeconds = first.summary.seconds + second.summary.seconds;
    const optimumSeconds = CANDIDATES / RATE;
    return {
      redriven: first.summary.redriven + second.summary.redriven,
      resumeDuplicates: tally.duplicates,
      notRedriven: tally.lost + tally.parkedWithReason,
      secondsVsOptimum: round(optimumSeconds / redrivingSeconds),
      seconds: round(redrivingSeconds),
      optimumSeconds,
      runs: [first, second].map((r) => ({
        planSeconds: round(r.planSeconds),
        planCalls: r.plan.calls,
        candidates: r.plan.candidates.length,
        summary: r.summary as RunSummary,
      })),
      throttled: rig.endpoint.countCalls({ operation: 'RedriveExecution', outcome: 'throttled' }),
    };
  } finally {
    await rig.stop();
  }
}

/** The CLI and the redrive Lambda on the same 10,000 failures at once. */
async function besideTheLambda(log: (line: string) => void) {
  const rig = await startRedriveRig({
    config: RIG_CONFIG,
    environments: 4,
    // A message whose record the CLI holds is retried after 3 s, not the deployed 180.
    visibilityTimeoutSeconds: 3,
    faults: { quotas: { RedriveExecution: QUOTA } },
  });
  try {
    const failures = seed(rig);
    const bodies = failures.map((arn) => rig.failureEventBody(arn));
    let lambda: Promise<unknown> = Promise.resolve();
    const sfnCalls = () => rig.endpoint.countCalls({ operation: 'RedriveExecution' });
    // The CLI plans, then the events arrive as it starts redriving: both act on the same failures.
    const cli = cliRunWithStart(rig, () => {
      lambda = rig.enqueue(bodies).then(() => rig.drain(180_000));
    });
    const run = await cli;
    await lambda;
    const tally = rig.tally(failures);
    const outcomes: Record<string, number> = {};
    for (const r of run.results.values()) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    log(
      `bench: cli beside the Lambda: ${JSON.stringify(outcomes)}, redriven once ${tally.redriven}, twice ${tally.duplicates}`,
    );
    return {
      duplicates: tally.duplicates,
      redrivenOnce: tally.redriven,
      notRedriven: tally.lost + tally.parkedWithReason,
      cliOutcomes: outcomes,
      redriveExecutionCalls: sfnCalls(),
    };
  } finally {
    await rig.stop();
  }
}

/** {@link cliRun}, calling `onStart` when the plan is done and the redrives begin. */
async function cliRunWithStart(rig: RedriveRig, onStart: () => void) {
  const original = rig.endpoint;
  let started = false;
  const timer = setInterval(() => {
    if (!started && original.countCalls({ operation: 'RedriveExecution' }) > 0) {
      started = true;
      onStart();
    }
  }, 5);
  try {
    return await cliRun(rig);
  } finally {
    clearInterval(timer);
    if (!started) onStart();
  }
}

/** Every `cli` figure; needs AWS_ENDPOINT_URL_DYNAMODB (DynamoDB Local). */
export async function measureCliRedrive(
  options: { log?: (line: string) => void } = {},
): Promise<CliRedriveResults> {
  const log = options.log ?? (() => undefined);
  const resume = await interruptAndResume(log);
  const beside = await besideTheLambda(log);
  return {
    candidates: CANDIDATES,
    rate: RATE,
    redriven: resume.redriven,
    duplicates: beside.duplicates,
    secondsVsOptimum: resume.secondsVsOptimum,
    resumeDuplicates: resume.resumeDuplicates,
    details: { quota: QUOTA, resume, besideTheLambda: beside },
  };
}

/** The bench table's rows. */
export function cliRows(results: CliRedriveResults): [string, string, string][] {
  return [
    [
      `cli: redriven / twice after Ctrl-C at 50% and a re-run (${results.candidates})`,
      `${results.redriven} / ${results.resumeDuplicates}`,
      `${results.candidates} / 0`,
    ],
    [
      `cli: seconds vs optimum at --rate ${results.rate}`,
      String(results.secondsVsOptimum),
      '>= 0.95',
    ],
    ['cli: twice beside the redrive Lambda on the same failures', String(results.duplicates), '0'],
  ];
}

if (require.main === module) {
  runStandalone('cli', (log) => measureCliRedrive({ log }), { timed: true });
}
