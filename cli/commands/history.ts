import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliContext } from '../context';

/** Adds `autoheal history` to the program. */
export function registerHistoryCommand(
  program: Command,
  contextOf: (command: Command) => CliContext,
): void {
  program
    .command('history')
    .description('(not built yet)')
    .action((_options, command: Command) => {
      contextOf(command);
      throw new CliError('autoheal history is not built yet');
    });
}
