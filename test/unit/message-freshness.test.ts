/**
 * judgeFreshness: which work-queue messages carry facts that may be out of
 * date, and so are confirmed with DescribeExecution before any redrive.
 */
import type { SQSRecord } from 'aws-lambda';
import { type Freshness, judgeFreshness } from '../../lambda/redrive/message-freshness';
import { MESSAGE_ATTRIBUTES, SFN_EVENT } from '../../lambda/shared/contract';
import { sqsRecord } from '../support/idempotency-table';

const NOW = Date.parse('2026-03-02T10:00:00.000Z');
const MINUTE_MS = 60_000;
const REDRIVE_ROLE = 'AROAREDRIVEHANDLER01';
const SWEEPER_ROLE = 'AROASWEEPERFUNCTION1';
const OPTIONS = {
  now: NOW,
  autohealRoleIds: [REDRIVE_ROLE, SWEEPER_ROLE],
  maxDeferralMs: 60 * MINUTE_MS,
};

interface Case {
  readonly attributes?: Record<string, string>;
  readonly systemAttributes?: Partial<SQSRecord['attributes']>;
  readonly source?: string;
  /** Minutes before NOW the event happened; null for an event without a valid time. */
  readonly minutesOld?: number | null;
}

function judge({
  attributes = {},
  systemAttributes = {},
  source = SFN_EVENT.source,
  minutesOld = 1,
}: Case): Freshness {
  const record = sqsRecord('{}', { messageAttributes: attributes });
  const withSystem = { ...record, attributes: { ...record.attributes, ...systemAttributes } };
  return judgeFreshness(
    withSystem,
    { source, eventTime: minutesOld === null ? undefined : NOW - minutesOld * MINUTE_MS },
    OPTIONS,
  );
}

const hop = (deferrals: string, sender = `${REDRIVE_ROLE}:autoheal-redrive`) => ({
  attributes: {
    [MESSAGE_ATTRIBUTES.deferrals]: deferrals,
    [MESSAGE_ATTRIBUTES.originMessageId]: 'first-message',
  },
  systemAttributes: { SenderId: sender },
});

describe('judgeFreshness', () => {
  it.each<{ name: string } & Case>([
    { name: 'an event the rule just delivered' },
    { name: 'an event 15 min old (a first delivery and all its retries)', minutesOld: 15 },
    { name: 'an event from a sender SQS does not document (EventBridge)', minutesOld: 2 },
    {
      name: "Autoheal's deferral hop, 60 min after the event (a legit delay)",
      ...hop('4'),
      minutesOld: 60,
    },
    { name: "Autoheal's hop at the longest delay plus 15 min", ...hop('5'), minutesOld: 75 },
    {
      name: "the sweeper's message, sent by the sweeper's role",
      source: SFN_EVENT.sweeperSource,
      attributes: { [MESSAGE_ATTRIBUTES.origin]: 'sweeper' },
      systemAttributes: { SenderId: `${SWEEPER_ROLE}:autoheal-sweeper` },
    },
  ])('acts on $name as it is', (c) => {
    expect(judge(c)).toEqual({ fresh: true });
  });

  it.each<{ name: string; reason: string } & Case>([
    {
      name: 'a message Autoheal parked, replayed',
      reason: 'dead-letter-replay',
      attributes: { [MESSAGE_ATTRIBUTES.parkedReason]: 'retries-exhausted after 5 receives' },
    },
    ...['ERROR_CODE', 'ERROR_MESSAGE', 'RULE_ARN', 'TARGET_ARN'].map((name) => ({
      name: `an event EventBridge could not deliver (${name}), replayed`,
      reason: 'dead-letter-replay',
      attributes: { [name]: 'x' },
    })),
    {
      name: 'a message SQS moved to the DLQ (DeadLetterQueueSourceArn)',
      reason: 'dead-letter-replay',
      systemAttributes: {
        DeadLetterQueueSourceArn: 'arn:aws:sqs:eu-central-1:123456789012:autoheal-work',
      },
    },
    {
      name: "a message `autoheal dlq replay` moved back, with a recent event time and Autoheal's provenance",
      reason: 'dead-letter-replay',
      attributes: {
        [MESSAGE_ATTRIBUTES.replayed]: 'retries-exhausted',
        [MESSAGE_ATTRIBUTES.originMessageId]: 'first-message',
      },
      systemAttributes: { SenderId: `${REDRIVE_ROLE}:autoheal-redrive` },
      minutesOld: 0,
    },
    {
      name: 'a replay even when its event time is recent',
      reason: 'dead-letter-replay',
      attributes: { ERROR_CODE: 'SQS.AccessDenied' },
      minutesOld: 0,
    },
    {
      name: 'a hop of a message that was confirmed stale',
      reason: 'confirmation-pending',
      attributes: {
        ...hop('1').attributes,
        [MESSAGE_ATTRIBUTES.unconfirmed]: 'dead-letter-replay',
      },
      systemAttributes: hop('1').systemAttributes,
    },
    {
      name: 'a hand-made "hop" sent by another role',
      reason: 'sender-not-autoheal',
      ...hop('1', 'AROAOPERATORROLE0001:alice@example.com'),
    },
    {
      name: 'a hand-made sweeper message sent by an IAM user',
      reason: 'sender-not-autoheal',
      source: SFN_EVENT.sweeperSource,
      systemAttributes: { SenderId: 'AIDAOPERATORUSER0001' },
    },
    { name: 'an event 16 min old', reason: 'facts-too-old', minutesOld: 16 },
    { name: 'an event replayed 3 days later', reason: 'facts-too-old', minutesOld: 3 * 24 * 60 },
    { name: 'an event without a valid time', reason: 'facts-too-old', minutesOld: null },
    {
      name: 'a hop older than the longest delay plus 15 min',
      reason: 'facts-too-old',
      ...hop('9'),
      minutesOld: 76,
    },
  ])('confirms $name ($reason)', ({ reason, ...c }) => {
    expect(judge(c)).toMatchObject({ fresh: false, reason });
  });

  it('leaves the sender unchecked when no Autoheal role ids are known', () => {
    // Prepare
    const record = sqsRecord('{}', { messageAttributes: hop('1').attributes });

    // Act
    const freshness = judgeFreshness(
      record,
      { source: SFN_EVENT.source, eventTime: NOW },
      { ...OPTIONS, autohealRoleIds: [] },
    );

    // Assess
    expect(freshness).toEqual({ fresh: true });
  });
});
