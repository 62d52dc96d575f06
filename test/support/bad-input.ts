/**
 * A deterministic generator of malformed `Step Functions Execution Status
 * Change` SQS message bodies, for proving that every bad input is rejected
 * naming its field, parked, and never reaches AWS.
 *
 * Each event starts from a valid fixture (test/fixtures/events) and gets one
 * mutation from one family. The field the product must name is derived from
 * the mutation and the documented order of the checks (size, JSON, source,
 * detail-type, id, detail, stateMachineArn, executionArn, then the optional
 * detail fields), never by running the parser.
 *
 * @example
 * ```ts
 * for (const { label, body, expectedField } of generateMalformedEvents(1000)) { ... }
 * ```
 */
import { MAX_EVENT_BYTES } from '../../lambda/shared/eventbridge-envelope';
import {
  EVENT_FIXTURES,
  type EventFixture,
  loadEvent,
  onStateMachine,
  type StatusChangeEvent,
  toSqsBody,
  withDetail,
  withEnvelope,
} from './fixtures';

/** The mutation families, in the order the generator cycles through them. */
export const MALFORMED_FAMILIES = [
  'missing-field',
  'mistyped-field',
  'wrong-arn',
  'express-arn',
  'oversized',
  'wrong-source',
  'wrong-detail-type',
  'non-json',
  'out-of-scope',
] as const;
export type MalformedFamily = (typeof MALFORMED_FAMILIES)[number];

export interface MalformedEvent {
  /** What is wrong, the fixture it started from, and its index: unique per generated list. */
  readonly label: string;
  readonly family: MalformedFamily;
  /** The SQS message body, as it would arrive on the work queue. */
  readonly body: string;
  /** The field the rejection must name (`InvalidInputError.field`, `autoheal-invalid-field`). */
  readonly expectedField: string;
  /**
   * `parser`: `parseExecutionStatusChange` rejects it. `scope`: a well-formed
   * event of a state machine outside {@link BAD_INPUT_SCOPE}, which only the
   * handler's scope check rejects.
   */
  readonly rejectedBy: 'parser' | 'scope';
}

/**
 * The `redrive` scope the out-of-scope family falls outside of (and every
 * fixture falls inside of): deploy the handler under test with it.
 */
export const BAD_INPUT_SCOPE = {
  stateMachineNamePrefixes: ['autoheal-demo-'],
  stateMachineArns: ['arn:aws:states:eu-central-1:123456789012:stateMachine:payments-settlement'],
};

/** The seed used when none is given. */
export const DEFAULT_SEED = 20260302;

/** SQS takes a body of 1 character to 1 MiB (bytes), of these characters only. */
export const SQS_MAX_BODY_BYTES = 1024 * 1024;
const SQS_BODY_CHARACTERS = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]+$/u;

/** True when SQS would accept `body` as a message body. */
export function isSqsMessageBody(body: string): boolean {
  return SQS_BODY_CHARACTERS.test(body) && Buffer.byteLength(body, 'utf8') <= SQS_MAX_BODY_BYTES;
}

