/**
 * `autoheal flows start FLOW --tick TIME`: starts a flow for a missed tick,
 * once per flow and tick (see cli/flows/manual-start.ts).
 */
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliContext } from '../context';
import { manualTick, startMissedTick } from '../flows/manual-start';

interface StartOptions {
  readonly tick: string;
  readonly schedule?: string;
}

/** Adds `autoheal flows` to the program. */
export function registerFlowsCommand(
  program: Command,
  contextOf: (command: Command) => CliContext,
): void {
  const flows = program.command('flows').description("AppFlow flows of Autoheal's schedules");
  flows
    .command('start')
    .description(
      'start a flow for a tick its schedule missed, once: a late scheduled delivery of the same tick does not start it again',
    )
    .argument('<flow>', 'the flow name, as in appflow.schedules')
    .requiredOption(
      '--tick <time>',
      'the missed tick, an ISO time with a zone as Scheduler sends it (e.g. 2026-11-30T02:00:00Z)',
    )
    .option('--schedule <name>', 'the schedule whose tick it is, when the flow is in several')
    .action(async (flowName: string, options: StartOptions, command: Command) => {
      const context = contextOf(command);
      const deployment = await context.deployment();
      if (!deployment.appflow || deployment.appflow.config.schedules.length === 0) {
        throw new CliError(
          `The deployment in stack ${deployment.stackName || '(flags)'} has no AppFlow schedules: configure appflow.schedules, or name another stack with --stack`,
        );
      }
      const { tick, warning } = manualTick(
        deployment.appflow.config,
        flowName,
        options.tick,
        options.schedule,
        context.now(),
      );
      if (warning) context.out.warn(context.out.paint.warn(warning));
      const result = await startMissedTick(deployment, context.clients, tick, context.now);
      const of = `flow ${flowName} for tick ${tick.scheduledTime} of schedule ${tick.schedule}`;
      if (result.replayed) {
        context.out.line(
          `Already handled ${of} (${result.outcome}${result.executionId ? `, execution ${result.executionId}` : ''}${result.reason ? `: ${result.reason}` : ''}): not started again.`,
        );
        return;
      }
      if (result.outcome === 'started') {
        context.out.line(
          context.out.paint.ok(
            `Started ${of}${result.executionId ? ` (execution ${result.executionId})` : ''}.`,
          ),
        );
        return;
      }
      context.out.line(
        context.out.paint.bad(
          `Did not start ${of}: ${result.reason ?? result.outcome} (a notice went to the topic).`,
        ),
      );
      context.setExitCode(1);
    });
}
