/**
 * `autoheal dlq list` and `autoheal dlq replay`: what the dead-letter queues
 * hold, grouped by why and from where, and moving the chosen messages back to
 * their work queue as replays the handler confirms before acting.
 */
import { CliError } from '../cli-error';
import type { CliContext } from '../context';
import {
  type DeadLetterQueue,
  deadLetterQueuesOf,
  FLOW_STARTER_REPLAY_NOTE,
  flowStartCommands,
  formatAge,
  groupMessages,
  isSelected,
  type Selection,
} from './dead-letter-queues';
import { type MoveResult, moveMessages } from './move-messages';
import {
  type DeadLetterQueueName,
  describeParkedMessage,
  type ParkedMessage,
} from './parked-message';
import { releaseMessages, scanQueue } from './read-queue';

/** Options of both subcommands' scans. */
export interface ScanFlags {
  /** Most messages read per queue. @default 1000 */
  readonly max?: number;
  /** Seconds a scanned message stays hidden from other readers while the scan runs. @default 60 */
  readonly visibilityTimeout?: number;
  /** Long-poll seconds of each receive. @default 1 */
  readonly waitTime?: number;
}

export interface ListFlags extends ScanFlags {
  readonly queue?: DeadLetterQueueName;
  readonly json?: boolean;
}

export interface ReplayFlags extends ScanFlags, Selection {
  readonly queue: DeadLetterQueueName;
  readonly dryRun?: boolean;
  readonly yes?: boolean;
  readonly json?: boolean;
  /** Seconds the messages being moved stay hidden; must outlast the move. @default 300 */
  readonly moveVisibilityTimeout?: number;
}

/** Defaults of the scan: see {@link ScanFlags}. */
export const DLQ_DEFAULTS = {
  max: 1000,
  visibilityTimeoutSeconds: 60,
  moveVisibilityTimeoutSeconds: 300,
  waitTimeSeconds: 1,
} as const;

interface QueueContents {
  readonly queue: DeadLetterQueue;
  readonly messages: readonly ParkedMessage[];
  readonly incomplete?: string;
}

const INCOMPLETE: Readonly<Record<string, string>> = {
  max: 'stopped at --max',
  wrapped: 'the visibility timeout ran out during the scan: raise --visibility-timeout',
  interrupted: 'interrupted',
};

/** Reads one queue without consuming it (see read-queue.ts) and makes it visible again. */
async function readQueue(
  ctx: CliContext,
  queue: DeadLetterQueue,
  flags: ScanFlags,
): Promise<QueueContents> {
  const sqs = ctx.clients.sqs;
  const scan = await scanQueue(sqs, queue.url, {
    maxMessages: flags.max ?? DLQ_DEFAULTS.max,
    visibilityTimeoutSeconds: flags.visibilityTimeout ?? DLQ_DEFAULTS.visibilityTimeoutSeconds,
    waitTimeSeconds: flags.waitTime ?? DLQ_DEFAULTS.waitTimeSeconds,
    interrupted: ctx.interrupted,
  });
  await releaseMessages(sqs, queue.url, scan.messages);
  const now = ctx.now();
  return {
    queue,
    messages: scan.messages.map((m) => describeParkedMessage(m, queue.name, now).meta),
    ...(scan.incomplete && { incomplete: scan.incomplete }),
  };
}

function printGroups(ctx: CliContext, messages: readonly ParkedMessage[]): void {
  const now = ctx.now();
  const ago = (iso: string) =>
    `${formatAge(Math.max(0, Math.round((now - Date.parse(iso)) / 1000)))} ago`;
  ctx.out.table(
    ['queue', 'reason', 'origin', 'count', 'oldest', 'newest'],
    groupMessages(messages).map((g) => [
      g.queue,
      g.reason,
      g.origin,
      g.count,
      ago(g.oldest),
      ago(g.newest),
    ]),
  );
}

function warnIncomplete(ctx: CliContext, contents: QueueContents): void {
  if (contents.incomplete) {
    ctx.out.warn(
      ctx.out.paint.warn(
        `warning: ${contents.queue.name}: read ${contents.messages.length} messages, maybe not all (${INCOMPLETE[contents.incomplete] ?? contents.incomplete})`,
      ),
    );
  }
}

/**
 * `autoheal dlq list`: every dead-letter queue's messages (or one queue's),
 * grouped by queue, reason and origin; `--json` prints each message's metadata.
 */
export async function listDeadLetters(ctx: CliContext, flags: ListFlags): Promise<void> {
  const queues = deadLetterQueuesOf(await ctx.deployment(), flags.queue);
  const contents: QueueContents[] = [];
  for (const queue of queues) contents.push(await readQueue(ctx, queue, flags));
  const messages = contents.flatMap((c) => c.messages);
  for (const c of contents) warnIncomplete(ctx, c);
  if (flags.json) {
    ctx.out.json({
      queues: contents.map((c) => ({
        queue: c.queue.name,
        messages: c.messages.length,
        complete: c.incomplete === undefined,
      })),
      groups: groupMessages(messages),
      messages,
    });
    return;
  }
  const empty = contents.filter((c) => c.messages.length === 0).map((c) => c.queue.name);
  if (messages.length > 0) printGroups(ctx, messages);
  if (empty.length > 0) ctx.out.line(`Empty: ${empty.join(', ')}`);
  if (messages.length > 0) {
    ctx.out.line(
      `${messages.length} message${messages.length === 1 ? '' : 's'}. Replay with: autoheal dlq replay --queue QUEUE [--reason REASON] --dry-run`,
    );
  }
}

