/**
 * `npm run bench`: the resilience scenarios at full size and the cold-start
 * figures, the runtime's scale figures (bench/scale.ts), and the library's packed size and consumer synth time (which need
 * `npm run build` first). Prints a table, writes bench/results.json and the
 * storm chart bench/storm.svg. Starts (and stops) its own DynamoDB Local;
 * needs no network beyond the npm cache of `npm ci`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUTOHEAL_DEFAULT_MEMORY_MB } from '../lib/constructs/autoheal-function';
import { startDynamoDbLocal, stopDynamoDbLocal } from '../test/support/dynamodb-local-setup';
import { runTickStorm } from '../test/support/resilience/flow-tick-rig';
import { noticeStorm } from '../test/support/resilience/notice-storm';
import {
  badInputRun,
  costRun,
  duplicateStorm,
  faultRun,
  lostEventsRun,
  throttledStorm,
} from '../test/support/resilience/scenarios';
import { brakeRows, measureBrake } from './brake';
import { cliRows, measureCliRedrive } from './cli-redrive';
import { formatResults, lambdaBootstrapNodeFlags, measureColdStart } from './cold-start';
import { costPer1000Redrives, runRedriveCost } from './cost';
import { measureLibrary } from './library';
import { measureScaleRuntime } from './scale';
import { measureScaleConfig } from './scale-config';
import { stormChartSvg } from './storm-chart';

const STORM_QUOTA = { burst: 800, perSecond: 150 };
const BENCH_DIR = __dirname;

function configureEnvironment(): void {
  process.env.AWS_REGION = 'eu-central-1';
  process.env.AWS_ACCESS_KEY_ID = 'bench';
  process.env.AWS_SECRET_ACCESS_KEY = 'bench';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.DDB_LOCAL_TELEMETRY = '0';
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  log(`bench: ${label}...`);
  const result = await run();
  log(`bench: ${label} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

async function main(): Promise<void> {
  configureEnvironment();
  const dynamodb = await startDynamoDbLocal();
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamodb.endpoint;
  try {
    const storm = await timed('throttled storm (10,000 failures, 800 burst / 150 per s)', () =>
      throttledStorm({ failures: 10_000, quota: STORM_QUOTA }),
    );
    const duplicates = await timed(
      'duplicate storm (2,000 failures, 30% duplicates, 4 environments)',
      () => duplicateStorm({ failures: 2_000, duplicateRatio: 0.3, environments: 4 }),
    );
    const faults = await timed(
      'faults (1,000 failures, 20% 5xx, 2% hangs, 2% ExecutionLimitExceeded, DynamoDB restart)',
      () => faultRun({ failures: 1_000, restartAfter: 200 }),
    );
    const lostEvents = await timed(
      'lost events (2,000 failures, 5% of events dropped, one sweep)',
      () => lostEventsRun({ failures: 2_000, dropRatio: 0.05 }),
    );
    // Alone: npx ts-node --transpile-only bench/brake.ts
    const brake = await timed(
      'storm brake (2,000 failures, downstream broken 10 simulated min; two machines; flapping)',
      () => measureBrake({ log }),
    );
    // Alone: npx ts-node --transpile-only bench/cli-redrive.ts
    const cli = await timed(
      'autoheal redrive (10,000 candidates at 150/s: Ctrl-C at 50% and a re-run; beside the redrive Lambda)',
      () => measureCliRedrive({ log }),
    );
    const badInput = await timed('bad input (1,000 malformed events)', () =>
      badInputRun({ count: 1_000 }),
    );
    const appflow = await timed('AppFlow ticks (50 flows x 10 ticks, 3 deliveries, 20% 5xx)', () =>
      runTickStorm({
        flows: 50,
        ticks: 10,
        deliveries: 3,
        environments: 4,
        faults: { serverErrorRate: 0.2, services: ['appflow'] },
      }),
    );
    const noticeRun = await timed(
      'notice storm (10,000 notices, 3 machines x 2 reasons, 5 minutes, 4 environments)',
      () => noticeStorm({ notices: 10_000, machines: 3, reasons: 2, minutes: 5, environments: 4 }),
    );
    const cost = await timed('cost of a redrive (1,000 failures)', () =>
      costRun({ failures: 1_000 }),
    );
    const redriveCost = await timed(
      'what 1,000 redrives cost (counted calls, measured durations)',
      () => runRedriveCost(1_000),
    );
    const per1000Redrives = costPer1000Redrives(redriveCost);
    // Alone: npx ts-node --transpile-only bench/scale.ts
    const scaleRuntime = await timed(
      'scale: scope check with 1,000 ARNs and 100 prefixes; the sweeper over 1,000 machines at 2 calls/s',
      () => measureScaleRuntime(),
    );
    const lambdaFlags = lambdaBootstrapNodeFlags(AUTOHEAL_DEFAULT_MEMORY_MB);
    const cold = await timed('cold start', () =>
      measureColdStart({ log, alsoWithNodeFlags: lambdaFlags }),
    );
    const underLambdaFlags = cold.withNodeFlags ?? { nodeFlags: lambdaFlags, coldInit: {} };
    const scaleConfig = await timed(
      'cold init with 1,000 state machines and 200 overrides in the config file',
      () => measureScaleConfig({ log }),
    );
    const library = await timed(
      'the packed library in a host app (synth with and without Autoheal)',
      () => measureLibrary({ log }),
    );

    const results = {
      measuredAt: new Date().toISOString(),
      node: process.version,
      storm: {
        failures: storm.failures,
        redriven: storm.redriven,
        lost: storm.lost,
        duplicates: storm.duplicates,
        parked: storm.parkedWithReason,
        seconds: Number(storm.seconds.toFixed(2)),
        optimumSeconds: Number(storm.optimumSeconds.toFixed(2)),
        ofOptimum: Number((storm.optimumSeconds / storm.seconds).toFixed(3)),
        throttledCalls: storm.throttledCalls,
        quota: STORM_QUOTA,
      },
      duplicateStorm: {
        failures: duplicates.failures,
        delivered: duplicates.delivered,
        redriven: duplicates.redriven,
        duplicates: duplicates.duplicates,
        lost: duplicates.lost,
      },
      faults: {
        failures: faults.failures,
        redriven: faults.redriven,
        parked: faults.parkedWithReason,
        lost: faults.lost,
        duplicates: faults.duplicates,
        serverErrors: faults.serverErrors,
        hungCalls: faults.hungCalls,
        executionLimitExceeded: faults.executionLimitExceeded,
        parkedReasons: faults.parkedReasons,
      },
      sweeper: {
        failures: lostEvents.failures,
        dropped: lostEvents.dropped,
        recovered: lostEvents.recovered,
        duplicates: lostEvents.duplicates,
        lost: lostEvents.lost,
        sweepEnqueued: lostEvents.sweep.enqueued,
      },
      brake: brake.results,
      cli,
      badInput: {
        generated: badInput.generated,
        rejectedWithReason: badInput.rejectedWithReason,
        awsCalls: badInput.awsCalls,
      },
      appflow,
      notices: {
        total: noticeRun.total,
        sent: noticeRun.sent,
        sentImmediately: noticeRun.sentImmediately,
        digests: noticeRun.digests,
        suppressedButCounted: noticeRun.suppressedButCounted,
        uncounted: noticeRun.uncounted,
        windows: noticeRun.windows,
        maxSentPerKeyAndWindow: noticeRun.maxSentPerKeyAndWindow,
        targetSent: 2 * noticeRun.keys * noticeRun.windows,
      },
      callsPerRedrive: Number(cost.callsPerRedrive.toFixed(3)),
      coldInit: cold.coldInit,
      bundle: cold.bundle,
      sdkFloor: cold.sdkFloor,
      underLambdaFlags,
      cost: { run: redriveCost, per1000Redrives },
      library,
      scale: { ...scaleRuntime, coldInitRatio: scaleConfig.coldInitRatio },
      scaleConfig,
    };
    writeFileSync(join(BENCH_DIR, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(
      join(BENCH_DIR, 'storm.svg'),
      stormChartSvg(storm.redrivesPerSecond, STORM_QUOTA, brake.timelines),
    );

    const rows: [string, string, string][] = [
      [
        'storm: redriven / lost / twice',
        `${storm.redriven} / ${storm.lost} / ${storm.duplicates}`,
        `all ${storm.failures} once`,
      ],
      [
        'storm: seconds vs optimum',
        `${results.storm.seconds} s vs ${results.storm.optimumSeconds} s (${(results.storm.ofOptimum * 100).toFixed(1)}%)`,
        '>= 90% of optimum',
      ],
      [
        'duplicate storm: redriven / twice / lost',
        `${duplicates.redriven} / ${duplicates.duplicates} / ${duplicates.lost}`,
        `all ${duplicates.failures} once`,
      ],
      [
        'faults: redriven / parked / lost / twice',
        `${faults.redriven} / ${faults.parkedWithReason} / ${faults.lost} / ${faults.duplicates}`,
        'lost 0, twice 0',
      ],
      [
        'sweeper: dropped / recovered in one sweep / twice',
        `${lostEvents.dropped} / ${lostEvents.recovered} / ${lostEvents.duplicates}`,
        'all dropped recovered, 0 twice',
      ],
      ...brakeRows(brake.results),
      ...cliRows(cli),
      [
        'bad input: rejected with reason / AWS calls',
        `${badInput.rejectedWithReason}/${badInput.generated} / ${badInput.awsCalls}`,
        'all / 0',
      ],
      [
        'AppFlow: once / twice / not started',
        `${appflow.startedOnce} / ${appflow.startedTwice} / ${appflow.notStarted}`,
        `${appflow.flowTicks} / 0 / 0`,
      ],
      [
        'notice storm: sent / suppressed but counted / uncounted',
        `${noticeRun.sent} / ${noticeRun.suppressedButCounted} / ${noticeRun.uncounted} of ${noticeRun.total}`,
        `sent <= ${results.notices.targetSent} (2 x ${noticeRun.keys} keys x ${noticeRun.windows} windows), uncounted 0`,
      ],
      ['AWS calls per redrive', String(results.callsPerRedrive), '3'],
      [
        'scale: scope check ns/event, index vs scan (1,000 ARNs, 100 prefixes)',
        `${scaleRuntime.scopeCheckNsPerEvent} vs ${scaleRuntime.scopeCheckNsPerEventLinear} (1 ARN: ${scaleRuntime.scopeCheckNsPerEventSmallScope})`,
        'O(1): about the 1-ARN figure',
      ],
      [
        'scale: redrive rules / longest pattern / largest policy (1,000 ARNs, 100 prefixes)',
        `${scaleRuntime.rules} / ${scaleRuntime.maxPatternChars} / ${scaleRuntime.maxPolicyChars} chars, ${scaleRuntime.maxManagedPoliciesPerRole} managed policies per role`,
        '<= 2,048 / <= 6,144 (10,240 inline per role)',
      ],
      [
        'scale: synth seconds, 1,000 machines vs default config',
        `${scaleRuntime.synthSeconds} vs ${scaleRuntime.synthSecondsDefault} s (${scaleRuntime.synthRatio}x)`,
        'reported',
      ],
      [
        `scale: minutes to sweep 1,000 machines at ${scaleRuntime.sweepRequestsPerSecond}/s (simulated)`,
        `${scaleRuntime.sweepMinutesForAll} in ${scaleRuntime.sweepsForAll} sweeps every ${scaleRuntime.sweepPeriodMinutes} min`,
        'within lookbackHours (1,440)',
      ],
      [
        'scale: cold init, 1,000 machines / default config',
        `${scaleConfig.coldInitMs.big} / ${scaleConfig.coldInitMs.default} ms (${scaleConfig.coldInitRatio}x)`,
        `<= ${scaleConfig.target}x`,
      ],
      [
        'library: packed / unpacked KiB, files',
        `${(library.packedBytes / 1024).toFixed(0)} / ${(library.unpackedBytes / 1024).toFixed(0)}, ${library.fileCount}`,
        'reported',
      ],
      [
        'library: host synth with / without Autoheal',
        `${library.consumerSynthMs.withAutoheal} / ${library.consumerSynthMs.without} ms (${library.consumerSynthRatio}x)`,
        'reported',
      ],
      [
        `cost of 1,000 redrives (USD, ${per1000Redrives.prices.region}, prices of ${per1000Redrives.pricesTakenOn})`,
        `${per1000Redrives.usd.total} + the redriven state transitions`,
        'reported',
      ],
    ];
    const width = Math.max(...rows.map((r) => r[0].length));
    process.stdout.write(
      `\n${rows.map(([k, v, t]) => `${k.padEnd(width)}  ${v}   (target: ${t})`).join('\n')}\n\n${formatResults(cold)}\n` +
        `\nThe same, every process (bare node too) run with ${lambdaFlags.join(' ')}:\n\n` +
        `${formatResults({ ...underLambdaFlags, bundle: cold.bundle })}\n`,
    );
    log('bench: wrote bench/results.json and bench/storm.svg');
  } finally {
    await stopDynamoDbLocal(dynamodb.process);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
