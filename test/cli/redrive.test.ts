/**
 * `autoheal redrive` against the local AWS endpoint (Step Functions over its
 * wire protocol) and DynamoDB Local, through the real SDK, beside the real
 * redrive handler (the resilience rig's environments) on the same
 * idempotency table.
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { type CliClients, createCliClients } from '../../cli/clients';
import type { Deployment } from '../../cli/deployment';
import type { RedriveReport } from '../../cli/redrive/report';
import { forceBreaker } from '../../lambda/redrive/breaker/breaker-control';
import { createBreakerStore } from '../../lambda/redrive/breaker/breaker-store';
import { parseRedriveConfig } from '../../lambda/shared/autoheal-config';
import type { RedriveHandlerConfig } from '../../lambda/shared/config/redrive-config';
import { type CliRun, runAutoheal } from '../support/cli-io';
import { liveSinceFor } from '../support/live-since';
import type { ExecutionState } from '../support/local-aws/local-aws-endpoint';
import {
  machineArnOf,
  type RedriveRig,
  RIG_ACCOUNT,
  RIG_REGION,
  startRedriveRig,
} from '../support/resilience/redrive-rig';
import { createStateTableOn } from '../support/state-table';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const ORDERS = 'autoheal-demo-orders';
const BILLING = 'autoheal-demo-billing';
const CONFIG = parseRedriveConfig({ stateMachineNamePrefixes: ['autoheal-demo-'] });

jest.setTimeout(120_000);

interface Cli {
  readonly run: (argv: readonly string[], options?: { tty?: boolean }) => Promise<CliRun>;
  /** Runs with `--json` and returns the report. */
  readonly report: (argv: readonly string[]) => Promise<RedriveReport & { exitCode: number }>;
  /** The CLI's own Step Functions client: tests add middleware to it. */
  readonly sfn: SFNClient;
}

function cliOn(
  rig: RedriveRig,
  options: { config?: RedriveHandlerConfig; stateTableName?: string; liveSince?: number } = {},
): Cli {
  const config = options.config ?? CONFIG;
  const sfn = new SFNClient({ endpoint: rig.endpoint.url, region: RIG_REGION });
  const base = createCliClients({ region: RIG_REGION });
  const clients: CliClients = {
    get sfn() {
      return sfn;
    },
    get dynamodb() {
      return new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });
    },
    get sqs() {
      return base.sqs;
    },
    get cloudformation() {
      return base.cloudformation;
    },
    get lambda() {
      return base.lambda;
    },
    get appflow() {
      return base.appflow;
    },
  };
  const deployment: Deployment = {
    stackName: 'Autoheal',
    region: RIG_REGION,
    idempotencyKeyPrefix: 'autoheal',
    idempotencyTableName: rig.tableName,
    stateTableName: options.stateTableName,
    redrive: {
      workQueueUrl: rig.workQueueUrl,
      deadLetterQueueUrl: rig.deadLetterQueueUrl,
      statesArnPrefix: `arn:aws:states:${RIG_REGION}:${RIG_ACCOUNT}:`,
      config,
      liveSince: liveSinceFor(config, options.liveSince),
    },
  };
  const run = (argv: readonly string[], runOptions: { tty?: boolean } = {}) =>
    runAutoheal(['redrive', '--list-rate', '5', '--describe-rate', '15', ...argv], {
      clients,
      deployment: async () => deployment,
      tty: runOptions.tty,
      env: { NO_COLOR: '1' },
    });
  return {
    run,
    sfn,
    report: async (argv) => {
      const result = await run([...argv, '--json']);
      if (result.stdout.trim() === '') throw new Error(`no report: ${result.stderr}`);
      return { ...(JSON.parse(result.stdout) as RedriveReport), exitCode: result.exitCode };
    },
  };
}

/** Effective redrives of each execution, by ARN. */
function redrivesOf(rig: RedriveRig, arns: readonly string[]): number[] {
  return arns.map((arn) => rig.endpoint.execution(arn)?.redrives.length ?? 0);
}

