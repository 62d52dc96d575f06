import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliContext } from '../context';

/** Adds `autoheal dlq` to the program. */
export function registerDlqCommand(
  program: Command,
  contextOf: (command: Command) => CliContext,
): void {
  program
    .command('dlq')
    .description('(not built yet)')
    .action((_options, command: Command) => {
      contextOf(command);
      throw new CliError('autoheal dlq is not built yet');
    });
}
