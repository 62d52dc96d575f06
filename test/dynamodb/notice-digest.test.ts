/**
 * Notice digests on DynamoDB Local: what the operator receives when one
 * (state machine, kind, reason) fails over and over. The first notice of each
 * window at once, one digest per window with exact counts, first and last
 * time and examples, sent by the keeper's flush even when no further notice
 * comes; exact under concurrent environments and failed publishes.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STATE_TABLE, stateKeys } from '../../lambda/shared/contract';
import { RetryableError } from '../../lambda/shared/errors';
import {
  createNoticeSender,
  DIGEST_FLUSH_GRACE_MS,
  type DigestOptions,
  type NoticeSender,
} from '../../lambda/shared/notice-digest';
import { DIGEST_RETENTION_SECONDS } from '../../lambda/shared/notice-digest-store';
import type { Notice } from '../../lambda/shared/notices';
import { ACCOUNT, MINUTE_MS, REGION, SECOND_MS, TOPIC_ARN } from '../support/lambda-env';
import { type NoticeTopic, noticeTopic } from '../support/notice-topic';
import { createStateTable, type StateTable } from '../support/state-table';

/** A window start: 15-minute windows are aligned to the quarter hour. */
const WINDOW_START = Date.parse('2026-03-02T10:00:00.000Z');
const WINDOW_END = WINDOW_START + 15 * MINUTE_MS;
/** When the keeper's flush first takes the window. */
const FLUSH_AT = WINDOW_END + DIGEST_FLUSH_GRACE_MS;
const OPTIONS: DigestOptions = { digestWindowMinutes: 15, immediateNotices: 1, digestExamples: 3 };

const machineArn = (machine: string) =>
  `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${machine}`;
const executionArn = (machine: string, n: number) =>
  `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machine}:order-${n}`;

/** A give-up notice as the redrive handler sends it (facts abridged). */
function gaveUp(machine: string, n: number, reason = 'max-redrives'): Notice {
  return {
    kind: 'redrive-gave-up',
    reason,
    subject: `Autoheal gave up on order-${n}`,
    facts: {
      executionArn: executionArn(machine, n),
      stateMachineArn: machineArn(machine),
      redriveCount: 3,
    },
  };
}

// Several DynamoDB Local round trips per notice: generous on a busy machine.
jest.setTimeout(30_000);

let table: StateTable;
let topic: NoticeTopic;

beforeEach(async () => {
  table = await createStateTable();
  topic = noticeTopic(TOPIC_ARN);
});
afterEach(() => table.dispose());

/** The sender of one environment: its own DynamoDB and SNS clients. */
function environment(options: DigestOptions = OPTIONS, keyPrefix = 'autoheal'): NoticeSender {
  return createNoticeSender({
    sns: topic.client(),
    topicArn: TOPIC_ARN,
    dynamodb: new DynamoDBClient({}),
    tableName: table.tableName,
    keyPrefix,
    options,
  });
}

/** Sends `count` give-up notices of `machine`, one a second from `from`, in order. */
async function sendInOrder(
  sender: NoticeSender,
  machine: string,
  count: number,
  from = WINDOW_START,
): Promise<string[]> {
  const results: string[] = [];
  for (let n = 1; n <= count; n++) {
    results.push(
      await sender.send(gaveUp(machine, n), executionArn(machine, n), from + n * SECOND_MS),
    );
  }
  return results;
}

