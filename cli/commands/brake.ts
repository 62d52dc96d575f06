import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliContext } from '../context';

/** Adds `autoheal brake` to the program. */
export function registerBrakeCommand(
  program: Command,
  contextOf: (command: Command) => CliContext,
): void {
  program
    .command('brake')
    .description('(not built yet)')
    .action((_options, command: Command) => {
      contextOf(command);
      throw new CliError('autoheal brake is not built yet');
    });
}
