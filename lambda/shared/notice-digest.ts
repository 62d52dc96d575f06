/**
 * Notice digests: one notice per failure does not survive a storm.
 *
 * Per (subject, kind, reason) and fixed window (aligned to multiples of the
 * window length since the epoch, so every environment agrees on the window
 * without talking to the others), the first `immediateNotices` notices are
 * published at once, as they always were; the later ones are counted in
 * DynamoDB ({@link NoticeDigestStore}) and reported in ONE digest per window:
 * counts, first and last time, and up to `digestExamples` example ids
 * (execution ARNs, run ids), never execution input, output or cause. The
 * digest goes out after the window ends, whether or not another notice comes:
 * the brake keeper calls {@link NoticeSender.flushDueDigests} every minute.
 * So a key gets at most `immediateNotices` + 1 messages per window.
 *
 * The subject of a notice is the state machine ARN or the AppFlow flow name
 * in its facts ({@link digestSubjectOf}); the SNS message attributes of a
 * digest carry the same `kind` and `reason` as the notices it stands for (plus
 * `digest` = `true`), so subscription filter policies keep matching.
 *
 * Hand-written on DynamoDB rather than a library: Powertools has no
 * aggregation utility, and the counts must hold across Lambda environments.
 * No zod here: this module is in the handler bundles.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { rethrowClassified } from './aws-errors';
import { mapWithConcurrency } from './concurrency';
import { RetryableError } from './errors';
import {
  type ClaimedEntry,
  type DigestKey,
  NoticeDigestStore,
  type WindowState,
} from './notice-digest-store';
import { type Notice, publishNotice, toSubject } from './notices';

/** The `notices` options (config section `notices`). */
export interface DigestOptions {
  /**
   * Length of the fixed digest window, in minutes; 0 turns digests off (every
   * notice is published on its own, with no DynamoDB call).
   * @default 15
   */
  readonly digestWindowMinutes: number;
  /**
   * Per (subject, kind, reason) and window, the first this many notices are
   * published at once; the later ones go into the window's digest.
   * @default 1
   */
  readonly immediateNotices: number;
  /**
   * Example ids (execution ARNs, AppFlow run ids) a digest lists at most.
   * @default 10
   */
  readonly digestExamples: number;
}

/** The defaults of {@link DigestOptions}. */
export const DEFAULT_DIGEST_OPTIONS: DigestOptions = {
  digestWindowMinutes: 15,
  immediateNotices: 1,
  digestExamples: 10,
};

/**
 * A window is flushed this long after its end, not at once: a notice timed
 * just before the end may still be on its way to DynamoDB (SDK retries), and
 * it belongs in the window's one digest rather than in a second one.
 */
export const DIGEST_FLUSH_GRACE_MS = 60_000;

/**
 * How long a flush holds a window it claimed; a flush that died mid-way
 * leaves the window to the next one after this.
 */
export const DIGEST_CLAIM_LEASE_MS = 2 * 60_000;

/** Windows flushed at once (DynamoDB and SNS calls in flight). */
const FLUSH_CONCURRENCY = 4;

/** Attempts to take a window's notices into its digest while late notices keep changing it. */
const TAKE_ATTEMPTS = 3;

/** What happened to a notice: published at once, or counted for the window's digest. */
export type NoticeSendResult = 'sent' | 'counted';

/**
 * Sends operator notices, published at once or counted into digests.
 *
 * @example
 * ```ts
 * const notices = createNoticeSender({ sns, topicArn, dynamodb, tableName, keyPrefix: 'autoheal' });
 * await notices.send(notice, executionArn, Date.now()); // 'sent' or 'counted'
 * await notices.flushDueDigests(Date.now());           // in the keeper, every minute
 * ```
 */
export interface NoticeSender {
  /**
   * Publishes the notice, or counts it for its window's digest.
   * @param example the id a digest may list for it: an execution ARN, a run id
   * @param now epoch ms: picks the window
   */
  send(notice: Notice, example: string, now: number): Promise<NoticeSendResult>;
  /**
   * Publishes one digest for each window that ended at least
   * {@link DIGEST_FLUSH_GRACE_MS} before `now` and counted notices not yet
   * reported; returns how many it published. Windows another flush holds are
   * skipped. If some windows fail, the others are still flushed, then a
   * {@link RetryableError} says how many failed; they are retried next call.
   */
  flushDueDigests(now: number): Promise<number>;
}

