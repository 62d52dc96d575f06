/**
 * `autoheal redrive`: bulk redrive after an outage. The logic lives in
 * cli/redrive/ (options, plan, execute, report); this is the wiring.
 */
import { writeFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { createBreakerStore } from '../../lambda/redrive/breaker/breaker-store';
import { breakerOptionsFor } from '../../lambda/shared/config/breaker-config';
import { autohealPersistenceStore } from '../../lambda/shared/idempotency';
import { parseStateMachineArn } from '../../lambda/shared/state-machine-names';
import { CliError } from '../cli-error';
import type { CliContext } from '../context';
import type { Progress } from '../output';
import { runRedrive } from '../redrive/execute';
import {
  DEFAULT_DESCRIBE_RATE,
  DEFAULT_LIST_RATE,
  DEFAULT_REDRIVE_RATE,
  type RawRedriveOptions,
  redriveRequestOf,
} from '../redrive/options';
import { planRedrive } from '../redrive/plan';
import { printPlan, printRun, reportOf } from '../redrive/report';

/** Adds `autoheal redrive` to the program. */
export function registerRedriveCommand(
  program: Command,
  contextOf: (command: Command) => CliContext,
): void {
  program
    .command('redrive')
    .description(
      'Redrive failed executions in bulk (after an outage): the same decision, idempotency key and client token as the redrive Lambda, so nothing is redriven twice',
    )
    .option(
      '--state-machine <names...>',
      'state machine names, ARNs or prefixes ending in * (default: every machine in the deployed scope)',
    )
    .option(
      '--outside-scope <reason>',
      'allow machines outside the deployed scope, for this reason',
    )
    .option(
      '--since <time>',
      'failures that stopped since: a duration (6h, 2d) or an ISO time',
      '14d',
    )
    .option(
      '--until <time>',
      'failures that stopped before: a duration or an ISO time (default: now)',
    )
    .addOption(
      new Option(
        '--status <statuses...>',
        "statuses to list (default: each machine's configured ones)",
      ).choices(['FAILED', 'TIMED_OUT', 'ABORTED']),
    )
    .option('--error <globs...>', 'only failures whose error matches one of these (* and ?)')
    .option('--include-gave-up', 'also redrive failures Autoheal gave up on (maxRedrives reached)')
    .option(
      '--include-denied',
      'also redrive failures whose error the policy denies or does not allow',
    )
    .option(
      '--include-before-live-healing',
      'also redrive failures that stopped before their machine came under live healing',
    )
    .option('--ignore-breaker', "redrive machines whose breaker is open (default: they're held)")
    .option('--dry-run', 'print what would be redriven, and stop (writes nothing)')
    .option('-y, --yes', 'redrive without asking (for scripts)')
    .option(
      '--rate <perSecond>',
      'redrives per second (RedriveExecution refills 150/s in most regions)',
      String(DEFAULT_REDRIVE_RATE),
    )
    .option(
      '--describe-rate <perSecond>',
      'DescribeExecution calls per second',
      String(DEFAULT_DESCRIBE_RATE),
    )
    .option('--list-rate <perSecond>', 'list calls per second', String(DEFAULT_LIST_RATE))
    .option('--json', 'print the JSON report on stdout instead of tables')
    .option('--report <file>', 'write the JSON report to a file')
    .action(async (options: RawRedriveOptions, command: Command) => {
      const context = contextOf(command);
      await redriveCommand(context, options);
    });
}

/**
 * Runs `autoheal redrive` with parsed options.
 *
 * @example
 * ```ts
 * await redriveCommand(context, { since: '6h', dryRun: true });
 * ```
 */
export async function redriveCommand(
  context: CliContext,
  options: RawRedriveOptions,
): Promise<void> {
  const { out, clients } = context;
  const request = redriveRequestOf(options, context.now());
  if (!request.dryRun && !request.yes && !out.interactive) {
    // Before any AWS call: a script that forgot --yes learns it at once, not after the listing.
    throw new CliError(
      'no terminal to confirm on: pass --yes to redrive without asking, or --dry-run to look first',
    );
  }
  const deployment = await context.deployment();
  const redrive = deployment.redrive;
  if (!redrive) {
    throw new CliError(
      `stack ${deployment.stackName || '(given by flags)'} has no redrive path to redrive with`,
    );
  }
  const breakerStore = deployment.stateTableName
    ? createBreakerStore({
        dynamodb: clients.dynamodb,
        tableName: deployment.stateTableName,
        keyPrefix: deployment.idempotencyKeyPrefix,
        optionsFor: (arn) =>
          breakerOptionsFor(redrive.config, parseStateMachineArn(arn)?.stateMachineName ?? ''),
      })
    : undefined;

  let describing: Progress | undefined;
  const plan = await planRedrive(request, {
    sfn: clients.sfn,
    redrive,
    idempotencyKeyPrefix: deployment.idempotencyKeyPrefix,
    persistenceStore: autohealPersistenceStore(deployment.idempotencyTableName, clients.dynamodb),
    breakerStore,
    now: context.now,
    onPhase: (_phase, done, total) => {
      describing ??= out.progress(total, 'describing');
      describing.tick({});
      if (done === total) describing.stop();
    },
  });
  describing?.stop();
  if (!request.json) printPlan(out, plan, request);

  const finish = async (run?: Parameters<typeof reportOf>[3]) => {
    const report = reportOf(
      request,
      plan,
      { stack: deployment.stackName, now: context.now() },
      run,
    );
    if (request.report) {
      await writeFile(request.report, `${JSON.stringify(report, null, 2)}\n`);
      if (!request.json) out.line(`Report written to ${request.report}`);
    }
    if (request.json) out.json(report);
  };

  const toRedrive = plan.candidates.filter((c) => c.redrive).length;
  if (request.dryRun) {
    if (!request.json) out.line('Dry run: nothing was redriven.');
    return finish();
  }
  if (toRedrive === 0) {
    if (!request.json) out.line('Nothing to redrive.');
    return finish();
  }
  if (!request.yes) {
    if (!(await out.confirm(`Redrive ${toRedrive} execution(s) at ${request.rate} per second?`))) {
      out.line('Nothing was redriven.');
      return finish();
    }
  }

  const run = await runRedrive(plan.candidates, {
    sfn: clients.sfn,
    persistenceStore: autohealPersistenceStore(deployment.idempotencyTableName, clients.dynamodb),
    idempotencyKeyPrefix: deployment.idempotencyKeyPrefix,
    rate: request.rate,
    now: context.now,
    interrupted: context.interrupted,
    progress: out.progress(toRedrive, 'redrive'),
    onNotice: (subject) => out.warn(subject),
  });
  if (!request.json) printRun(out, run.results, run.summary);
  await finish(run);
  if (run.summary.failed > 0) context.setExitCode(1);
  else if (run.summary.interrupted) context.setExitCode(130);
}