/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  private readonly next: () => number;

  public constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** An integer from `min` to `max`, both included. */
  public int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  public pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }

  public chance(probability: number): boolean {
    return this.next() < probability;
  }

  public string(length: number, alphabet: string): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[this.int(0, alphabet.length - 1)];
    return out;
  }

  public hex(length: number): string {
    return this.string(length, '0123456789abcdef');
  }

  public uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${this.pick(['8', '9', 'a', 'b'])}${this.hex(3)}-${this.hex(12)}`;
  }

  /** A 12-digit account id other than the fixtures' 123456789012. */
  public account(): string {
    return `${this.int(2, 9)}${this.string(11, '0123456789')}`;
  }
}

/** One generated mutation, before the family and the index are added to the label. */
interface Mutation {
  readonly label: string;
  readonly body: string;
  readonly expectedField: string;
  readonly rejectedBy?: 'parser' | 'scope';
}

/** A valid starting point: a fixture event with a fresh id, sometimes from the sweeper. */
interface Base {
  readonly fixture: EventFixture;
  readonly event: StatusChangeEvent;
}

type Variant = (rng: Random, base: Base) => Mutation;

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const NAME_CHARS = `${LOWER}0123456789-`;
const OTHER_REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'sa-east-1', 'eu-central-2'];
const OTHER_PARTITIONS = ['aws-cn', 'aws-us-gov'];

// --- building blocks -------------------------------------------------------

const DETAIL_PREFIX = 'detail.';

/** A copy of `event` with the field at `path` (`id`, `detail`, `detail.status`, ...) set or, for `undefined`, removed. */
function setField(event: StatusChangeEvent, path: string, value: unknown): StatusChangeEvent {
  return path.startsWith(DETAIL_PREFIX)
    ? withDetail(event, { [path.slice(DETAIL_PREFIX.length)]: value })
    : withEnvelope(event, { [path]: value });
}

function fieldValue(event: StatusChangeEvent, path: string): unknown {
  const record = (path.startsWith(DETAIL_PREFIX) ? event.detail : event) as unknown as Record<
    string,
    unknown
  >;
  return record[path.startsWith(DETAIL_PREFIX) ? path.slice(DETAIL_PREFIX.length) : path];
}

/** A body with `detail` ARNs replaced; `resources` follows the execution ARN, as in real events. */
function withArns(
  event: StatusChangeEvent,
  arns: { executionArn?: string; stateMachineArn?: string },
): string {
  const changed = withDetail(event, arns);
  return toSqsBody(
    arns.executionArn === undefined ? changed : { ...changed, resources: [arns.executionArn] },
  );
}

/** Replaces one `:`-separated segment of an ARN (1 partition, 3 region, 4 account, 6 resource name). */
function arnSegment(arn: string, index: number, value: string): string {
  const parts = arn.split(':');
  parts[index] = value;
  return parts.join(':');
}

function machineName(event: StatusChangeEvent): string {
  return event.detail.stateMachineArn.split(':')[6];
}

/** A number that JSON cannot carry as a finite value: parses to Infinity. */
const OVERFLOW = '__autoheal_overflow__';
function bodyWithOverflow(event: StatusChangeEvent, path: string): string {
  return toSqsBody(setField(event, path, OVERFLOW)).replace(`"${OVERFLOW}"`, '1e400');
}

/** A valid event padded through a string field of `detail` to at least `bytes` bytes of UTF-8. */
function paddedBody(
  event: StatusChangeEvent,
  field: 'input' | 'output' | 'cause',
  bytes: number,
  unit: string,
): string {
  const empty = toSqsBody(withDetail(event, { [field]: '' }));
  const unitBytes = Buffer.byteLength(unit, 'utf8');
  const repeat = Math.ceil((bytes - Buffer.byteLength(empty, 'utf8')) / unitBytes);
  return toSqsBody(withDetail(event, { [field]: unit.repeat(Math.max(0, repeat)) }));
}

// --- the families ----------------------------------------------------------

const REQUIRED_FIELDS = [
  'id',
  'source',
  'detail-type',
  'detail',
  'detail.executionArn',
  'detail.stateMachineArn',
  'detail.status',
] as const;

const missingField: Variant[] = REQUIRED_FIELDS.map((field) => (_rng, { event }) => ({
  label: `no ${field}`,
  body: toSqsBody(setField(event, field, undefined)),
  expectedField: field,
}));

/** A wrong value for a field; `raw` builds the body itself (for values JSON cannot hold). */
interface WrongValue {
  readonly kind: string;
  readonly value?: (rng: Random, original: unknown) => unknown;
  readonly raw?: (event: StatusChangeEvent, path: string) => string;
}

const asNumber: WrongValue = { kind: 'a number', value: (rng) => rng.pick([0, 42, 1772446543000]) };
const asArray: WrongValue = { kind: 'an array', value: (_rng, original) => [original ?? 'FAILED'] };
const asObject: WrongValue = {
  kind: 'an object (DynamoDB JSON)',
  value: (_rng, original) =>
    typeof original === 'number' ? { N: String(original) } : { S: original ?? 'FAILED' },
};
const asNull: WrongValue = { kind: 'null', value: () => null };
const asBoolean: WrongValue = { kind: 'a boolean', value: (rng) => rng.chance(0.5) };
const tooLong = (length: number): WrongValue => ({
  kind: `a string of ${length} characters`,
  value: (rng) => rng.string(length, `${LOWER}._`),
});
const NOT_A_STRING = [asNumber, asArray, asObject, asNull, asBoolean];
/** Optional fields read null as absent, so null is no wrong value for them. */
const OPTIONAL_NOT_A_STRING = [asNumber, asArray, asObject, asBoolean];
const DAY_MS = 24 * 60 * 60 * 1000;
/** The fixture's stopDate, or a fixture-era time where it has none (a running execution). */
const epochMsOf = (original: unknown): number =>
  typeof original === 'number' ? original : 1772446543000;
const overflow: WrongValue = { kind: 'an overflowing number (1e400)', raw: bodyWithOverflow };

const WRONG_VALUES: readonly { readonly field: string; readonly values: WrongValue[] }[] = [
  {
    field: 'id',
    values: [...NOT_A_STRING, { kind: 'an empty string', value: () => '' }, tooLong(129)],
  },
  { field: 'source', values: NOT_A_STRING },
  { field: 'detail-type', values: NOT_A_STRING },
  {
    field: 'detail',
    values: [
      {
        kind: 'a string of JSON (double-encoded)',
        value: (_rng, original) => JSON.stringify(original),
      },
      asNumber,
      { kind: 'an array', value: (_rng, original) => [original] },
      asNull,
      asBoolean,
    ],
  },
  { field: 'detail.executionArn', values: NOT_A_STRING },
  { field: 'detail.stateMachineArn', values: NOT_A_STRING },
  { field: 'detail.status', values: [...NOT_A_STRING, tooLong(65)] },
  {
    field: 'detail.redriveCount',
    values: [
      { kind: 'a string', value: (rng) => String(rng.int(0, 5)) },
      asArray,
      asObject,
      asBoolean,
      { kind: 'a negative number', value: (rng) => -rng.int(1, 3) },
      { kind: 'a fraction', value: (rng) => rng.int(0, 4) + 0.5 },
      overflow,
    ],
  },
  {
    field: 'detail.stopDate',
    values: [
      { kind: 'an ISO date string', value: () => '2026-03-02T10:15:42.123Z' },
      {
        kind: 'a string of epoch ms',
        value: (_rng, original) => String(original ?? 1772446543000),
      },
      asArray,
      asObject,
      asBoolean,
      { kind: 'a negative number', value: () => -1 },
      overflow,
      // Well-typed but impossible: a failure cannot stop in the future (it would be deferred forever).
      {
        kind: 'epoch milliseconds × 1000 (a unit mix-up)',
        value: (_rng, original) => epochMsOf(original) * 1000,
      },
      {
        // Far enough ahead to lie in the future of any clock these tests run under.
        kind: 'a time 100-900 years ahead (a hand-edited replay)',
        value: (rng, original) => epochMsOf(original) + rng.int(100 * 365, 900 * 365) * DAY_MS,
      },
    ],
  },
  { field: 'detail.error', values: [...OPTIONAL_NOT_A_STRING, tooLong(257)] },
  { field: 'detail.redriveStatus', values: [...OPTIONAL_NOT_A_STRING, tooLong(65)] },
  { field: 'detail.redriveStatusReason', values: [...OPTIONAL_NOT_A_STRING, tooLong(4097)] },
];

const mistypedField: Variant[] = WRONG_VALUES.flatMap(({ field, values }) =>
  values.map(
    (wrong): Variant =>
      (rng, { event }) => ({
        label: `${field} as ${wrong.kind}`,
        body: wrong.raw
          ? wrong.raw(event, field)
          : toSqsBody(setField(event, field, wrong.value?.(rng, fieldValue(event, field)))),
        expectedField: field,
      }),
  ),
);

const EXECUTION_ARN = 'detail.executionArn';
const STATE_MACHINE_ARN = 'detail.stateMachineArn';

/** Printable garbage that never starts like an ARN. */
function garbage(rng: Random): string {
  return `${rng.pick(['x', '#', '{', '?', '~'])}${rng.string(rng.int(4, 40), `${LOWER}ABCXYZ0123456789 :/_-.`)}`;
}

function withWhitespace(rng: Random, arn: string): string {
  const where = rng.int(0, 2);
  if (where === 0) return ` ${arn}`;
  if (where === 1) return `${arn}\n`;
  const at = rng.int(1, arn.length - 1);
  return `${arn.slice(0, at)}${rng.pick([' ', '\t', '\u00a0'])}${arn.slice(at)}`;
}

/** An execution ARN cut at or before its last `:`, so its name is gone. */
function truncatedExecutionArn(rng: Random, arn: string): string {
  return arn.slice(0, rng.int(8, arn.lastIndexOf(':') + 1));
}

/** A state machine ARN cut at or before `:stateMachine:`, so its name is gone. */
function truncatedStateMachineArn(rng: Random, arn: string): string {
  const marker = ':stateMachine:';
  return arn.slice(0, rng.int(8, arn.indexOf(marker) + marker.length));
}

function region(event: StatusChangeEvent): string {
  return event.detail.stateMachineArn.split(':')[3];
}

function account(event: StatusChangeEvent): string {
  return event.detail.stateMachineArn.split(':')[4];
}

const onExecutionArn = (
  label: string,
  make: (rng: Random, event: StatusChangeEvent) => string,
): Variant => {
  return (rng, { event }) => ({
    label: `executionArn ${label}`,
    body: withArns(event, { executionArn: make(rng, event) }),
    expectedField: EXECUTION_ARN,
  });
};

/**
 * `expectedField` is the state machine ARN when it is malformed, but the
 * execution ARN when it is well formed yet names another machine, account,
 * region or partition: the parser checks that the execution belongs to it.
 */
const onStateMachineArn = (
  label: string,
  expectedField: string,
  make: (rng: Random, event: StatusChangeEvent) => string,
): Variant => {
  return (rng, { event }) => ({
    label: `stateMachineArn ${label}`,
    body: withArns(event, { stateMachineArn: make(rng, event) }),
    expectedField,
  });
};

const wrongArn: Variant[] = [
  onExecutionArn('of random garbage', (rng) => garbage(rng)),
  onExecutionArn('empty', () => ''),
  onExecutionArn('that is the bare execution name', (_rng, e) => e.detail.name),
  onExecutionArn('that is the state machine ARN', (_rng, e) => e.detail.stateMachineArn),
  onExecutionArn('of another account', (rng, e) =>
    arnSegment(e.detail.executionArn, 4, rng.account()),
  ),
  onExecutionArn('of another region', (rng, e) =>
    arnSegment(e.detail.executionArn, 3, rng.pick(OTHER_REGIONS)),
  ),
  onExecutionArn('of another partition', (rng, e) =>
    arnSegment(e.detail.executionArn, 1, rng.pick(OTHER_PARTITIONS)),
  ),
  onExecutionArn('of another state machine in scope', (rng, e) => {
    const [machine, ...label] = e.detail.executionArn.split(':')[6].split('/');
    const other = `autoheal-demo-${rng.string(6, LOWER)}`;
    return arnSegment(
      e.detail.executionArn,
      6,
      [other === machine ? `${other}x` : other, ...label].join('/'),
    );
  }),
  onExecutionArn(
    'that is an activity ARN',
    (_rng, e) => `arn:aws:states:${region(e)}:${account(e)}:activity:${machineName(e)}-approval`,
  ),
  onExecutionArn(
    'that is a Map Run ARN',
    (rng, e) =>
      `arn:aws:states:${region(e)}:${account(e)}:mapRun:${machineName(e)}/ProcessOrderLines:${rng.uuid()}`,
  ),
  onExecutionArn(
    'that is a Lambda function ARN',
    (_rng, e) => `arn:aws:lambda:${region(e)}:${account(e)}:function:${machineName(e)}-charge`,
  ),
  onExecutionArn('truncated', (rng, e) => truncatedExecutionArn(rng, e.detail.executionArn)),
  onExecutionArn('with white space', (rng, e) => withWhitespace(rng, e.detail.executionArn)),
  onExecutionArn('with an 81-120 character name', (rng, e) =>
    arnSegment(e.detail.executionArn, 7, rng.string(rng.int(81, 120), NAME_CHARS)),
  ),
  onExecutionArn('longer than 2048 characters', (rng, e) =>
    arnSegment(e.detail.executionArn, 7, rng.string(rng.int(2049, 2300), NAME_CHARS)),
  ),
  onExecutionArn('with an 11-digit account', (_rng, e) =>
    arnSegment(e.detail.executionArn, 4, account(e).slice(1)),
  ),
  onExecutionArn('with resource type "Execution"', (_rng, e) =>
    e.detail.executionArn.replace(':execution:', ':Execution:'),
  ),
  onStateMachineArn('of random garbage', STATE_MACHINE_ARN, (rng) => garbage(rng)),
  onStateMachineArn('empty', STATE_MACHINE_ARN, () => ''),
  onStateMachineArn(
    'that is the execution ARN',
    STATE_MACHINE_ARN,
    (_rng, e) => e.detail.executionArn,
  ),
  onStateMachineArn(
    'that is an activity ARN',
    STATE_MACHINE_ARN,
    (_rng, e) => `arn:aws:states:${region(e)}:${account(e)}:activity:${machineName(e)}`,
  ),
  onStateMachineArn(
    'that is a version ARN',
    STATE_MACHINE_ARN,
    (rng, e) => `${e.detail.stateMachineArn}:${rng.int(1, 40)}`,
  ),
  onStateMachineArn(
    'that is an alias ARN',
    STATE_MACHINE_ARN,
    (rng, e) => `${e.detail.stateMachineArn}:${rng.pick(['prod', 'live', 'blue'])}`,
  ),
  onStateMachineArn('truncated', STATE_MACHINE_ARN, (rng, e) =>
    truncatedStateMachineArn(rng, e.detail.stateMachineArn),
  ),
  onStateMachineArn('with white space', STATE_MACHINE_ARN, (rng, e) =>
    withWhitespace(rng, e.detail.stateMachineArn),
  ),
  onStateMachineArn('with an 81-120 character name', STATE_MACHINE_ARN, (rng, e) =>
    arnSegment(e.detail.stateMachineArn, 6, `autoheal-demo-${rng.string(rng.int(67, 106), LOWER)}`),
  ),
  onStateMachineArn('longer than 2048 characters', STATE_MACHINE_ARN, (rng, e) =>
    arnSegment(e.detail.stateMachineArn, 6, `autoheal-demo-${rng.string(2100, LOWER)}`),
  ),
  onStateMachineArn('of another account', EXECUTION_ARN, (rng, e) =>
    arnSegment(e.detail.stateMachineArn, 4, rng.account()),
  ),
  onStateMachineArn('of another region', EXECUTION_ARN, (rng, e) =>
    arnSegment(e.detail.stateMachineArn, 3, rng.pick(OTHER_REGIONS)),
  ),
  onStateMachineArn('of another state machine in scope', EXECUTION_ARN, (rng, e) =>
    arnSegment(e.detail.stateMachineArn, 6, `autoheal-demo-${rng.string(7, LOWER)}`),
  ),
];

/** Express: `arn:PARTITION:states:REGION:ACCOUNT:express:MACHINE:NAME:ID`, with a matching state machine ARN. */
function expressVariant(
  label: string,
  where: (
    rng: Random,
    event: StatusChangeEvent,
  ) => {
    partition?: string;
    region?: string;
    account?: string;
    machine?: string;
  },
): Variant {
  return (rng, { event }) => {
    const place = where(rng, event);
    const partition = place.partition ?? 'aws';
    const machine = place.machine ?? machineName(event);
    const prefix = `arn:${partition}:states:${place.region ?? region(event)}:${place.account ?? account(event)}`;
    return {
      label: `Express execution ${label}`,
      body: withArns(event, {
        executionArn: `${prefix}:express:${machine}:${event.detail.name}:${rng.uuid()}`,
        stateMachineArn: `${prefix}:stateMachine:${machine}`,
      }),
      expectedField: EXECUTION_ARN,
    };
  };
}

const expressArn: Variant[] = [
  expressVariant('of the fixture state machine', () => ({})),
  expressVariant('in another region', (rng) => ({ region: rng.pick(OTHER_REGIONS) })),
  expressVariant('in another account', (rng) => ({ account: rng.account() })),
  expressVariant('in another partition', (rng) => ({ partition: rng.pick(OTHER_PARTITIONS) })),
  expressVariant('of another state machine in scope', (rng) => ({
    machine: `autoheal-demo-${rng.string(6, LOWER)}`,
  })),
  // Rejected as Express before the scope is checked.
  expressVariant('of a state machine outside the scope', (rng) => ({
    machine: `${rng.pick(['billing', 'orders', 'etl'])}-${rng.string(5, LOWER)}`,
  })),
  (rng) => {
    const event = withEnvelope(loadEvent('express-execution'), { id: rng.uuid() });
    return {
      label: 'Express execution fixture',
      body: toSqsBody(event),
      expectedField: EXECUTION_ARN,
    };
  },
];

/** Over 256 KiB, and under what SQS can carry with the parking attributes added. */
const oversized: Variant[] = [
  (_rng, { event }) => ({
    label: 'one byte over 256 KiB (ASCII input)',
    body: paddedBody(event, 'input', MAX_EVENT_BYTES + 1, 'x'),
    expectedField: 'body',
  }),
  (rng, { event }) => ({
    label: 'up to 64 KiB over 256 KiB (JSON input)',
    body: paddedBody(
      event,
      'input',
      MAX_EVENT_BYTES + rng.int(2, 64 * 1024),
      `{"line":${rng.int(1, 99)},"sku":"SKU-${rng.int(10000, 99999)}","qty":${rng.int(1, 9)}},`,
    ),
    expectedField: 'body',
  }),
  (_rng, { event }) => ({
    label: 'over 256 KiB in UTF-8 but under 256 Ki characters (é input)',
    body: paddedBody(event, 'input', MAX_EVENT_BYTES + 2, 'é'),
    expectedField: 'body',
  }),
  (rng, { event }) => ({
    label: 'over 256 KiB of 4-byte characters (emoji output)',
    body: paddedBody(event, 'output', MAX_EVENT_BYTES + rng.int(4, 4096), '📦'),
    expectedField: 'body',
  }),
  (rng, { event }) => ({
    label: 'about 512 KiB (cause)',
    body: paddedBody(event, 'cause', 512 * 1024 + rng.int(0, 1024), 'stack frame at line 42; '),
    expectedField: 'body',
  }),
  (_rng, { event }) => ({
    label: 'just under 1 MiB (input)',
    body: paddedBody(event, 'input', SQS_MAX_BODY_BYTES - 8 * 1024, 'y'),
    expectedField: 'body',
  }),
  (rng) => ({
    label: 'over 256 KiB and not JSON',
    body: `redrive please ${rng.string(MAX_EVENT_BYTES + rng.int(1, 2048), `${LOWER} {}[]`)}`,
    expectedField: 'body',
  }),
  (rng, { event }) => ({
    // Size is checked before anything else, so the scope never gets a say.
    label: 'over 256 KiB and outside the scope',
    body: paddedBody(
      onStateMachine(event, `billing-${rng.string(5, LOWER)}`),
      'input',
      MAX_EVENT_BYTES + 100,
      'z',
    ),
    expectedField: 'body',
  }),
  (_rng, { event }) => ({
    label: 'over 256 KiB and without detail.executionArn',
    body: paddedBody(
      withDetail(event, { executionArn: undefined }),
      'input',
      MAX_EVENT_BYTES + 1,
      'w',
    ),
    expectedField: 'body',
  }),
];

const WRONG_SOURCES = [
  'aws.lambda',
  'aws.events',
  'aws.appflow',
  'aws.stepfunctions',
  'aws.states ',
  'AWS.STATES',
  'aws.states.express',
  'autoheal.sweeper.v2',
  'autoheal',
  '',
  'com.example.orders',
];

const wrongSource: Variant[] = [
  ...WRONG_SOURCES.map(
    (source): Variant =>
      (_rng, { event }) => ({
        label: `source ${JSON.stringify(source)}`,
        body: toSqsBody(withEnvelope(event, { source })),
        expectedField: 'source',
      }),
  ),
  (rng, { event }) => ({
    label: 'an SNS notification wrapping the event',
    body: toSqsBody({
      Type: 'Notification',
      MessageId: rng.uuid(),
      TopicArn: 'arn:aws:sns:eu-central-1:123456789012:orders-failures',
      Message: toSqsBody(event),
      Timestamp: '2026-03-02T10:15:43.000Z',
      SignatureVersion: '1',
    }),
    expectedField: 'source',
  }),
  (_rng, { event }) => ({
    label: 'the bare detail without its envelope',
    body: toSqsBody(event.detail),
    expectedField: 'source',
  }),
  (rng, { event }) => ({
    label: 'an S3 event notification',
    body: toSqsBody({
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          s3: {
            bucket: { name: 'orders-exports' },
            object: { key: `${event.detail.name}.json`, size: rng.int(1, 9999) },
          },
        },
      ],
    }),
    expectedField: 'source',
  }),
];

const WRONG_DETAIL_TYPES = [
  'AWS API Call via CloudTrail',
  'Step Functions State Machine Status Change',
  'Step Functions Execution Status Changed',
  'Step Functions Execution Status Change ',
  'step functions execution status change',
  'StepFunctionsExecutionStatusChange',
  'Step Functions Execution Status Change\u00a0',
  'Scheduled Event',
  'AppFlow End Flow Run Report',
  '',
];

const wrongDetailType: Variant[] = WRONG_DETAIL_TYPES.map(
  (detailType): Variant =>
    (_rng, { event }) => ({
      label: `detail-type ${JSON.stringify(detailType)}`,
      body: toSqsBody(withEnvelope(event, { 'detail-type': detailType })),
      expectedField: 'detail-type',
    }),
);

const BINARY_MAGIC = [
  'PK',
  '%PDF-1.7',
  '\u0089PNG\r\n',
  '\u00ff\u00d8\u00ff\u00e0',
  'BZh91AY&SY',
  '\ufffd\ufffd',
];
/** Latin-1 and replacement characters SQS accepts, as a binary payload decoded as text looks. */
const BINARY_CHARS = Array.from({ length: 0x100 - 0x80 }, (_, i) => String.fromCharCode(0x80 + i))
  .concat(['\t', '\r', '\n', '\ufffd', ' ', '!', '~', '\u00ff'])
  .join('');

const nonJson: Variant[] = [
  (rng, { event }) => {
    const full = toSqsBody(event);
    return {
      label: 'truncated JSON',
      body: full.slice(0, rng.int(1, full.length - 1)),
      expectedField: 'body',
    };
  },
  (rng) => ({
    label: 'binary-ish bytes decoded as text',
    body: `${rng.pick(BINARY_MAGIC)}${rng.string(rng.int(16, 512), BINARY_CHARS)}`,
    expectedField: 'body',
  }),
  // SQS refuses an empty body (at least 1 character), so "empty" arrives as white space.
  (rng) => ({
    label: 'white space only',
    body: rng.pick([' ', '\n', '\r\n', '\t \n', '    ']),
    expectedField: 'body',
  }),
  (_rng, { event }) => ({
    label: 'XML',
    body: `<?xml version="1.0" encoding="UTF-8"?><event><source>aws.states</source><executionArn>${event.detail.executionArn}</executionArn><status>${event.detail.status}</status></event>`,
    expectedField: 'body',
  }),
  (_rng, { event }) => ({
    label: 'a JSON array holding the event',
    body: toSqsBody([event]),
    expectedField: 'body',
  }),
  () => ({ label: 'an empty JSON array', body: '[]', expectedField: 'body' }),
  () => ({ label: 'JSON null', body: 'null', expectedField: 'body' }),
  (rng) => ({
    label: 'a JSON number',
    body: rng.pick([String(rng.int(0, 99999)), '1.5e3', '-0', '1772446543000']),
    expectedField: 'body',
  }),
  (rng) => ({
    label: 'a JSON boolean',
    body: rng.pick(['true', 'false']),
    expectedField: 'body',
  }),
  (_rng, { event }) => ({
    label: 'a JSON string (the event encoded twice)',
    body: JSON.stringify(toSqsBody(event)),
    expectedField: 'body',
  }),
  (_rng, { event }) => ({
    label: 'the event in base64',
    body: Buffer.from(toSqsBody(event), 'utf8').toString('base64'),
    expectedField: 'body',
  }),
  (_rng, { event }) => ({
    label: 'JSON after a byte order mark',
    body: `\ufeff${toSqsBody(event)}`,
    expectedField: 'body',
  }),
  (_rng, { event }) => ({
    label: 'single-quoted pseudo-JSON',
    body: toSqsBody(event).replace(/"/g, "'"),
    expectedField: 'body',
  }),
  (_rng, { event }) => ({
    label: 'JSON with a trailing comma',
    body: `${toSqsBody(event).slice(0, -1)},}`,
    expectedField: 'body',
  }),
  (_rng, { event }) => ({
    label: 'two events on two lines (NDJSON)',
    body: `${toSqsBody(event)}\n${toSqsBody(event)}`,
    expectedField: 'body',
  }),
  (_rng, { event }) => ({
    label: 'JSON after a comment',
    body: `// replayed by hand\n${JSON.stringify(event, null, 2)}`,
    expectedField: 'body',
  }),
  (_rng, { event }) => ({
    label: 'a form-encoded body',
    body: `Action=SendMessage&executionArn=${encodeURIComponent(event.detail.executionArn)}&status=${event.detail.status}`,
    expectedField: 'body',
  }),
  (rng) => ({
    label: 'plain text',
    body: rng.pick(['redrive order-42 please {', 'FAILED', 'hello world', 'undefined', 'NaN']),
    expectedField: 'body',
  }),
];

