/**
 * The runtime side of a large scope (issue 13): what the handlers' scope check
 * costs per event with 1,000 ARNs and 100 name prefixes (the index, and the
 * linear scan it replaced, in the same run), and how long the real sweeper,
 * on a simulated clock, takes to sweep 1,000 state machines at ListExecutions'
 * quota.
 *
 * Part of `npm run bench` (the `scale` keys of bench/results.json). Alone, in
 * a few seconds: `npx ts-node --transpile-only bench/scale.ts` prints the
 * figures (it starts its own DynamoDB Local unless AWS_ENDPOINT_URL_DYNAMODB
 * names one).
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ListExecutionsCommand,
  type ListExecutionsCommandOutput,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { AutohealStack } from '../bin/autoheal-stack';
import { createExecutionSweeper, type SweepSummary } from '../lambda/redrive/execution-sweeper';
import { sweepCoverage } from '../lambda/redrive/sweep-plan';
import {
  parseAutohealConfig,
  parseRedriveConfig,
  type RedriveConfig,
} from '../lambda/shared/autoheal-config';
import { isStateMachineInScope } from '../lambda/shared/config/redrive-config';
import { METRICS_NAMESPACE, SWEEPER_SERVICE_NAME } from '../lambda/shared/contract';
import { autohealPersistenceStore } from '../lambda/shared/idempotency';
import * as limits from '../lib/limits/template-limits';
import { createIdempotencyTableOn } from '../test/support/idempotency-table';
import { liveSinceFor } from '../test/support/live-since';
import { defaultContextConfig, templateOnlyApp } from '../test/support/stack';
import { runStandalone } from './standalone';

const HOME = 'arn:aws:states:eu-central-1:123456789012:';
const ELSEWHERE = 'arn:aws:states:us-east-1:123456789012:';
const MACHINES = 1000;
const PREFIXES = 100;
/** ListExecutions' quota in most regions, and the most the config allows. */
const QUOTA_PER_SECOND = 2;
/** The sweeper function's timeout (lib/constructs/execution-sweeper.ts). */
const SWEEP_TIMEOUT_MS = 5 * 60_000;

/** Generated names, no shared prefix: how platform teams list machines. */
const machineName = (i: number) => `svc${(i * 7919) % 100_003}-${i.toString(36)}-pipeline`;

function largeScope(): RedriveConfig {
  return parseRedriveConfig({
    stateMachineArns: Array.from(
      { length: MACHINES },
      (_, i) => `${HOME}stateMachine:${machineName(i)}`,
    ),
    stateMachineNamePrefixes: Array.from({ length: PREFIXES }, (_, i) => `team${i}-`),
  });
}

/** The scope check before the index (a linear scan), kept here to compare in the same run. */
function linearIsStateMachineInScope(config: RedriveConfig, arn: string, home: string): boolean {
  const label = arn.indexOf('/');
  const machineArn = label === -1 ? arn : arn.slice(0, label);
  if (config.stateMachineArns.includes(machineArn)) return true;
  const prefix = `${home}stateMachine:`;
  if (!machineArn.startsWith(prefix)) return false;
  const name = machineArn.slice(prefix.length);
  return config.stateMachineNamePrefixes.some((p) => name.startsWith(p));
}

/** Events' state machine ARNs: a quarter each listed, by prefix, unknown at home, elsewhere. */
function eventArns(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    switch (i % 4) {
      case 0:
        return `${HOME}stateMachine:${machineName((i * 13) % MACHINES)}`;
      case 1:
        return `${HOME}stateMachine:team${i % PREFIXES}-nightly-${i}/Fan`;
      case 2:
        return `${HOME}stateMachine:unlisted-${i}`;
      default:
        return `${ELSEWHERE}stateMachine:team${i % PREFIXES}-nightly`;
    }
  });
}

/** Nanoseconds per check, the best of `rounds` timed loops over the events. */
function nsPerCheck(
  check: (arn: string) => boolean,
  arns: readonly string[],
  iterations: number,
  rounds = 5,
): { ns: number; hits: number } {
  let best = Number.POSITIVE_INFINITY;
  let hits = 0;
  for (let round = 0; round < rounds; round++) {
    hits = 0;
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) if (check(arns[i % arns.length])) hits++;
    best = Math.min(best, Number(process.hrtime.bigint() - started) / iterations);
  }
  return { ns: Math.round(best * 10) / 10, hits };
}

