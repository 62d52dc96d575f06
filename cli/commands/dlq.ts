import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context';
import { parseQueueName } from '../dlq/dead-letter-queues';
import { DLQ_DEFAULTS, listDeadLetters, replayDeadLetters } from '../dlq/dlq-commands';
import { DEAD_LETTER_QUEUE_NAMES } from '../dlq/parked-message';
import { parseDuration } from '../time-options';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function positiveInteger(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`must be a whole number from 1 to ${max}`);
    }
    return n;
  };
}

/** The scan options both subcommands take. */
function withScanOptions(command: Command): Command {
  return command
    .option(
      '--max <count>',
      `read at most this many messages per queue (default ${DLQ_DEFAULTS.max})`,
      positiveInteger(1_000_000),
    )
    .option(
      '--visibility-timeout <seconds>',
      `seconds the messages read stay hidden from other readers while the scan runs; they are made visible again when it ends (default ${DLQ_DEFAULTS.visibilityTimeoutSeconds})`,
      positiveInteger(43_200),
    )
    .option('--json', 'print every message’s metadata as JSON (never the execution’s data)');
}

/** Adds `autoheal dlq` (`list`, `replay`) to the program. */
export function registerDlqCommand(
  program: Command,
  contextOf: (command: Command) => CliContext,
): void {
  const dlq = program
    .command('dlq')
    .description('Dead-letter queues: list their messages by reason, replay the chosen ones');

  withScanOptions(
    dlq
      .command('list')
      .description(
        'Group each dead-letter queue’s messages by parked reason and origin (reads without consuming)',
      )
      .option(
        `--queue <queue>`,
        `one queue: ${DEAD_LETTER_QUEUE_NAMES.join(', ')}`,
        parseQueueName,
      ),
  ).action(async (options, command: Command) => {
    await listDeadLetters(contextOf(command), options);
  });

  withScanOptions(
    dlq
      .command('replay')
      .description(
        'Move the selected messages back to their work queue, marked as replays (the handler confirms their facts before acting)',
      )
      .requiredOption(
        '--queue <queue>',
        `the queue: ${DEAD_LETTER_QUEUE_NAMES.join(', ')}`,
        parseQueueName,
      )
      .option(
        '--reason <reason>',
        'only messages parked for this reason or kind (repeatable), e.g. retries-exhausted',
        collect,
      )
      .option('--older-than <duration>', 'only messages parked at least this long ago, e.g. 2h')
      .option('--newer-than <duration>', 'only messages parked at most this long ago, e.g. 30m')
      .option('--execution <arn>', 'only messages about this execution (repeatable)', collect)
      .option('--dry-run', 'show what would move, and move nothing')
      .option('--yes', 'do not ask for confirmation (scripts)'),
  ).action(async (options, command: Command) => {
    await replayDeadLetters(contextOf(command), {
      ...options,
      reasons: options.reason,
      executionArns: options.execution,
      olderThanSeconds:
        options.olderThan === undefined
          ? undefined
          : parseDuration(options.olderThan, '--older-than') / 1000,
      newerThanSeconds:
        options.newerThan === undefined
          ? undefined
          : parseDuration(options.newerThan, '--newer-than') / 1000,
    });
  });
}
