/**
 * `autoheal brake status|open|close|release`: shows and forces the storm
 * brake (per state machine breaker). The logic is in cli/brake/brake-control.ts.
 */
import * as os from 'node:os';
import type { Command } from 'commander';
import {
  type Brake,
  brakeMachineArns,
  brakeOf,
  brakeStatuses,
  forceBrakes,
  releaseBrakes,
  STATUS_HEAD,
  statusRow,
  watchedMachineArns,
} from '../brake/brake-control';
import { CliError } from '../cli-error';
import type { CliContext } from '../context';

interface BrakeOptions {
  readonly stateMachine?: string[];
  readonly json?: boolean;
  readonly reason?: string;
  readonly by?: string;
  readonly yes?: boolean;
}

const MACHINE_FLAG = '--state-machine <name...>';
const MACHINE_HELP = 'state machine names or ARNs';

async function brakeFor(context: CliContext): Promise<Brake> {
  return brakeOf(await context.deployment(), context.clients.dynamodb);
}

/** The machines the operator named: at least one for a change. */
function namedMachines(brake: Brake, options: BrakeOptions, action: string): string[] {
  const names = options.stateMachine ?? [];
  if (names.length === 0) {
    throw new CliError(
      `autoheal brake ${action} needs --state-machine NAME (one or more): a brake is forced per state machine`,
    );
  }
  return brakeMachineArns(brake, names);
}

/** Prints the statuses of `arns` as a table, or JSON. */
async function printStatus(
  context: CliContext,
  brake: Brake,
  arns: readonly string[],
  json: boolean,
) {
  const statuses = await brakeStatuses(brake, arns, context.now());
  if (json) {
    context.out.json(statuses);
    return;
  }
  if (statuses.length === 0) {
    context.out.line('No state machine with the storm brake enabled is in scope or watched.');
    return;
  }
  context.out.table(STATUS_HEAD, statuses.map(statusRow));
}

/** Adds `autoheal brake` to the program. */
export function registerBrakeCommand(
  program: Command,
  contextOf: (command: Command) => CliContext,
): void {
  const brake = program
    .command('brake')
    .description("show and force each state machine's storm brake (circuit breaker)");

  brake
    .command('status')
    .description('show the breakers: state, forced state, held failures, next probe')
    .option(MACHINE_FLAG, `${MACHINE_HELP} (default: the scope's and every watched machine)`)
    .option('--json', 'print every field as JSON')
    .action(async (options: BrakeOptions, command: Command) => {
      const context = contextOf(command);
      const control = await brakeFor(context);
      const arns = options.stateMachine?.length
        ? brakeMachineArns(control, options.stateMachine)
        : await watchedMachineArns(control);
      await printStatus(context, control, arns, options.json === true);
    });

  for (const state of ['open', 'closed'] as const) {
    const name = state === 'open' ? 'open' : 'close';
    brake
      .command(name)
      .description(
        state === 'open'
          ? 'force breakers open: hold every failure, redrive none, until released'
          : 'force breakers closed: redrive as usual and drain what is held, until released',
      )
      .requiredOption(MACHINE_FLAG, MACHINE_HELP)
      .requiredOption('--reason <text>', 'why, for whoever looks at it later')
      .option('--by <who>', 'who forces it (default: autoheal-cli:<your user name>)')
      .option('--yes', 'do not ask for confirmation (scripts)')
      .action(async (options: BrakeOptions, command: Command) => {
        const context = contextOf(command);
        const control = await brakeFor(context);
        const arns = namedMachines(control, options, name);
        if (options.yes !== true) {
          const confirmed = await context.out.confirm(
            `Force the breaker of ${arns.length} state machine(s) ${state} until released?`,
          );
          if (!confirmed) {
            throw new CliError(
              `Not confirmed: nothing forced. Answer y on a terminal, or pass --yes to force without asking`,
            );
          }
        }
        await forceBrakes(control, arns, state, {
          by: options.by ?? `autoheal-cli:${os.userInfo().username}`,
          reason: options.reason as string,
          now: context.now(),
        });
        context.out.line(
          context.out.paint.ok(
            `Forced ${state}: ${arns.length} breaker(s). Release with autoheal brake release.`,
          ),
        );
        await printStatus(context, control, arns, false);
      });
  }

  brake
    .command('release')
    .description('release forced breakers: the computed state applies again')
    .requiredOption(MACHINE_FLAG, MACHINE_HELP)
    .action(async (options: BrakeOptions, command: Command) => {
      const context = contextOf(command);
      const control = await brakeFor(context);
      const arns = namedMachines(control, options, 'release');
      await releaseBrakes(control, arns, context.now());
      context.out.line(context.out.paint.ok(`Released: ${arns.length} breaker(s).`));
      await printStatus(context, control, arns, false);
    });
}