/** Calls the CLI's client sends of one operation: counted, and optionally hooked. */
function onOperation(
  sfn: SFNClient,
  operation: string,
  hook: (count: number, input: { executionArn?: string }) => void,
) {
  let count = 0;
  sfn.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === `${operation}Command`) {
        count++;
        hook(count, args.input as { executionArn?: string });
      }
      return next(args);
    },
    { step: 'initialize', name: `hook${operation}${Math.random()}` },
  );
}

describe('autoheal redrive', () => {
  let rig: RedriveRig;

  beforeEach(async () => {
    // A message the CLI holds the record of is retried after its visibility timeout: 3 s, not 180.
    rig = await startRedriveRig({ environments: 3, config: CONFIG, visibilityTimeoutSeconds: 3 });
  });
  afterEach(() => rig.stop());

  it('dry run: prints what it would do, grouped by reason, and writes nothing', async () => {
    // Prepare
    rig.seedFailures(4);
    rig.seedFailures(2, { error: 'States.Runtime' });
    rig.seedFailures(1, { stoppedAgoMs: 5_000 });
    const cli = cliOn(rig);

    // Act
    const run = await cli.run(['--dry-run']);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/│ eligible\s+│ 4\s+│ redrive/);
    expect(run.stdout).toMatch(/│ delay-waived\s+│ 1\s+│ redrive/);
    expect(run.stdout).toMatch(/│ denied\s+│ 2\s+│ skip \(--include-denied to redrive\)/);
    expect(run.stdout).toContain('5 to redrive at 50 per second');
    expect(run.stdout).toContain('Dry run: nothing was redriven.');
    expect(rig.endpoint.countCalls({ operation: 'RedriveExecution' })).toBe(0);
    expect(await rig.idempotencyItems()).toBe(0);
  });

  describe('filters', () => {
    let arns: Record<string, string[]>;
    let cli: Cli;

    beforeEach(() => {
      arns = {
        ordersRecent: rig.seedFailures(2, { machine: ORDERS }),
        ordersOld: rig.seedFailures(1, { machine: ORDERS, stoppedAgoMs: 3 * HOUR_MS }),
        ordersLambda: rig.seedFailures(1, { machine: ORDERS, error: 'Lambda.ServiceException' }),
        billing: rig.seedFailures(2, { machine: BILLING }),
        billingDenied: rig.seedFailures(1, { machine: BILLING, error: 'States.Runtime' }),
      };
      cli = cliOn(rig);
    });

    it.each([
      ['every machine in scope', [], ['ordersRecent', 'ordersOld', 'ordersLambda', 'billing']],
      ['a name', ['--state-machine', ORDERS], ['ordersRecent', 'ordersOld', 'ordersLambda']],
      ['an ARN', ['--state-machine', machineArnOf(BILLING)], ['billing']],
      ['a prefix', ['--state-machine', 'autoheal-demo-bil*'], ['billing']],
      ['--since', ['--since', '1h'], ['ordersRecent', 'ordersLambda', 'billing']],
      ['--until', ['--until', '2h'], ['ordersOld']],
      ['--error', ['--error', 'Lambda.*'], ['ordersLambda']],
      [
        '--include-denied',
        ['--include-denied', '--state-machine', BILLING],
        ['billing', 'billingDenied'],
      ],
    ])('%s', async (_name, argv, expected) => {
      // Act
      const report = await cli.report(['--dry-run', ...argv]);

      // Assess
      const toRedrive = report.candidates.filter((c) => c.redrive).map((c) => c.executionArn);
      expect(toRedrive.sort()).toEqual(expected.flatMap((key) => arns[key]).sort());
    });

    it('--status lists only that status', async () => {
      // Prepare
      const timedOut = rig.seedFailures(1, { machine: ORDERS });
      rig.endpoint.setExecutionStatus(timedOut[0], 'TIMED_OUT', {
        error: 'States.Timeout',
        stopDate: Date.now() - 10 * MINUTE_MS,
      });

      // Act
      const report = await cli.report(['--dry-run', '--status', 'TIMED_OUT']);

      // Assess
      expect(report.candidates.map((c) => c.executionArn)).toEqual(timedOut);
    });
  });

  it('refuses a machine outside the deployed scope before listing anything, unless given a reason', async () => {
    // Prepare
    const outside = rig.seedFailures(1, { machine: 'legacy-orders' });
    const cli = cliOn(rig);

    // Act
    const refused = await cli.run(['--dry-run', '--state-machine', 'legacy-orders']);
    const listedBeforeReason = rig.endpoint.countCalls({ operation: 'ListExecutions' });
    const allowed = await cli.report([
      '--dry-run',
      '--state-machine',
      'legacy-orders',
      '--outside-scope',
      'INC-42: legacy flow, healed by hand',
    ]);

    // Assess
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr.trim().split('\n')).toEqual([
      'error: legacy-orders is outside the deployed scope; pass --outside-scope "REASON" to redrive it anyway',
    ]);
    expect(allowed.candidates.map((c) => [c.executionArn, c.reason])).toEqual([
      [outside[0], 'eligible'],
    ]);
    expect(allowed.filters.outsideScope).toBe('INC-42: legacy flow, healed by hand');
    expect(listedBeforeReason).toBe(0);
  });

  it.each([
    [
      ['--since', 'yesterday'],
      'error: --since yesterday: give a duration ago (90s, 30m, 6h, 2d, 1w, 1h30m) or an ISO time with a zone (2026-03-01T10:00:00Z)',
    ],
    [['--since', '1h', '--until', '2h'], 'error: --since must be before --until'],
    [
      ['--rate', '500'],
      'error: --rate 500: give a number of calls per second above 0, at most 300',
    ],
    [['--rate', '0'], 'error: --rate 0: give a number of calls per second above 0, at most 300'],
    [
      ['--state-machine', 'orders-*-eu*'],
      'error: --state-machine orders-*-eu*: a prefix is a name start followed by one *',
    ],
    [
      ['--state-machine', 'arn:aws:states:eu-central-1:123456789012:execution:x:y'],
      'error: --state-machine arn:aws:states:eu-central-1:123456789012:execution:x:y: not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)',
    ],
    [['--outside-scope', ' '], 'error: --outside-scope needs a reason (it goes into the report)'],
  ])('bad input %j: one line naming the flag, no AWS call', async (argv, message) => {
    // Prepare
    const cli = cliOn(rig);

    // Act
    const run = await cli.run(['--dry-run', ...argv]);

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr.trim()).toBe(message);
    expect(rig.endpoint.calls).toHaveLength(0);
  });

  it('redrives after confirmation only: without a terminal and without --yes it is one line and no redrive', async () => {
    // Prepare
    rig.seedFailures(2);
    const cli = cliOn(rig);

    // Act
    const run = await cli.run([]);

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr.trim()).toBe(
      'error: no terminal to confirm on: pass --yes to redrive without asking, or --dry-run to look first',
    );
    expect(rig.endpoint.countCalls({ service: 'sfn' })).toBe(0);
  });

  it('redrives every candidate once, with the idempotency record and client token of the Lambda path', async () => {
    // Prepare
    const failures = rig.seedFailures(6);
    const cli = cliOn(rig);
    const reportFile = join(tmpdir(), `autoheal-redrive-${Date.now()}.json`);

    // Act
    const run = await cli.run(['--yes', '--report', reportFile]);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('redriven 6, skipped 0, failed 0');
    expect(redrivesOf(rig, failures)).toEqual([1, 1, 1, 1, 1, 1]);
    const report = JSON.parse(await readFile(reportFile, 'utf8')) as RedriveReport;
    expect(report.candidates.map((c) => c.result?.outcome)).toEqual(Array(6).fill('redriven'));
    // The handler, given these failures' events now, finds them done.
    await rig.enqueue(failures.map((arn) => rig.failureEventBody(arn)));
    await rig.drain(20_000);
    expect(redrivesOf(rig, failures)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(rig.endpoint.countCalls({ operation: 'RedriveExecution' })).toBe(6);
  });

  it('skips a failure whose record says it was redriven, even when the listing still shows it failed', async () => {
    // Prepare: the handler redrives two; the listing lags (they show FAILED again, same redriveCount)
    const [first, second, third] = rig.seedFailures(3);
    await rig.enqueue([first, second].map((arn) => rig.failureEventBody(arn)));
    await rig.drain(20_000);
    for (const arn of [first, second]) {
      const e = rig.endpoint.execution(arn);
      rig.endpoint.addExecution({
        ...(e as ExecutionState),
        status: 'FAILED',
        redriveCount: 0,
        stopDate: Date.now() - 10 * MINUTE_MS,
      });
    }
    const cli = cliOn(rig);

    // Act
    const report = await cli.report(['--yes']);

    // Assess
    const reasons = Object.fromEntries(report.candidates.map((c) => [c.executionArn, c.reason]));
    expect(reasons).toEqual({
      [first]: 'already-redriven',
      [second]: 'already-redriven',
      [third]: 'eligible',
    });
    expect(rig.endpoint.countCalls({ operation: 'RedriveExecution' })).toBe(3);
  });

  it('redrives each failure exactly once while the redrive handler processes their events at the same moment', async () => {
    // Prepare
    const failures = rig.seedFailures(60);
    const cli = cliOn(rig);
    let handlers: Promise<unknown> | undefined;
    // The handler gets the events as the CLI starts redriving: both act on the same failures at once.
    onOperation(cli.sfn, 'RedriveExecution', (count) => {
      if (count !== 1) return;
      handlers = rig
        .enqueue(failures.map((arn) => rig.failureEventBody(arn)))
        .then(() => rig.drain(60_000));
    });

    // Act
    const report = await cli.report(['--yes', '--rate', '30']);
    await handlers;

    // Assess
    expect(report.exitCode).toBe(0);
    expect(redrivesOf(rig, failures)).toEqual(Array(60).fill(1));
    // One RedriveExecution call per failure: the idempotency record, not only the client token, kept the second path off.
    expect(rig.endpoint.countCalls({ operation: 'RedriveExecution' })).toBe(60);
    const outcomes = new Set(report.candidates.map((c) => c.result?.outcome));
    expect(outcomes.has('redriven')).toBe(true);
    expect(
      [...outcomes].some((o) => o === 'already-redriven' || o === 'in-progress-elsewhere'),
    ).toBe(true);
  });

  it('stops cleanly on Ctrl-C, and running again continues without redriving anything twice', async () => {
    // Prepare
    const failures = rig.seedFailures(40);
    const cli = cliOn(rig);
    onOperation(cli.sfn, 'RedriveExecution', (count) => {
      if (count === 20) process.emit('SIGINT');
    });

    // Act
    const interrupted = await cli.run(['--yes', '--rate', '40']);
    const afterInterrupt = redrivesOf(rig, failures).filter((n) => n === 1).length;
    const resumed = await cli.run(['--yes', '--rate', '40']);

    // Assess
    expect(interrupted.exitCode).toBe(130);
    expect(interrupted.stdout).toContain('Interrupted: run the same command again to continue');
    expect(afterInterrupt).toBeGreaterThanOrEqual(20);
    expect(afterInterrupt).toBeLessThan(40);
    expect(resumed.exitCode).toBe(0);
    expect(resumed.stdout).toContain(`redriven ${40 - afterInterrupt}, skipped 0, failed 0`);
    expect(redrivesOf(rig, failures)).toEqual(Array(40).fill(1));
  });

  it('redrives a failure the handler gave up on only with --include-gave-up, under its manual key, once', async () => {
    // Prepare: redriven 3 times already (maxRedrives 3); the handler records its give-up
    const [gaveUp] = rig.seedFailures(1);
    const e = rig.endpoint.execution(gaveUp);
    rig.endpoint.addExecution({ ...(e as ExecutionState), redriveCount: 3 });
    await rig.enqueue([
      rig.failureEventBody(gaveUp).replace('"redriveCount":0', '"redriveCount":3'),
    ]);
    await rig.drain(20_000);
    const cli = cliOn(rig);

    // Act
    const without = await cli.report(['--yes']);
    const withFlag = await cli.report(['--yes', '--include-gave-up']);

    // Assess
    expect(without.candidates.map((c) => [c.reason, c.redrive, c.recorded])).toEqual([
      ['gave-up', false, 'gave-up: max-redrives'],
    ]);
    expect(withFlag.candidates.map((c) => c.result)).toEqual([
      expect.objectContaining({ outcome: 'redriven', key: 'manual' }),
    ]);
    expect(rig.endpoint.execution(gaveUp)?.redrives.length).toBe(1);
  });

  it('never redrives an observed-only machine, and a failure from before live healing only when asked', async () => {
    // Prepare
    const observed = rig.seedFailures(1, { machine: ORDERS });
    const beforeLiveHealing = rig.seedFailures(1, { machine: BILLING });
    const config = parseRedriveConfig({
      stateMachineNamePrefixes: ['autoheal-demo-'],
      overrides: { [ORDERS]: { observeOnly: true } },
    });
    // Live healing began a minute ago: the failures stopped ten minutes ago.
    const cli = cliOn(rig, { config, liveSince: Date.now() - MINUTE_MS });

    // Act
    const without = await cli.report(['--yes']);
    const withFlag = await cli.report(['--yes', '--include-before-live-healing']);

    // Assess
    expect(without.candidates.map((c) => [c.executionArn, c.reason, c.redrive])).toEqual([
      [beforeLiveHealing[0], 'before-live-healing', false],
      [observed[0], 'observe-only', false],
    ]);
    expect(withFlag.summary.run?.redriven).toBe(1);
    expect(redrivesOf(rig, [...observed, ...beforeLiveHealing])).toEqual([0, 1]);
  });

  it('holds the failures of a machine whose breaker is open, unless --ignore-breaker', async () => {
    // Prepare
    const admin = new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });
    const stateTableName = await createStateTableOn(admin);
    await forceBreaker(
      createBreakerStore({ dynamodb: admin, tableName: stateTableName }),
      machineArnOf(ORDERS),
      'open',
      { by: 'test', reason: 'downstream still broken' },
    );
    const orders = rig.seedFailures(2, { machine: ORDERS });
    const billing = rig.seedFailures(1, { machine: BILLING });
    const cli = cliOn(rig, { stateTableName });

    // Act
    const held = await cli.report(['--yes']);
    const ignored = await cli.report(['--yes', '--ignore-breaker']);

    // Assess
    expect(held.machines.find((m) => m.name === ORDERS)?.breaker).toBe('open');
    expect(held.summary.byReason).toEqual({ eligible: 1, 'held-by-breaker': 2 });
    expect(ignored.summary.run?.redriven).toBe(2);
    expect(redrivesOf(rig, [...orders, ...billing])).toEqual([1, 1, 1]);
    admin.destroy();
  });

  it('exits non-zero when a redrive failed, and a run after the fault redrives it', async () => {
    // Prepare
    const [broken, fine] = rig.seedFailures(2);
    const cli = cliOn(rig);
    let failing = true;
    cli.sfn.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { executionArn?: string };
        if (
          failing &&
          context.commandName === 'RedriveExecutionCommand' &&
          input.executionArn === broken
        ) {
          throw Object.assign(new Error('access denied for this one'), {
            name: 'AccessDeniedException',
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failOne' },
    );

    // Act
    const failed = await cli.run(['--yes']);
    failing = false;
    const retried = await cli.run(['--yes']);

    // Assess
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout).toContain('redriven 1, skipped 0, failed 1');
    expect(failed.stderr).toContain(`failed: ${broken}: AccessDeniedException`);
    expect(retried.exitCode).toBe(0);
    expect(redrivesOf(rig, [broken, fine])).toEqual([1, 1]);
  });
});