/** What {@link createNoticeSender} is built from. */
export interface NoticeSenderProps {
  readonly sns: SNSClient;
  /** The notice topic. */
  readonly topicArn: string;
  /** Client of the healing state table; not called when digests are off. */
  readonly dynamodb?: DynamoDBClient;
  /** Name of the healing state table (`AUTOHEAL_STATE_TABLE`); needed when digests are on. */
  readonly tableName?: string;
  /**
   * The installation's key prefix (`AUTOHEAL_IDEMPOTENCY_KEY_PREFIX`).
   * @default 'autoheal'
   */
  readonly keyPrefix?: string;
  /** @default DEFAULT_DIGEST_OPTIONS */
  readonly options?: DigestOptions;
}

/** The digest message body (JSON): counts and ids, never execution data. */
export interface NoticeDigest {
  /** The kind of the notices it stands for, e.g. `redrive-gave-up`. */
  readonly kind: string;
  readonly reason: string;
  readonly digest: true;
  /** The state machine ARN or flow name. */
  readonly subject: string;
  readonly windowStart: string;
  readonly windowEnd: string;
  /** Notices this digest reports (not published on their own). */
  readonly counted: number;
  /** Notices of the window published on their own, at once. */
  readonly sentAtOnce: number;
  /** Notices of the window an earlier digest reported (a notice that arrived after the window's flush). */
  readonly inEarlierDigests: number;
  /** Every notice of the window so far. */
  readonly noticesInWindow: number;
  /** Time of the window's first and last notice (ISO). */
  readonly firstAt: string;
  readonly lastAt: string;
  /** Ids of the first counted notices, at most `digestExamples`. */
  readonly examples: readonly string[];
  /** Counted notices not listed in `examples`. */
  readonly examplesOmitted: number;
}

/**
 * The subject a notice is digested under: the state machine ARN of a redrive
 * notice, the flow name of an AppFlow notice.
 */
export function digestSubjectOf(notice: Notice): string {
  const { stateMachineArn, flowName } = notice.facts;
  if (typeof stateMachineArn === 'string' && stateMachineArn !== '') return stateMachineArn;
  if (typeof flowName === 'string' && flowName !== '') return flowName;
  return '-';
}

/** The fixed window holding `now`: aligned to multiples of its length since the epoch. */
export function digestWindowOf(
  now: number,
  windowMinutes: number,
): { readonly start: number; readonly end: number } {
  const length = windowMinutes * 60_000;
  const start = Math.floor(now / length) * length;
  return { start, end: start + length };
}

/**
 * The digest of a window as read (pure), or undefined when it has nothing
 * left to report (every notice was published at once or already digested).
 */
export function digestOf(state: WindowState, options: DigestOptions): NoticeDigest | undefined {
  const sentAtOnce = Math.min(options.immediateNotices, state.notices);
  const counted = state.notices - sentAtOnce - state.digested;
  if (counted <= 0) return undefined;
  const after = Math.max(options.immediateNotices, state.reportedThrough);
  const examples = state.examples
    .filter((e) => e.ordinal > after && e.ordinal <= state.notices)
    .slice(0, options.digestExamples)
    .map((e) => e.example);
  return {
    kind: state.kind,
    reason: state.reason,
    digest: true,
    subject: state.subject,
    windowStart: new Date(state.windowStart).toISOString(),
    windowEnd: new Date(state.windowEnd).toISOString(),
    counted,
    sentAtOnce,
    inEarlierDigests: state.digested,
    noticesInWindow: state.notices,
    firstAt: new Date(state.firstAt).toISOString(),
    lastAt: new Date(state.lastAt).toISOString(),
    examples,
    examplesOmitted: counted - examples.length,
  };
}

/** The SNS subject line of a digest, e.g. `Autoheal digest: 523 more redrive-gave-up (max-redrives) for orders`. */
export function digestSubjectLine(digest: NoticeDigest): string {
  const name = digest.subject.split(':').at(-1);
  return `Autoheal digest: ${digest.counted} more ${digest.kind} (${digest.reason}) for ${name}`;
}

async function publishDigest(sns: SNSClient, topicArn: string, digest: NoticeDigest) {
  try {
    await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: toSubject(digestSubjectLine(digest)),
        Message: JSON.stringify(digest, null, 2),
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: digest.kind },
          reason: { DataType: 'String', StringValue: digest.reason },
          digest: { DataType: 'String', StringValue: 'true' },
        },
      }),
    );
  } catch (error) {
    rethrowClassified(error, 'Publishing the notice digest (SNS Publish)');
  }
}

/**
 * Every notice published on its own, as before digests: what a handler uses
 * when no sender is injected, and what {@link createNoticeSender} returns with
 * `digestWindowMinutes` 0.
 */
export function plainNoticeSender(sns: SNSClient, topicArn: string): NoticeSender {
  return {
    send: async (notice) => {
      await publishNotice(sns, topicArn, notice);
      return 'sent';
    },
    flushDueDigests: async () => 0,
  };
}

