import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliContext } from '../context';

/** Adds `autoheal flows` to the program. */
export function registerFlowsCommand(
  program: Command,
  contextOf: (command: Command) => CliContext,
): void {
  program
    .command('flows')
    .description('(not built yet)')
    .action((_options, command: Command) => {
      contextOf(command);
      throw new CliError('autoheal flows is not built yet');
    });
}
