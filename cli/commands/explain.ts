import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliContext } from '../context';

/** Adds `autoheal explain` to the program. */
export function registerExplainCommand(
  program: Command,
  contextOf: (command: Command) => CliContext,
): void {
  program
    .command('explain')
    .description('(not built yet)')
    .action((_options, command: Command) => {
      contextOf(command);
      throw new CliError('autoheal explain is not built yet');
    });
}