/** The scope check per event with 1,000 ARNs and 100 prefixes: the index, and the old scan. */
export function measureScopeCheck(iterations = 2_000_000) {
  const config = largeScope();
  const arns = eventArns(4096);
  const indexed = (arn: string) => isStateMachineInScope(config, arn, HOME);
  const linear = (arn: string) => linearIsStateMachineInScope(config, arn, HOME);
  const disagreements = arns.filter((arn) => indexed(arn) !== linear(arn)).length;
  if (disagreements > 0)
    throw new Error(`The index and the scan disagree on ${disagreements} ARNs`);
  const index = nsPerCheck(indexed, arns, iterations);
  // The same events against a scope of one ARN and one prefix: O(1) means about the same cost.
  const small = parseRedriveConfig({
    stateMachineArns: [`${HOME}stateMachine:${machineName(0)}`],
    stateMachineNamePrefixes: ['team0-'],
  });
  const smallScope = nsPerCheck((arn) => isStateMachineInScope(small, arn, HOME), arns, iterations);
  const scan = nsPerCheck(linear, arns, Math.max(1, Math.floor(iterations / 20)));
  return {
    scopeCheckNsPerEvent: index.ns,
    scopeCheckNsPerEventLinear: scan.ns,
    scopeCheckNsPerEventSmallScope: smallScope.ns,
    scopeCheckSpeedup: Math.round((scan.ns / index.ns) * 10) / 10,
    scopeCheckInScopeShare: Math.round((index.hits / iterations) * 100) / 100,
  };
}

/** Step Functions with the machines of the scope and no failures: only the calls count. */
function quietStepFunctions(): { client: SFNClient; calls: () => number } {
  let calls = 0;
  const client = {
    send: async (command: unknown): Promise<ListExecutionsCommandOutput> => {
      if (!(command instanceof ListExecutionsCommand)) throw new Error('Not served here');
      calls++;
      return { executions: [], $metadata: {} };
    },
  };
  return { client: client as unknown as SFNClient, calls: () => calls };
}

/**
 * The real sweeper, on a simulated clock, sweeping 1,000 machines listed by
 * ARN at the quota: hourly sweeps of 5 minutes each until a pass over every
 * machine is done. The clock moves only when the sweeper waits for its pacer.
 */
export async function measureSweepForAll(requestsPerSecond = QUOTA_PER_SECOND) {
  const config = parseRedriveConfig({
    stateMachineArns: Array.from(
      { length: MACHINES },
      (_, i) => `${HOME}stateMachine:${machineName(i)}`,
    ),
    sweeper: { requestsPerSecond },
  });
  const dynamodb = new DynamoDBClient({});
  const tableName = await createIdempotencyTableOn(dynamodb);
  const sfn = quietStepFunctions();
  let now = Date.parse('2026-03-02T10:00:00Z');
  const startedAt = now;
  const logger = new Logger({ serviceName: SWEEPER_SERVICE_NAME, logLevel: 'SILENT' });
  try {
    const sweep = createExecutionSweeper({
      config,
      sfn: sfn.client,
      sqs: {} as SQSClient,
      persistenceStore: autohealPersistenceStore(tableName, dynamodb),
      cursorTable: { dynamodb, tableName },
      workQueueUrl: 'https://sqs.eu-central-1.amazonaws.com/123456789012/unused',
      liveSince: liveSinceFor(config),
      logger,
      metrics: new Metrics({
        namespace: METRICS_NAMESPACE,
        serviceName: SWEEPER_SERVICE_NAME,
        logger,
      }),
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    });
    const periodMs = config.sweeper.periodMinutes * 60_000;
    let summary: SweepSummary | undefined;
    let sweeps = 0;
    do {
      const sweepStart = startedAt + sweeps * periodMs;
      now = sweepStart;
      const deadline = sweepStart + SWEEP_TIMEOUT_MS;
      summary = await sweep({ getRemainingTimeInMillis: () => deadline - now });
      sweeps++;
    } while (summary.passMinutes === undefined && sweeps < 1000);
    const { callsPerPass, passMinutes } = sweepCoverage(config, { timeoutMs: SWEEP_TIMEOUT_MS });
    return {
      sweepMinutesForAll: summary.passMinutes,
      sweepsForAll: sweeps,
      sweepRequestsPerSecond: requestsPerSecond,
      sweepPeriodMinutes: config.sweeper.periodMinutes,
      sweepListExecutionsCallsPerPass: callsPerPass,
      sweepListExecutionsCallsMade: sfn.calls(),
      /** The pacing alone, as if one invocation could run that long. */
      sweepPacedMinutesForAll: Math.round((callsPerPass / requestsPerSecond / 60) * 10) / 10,
      /** The synth warning's estimate (autoheal:sweepCoverage), an upper bound. */
      sweepEstimatedMinutesForAll: passMinutes,
    };
  } finally {
    await dynamodb.send(new DeleteTableCommand({ TableName: tableName }));
    dynamodb.destroy();
  }
}

