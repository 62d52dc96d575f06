/**
 * The notice storm (issue 10, section 3): thousands of give-up and skip
 * notices of a few state machines and reasons within minutes, sent by several
 * Lambda environments at once on DynamoDB Local, while the keeper flushes
 * every simulated minute. Reports what reached the notice topic: the notices
 * sent at once, the digests, and how many notices the digests counted.
 * `npm test` runs it small (test/resilience/notice-storm.test.ts), `npm run
 * bench` at 10,000 notices.
 */
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mapWithConcurrency } from '../../../lambda/shared/concurrency';
import {
  createNoticeSender,
  DEFAULT_DIGEST_OPTIONS,
  DIGEST_FLUSH_GRACE_MS,
  type DigestOptions,
  digestWindowOf,
  type NoticeSender,
} from '../../../lambda/shared/notice-digest';
import type { Notice } from '../../../lambda/shared/notices';
import { dynamoDbLocalEndpoint } from '../idempotency-table';
import { ACCOUNT, MINUTE_MS, REGION, TOPIC_ARN } from '../lambda-env';
import { noticeTopic } from '../notice-topic';
import { createStateTableOn } from '../state-table';

export interface NoticeStormOptions {
  /** Notices in the storm. */
  readonly notices: number;
  /** State machines the notices are about. @default 3 */
  readonly machines?: number;
  /** Reasons (each with its kind: give-up, skip). @default 2 */
  readonly reasons?: number;
  /** Simulated minutes the storm lasts. @default 5 */
  readonly minutes?: number;
  /** Lambda environments sending at once, each with its own clients. @default 4 */
  readonly environments?: number;
  /** @default DEFAULT_DIGEST_OPTIONS */
  readonly options?: DigestOptions;
}

export interface NoticeStormResult {
  /** Notices in the storm. */
  readonly total: number;
  /** Messages the topic received: notices sent at once plus digests. */
  readonly sent: number;
  readonly sentImmediately: number;
  readonly digests: number;
  /** Notices not sent on their own, counted in a digest. */
  readonly suppressedButCounted: number;
  /** Notices neither sent nor counted (must be 0). */
  readonly uncounted: number;
  /** (machine, kind, reason) keys. */
  readonly keys: number;
  /** Digest windows the storm touched. */
  readonly windows: number;
  /** The most messages one key received in one window. */
  readonly maxSentPerKeyAndWindow: number;
  /** Wall-clock seconds of the run. */
  readonly seconds: number;
}

/** The reasons of the storm, each with the kind of notice the redrive handler sends for it. */
const REASONS = [
  { kind: 'redrive-gave-up', reason: 'max-redrives' },
  { kind: 'redrive-skipped', reason: 'error-denied' },
  { kind: 'redrive-skipped', reason: 'stopped-too-long-ago' },
] as const;

/** Notices in flight per environment (a batch of SQS records handled concurrently). */
const IN_FLIGHT_PER_ENVIRONMENT = 10;

/**
 * Runs the storm on the DynamoDB Local of `AWS_ENDPOINT_URL_DYNAMODB` (a
 * fresh healing state table, deleted afterwards).
 *
 * @example
 * ```ts
 * const { sent, suppressedButCounted } = await noticeStorm({ notices: 10_000 });
 * ```
 */