/**
 * Builds the notice sender of one installation (see the module comment).
 *
 * @throws Error when digests are on and no table or DynamoDB client is given
 * @example
 * ```ts
 * const notices = createNoticeSender({
 *   sns, topicArn, dynamodb, tableName: process.env.AUTOHEAL_STATE_TABLE,
 *   keyPrefix: 'autoheal', options: { digestWindowMinutes: 15, immediateNotices: 1, digestExamples: 10 },
 * });
 * ```
 */
export function createNoticeSender(props: NoticeSenderProps): NoticeSender {
  const { sns, topicArn } = props;
  const options = props.options ?? DEFAULT_DIGEST_OPTIONS;
  if (options.digestWindowMinutes <= 0) return plainNoticeSender(sns, topicArn);
  if (props.dynamodb === undefined || !props.tableName) {
    throw new Error(
      'Notice digests need the healing state table: set AUTOHEAL_STATE_TABLE (the Autoheal construct does), or notices.digestWindowMinutes 0.',
    );
  }
  const store = new NoticeDigestStore(props.dynamodb, props.tableName, props.keyPrefix);

  const send = async (notice: Notice, example: string, now: number) => {
    const window = digestWindowOf(now, options.digestWindowMinutes);
    const key: DigestKey = {
      subject: digestSubjectOf(notice),
      kind: notice.kind,
      reason: notice.reason,
      windowStart: window.start,
      windowEnd: window.end,
    };
    // Claim the notice's ordinal first: the count is right whichever environment is faster.
    const recorded = await store.record(key, now);
    if (recorded.ordinal <= options.immediateNotices) {
      try {
        await publishNotice(sns, topicArn, notice);
      } catch (error) {
        // Not published: the caller retries the notice, which must count once, not twice.
        await store.unrecord(key);
        throw error;
      }
      return 'sent' as const;
    }
    const beyond = recorded.ordinal - Math.max(options.immediateNotices, recorded.reportedThrough);
    await Promise.all([
      beyond <= options.digestExamples
        ? store.putExample(key, recorded.ordinal, example, now)
        : undefined,
      recorded.registered ? undefined : store.register(key, recorded),
    ]);
    return 'counted' as const;
  };

  /**
   * Takes the window's unreported notices into a digest, or finds there is
   * nothing to report. Undefined when late notices kept changing the window.
   */
  const take = async (
    entry: ClaimedEntry,
  ): Promise<{ digest?: NoticeDigest; gone?: true } | undefined> => {
    for (let attempt = 1; attempt <= TAKE_ATTEMPTS; attempt++) {
      const state = await store.readWindow(entry);
      if (state === undefined) return { gone: true };
      const digest = digestOf(state, options);
      const digested = state.digested + (digest?.counted ?? 0);
      const snapshot = digest === undefined ? undefined : JSON.stringify(digest);
      if (await store.takeIntoDigest(entry, state, digested, snapshot)) return { digest };
    }
    return undefined;
  };

  /** Flushes one registry entry; 1 when a digest was published. */
  const flushEntry = async (registrySk: string, now: number): Promise<number> => {
    const entry = await store.claim(registrySk, randomUUID(), now, DIGEST_CLAIM_LEASE_MS);
    if (entry === undefined) return 0;
    let digest: NoticeDigest | undefined;
    try {
      if (entry.snapshot !== undefined) {
        // Taken by an earlier flush that did not get to publish (or to say it did).
        digest = JSON.parse(entry.snapshot) as NoticeDigest;
      } else {
        const taken = await take(entry);
        if (taken === undefined) {
          await store.release(entry);
          return 0;
        }
        if (taken.gone) {
          await store.drop(entry);
          return 0;
        }
        digest = taken.digest;
      }
      if (digest !== undefined) await publishDigest(sns, topicArn, digest);
    } catch (error) {
      // The next flush takes the entry at once; a taken digest stays with it, so it is published once.
      await store.release(entry).catch(() => undefined);
      throw error;
    }
    await store.finish(entry);
    return digest === undefined ? 0 : 1;
  };

  const flushDueDigests = async (now: number): Promise<number> => {
    const due = await store.dueEntries(now - DIGEST_FLUSH_GRACE_MS);
    const failures: unknown[] = [];
    const published = await mapWithConcurrency(due, FLUSH_CONCURRENCY, (sk) =>
      flushEntry(sk, now).catch((error: unknown) => {
        failures.push(error);
        return 0;
      }),
    );
    const sent = published.reduce((sum, n) => sum + n, 0);
    if (failures.length > 0) {
      throw new RetryableError(
        `${failures.length} of ${due.length} due notice digests could not be flushed (${sent} published); the next flush retries them, nothing is lost`,
        { cause: failures[0] },
      );
    }
    return sent;
  };

  return { send, flushDueDigests };
}