/** State machine names outside {@link BAD_INPUT_SCOPE}, some of them near misses. */
const OUT_OF_SCOPE_NAMES = [
  'billing-nightly',
  'orders-fulfilment',
  'autoheal-demo',
  'Autoheal-demo-orders',
  'autoheal_demo_orders',
  'x-autoheal-demo-orders',
  'autoheal-demoorders',
  'payments-settlement-v2',
  'payments',
  'settlement',
];

/**
 * An in-scope state machine name, but under another account, region or
 * partition: name-prefix scope covers only the deployment's own (and a listed
 * ARN names its own), so these are out of scope too.
 */
const elsewhere = (label: string, index: number, value: (rng: Random) => string): Variant => {
  return (rng, { event }) => {
    const segment = value(rng);
    const move = (arn: string) => arnSegment(arn, index, segment);
    return {
      label: `in-scope state machine ${machineName(event)} of ${label}`,
      body: withArns(event, {
        executionArn: move(event.detail.executionArn),
        stateMachineArn: move(event.detail.stateMachineArn),
      }),
      expectedField: STATE_MACHINE_ARN,
      rejectedBy: 'scope',
    };
  };
};

const outOfScope: Variant[] = [
  ...OUT_OF_SCOPE_NAMES.map(
    (name): Variant =>
      (_rng, { event }) => ({
        label: `state machine ${name} outside the scope`,
        body: toSqsBody(onStateMachine(event, name)),
        expectedField: STATE_MACHINE_ARN,
        rejectedBy: 'scope',
      }),
  ),
  elsewhere('another account', 4, (rng) => rng.account()),
  elsewhere('another region', 3, (rng) => rng.pick(OTHER_REGIONS)),
  elsewhere('another partition', 1, (rng) => rng.pick(OTHER_PARTITIONS)),
];