/** Generated names as platform teams have them (no shared prefix), as in test/infra/scale-redrive.test.ts. */
const teamMachineName = (i: number) =>
  `team-${String.fromCharCode(97 + (i % 26))}-${['orders', 'billing', 'inventory', 'shipping-label'][i % 4]}-ingest-${((i * 2_654_435_761) >>> 0).toString(16).slice(0, 6)}-${String(i).padStart(4, '0')}`;

/**
 * The redrive side's template at 1,000 machines (by ARN, 100 prefixes, 200
 * overrides): rules, longest pattern, largest policy; and the synth time of
 * that app and of the default config's app, in the same run (no bundling:
 * the pre-built handlers; the config is staged into each function's asset).
 */
export function measureScaleSynth() {
  const names = Array.from({ length: MACHINES }, (_, i) => teamMachineName(i));
  const large = {
    redrive: {
      stateMachineArns: names.map((name) => `${HOME}stateMachine:${name}`),
      stateMachineNamePrefixes: Array.from({ length: PREFIXES }, (_, i) => `platform-${i}-batch-`),
      overrides: Object.fromEntries(names.slice(0, 200).map((name) => [name, { maxRedrives: 3 }])),
    },
  };
  const env = { account: '123456789012', region: 'eu-central-1' };
  const synth = (raw: unknown) => {
    const started = process.hrtime.bigint();
    const app = templateOnlyApp();
    const stack = new AutohealStack(app, 'Autoheal', { config: parseAutohealConfig(raw), env });
    app.synth();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { seconds, template: limits.synthesisedTemplate(stack) };
  };
  // Warm-up: module loading and the first synth's one-time costs are in neither figure.
  synth(defaultContextConfig());
  const small = synth(defaultContextConfig());
  const big = synth(large);
  const resources = Object.entries(big.template.Resources ?? {});
  const types = Object.fromEntries(resources.map(([id, r]) => [id, r.Type]));
  const rules = resources.filter(
    ([id, r]) => r.Type === 'AWS::Events::Rule' && id.includes('FailedExecutions'),
  );
  const patternChars = rules.map(([, r]) =>
    limits.budgetedLength(r.Properties?.EventPattern, types),
  );
  const inlineByRole = new Map<string, number>();
  const managed: number[] = [];
  for (const [, r] of resources) {
    if (r.Type !== 'AWS::IAM::ManagedPolicy' && r.Type !== 'AWS::IAM::Policy') continue;
    const chars = limits.budgetedLength(r.Properties?.PolicyDocument, types);
    if (r.Type === 'AWS::IAM::ManagedPolicy') {
      managed.push(chars);
      continue;
    }
    for (const role of (r.Properties?.Roles as { Ref: string }[]) ?? []) {
      inlineByRole.set(role.Ref, (inlineByRole.get(role.Ref) ?? 0) + chars);
    }
  }
  const perRole = limits.managedPolicyCounts(big.template);
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    rules: rules.length,
    maxPatternChars: Math.max(...patternChars),
    maxPolicyChars: Math.max(...managed, ...inlineByRole.values()),
    maxManagedPoliciesPerRole: Math.max(...perRole.values()),
    synthSeconds: round(big.seconds),
    synthSecondsDefault: round(small.seconds),
    synthRatio: round(big.seconds / small.seconds),
    synthResources: resources.length,
    synthTemplateBytes: Buffer.byteLength(JSON.stringify(big.template)),
  };
}

/** Every `scale` figure of the runtime; needs AWS_ENDPOINT_URL_DYNAMODB (DynamoDB Local). */
export async function measureScaleRuntime() {
  return {
    machines: MACHINES,
    prefixes: PREFIXES,
    ...measureScaleSynth(),
    ...measureScopeCheck(),
    ...(await measureSweepForAll()),
  };
}

if (require.main === module) {
  runStandalone('scale', () => measureScaleRuntime(), { silenceLogs: false });
}
