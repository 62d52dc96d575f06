/**
 * The README's decision table, row by row: what Autoheal does about one
 * Step Functions status-change event, given the state machine's policy and
 * the time. Expected delays are derived from the documented default policy:
 * `min(3600, 60 × 4^redriveCount)` seconds, shortened by up to 20 % jitter.
 */

import { decideRedrive, type RedriveDecision } from '../../lambda/redrive/decide';
import {
  type ExecutionStatusChange,
  parseExecutionStatusChange,
} from '../../lambda/redrive/failure-event';
import {
  parseRedriveConfig,
  policyFor,
  type RedriveConfig,
} from '../../lambda/shared/autoheal-config';
import {
  AFTER_EVERY_FIXTURE,
  type EventFixture,
  type FieldChanges,
  loadEvent,
  onStateMachine,
  type StatusChangeEvent,
  toSqsBody,
  withDetail,
} from '../support/fixtures';
import { LONG_AGO } from '../support/live-since';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Long after any default delay before a 1st, 2nd or 3rd attempt (at most 960 s). */
const DELAY_ELAPSED = HOUR;

function configWith(redrive: Record<string, unknown> = {}): RedriveConfig {
  return parseRedriveConfig({ stateMachineNamePrefixes: ['autoheal-demo-'], ...redrive });
}

/** The effective policy of the demo state machine under a config with these options. */
function policyWith(redrive: Record<string, unknown> = {}) {
  return policyFor(configWith(redrive), 'autoheal-demo-orders');
}

function parse(event: StatusChangeEvent): ExecutionStatusChange {
  return parseExecutionStatusChange(toSqsBody(event), AFTER_EVERY_FIXTURE);
}

function changeOf(name: EventFixture, changes: FieldChanges = {}): ExecutionStatusChange {
  return parse(withDetail(loadEvent(name), changes));
}

function stopDateOf(change: ExecutionStatusChange): number {
  if (change.stopDate === undefined) throw new Error('the fixture has no stopDate');
  return change.stopDate;
}

function deferral(decision: RedriveDecision): { dueAt: number; delaySeconds: number } {
  if (decision.action !== 'defer')
    throw new Error(`expected defer, got ${JSON.stringify(decision)}`);
  return decision;
}

/** The documented default delay before the attempt after `redriveCount` redrives, without jitter. */
function nominalDelaySeconds(redriveCount: number): number {
  return Math.min(3600, 60 * 4 ** redriveCount);
}

const DETERMINISTIC_ERRORS = [
  'States.Runtime',
  'States.DataLimitExceeded',
  'States.ResultPathMatchFailure',
  'States.ParameterPathFailure',
  'States.NoChoiceMatched',
  'States.IntrinsicFailure',
  'States.QueryEvaluationError',
];