const VARIANTS: Record<MalformedFamily, readonly Variant[]> = {
  'missing-field': missingField,
  'mistyped-field': mistypedField,
  'wrong-arn': wrongArn,
  'express-arn': expressArn,
  oversized,
  'wrong-source': wrongSource,
  'wrong-detail-type': wrongDetailType,
  'non-json': nonJson,
  'out-of-scope': outOfScope,
};

/** How many variants each family cycles through (every one is used once `count` ≥ 9 × the largest). */
export const VARIANT_COUNTS: Readonly<Record<MalformedFamily, number>> = Object.fromEntries(
  MALFORMED_FAMILIES.map((family) => [family, VARIANTS[family].length]),
) as Record<MalformedFamily, number>;

const FIXTURE_CACHE = new Map<EventFixture, StatusChangeEvent>();
function fixture(name: EventFixture): StatusChangeEvent {
  let event = FIXTURE_CACHE.get(name);
  if (!event) {
    event = loadEvent(name);
    FIXTURE_CACHE.set(name, event);
  }
  return structuredClone(event);
}

function baseEvent(rng: Random): Base {
  const name = rng.pick(EVENT_FIXTURES);
  // The sweeper re-publishes missed status changes under its own source, same shape.
  const source = rng.chance(0.15) ? 'autoheal.sweeper' : 'aws.states';
  return { fixture: name, event: withEnvelope(fixture(name), { id: rng.uuid(), source }) };
}

/**
 * `count` malformed SQS message bodies, the same for the same `count` and
 * `seed`. Families take turns (event `i` is of family `i mod 9`), and each
 * family takes turns over its variants, so every family is represented about
 * equally at any count, and every variant once count ≥ 9 × its family's size.
 */
export function generateMalformedEvents(count: number, seed = DEFAULT_SEED): MalformedEvent[] {
  const rng = new Random(seed);
  const events: MalformedEvent[] = [];
  for (let i = 0; i < count; i++) {
    const family = MALFORMED_FAMILIES[i % MALFORMED_FAMILIES.length];
    const turn = Math.floor(i / MALFORMED_FAMILIES.length);
    const variants = VARIANTS[family];
    const base = baseEvent(rng);
    const mutation = variants[turn % variants.length](rng, base);
    events.push({
      label: `${family}: ${mutation.label} [${base.fixture}] #${i}`,
      family,
      body: mutation.body,
      expectedField: mutation.expectedField,
      rejectedBy: mutation.rejectedBy ?? 'parser',
    });
  }
  return events;
}