function printMoveResult(ctx: CliContext, result: MoveResult, workQueue: string): void {
  const { out } = ctx;
  out.line(
    `${out.paint.ok(`Moved ${result.moved.length}`)} to the ${workQueue} work queue as replays${result.failed.length ? `; ${out.paint.bad(`${result.failed.length} failed and stay in the dead-letter queue`)}` : ''}.`,
  );
  for (const f of result.failed) out.warn(`failed: ${f.messageId}: ${f.error}`);
  if (result.failed.some((f) => /AccessDenied/.test(f.error))) {
    out.warn(
      "The work queue's policy lets only Autoheal and the roles in operators.principalArns send to it: add yours to the config and deploy, then replay again.",
    );
  }
  for (const f of result.sentNotDeleted) {
    out.warn(
      `sent but not deleted from the dead-letter queue (a copy is in both; the handler's idempotency makes the second a no-op): ${f.messageId}: ${f.error}`,
    );
  }
  if (result.notFound.length > 0) {
    out.warn(
      `${result.notFound.length} selected messages were not found during the move (replayed by someone else, or held by another reader): run list again`,
    );
  }
  if (result.interrupted) out.warn('Interrupted: run the same replay again to move the rest.');
}

/**
 * `autoheal dlq replay`: moves the selected messages of one dead-letter queue
 * back to its work queue, marked as replays (see move-messages.ts).
 *
 * @throws {CliError} when not confirmed, or the queue has no work queue
 */
export async function replayDeadLetters(ctx: CliContext, flags: ReplayFlags): Promise<void> {
  const { out } = ctx;
  const [queue] = deadLetterQueuesOf(await ctx.deployment(), flags.queue);
  const contents = await readQueue(ctx, queue, flags);
  warnIncomplete(ctx, contents);
  const selected = contents.messages.filter((m) => isSelected(m, flags));
  const moving = `${selected.length} of ${contents.messages.length} messages in the ${queue.name} dead-letter queue`;

  if (queue.name === 'flow-starter') {
    if (flags.json) {
      out.json({
        queue: queue.name,
        selected,
        moved: [],
        startCommands: flowStartCommands(selected),
      });
      return;
    }
    out.line(`${moving} selected.`);
    out.line(FLOW_STARTER_REPLAY_NOTE);
    const commands = flowStartCommands(selected);
    for (const command of commands) out.line(`  ${command}`);
    if (commands.length === 0) out.line('  (no well-formed tick selected)');
    return;
  }
  if (!queue.workQueueUrl) {
    throw new CliError(
      `The ${queue.name} work queue is not known: give the deployment's work queue`,
    );
  }

  if (selected.length === 0) {
    if (flags.json) out.json({ queue: queue.name, selected: [], moved: [] });
    else out.line(`Nothing to replay: ${moving} match.`);
    return;
  }
  if (!flags.json) {
    printGroups(ctx, selected);
    out.line(
      `${flags.dryRun ? 'Would move' : 'Moving'} ${moving} to its work queue, marked as replays.`,
    );
  }
  if (flags.dryRun) {
    if (flags.json) out.json({ queue: queue.name, dryRun: true, selected, moved: [] });
    else out.line('Dry run: nothing moved.');
    return;
  }
  if (!flags.yes && !(await out.confirm(`Move ${selected.length} messages?`))) {
    throw new CliError('Not confirmed: nothing moved (in a script, add --yes)');
  }

  const progress = out.progress(selected.length, `Replaying ${queue.name}`);
  let result: MoveResult;
  try {
    result = await moveMessages(ctx.clients.sqs, {
      queue: queue.name,
      deadLetterQueueUrl: queue.url,
      workQueueUrl: queue.workQueueUrl,
      messageIds: new Set(selected.map((m) => m.messageId)),
      visibilityTimeoutSeconds:
        flags.moveVisibilityTimeout ?? DLQ_DEFAULTS.moveVisibilityTimeoutSeconds,
      waitTimeSeconds: flags.waitTime ?? DLQ_DEFAULTS.waitTimeSeconds,
      now: ctx.now,
      interrupted: ctx.interrupted,
      onBatch: (settled, totals) => progress.tick({ ...totals }, settled),
    });
  } finally {
    progress.stop();
  }
  if (flags.json) out.json({ queue: queue.name, selected, ...result });
  else printMoveResult(ctx, result, queue.name);
  const incomplete =
    result.failed.length + result.sentNotDeleted.length + result.notFound.length > 0 ||
    result.interrupted;
  if (incomplete) ctx.setExitCode(1);
}