describe('decideRedrive', () => {
  describe('redrive: a configured failure, redrivable, under maxRedrives, delay elapsed', () => {
    it.each([
      { fixture: 'failed-redrivable', redriveCount: 0, attempt: 1 },
      { fixture: 'failed-redrivable', redriveCount: 1, attempt: 2 },
      { fixture: 'failed-redrivable', redriveCount: 2, attempt: 3 },
      { fixture: 'timed-out', redriveCount: 0, attempt: 1 },
    ] as const)(
      'redrives $fixture after $redriveCount redrive(s) as attempt $attempt',
      ({ fixture, redriveCount, attempt }) => {
        // Prepare
        const change = changeOf(fixture, { redriveCount });
        const now = stopDateOf(change) + DELAY_ELAPSED;

        // Act
        const decision = decideRedrive(change, policyWith(), now, LONG_AGO);

        // Assess
        expect(decision).toEqual({ action: 'redrive', attempt });
      },
    );

    it('redrives once the due time of its deferral has come', () => {
      // Prepare
      const change = changeOf('failed-redrivable');
      const policy = policyWith();
      const { dueAt } = deferral(decideRedrive(change, policy, stopDateOf(change), LONG_AGO));

      // Act
      const decision = decideRedrive(change, policy, dueAt, LONG_AGO);

      // Assess
      expect(decision).toEqual({ action: 'redrive', attempt: 1 });
    });

    it('does not defer again for a second or less (SQS delays are whole seconds)', () => {
      // Prepare
      const change = changeOf('failed-redrivable');
      const policy = policyWith();
      const { dueAt } = deferral(decideRedrive(change, policy, stopDateOf(change), LONG_AGO));

      // Act
      const decision = decideRedrive(change, policy, dueAt - SECOND, LONG_AGO);

      // Assess
      expect(decision).toEqual({ action: 'redrive', attempt: 1 });
    });
  });

  describe('defer: the delay has not elapsed yet', () => {
    // maxRedrives is raised so that the 4th and 5th attempts are still allowed.
    const policy = policyWith({ maxRedrives: 10 });

    it.each([
      { redriveCount: 0, nominal: 60 },
      { redriveCount: 1, nominal: 240 },
      { redriveCount: 2, nominal: 960 },
      { redriveCount: 3, nominal: 3600 }, // 60 × 4³ = 3840, capped at 3600
      { redriveCount: 4, nominal: 3600 },
    ])(
      'after $redriveCount redrive(s) waits 80-100 % of $nominal s from stopDate',
      ({ redriveCount, nominal }) => {
        // Prepare
        const change = changeOf('failed-redrivable', { redriveCount });
        const stopDate = stopDateOf(change);

        // Act
        const { dueAt, delaySeconds } = deferral(decideRedrive(change, policy, stopDate, LONG_AGO));

        // Assess
        const delay = (dueAt - stopDate) / SECOND;
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0.8 * nominal);
        expect(delay).toBeLessThanOrEqual(nominal);
        expect(delaySeconds).toBe(delay);
        expect(delaySeconds).toBeGreaterThan(0);
      },
    );

    it('grows the delay with every redrive until it reaches the cap', () => {
      // Prepare
      const changes = [0, 1, 2, 3].map((redriveCount) =>
        changeOf('failed-redrivable', { redriveCount }),
      );

      // Act
      const delays = changes.map(
        (change) =>
          (deferral(decideRedrive(change, policy, stopDateOf(change), LONG_AGO)).dueAt -
            stopDateOf(change)) /
          SECOND,
      );

      // Assess
      for (let i = 1; i < delays.length; i++) {
        expect(delays[i]).toBeGreaterThan(delays[i - 1]);
      }
      expect(Math.max(...delays)).toBeLessThanOrEqual(3600);
    });

    it.each([0, 1, 2, 3, 4])(
      'without jitter waits exactly min(3600, 60 × 4^%d) s',
      (redriveCount) => {
        // Prepare
        const change = changeOf('failed-redrivable', { redriveCount });
        const stopDate = stopDateOf(change);
        const noJitter = policyWith({ maxRedrives: 10, delay: { jitterRatio: 0 } });

        // Act
        const decision = decideRedrive(change, noJitter, stopDate, LONG_AGO);

        // Assess
        const delaySeconds = nominalDelaySeconds(redriveCount);
        expect(decision).toEqual({
          action: 'defer',
          dueAt: stopDate + delaySeconds * SECOND,
          delaySeconds,
        });
      },
    );

    it('counts the delay from stopDate, not from when the event is processed', () => {
      // Prepare
      const change = changeOf('failed-redrivable');
      const stopDate = stopDateOf(change);
      const noJitter = policyWith({ delay: { jitterRatio: 0 } });

      // Act
      const decision = decideRedrive(change, noJitter, stopDate + 20 * SECOND, LONG_AGO);

      // Assess
      expect(decision).toEqual({
        action: 'defer',
        dueAt: stopDate + 60 * SECOND,
        delaySeconds: 40,
      });
    });

    it('gives the same failure the same due time on every delivery and hop', () => {
      // Prepare
      const first = changeOf('failed-redrivable', { redriveCount: 1 });
      const redelivered = changeOf('failed-redrivable', { redriveCount: 1 });
      const stopDate = stopDateOf(first);

      // Act
      const onArrival = deferral(decideRedrive(first, policy, stopDate, LONG_AGO));
      const onRedelivery = deferral(
        decideRedrive(redelivered, policy, stopDate + 7 * SECOND, LONG_AGO),
      );
      const onHop = deferral(decideRedrive(first, policy, stopDate + 100 * SECOND, LONG_AGO));

      // Assess
      expect(onRedelivery.dueAt).toBe(onArrival.dueAt);
      expect(onHop.dueAt).toBe(onArrival.dueAt);
    });

    it('spreads the due times of many executions that failed at the same moment', () => {
      // Prepare
      const base = loadEvent('failed-redrivable');
      const storm = Array.from({ length: 20 }, (_, i) =>
        parse(
          withDetail(base, {
            name: `order-storm-${i}`,
            executionArn: base.detail.executionArn.replace(/:[^:]+$/, `:order-storm-${i}`),
          }),
        ),
      );
      const stopDate = stopDateOf(storm[0]);

      // Act
      const dueTimes = storm.map(
        (change) => deferral(decideRedrive(change, policy, stopDate, LONG_AGO)).dueAt,
      );

      // Assess
      expect(new Set(dueTimes).size).toBeGreaterThan(1);
      for (const dueAt of dueTimes) {
        expect(dueAt).toBeGreaterThanOrEqual(stopDate + 48 * SECOND);
        expect(dueAt).toBeLessThanOrEqual(stopDate + 60 * SECOND);
      }
    });
  });

  describe('give-up: redriveCount has reached maxRedrives', () => {
    it.each([
      { redriveCount: 3, maxRedrives: 3, options: {} }, // the default maxRedrives
      { redriveCount: 4, maxRedrives: 3, options: {} },
      { redriveCount: 7, maxRedrives: 7, options: { maxRedrives: 7 } },
      { redriveCount: 0, maxRedrives: 0, options: { maxRedrives: 0 } },
    ])(
      'gives up after $redriveCount redrive(s) when maxRedrives is $maxRedrives',
      ({ redriveCount, maxRedrives, options }) => {
        // Prepare
        const change = changeOf('failed-max-redrives', { redriveCount });
        const now = stopDateOf(change) + DELAY_ELAPSED;

        // Act
        const decision = decideRedrive(change, policyWith(options), now, LONG_AGO);

        // Assess
        expect(decision).toEqual({
          action: 'give-up',
          reason: 'max-redrives',
          detail: expect.stringContaining(`maxRedrives is ${maxRedrives}`),
        });
        expect(decision).toMatchObject({
          detail: expect.stringContaining(`redriven ${redriveCount}`),
        });
      },
    );

    it('gives up on the failed-max-redrives fixture (3 redrives) under the default policy', () => {
      // Prepare
      const change = changeOf('failed-max-redrives');
      const now = stopDateOf(change) + DELAY_ELAPSED;

      // Act
      const decision = decideRedrive(change, policyWith(), now, LONG_AGO);

      // Assess
      expect(decision).toMatchObject({ action: 'give-up', reason: 'max-redrives' });
    });
  });

  describe('skip: the error is denied or not allowed', () => {
    it.each(DETERMINISTIC_ERRORS)('skips %s, a deterministic error denied by default', (error) => {
      // Prepare
      const change = changeOf('failed-deterministic-error', { error });
      const now = stopDateOf(change) + DELAY_ELAPSED;

      // Act
      const decision = decideRedrive(change, policyWith(), now, LONG_AGO);

      // Assess
      expect(decision).toEqual({
        action: 'skip',
        reason: 'error-denied',
        detail: expect.stringContaining(`deny entry ${error}`),
      });
    });

    it.each([
      'States.TaskFailed',
      'States.Timeout',
      'States.HeartbeatTimeout',
      'Lambda.ServiceException',
      'Lambda.TooManyRequestsException',
    ])('redrives %s, a usually transient error, by default', (error) => {
      // Prepare
      const change = changeOf('failed-redrivable', { error });
      const now = stopDateOf(change) + DELAY_ELAPSED;

      // Act
      const decision = decideRedrive(change, policyWith(), now, LONG_AGO);

      // Assess
      expect(decision).toEqual({ action: 'redrive', attempt: 1 });
    });

    it.each([
      { deny: ['Custom.*'], error: 'Custom.PaymentDeclined', entry: 'Custom.*' },
      { deny: ['Custom.*'], error: 'Custom.', entry: 'Custom.*' },
      { deny: ['*.Permanent', 'Billing.*'], error: 'Billing.Permanent', entry: '*.Permanent' },
      { deny: ['Http.5??'], error: 'Http.503', entry: 'Http.5??' },
    ])('skips $error as denied by the glob $entry', ({ deny, error, entry }) => {
      // Prepare
      const change = changeOf('failed-redrivable', { error });
      const now = stopDateOf(change) + DELAY_ELAPSED;

      // Act
      const decision = decideRedrive(change, policyWith({ errors: { deny } }), now, LONG_AGO);

      // Assess
      expect(decision).toEqual({
        action: 'skip',
        reason: 'error-denied',
        detail: `error ${error} matches deny entry ${entry}`,
      });
    });

    it.each([
      { deny: ['Custom.*'], error: 'CustomError', why: 'the dot is literal' },
      { deny: ['Custom.*'], error: 'custom.PaymentDeclined', why: 'matching is case-sensitive' },
      { deny: ['Http.5??'], error: 'Http.5031', why: '? is exactly one character' },
      { deny: ['Custom.*'], error: 'Ops.Custom.Failure', why: 'globs match the whole name' },
    ])('redrives $error under deny $deny: $why', ({ deny, error }) => {
      // Prepare
      const change = changeOf('failed-redrivable', { error });
      const now = stopDateOf(change) + DELAY_ELAPSED;

      // Act
      const decision = decideRedrive(change, policyWith({ errors: { deny } }), now, LONG_AGO);

      // Assess
      expect(decision).toEqual({ action: 'redrive', attempt: 1 });
    });

    it.each([
      { error: 'Lambda.ServiceException', expected: { action: 'redrive', attempt: 1 } },
      { error: 'States.Timeout', expected: { action: 'redrive', attempt: 1 } },
      {
        error: 'States.TaskFailed',
        expected: {
          action: 'skip',
          reason: 'error-not-allowed',
          detail: 'error States.TaskFailed matches no allow entry',
        },
      },
    ])(
      'with allow [Lambda.*, States.Timeout] decides $expected.action for $error',
      ({ error, expected }) => {
        // Prepare
        const change = changeOf('failed-redrivable', { error });
        const now = stopDateOf(change) + DELAY_ELAPSED;
        const policy = policyWith({ errors: { allow: ['Lambda.*', 'States.Timeout'] } });

        // Act
        const decision = decideRedrive(change, policy, now, LONG_AGO);

        // Assess
        expect(decision).toEqual(expected);
      },
    );

    it('checks the deny list before the allow list', () => {
      // Prepare
      const change = changeOf('failed-deterministic-error');
      const now = stopDateOf(change) + DELAY_ELAPSED;
      const policy = policyWith({ errors: { allow: ['States.*'] } });

      // Act
      const decision = decideRedrive(change, policy, now, LONG_AGO);

      // Assess
      expect(decision).toMatchObject({ action: 'skip', reason: 'error-denied' });
    });

    it('skips a failure without an error name when an allow list is configured', () => {
      // Prepare
      const change = changeOf('aborted');
      const now = stopDateOf(change) + DELAY_ELAPSED;
      const policy = policyWith({
        statuses: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        errors: { allow: ['Lambda.*'] },
      });

      // Act
      const decision = decideRedrive(change, policy, now, LONG_AGO);

      // Assess
      expect(decision).toEqual({
        action: 'skip',
        reason: 'error-not-allowed',
        detail: 'error (none) matches no allow entry',
      });
    });
  });

  describe('ignore: a Distributed Map child run (redriven through its parent; no notice flood)', () => {
    it.each([
      { label: 'a FAILED child', changes: {} },
      { label: 'a TIMED_OUT child', changes: { status: 'TIMED_OUT' } },
      {
        label: 'a child of the older format (no redrive fields): no DescribeExecution either',
        changes: { redriveCount: undefined, redriveStatus: undefined },
      },
      { label: 'a child past its maxRedrives', changes: { redriveCount: 99 } },
    ] as const)('ignores $label with reason map-run-child', ({ changes }) => {
      // Prepare
      const change = parse(withDetail(loadEvent('map-run-child'), changes));
      const now = stopDateOf(change) + HOUR;

      // Act
      const decision = decideRedrive(
        change,
        policyWith({ statuses: ['FAILED', 'TIMED_OUT'] }),
        now,
        LONG_AGO,
      );

      // Assess
      expect(decision).toEqual({
        action: 'ignore',
        reason: 'map-run-child',
        detail: expect.stringContaining('parent'),
      });
    });
  });

  describe('skip: Step Functions cannot redrive the execution', () => {
    it.each([
      { fixture: 'failed-not-redrivable', reason: 'not-redrivable', stoppedAgo: HOUR },
      { fixture: 'stopped-15-days-ago', reason: 'redrive-window-expired', stoppedAgo: 15 * DAY },
    ] as const)('skips $fixture with reason $reason', ({ fixture, reason, stoppedAgo }) => {
      // Prepare
      const change = changeOf(fixture);
      const now = stopDateOf(change) + stoppedAgo;

      // Act
      const decision = decideRedrive(change, policyWith(), now, LONG_AGO);

      // Assess
      expect(decision).toEqual({ action: 'skip', reason, detail: expect.any(String) });
    });

    it('passes on the reason Step Functions gives for NOT_REDRIVABLE', () => {
      // Prepare
      const event = loadEvent('failed-not-redrivable');
      const change = parse(event);
      const now = stopDateOf(change) + HOUR;

      // Act
      const decision = decideRedrive(change, policyWith(), now, LONG_AGO);

      // Assess
      expect(decision).toMatchObject({ detail: event.detail.redriveStatusReason });
    });

    it.each([
      {
        age: '1 ms under 14 days',
        stoppedAgo: 14 * DAY - 1,
        expected: { action: 'redrive', attempt: 1 },
      },
      {
        age: 'exactly 14 days',
        stoppedAgo: 14 * DAY,
        expected: { action: 'skip', reason: 'redrive-window-expired', detail: expect.any(String) },
      },
    ])('decides $expected.action for an execution stopped $age ago', ({ stoppedAgo, expected }) => {
      // Prepare
      const change = changeOf('stopped-15-days-ago');
      const now = stopDateOf(change) + stoppedAgo;

      // Act
      const decision = decideRedrive(change, policyWith(), now, LONG_AGO);

      // Assess
      expect(decision).toEqual(expected);
    });
  });

  describe('ignore: not a failure Autoheal redrives', () => {
    it.each([
      { fixture: 'running-redrive-in-progress', changes: {}, reason: 'not-a-failure' },
      { fixture: 'succeeded', changes: {}, reason: 'not-a-failure' },
      { fixture: 'pending-redrive', changes: {}, reason: 'not-a-failure' },
      {
        fixture: 'failed-redrivable',
        changes: { redriveStatus: 'REDRIVE_IN_PROGRESS' },
        reason: 'redrive-in-progress',
      },
      { fixture: 'aborted', changes: {}, reason: 'status-not-configured' },
    ] as const)('ignores $fixture $changes with reason $reason', ({ fixture, changes, reason }) => {
      // Prepare
      const change = changeOf(fixture, changes);
      const now = Date.parse(loadEvent(fixture).time) + DELAY_ELAPSED;

      // Act
      const decision = decideRedrive(change, policyWith(), now, LONG_AGO);

      // Assess
      expect(decision).toEqual({ action: 'ignore', reason, detail: expect.any(String) });
    });

    it('redrives ABORTED executions when the configured statuses include ABORTED', () => {
      // Prepare
      const change = changeOf('aborted');
      const now = stopDateOf(change) + DELAY_ELAPSED;
      const policy = policyWith({ statuses: ['FAILED', 'TIMED_OUT', 'ABORTED'] });

      // Act
      const decision = decideRedrive(change, policy, now, LONG_AGO);

      // Assess
      expect(decision).toEqual({ action: 'redrive', attempt: 1 });
    });

    it('ignores TIMED_OUT executions when the configured statuses are only FAILED', () => {
      // Prepare
      const change = changeOf('timed-out');
      const now = stopDateOf(change) + DELAY_ELAPSED;

      // Act
      const decision = decideRedrive(change, policyWith({ statuses: ['FAILED'] }), now, LONG_AGO);

      // Assess
      expect(decision).toEqual({
        action: 'ignore',
        reason: 'status-not-configured',
        detail: expect.stringContaining('TIMED_OUT'),
      });
    });
  });

  describe('describe: the event lacks what the decision needs', () => {
    it.each([
      { fixture: 'older-format-no-redrive-fields', changes: {} },
      { fixture: 'failed-redrivable', changes: { redriveCount: undefined } },
      { fixture: 'failed-redrivable', changes: { redriveStatus: undefined } },
      { fixture: 'failed-redrivable', changes: { stopDate: undefined } },
      { fixture: 'failed-redrivable', changes: { stopDate: null } },
    ] as const)('asks to describe the execution for $fixture $changes', ({ fixture, changes }) => {
      // Prepare
      const change = changeOf(fixture, changes);
      const now = Date.parse(loadEvent(fixture).time) + DELAY_ELAPSED;

      // Act
      const decision = decideRedrive(change, policyWith(), now, LONG_AGO);

      // Assess
      expect(decision).toEqual({ action: 'describe' });
    });
  });

  describe('policyFor: a per-state-machine override changes only that machine', () => {
    const config = configWith({
      overrides: {
        'autoheal-demo-payments': {
          statuses: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          maxRedrives: 5,
          delay: { baseSeconds: 300, jitterRatio: 0 },
          errors: { deny: ['Custom.*'] },
        },
      },
    });

    it.each([
      {
        option: 'maxRedrives',
        fixture: 'failed-max-redrives', // 3 redrives: the default maxRedrives
        changes: {},
        stoppedAgo: 2 * HOUR,
        orders: { action: 'give-up', reason: 'max-redrives' },
        payments: { action: 'redrive', attempt: 4 },
      },
      {
        option: 'delay',
        fixture: 'failed-redrivable',
        changes: {},
        stoppedAgo: 2 * MINUTE,
        orders: { action: 'redrive', attempt: 1 },
        payments: { action: 'defer', delaySeconds: 180 }, // 300 s from stopDate
      },
      {
        option: 'errors.deny',
        fixture: 'failed-redrivable',
        changes: { error: 'Custom.PaymentDeclined' },
        stoppedAgo: 2 * HOUR,
        orders: { action: 'redrive', attempt: 1 },
        payments: { action: 'skip', reason: 'error-denied' },
      },
      {
        option: 'statuses',
        fixture: 'aborted',
        changes: {},
        stoppedAgo: 2 * HOUR,
        orders: { action: 'ignore', reason: 'status-not-configured' },
        payments: { action: 'redrive', attempt: 1 },
      },
    ] as const)(
      '$option: $orders.action for orders, $payments.action for payments',
      ({ fixture, changes, stoppedAgo, orders, payments }) => {
        // Prepare
        const ordersEvent = withDetail(loadEvent(fixture), changes);
        const ordersChange = parse(ordersEvent);
        const paymentsChange = parse(onStateMachine(ordersEvent, 'autoheal-demo-payments'));
        const now = stopDateOf(ordersChange) + stoppedAgo;

        // Act
        const forOrders = decideRedrive(
          ordersChange,
          policyFor(config, ordersChange.stateMachineName),
          now,
          LONG_AGO,
        );
        const forPayments = decideRedrive(
          paymentsChange,
          policyFor(config, paymentsChange.stateMachineName),
          now,
          LONG_AGO,
        );

        // Assess
        expect(paymentsChange.stateMachineName).toBe('autoheal-demo-payments');
        expect(forOrders).toMatchObject(orders);
        expect(forPayments).toMatchObject(payments);
      },
    );
  });

  describe('skip: before-live-healing (the failure stopped before its state machine came under live healing)', () => {
    it.each([
      {
        label: 'live healing began a minute after it stopped',
        liveSinceAfterStop: MINUTE,
        fixture: 'failed-redrivable',
      },
      {
        label: 'live healing began a day after it stopped (a dead-letter replay)',
        liveSinceAfterStop: DAY,
        fixture: 'failed-redrivable',
      },
      {
        label: 'the state machine is not live in this deployment at all',
        liveSinceAfterStop: undefined,
        fixture: 'failed-redrivable',
      },
      {
        label: 'its error is denied as well (the earlier check wins)',
        liveSinceAfterStop: HOUR,
        fixture: 'failed-deterministic-error',
      },
      {
        label: 'it is not redrivable as well (the earlier check wins)',
        liveSinceAfterStop: HOUR,
        fixture: 'failed-not-redrivable',
      },
    ] as const)('skips it when $label', ({ liveSinceAfterStop, fixture }) => {
      // Prepare
      const change = changeOf(fixture);
      const stopDate = stopDateOf(change);
      const liveSince =
        liveSinceAfterStop === undefined ? undefined : stopDate + liveSinceAfterStop;

      // Act
      const decision = decideRedrive(change, policyWith(), stopDate + 2 * DAY, liveSince);

      // Assess
      expect(decision).toEqual({
        action: 'skip',
        reason: 'before-live-healing',
        detail: expect.stringMatching(/live healing .*redrive it by hand/),
      });
    });

    it('skips a swept failure (no redrive fields) without describing it first', () => {
      // Prepare
      const change = changeOf('failed-redrivable', {
        redriveStatus: undefined,
        redriveCount: undefined,
      });
      const stopDate = stopDateOf(change);

      // Act
      const decision = decideRedrive(change, policyWith(), stopDate + DAY, stopDate + HOUR);

      // Assess
      expect(decision).toMatchObject({ action: 'skip', reason: 'before-live-healing' });
    });

    it.each([
      { label: 'the moment live healing began', liveSinceBeforeStop: 0 },
      { label: 'a second after live healing began', liveSinceBeforeStop: SECOND },
    ])('redrives a failure that stopped $label', ({ liveSinceBeforeStop }) => {
      // Prepare
      const change = changeOf('failed-redrivable');
      const stopDate = stopDateOf(change);

      // Act
      const decision = decideRedrive(
        change,
        policyWith(),
        stopDate + DELAY_ELAPSED,
        stopDate - liveSinceBeforeStop,
      );

      // Assess
      expect(decision).toEqual({ action: 'redrive', attempt: 1 });
    });

    it('leaves an observe-only state machine to observe, as before', () => {
      // Prepare
      const change = changeOf('failed-redrivable');

      // Act
      const decision = decideRedrive(
        change,
        policyWith({ observeOnly: true }),
        stopDateOf(change) + DELAY_ELAPSED,
        undefined,
      );

      // Assess
      expect(decision).toEqual({ action: 'redrive', attempt: 1 });
    });

    it('describes an event without a stopDate before it decides', () => {
      // Prepare
      const change = changeOf('older-format-no-redrive-fields', { stopDate: undefined });

      // Act
      const decision = decideRedrive(change, policyWith(), Date.now(), undefined);

      // Assess
      expect(decision).toEqual({ action: 'describe' });
    });
  });
});
