import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliContext } from '../context';
import { HISTORY_OUTCOMES, readHistory, summarize } from '../history/history';
import { parseTimeAgo } from '../time-options';

/** Options of `autoheal history`. */
interface HistoryOptions {
  readonly since: string;
  readonly stateMachine?: string[];
  readonly outcome?: string[];
  readonly json?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];

/** Adds `autoheal history` to the program. */
export function registerHistoryCommand(
  program: Command,
  contextOf: (command: Command) => CliContext,
): void {
  program
    .command('history')
    .description(
      'What Autoheal did, from its own records: redriven, observed, gave up, skipped (by reason), held by the breaker, deferred (pending)',
    )
    .option('--since <time>', 'from when: a duration ago (90m, 24h, 7d) or an ISO time', '24h')
    .option(
      '--state-machine <names>',
      'only these machines: names, ARNs or prefixes (orders-*), comma-separated or repeated',
      collect,
    )
    .option(
      '--outcome <outcomes>',
      `only these outcomes: ${HISTORY_OUTCOMES.join(', ')} (comma-separated or repeated)`,
      collect,
    )
    .option('--json', 'print every row (and the summary) as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  autoheal history\n  autoheal history --since 7d --state-machine orders-* --outcome gave-up,skipped --json',
    )
    .action(async (options: HistoryOptions, command: Command) => {
      const context = contextOf(command);
      const now = context.now();
      const since = parseTimeAgo(options.since, now, '--since');
      const outcomes = options.outcome ?? [];
      const unknown = outcomes.filter((o) => !HISTORY_OUTCOMES.includes(o));
      if (unknown.length > 0) {
        throw new CliError(
          `--outcome ${unknown.join(', ')} is not an outcome: use ${HISTORY_OUTCOMES.join(', ')}`,
        );
      }
      const deployment = await context.deployment();
      const history = await readHistory(
        { deployment, dynamodb: context.clients.dynamodb, sqs: context.clients.sqs },
        { since, stateMachines: options.stateMachine ?? [], outcomes },
      );
      const summary = summarize(history);
      if (options.json) {
        context.out.json({ ...history, summary });
        return;
      }
      const { out } = context;
      out.line(
        `What Autoheal did since ${history.since}: ${history.rows.length} row(s) (records in the window; held failures and deferrals as they are now)`,
      );
      if (summary.length === 0) out.line('Nothing: no failure was acted on, held or deferred.');
      else {
        out.table(
          ['state machine', 'outcome', 'reason', 'count'],
          summary.map((row) => [row.stateMachine, row.outcome, row.reason, row.count]),
        );
      }
      out.line(
        out.paint.dim(
          `Read ${history.scanned.itemsRead} idempotency record(s) in ${history.scanned.pages} page(s) (a Scan reads the whole table); --json lists every row`,
        ),
      );
    });
}