export async function noticeStorm(options: NoticeStormOptions): Promise<NoticeStormResult> {
  const started = Date.now();
  const machines = options.machines ?? 3;
  const reasons = options.reasons ?? 2;
  const minutes = options.minutes ?? 5;
  const environmentCount = options.environments ?? 4;
  const digestOptions = options.options ?? DEFAULT_DIGEST_OPTIONS;
  if (reasons > REASONS.length) throw new RangeError(`at most ${REASONS.length} reasons`);
  dynamoDbLocalEndpoint();

  const admin = new DynamoDBClient({});
  const tableName = await createStateTableOn(admin);
  const topic = noticeTopic(TOPIC_ARN);
  const clients: DynamoDBClient[] = [];
  const sender = (): NoticeSender => {
    const dynamodb = new DynamoDBClient({});
    clients.push(dynamodb);
    return createNoticeSender({
      sns: topic.client(),
      topicArn: TOPIC_ARN,
      dynamodb,
      tableName,
      keyPrefix: 'autoheal',
      options: digestOptions,
    });
  };
  const environments = Array.from({ length: environmentCount }, sender);
  const keeper = sender();

  // The storm starts 3 minutes before a window ends, so it spans two windows (the worst case).
  const windowMs = digestOptions.digestWindowMinutes * MINUTE_MS;
  const stormStart = Date.parse('2026-03-02T10:00:00.000Z') + Math.max(0, windowMs - 3 * MINUTE_MS);
  const spacing = (minutes * MINUTE_MS) / options.notices;
  const storm = Array.from({ length: options.notices }, (_, i) => {
    const machine = `orders-${(i % machines) + 1}`;
    const { kind, reason } = REASONS[Math.floor(i / machines) % reasons];
    const executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machine}:order-${i + 1}`;
    const notice: Notice = {
      kind,
      reason,
      subject: `Autoheal ${kind === 'redrive-gave-up' ? 'gave up on' : 'will not redrive'} order-${i + 1}`,
      facts: {
        executionArn,
        stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${machine}`,
        redriveCount: 3,
      },
    };
    return { notice, executionArn, at: Math.floor(stormStart + i * spacing) };
  });

  const sentAt: { key: string; window: number }[] = [];
  const keyOf = (n: Notice) => `${n.facts.stateMachineArn}|${n.kind}|${n.reason}`;
  try {
    // Minute by minute: the environments send that minute's notices, then the keeper flushes.
    let flushAt = stormStart - (stormStart % MINUTE_MS) + MINUTE_MS;
    let next = 0;
    while (next < storm.length) {
      const batch: typeof storm = [];
      while (next < storm.length && storm[next].at < flushAt) batch.push(storm[next++]);
      await mapWithConcurrency(
        batch,
        environmentCount * IN_FLIGHT_PER_ENVIRONMENT,
        async ({ notice, executionArn, at }, i) => {
          const result = await environments[i % environmentCount].send(notice, executionArn, at);
          if (result === 'sent') {
            sentAt.push({
              key: keyOf(notice),
              window: digestWindowOf(at, digestOptions.digestWindowMinutes).start,
            });
          }
        },
      );
      await keeper.flushDueDigests(flushAt);
      flushAt += MINUTE_MS;
    }
    // The keeper goes on every minute until the last window's digest is due.
    const lastWindowEnd = digestWindowOf(
      storm.at(-1)?.at ?? stormStart,
      digestOptions.digestWindowMinutes,
    ).end;
    for (; flushAt <= lastWindowEnd + DIGEST_FLUSH_GRACE_MS + MINUTE_MS; flushAt += MINUTE_MS) {
      await keeper.flushDueDigests(flushAt);
    }
  } finally {
    await admin.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
    admin.destroy();
    for (const client of clients) client.destroy();
  }

  const digests = topic.digests();
  const perKeyAndWindow = new Map<string, number>();
  const bump = (id: string) => perKeyAndWindow.set(id, (perKeyAndWindow.get(id) ?? 0) + 1);
  for (const { key, window } of sentAt) bump(`${key}|${window}`);
  for (const d of digests) {
    bump(`${d.subject}|${d.kind}|${d.reason}|${Date.parse(d.windowStart)}`);
  }
  const windows = new Set(
    storm.map(({ at }) => digestWindowOf(at, digestOptions.digestWindowMinutes).start),
  );
  const suppressedButCounted = digests.reduce((sum, d) => sum + d.counted, 0);
  return {
    total: storm.length,
    sent: topic.published.length,
    sentImmediately: topic.immediate().length,
    digests: digests.length,
    suppressedButCounted,
    uncounted: storm.length - topic.immediate().length - suppressedButCounted,
    keys: machines * reasons,
    windows: windows.size,
    maxSentPerKeyAndWindow: Math.max(0, ...perKeyAndWindow.values()),
    seconds: (Date.now() - started) / 1000,
  };
}
