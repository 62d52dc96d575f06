import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliContext } from '../context';

/** Adds `autoheal redrive` to the program. */
export function registerRedriveCommand(
  program: Command,
  contextOf: (command: Command) => CliContext,
): void {
  program
    .command('redrive')
    .description('(not built yet)')
    .action((_options, command: Command) => {
      contextOf(command);
      throw new CliError('autoheal redrive is not built yet');
    });
}
