/**
 * A deployment's dead-letter queues, where a replay of each goes, the
 * operator's selection of messages, and the summary `dlq list` prints. Pure.
 */
import { CliError } from '../cli-error';
import type { Deployment } from '../deployment';
import {
  DEAD_LETTER_QUEUE_NAMES,
  type DeadLetterQueueName,
  type ParkedMessage,
  reasonMatches,
} from './parked-message';

/** One dead-letter queue of the deployment. */
export interface DeadLetterQueue {
  readonly name: DeadLetterQueueName;
  readonly url: string;
  /** The work queue a replay sends to; undefined when its messages are not replayed by moving them. */
  readonly workQueueUrl?: string;
}

/**
 * Why `dlq replay` does not move the flow starter's dead-letter messages.
 * The starter has no work queue: EventBridge Scheduler invokes it once per
 * tick, and a tick lands here when Scheduler could not deliver it, when the
 * starter failed on it after Lambda's retries, or when it was malformed, all
 * bounded by the 1-hour maximum tick age: a late tick is parked for a person
 * to decide, not run late. Replaying every parked tick of an outage would run
 * each missed tick of a recurring schedule (24 runs of an hourly flow after a
 * day), rarely what anyone wants. So the replay names, per flow and tick, the
 * `autoheal flows start` command that starts it once, with the tick's own
 * idempotency key: the operator starts the ticks that should still run.
 */
export const FLOW_STARTER_REPLAY_NOTE =
  'Ticks are not moved: the flow starter has no work queue, and a tick parked after its 1-hour maximum age is run late only on purpose. Start the ticks that should still run, each once (same idempotency key as the schedule):';

/**
 * The deployment's dead-letter queues, or the one asked for.
 *
 * @throws {CliError} when the asked queue is not deployed, or none is
 */
export function deadLetterQueuesOf(
  deployment: Deployment,
  only?: DeadLetterQueueName,
): DeadLetterQueue[] {
  const all: (DeadLetterQueue | undefined)[] = [
    deployment.redrive && {
      name: 'redrive',
      url: deployment.redrive.deadLetterQueueUrl,
      workQueueUrl: deployment.redrive.workQueueUrl,
    },
    deployment.appflow?.starterDeadLetterQueueUrl
      ? { name: 'flow-starter', url: deployment.appflow.starterDeadLetterQueueUrl }
      : undefined,
    deployment.appflow?.healerDeadLetterQueueUrl
      ? {
          name: 'flow-healer',
          url: deployment.appflow.healerDeadLetterQueueUrl,
          workQueueUrl: deployment.appflow.healerWorkQueueUrl,
        }
      : undefined,
  ];
  const deployed = all.filter((q): q is DeadLetterQueue => q !== undefined);
  const chosen = only ? deployed.filter((q) => q.name === only) : deployed;
  if (chosen.length === 0) {
    const where = deployment.stackName ? ` in stack ${deployment.stackName}` : '';
    throw new CliError(
      only
        ? `The ${only} dead-letter queue is not deployed${where} (deployed: ${deployed.map((q) => q.name).join(', ') || 'none'})`
        : `No Autoheal dead-letter queue is deployed${where}`,
    );
  }
  return chosen;
}

/**
 * Parses `--queue`.
 *
 * @throws {CliError} naming the choices
 */
export function parseQueueName(value: string): DeadLetterQueueName {
  if ((DEAD_LETTER_QUEUE_NAMES as readonly string[]).includes(value)) {
    return value as DeadLetterQueueName;
  }
  throw new CliError(
    `--queue must be one of ${DEAD_LETTER_QUEUE_NAMES.join(', ')}, got "${value}"`,
    2,
  );
}

/** Which messages a replay moves. Every given criterion must hold; a list holds when any entry does. */
export interface Selection {
  readonly reasons?: readonly string[];
  /** Parked at least this many seconds ago. */
  readonly olderThanSeconds?: number;
  /** Parked at most this many seconds ago. */
  readonly newerThanSeconds?: number;
  readonly executionArns?: readonly string[];
}

/** True when the message is selected. */
export function isSelected(message: ParkedMessage, selection: Selection): boolean {
  const { reasons, olderThanSeconds, newerThanSeconds, executionArns } = selection;
  return (
    (!reasons?.length || reasons.some((r) => reasonMatches(message.reason, r))) &&
    (olderThanSeconds === undefined || message.ageSeconds >= olderThanSeconds) &&
    (newerThanSeconds === undefined || message.ageSeconds <= newerThanSeconds) &&
    (!executionArns?.length ||
      (message.executionArn !== undefined && executionArns.includes(message.executionArn)))
  );
}

/** One row of the summary: the messages of one queue, reason and origin. */
export interface MessageGroup {
  readonly queue: DeadLetterQueueName;
  readonly reason: string;
  readonly origin: string;
  readonly count: number;
  /** Parked times (ISO) of the oldest and newest message. */
  readonly oldest: string;
  readonly newest: string;
}

/** Groups messages by queue, reason and origin; biggest groups first within a queue. */
export function groupMessages(messages: readonly ParkedMessage[]): MessageGroup[] {
  const groups = new Map<string, MessageGroup>();
  for (const m of messages) {
    const key = `${m.queue}\n${m.reason}\n${m.origin}`;
    const group = groups.get(key);
    groups.set(key, {
      queue: m.queue,
      reason: m.reason,
      origin: m.origin,
      count: (group?.count ?? 0) + 1,
      oldest: group && group.oldest < m.parkedAt ? group.oldest : m.parkedAt,
      newest: group && group.newest > m.parkedAt ? group.newest : m.parkedAt,
    });
  }
  const order = (name: DeadLetterQueueName) => DEAD_LETTER_QUEUE_NAMES.indexOf(name);
  return [...groups.values()].sort(
    (a, b) =>
      order(a.queue) - order(b.queue) || b.count - a.count || a.reason.localeCompare(b.reason),
  );
}

/** `3m`, `2h 5m`, `4d 2h`: an age as an operator reads it. */
export function formatAge(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) {
    const minutes = Math.floor((seconds % 3600) / 60);
    return `${Math.floor(seconds / 3600)}h${minutes ? ` ${minutes}m` : ''}`;
  }
  const hours = Math.floor((seconds % 86_400) / 3600);
  return `${Math.floor(seconds / 86_400)}d${hours ? ` ${hours}h` : ''}`;
}

/**
 * The `autoheal flows start` commands that start the flows of the parked
 * ticks, one per flow and tick (see {@link FLOW_STARTER_REPLAY_NOTE}).
 */
export function flowStartCommands(messages: readonly ParkedMessage[]): string[] {
  const commands = new Set<string>();
  for (const m of messages) {
    // A malformed tick would be refused again: it needs its schedule fixed, not a start.
    if (!m.scheduledTime || m.reason.startsWith('invalid-')) continue;
    for (const flow of m.flows ?? []) {
      const schedule = m.schedule ? ` --schedule ${m.schedule}` : '';
      commands.add(`autoheal flows start ${flow} --tick ${m.scheduledTime}${schedule}`);
    }
  }
  return [...commands];
}