describe('notice digests', () => {
  it('sends the first notice at once, counts the rest and reports them in one digest after the window', async () => {
    // Prepare
    const sender = environment();

    // Act
    const results = await sendInOrder(sender, 'orders', 5);
    const beforeFlush = [...topic.published];
    const published = await sender.flushDueDigests(FLUSH_AT);

    // Assess
    expect(results).toEqual(['sent', 'counted', 'counted', 'counted', 'counted']);
    expect(beforeFlush).toEqual([
      expect.objectContaining({
        digest: false,
        kind: 'redrive-gave-up',
        reason: 'max-redrives',
        subject: 'Autoheal gave up on order-1',
      }),
    ]);
    expect(published).toBe(1);
    expect(topic.published).toHaveLength(2);
    const digest = topic.published[1];
    expect(digest).toMatchObject({
      digest: true,
      kind: 'redrive-gave-up',
      reason: 'max-redrives',
      subject: 'Autoheal digest: 4 more redrive-gave-up (max-redrives) for orders',
    });
    expect(digest.body).toEqual({
      kind: 'redrive-gave-up',
      reason: 'max-redrives',
      digest: true,
      subject: machineArn('orders'),
      windowStart: '2026-03-02T10:00:00.000Z',
      windowEnd: '2026-03-02T10:15:00.000Z',
      counted: 4,
      sentAtOnce: 1,
      inEarlierDigests: 0,
      noticesInWindow: 5,
      firstAt: '2026-03-02T10:00:01.000Z',
      lastAt: '2026-03-02T10:00:05.000Z',
      examples: [2, 3, 4].map((n) => executionArn('orders', n)),
      examplesOmitted: 1,
    });
  });

  it('sends the digest although no further notice arrives, and only once the window has ended', async () => {
    // Prepare
    const sender = environment();
    await sendInOrder(sender, 'orders', 3);

    // Act: the keeper's flush every minute, before and after the window's end
    const flushes: number[] = [];
    for (let at = WINDOW_START + MINUTE_MS; at <= FLUSH_AT + 2 * MINUTE_MS; at += MINUTE_MS) {
      flushes.push(await sender.flushDueDigests(at));
    }

    // Assess
    expect(flushes.reduce((a, b) => a + b, 0)).toBe(1);
    expect(flushes.indexOf(1)).toBe((FLUSH_AT - WINDOW_START) / MINUTE_MS - 1);
    expect(topic.digests()).toEqual([expect.objectContaining({ counted: 2, noticesInWindow: 3 })]);
  });

  it.each([
    { immediateNotices: 0, sent: 0, counted: 5 },
    { immediateNotices: 1, sent: 1, counted: 4 },
    { immediateNotices: 3, sent: 3, counted: 2 },
    { immediateNotices: 5, sent: 5, counted: 0 },
  ])(
    'with immediateNotices $immediateNotices sends $sent at once and digests $counted',
    async ({ immediateNotices, sent, counted }) => {
      // Prepare
      const sender = environment({ ...OPTIONS, immediateNotices });

      // Act
      const results = await sendInOrder(sender, 'orders', 5);
      await sender.flushDueDigests(FLUSH_AT);

      // Assess
      expect(results.filter((r) => r === 'sent')).toHaveLength(sent);
      expect(topic.immediate()).toHaveLength(sent);
      expect(topic.digests().map((d) => d.counted)).toEqual(counted > 0 ? [counted] : []);
    },
  );

  it('digests each (state machine, kind, reason) and window on its own', async () => {
    // Prepare
    const sender = environment();
    const notices: [Notice, string, number][] = [];
    for (let n = 1; n <= 3; n++) {
      for (const machine of ['orders', 'billing']) {
        notices.push([gaveUp(machine, n), executionArn(machine, n), WINDOW_START + n * SECOND_MS]);
        notices.push([
          gaveUp(machine, n, 'error-denied'),
          executionArn(machine, n),
          WINDOW_START + n * SECOND_MS,
        ]);
        // The next window: a notice of its own at once, and a digest of its own
        notices.push([
          gaveUp(machine, 10 + n),
          executionArn(machine, 10 + n),
          WINDOW_END + n * SECOND_MS,
        ]);
      }
    }

    // Act
    for (const [notice, example, at] of notices) await sender.send(notice, example, at);
    const published = await sender.flushDueDigests(
      WINDOW_END + 15 * MINUTE_MS + DIGEST_FLUSH_GRACE_MS,
    );

    // Assess: 6 keys and windows, each one notice at once and one digest of 2
    expect(topic.immediate()).toHaveLength(6);
    expect(published).toBe(6);
    expect(
      topic
        .digests()
        .map((d) => `${d.subject.split(':').at(-1)} ${d.reason} ${d.windowStart} ${d.counted}`)
        .sort(),
    ).toEqual([
      'billing error-denied 2026-03-02T10:00:00.000Z 2',
      'billing max-redrives 2026-03-02T10:00:00.000Z 2',
      'billing max-redrives 2026-03-02T10:15:00.000Z 2',
      'orders error-denied 2026-03-02T10:00:00.000Z 2',
      'orders max-redrives 2026-03-02T10:00:00.000Z 2',
      'orders max-redrives 2026-03-02T10:15:00.000Z 2',
    ]);
  });

  it('counts exactly when several environments send and flush at once', async () => {
    // Prepare: 4 environments, 200 notices of one key at the same moment
    const environments = Array.from({ length: 4 }, () => environment());
    const total = 200;

    // Act
    const results = await Promise.all(
      Array.from({ length: total }, (_, i) =>
        environments[i % environments.length].send(
          gaveUp('orders', i + 1),
          executionArn('orders', i + 1),
          WINDOW_START + SECOND_MS,
        ),
      ),
    );
    const flushed = await Promise.all(environments.map((e) => e.flushDueDigests(FLUSH_AT)));

    // Assess
    expect(results.filter((r) => r === 'sent')).toHaveLength(1);
    expect(flushed.reduce((a, b) => a + b, 0)).toBe(1);
    const [digest] = topic.digests();
    expect(topic.published).toHaveLength(2);
    expect(digest).toMatchObject({ counted: total - 1, sentAtOnce: 1, noticesInWindow: total });
    expect(new Set(digest.examples).size).toBe(OPTIONS.digestExamples);
    expect(digest.examplesOmitted).toBe(total - 1 - OPTIONS.digestExamples);
  });

  it('publishes the digest once when a flush fails to publish it and the next flush retries', async () => {
    // Prepare
    const sender = environment();
    await sendInOrder(sender, 'orders', 4);
    topic.failNext(1);

    // Act
    const failed = sender.flushDueDigests(FLUSH_AT);
    await expect(failed).rejects.toThrow(RetryableError);
    const retried = await sender.flushDueDigests(FLUSH_AT + MINUTE_MS);
    const again = await sender.flushDueDigests(FLUSH_AT + 2 * MINUTE_MS);

    // Assess
    expect(topic.refused).toHaveLength(1);
    expect([retried, again]).toEqual([1, 0]);
    expect(topic.digests()).toEqual([expect.objectContaining({ counted: 3, noticesInWindow: 4 })]);
  });

  it('publishes the digest once when a flush dies after taking it, once the lease of that flush has run out', async () => {
    // Prepare: SNS refuses the digest, and giving the claim back fails too (the flush died)
    const dynamodb = new DynamoDBClient({});
    const send = dynamodb.send.bind(dynamodb);
    let releaseFailures = 1;
    dynamodb.send = ((command: { input: { UpdateExpression?: string } }) => {
      if (command.input.UpdateExpression?.startsWith('REMOVE #token') && releaseFailures-- > 0) {
        return Promise.reject(new Error('the environment was frozen'));
      }
      return send(command as never);
    }) as typeof dynamodb.send;
    const sender = createNoticeSender({
      sns: topic.client(),
      topicArn: TOPIC_ARN,
      dynamodb,
      tableName: table.tableName,
      keyPrefix: 'autoheal',
      options: OPTIONS,
    });
    await sendInOrder(sender, 'orders', 4);
    topic.failNext(1);

    // Act: the keeper every minute
    await expect(sender.flushDueDigests(FLUSH_AT)).rejects.toThrow(RetryableError);
    const flushes: number[] = [];
    for (let minute = 1; minute <= 4; minute++) {
      flushes.push(await sender.flushDueDigests(FLUSH_AT + minute * MINUTE_MS));
    }

    // Assess: the claim holds for DIGEST_CLAIM_LEASE_MS (2 minutes), then the digest goes out once
    expect(flushes).toEqual([0, 0, 1, 0]);
    expect(topic.digests()).toEqual([expect.objectContaining({ counted: 3, noticesInWindow: 4 })]);
  });

  it('counts a notice whose immediate publish failed once, when it is sent again', async () => {
    // Prepare
    const sender = environment();
    topic.failNext(1);

    // Act: SNS refuses the first notice; the handler's retry sends it again
    await expect(
      sender.send(gaveUp('orders', 1), executionArn('orders', 1), WINDOW_START),
    ).rejects.toThrow(RetryableError);
    const retry = await sender.send(
      gaveUp('orders', 1),
      executionArn('orders', 1),
      WINDOW_START + SECOND_MS,
    );
    const next = await sender.send(
      gaveUp('orders', 2),
      executionArn('orders', 2),
      WINDOW_START + 2 * SECOND_MS,
    );
    await sender.flushDueDigests(FLUSH_AT);

    // Assess
    expect([retry, next]).toEqual(['sent', 'counted']);
    expect(topic.digests()).toEqual([
      expect.objectContaining({
        counted: 1,
        noticesInWindow: 2,
        examples: [executionArn('orders', 2)],
      }),
    ]);
  });

  it('reports a notice that reaches a window after its digest went out in a second digest', async () => {
    // Prepare
    const sender = environment();
    await sendInOrder(sender, 'orders', 3);
    await sender.flushDueDigests(FLUSH_AT);

    // Act: a late notice, timed inside the flushed window
    const late = await sender.send(gaveUp('orders', 9), executionArn('orders', 9), WINDOW_END - 1);
    const published = await sender.flushDueDigests(FLUSH_AT + MINUTE_MS);

    // Assess
    expect(late).toBe('counted');
    expect(published).toBe(1);
    expect(topic.digests()).toEqual([
      expect.objectContaining({ counted: 2, inEarlierDigests: 0, noticesInWindow: 3 }),
      expect.objectContaining({
        counted: 1,
        inEarlierDigests: 2,
        noticesInWindow: 4,
        examples: [executionArn('orders', 9)],
      }),
    ]);
  });

  it('keeps the counts of two installations on one table apart', async () => {
    // Prepare
    const first = environment(OPTIONS, 'autoheal');
    const second = environment(OPTIONS, 'autoheal-eu');

    // Act
    const results = [await sendInOrder(first, 'orders', 2), await sendInOrder(second, 'orders', 3)];
    const published = [
      await first.flushDueDigests(FLUSH_AT),
      await second.flushDueDigests(FLUSH_AT),
    ];

    // Assess
    expect(results).toEqual([
      ['sent', 'counted'],
      ['sent', 'counted', 'counted'],
    ]);
    expect(published).toEqual([1, 1]);
    expect(topic.digests().map((d) => d.counted)).toEqual([1, 2]);
  });

  it('keeps small items that expire, and leaves nothing due once the digest is out', async () => {
    // Prepare
    const sender = environment({ ...OPTIONS, digestExamples: 10 });
    await sendInOrder(sender, 'orders', 50);

    // Act
    const beforeFlush = await table.rawItems();
    await sender.flushDueDigests(FLUSH_AT);
    const afterFlush = await table.items();

    // Assess
    const sizes = beforeFlush.map((item) => JSON.stringify(item).length);
    expect(Math.max(...sizes)).toBeLessThan(1024);
    // the counter, 10 examples and the registry entry
    expect(beforeFlush).toHaveLength(12);
    for (const item of await table.items()) {
      expect(item[STATE_TABLE.timeToLive]).toBe(WINDOW_END / 1000 + DIGEST_RETENTION_SECONDS);
    }
    expect(afterFlush.filter((item) => item.pk === stateKeys('autoheal').dueDigests)).toEqual([]);
  });

  it('publishes every notice on its own with no DynamoDB call when digestWindowMinutes is 0', async () => {
    // Prepare: a DynamoDB client that fails the test on any call
    const dynamodb = {
      send: () => {
        throw new Error('DynamoDB was called');
      },
    } as unknown as DynamoDBClient;
    const sender = createNoticeSender({
      sns: topic.client(),
      topicArn: TOPIC_ARN,
      dynamodb,
      tableName: table.tableName,
      options: { ...OPTIONS, digestWindowMinutes: 0 },
    });

    // Act
    const results = await sendInOrder(sender, 'orders', 3);
    const published = await sender.flushDueDigests(FLUSH_AT);

    // Assess
    expect(results).toEqual(['sent', 'sent', 'sent']);
    expect(published).toBe(0);
    expect(topic.published.map((p) => [p.digest, p.subject])).toEqual([
      [false, 'Autoheal gave up on order-1'],
      [false, 'Autoheal gave up on order-2'],
      [false, 'Autoheal gave up on order-3'],
    ]);
  });
});
