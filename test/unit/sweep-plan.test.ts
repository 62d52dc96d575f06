/**
 * The sweeper's pure parts: which listed executions it enqueues, the event it
 * sends for each (accepted by the redrive path, which then describes the
 * execution), where listing stops, and the pacer that keeps list calls inside
 * their quota.
 */
import { decideRedrive } from '../../lambda/redrive/decide';
import { parseExecutionStatusChange } from '../../lambda/redrive/failure-event';
import {
  createPacer,
  DEFAULT_DUE_GRACE_MS,
  type ListedExecution,
  lookbackStartOf,
  planSweep,
  reachedLookbackStart,
  redriveIdempotencyKey,
  rotate,
  sweptEventId,
  sweptStatusChange,
} from '../../lambda/redrive/sweep-plan';
import { parseRedriveConfig, policyFor } from '../../lambda/shared/autoheal-config';
import { SFN_EVENT } from '../../lambda/shared/contract';
import { expectedToken } from '../support/client-token';
import { LONG_AGO } from '../support/live-since';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = Date.parse('2026-03-02T10:00:00.000Z');
const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:autoheal-demo-orders`;
const EXECUTION_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:execution:autoheal-demo-orders:order-1042`;
const LOOKBACK_START = lookbackStartOf(NOW, 24);

// No jitter: the delay before attempt n is exactly 60 s × 4^n.
const config = parseRedriveConfig({
  stateMachineNamePrefixes: ['autoheal-demo-'],
  delay: { jitterRatio: 0 },
  overrides: { 'autoheal-demo-observed': { observeOnly: true } },
});
const policy = policyFor(config, 'autoheal-demo-orders');

/** A FAILED execution as ListExecutions returns it, stopped `stoppedAgo` ms before NOW. */
function listed(stoppedAgo: number, changes: Partial<ListedExecution> = {}): ListedExecution {
  return {
    executionArn: EXECUTION_ARN,
    stateMachineArn: MACHINE_ARN,
    name: 'order-1042',
    status: 'FAILED',
    startDate: NOW - stoppedAgo - 2 * MINUTE,
    stopDate: NOW - stoppedAgo,
    redriveCount: 0,
    redriveDate: undefined,
    ...changes,
  };
}

describe('planSweep', () => {
  const window = { now: NOW, lookbackStart: LOOKBACK_START };

  it.each([
    {
      label: 'a failure due for longer than the grace',
      execution: listed(16 * MINUTE + 1),
      verdict: 'candidate',
    },
    {
      label: 'a timed-out execution due for longer than the grace',
      execution: listed(HOUR, { status: 'TIMED_OUT' }),
      verdict: 'candidate',
    },
    {
      label: 'a failure due, but for less than the grace (its event may be in flight)',
      execution: listed(10 * MINUTE),
      verdict: 'not-due',
    },
    {
      label: 'a third failure within its 960 s delay plus the grace',
      execution: listed(30 * MINUTE, { redriveCount: 2 }),
      verdict: 'not-due',
    },
    {
      label: 'a third failure past its 960 s delay plus the grace',
      execution: listed(32 * MINUTE, { redriveCount: 2 }),
      verdict: 'candidate',
    },
    {
      label: 'an ABORTED execution when the policy does not redrive ABORTED',
      execution: listed(HOUR, { status: 'ABORTED' }),
      verdict: 'out-of-scope',
    },
    {
      label: 'an execution that started before the lookback',
      execution: listed(23 * HOUR, { startDate: LOOKBACK_START - 1 }),
      verdict: 'out-of-scope',
    },
    {
      label: 'an execution with no stopDate',
      execution: listed(HOUR, { stopDate: undefined }),
      verdict: 'out-of-scope',
    },
  ])('makes $label $verdict', ({ execution, verdict }) => {
    // Prepare
    const swept = execution;

    // Act
    const plan = planSweep(swept, policy, window, LONG_AGO);

    // Assess
    expect(plan.verdict).toBe(verdict);
  });

  it.each([
    {
      label: 'a failure that stopped a second before live healing began',
      execution: listed(HOUR),
      liveSince: NOW - HOUR + SECOND,
      expected: {
        verdict: 'out-of-scope',
        beforeLiveHealing: true,
        detail: `stopped before live healing of its state machine began (${new Date(NOW - HOUR + SECOND).toISOString()})`,
      },
    },
    {
      label: 'a day-old failure on a first deploy an hour ago',
      execution: listed(DAY - 3 * MINUTE),
      liveSince: NOW - HOUR,
      expected: { verdict: 'out-of-scope', beforeLiveHealing: true },
    },
    {
      label: 'a failure of a state machine not live in this deployment',
      execution: listed(HOUR),
      liveSince: undefined,
      expected: {
        verdict: 'out-of-scope',
        beforeLiveHealing: true,
        detail: 'its state machine is not under live healing in this deployment',
      },
    },
    {
      label: 'a failure that stopped when live healing began',
      execution: listed(HOUR),
      liveSince: NOW - HOUR,
      expected: { verdict: 'candidate' },
    },
    {
      label: 'a failure not due yet, before live healing',
      execution: listed(10 * MINUTE),
      liveSince: NOW,
      expected: { verdict: 'out-of-scope', beforeLiveHealing: true },
    },
  ])('makes $label $expected.verdict', ({ execution, liveSince, expected }) => {
    // Act
    const plan = planSweep(execution, policy, window, liveSince);

    // Assess
    expect(plan).toMatchObject(expected);
  });

  it('leaves the failures of an observe-only state machine to be observed, as before', () => {
    // Prepare
    const observed = policyFor(config, 'autoheal-demo-observed');

    // Act
    const plan = planSweep(listed(HOUR), observed, window, undefined);

    // Assess
    expect(plan).toMatchObject({ verdict: 'candidate' });
  });

  it('keys a candidate like the redrive handler: executionArn#redriveCount', () => {
    // Prepare
    const execution = listed(HOUR, { redriveCount: 1 });

    // Act
    const plan = planSweep(execution, policy, window, LONG_AGO);

    // Assess
    expect(plan).toEqual({
      verdict: 'candidate',
      failureKey: `${EXECUTION_ARN}#1`,
      idempotencyKey: `${EXECUTION_ARN}#1`,
    });
  });

  it('marks the key of an observed state machine, as the redrive handler does', () => {
    // Prepare
    const observed = policyFor(config, 'autoheal-demo-observed');

    // Act
    const plan = planSweep(listed(HOUR), observed, window, LONG_AGO);

    // Assess
    expect(plan).toMatchObject({ idempotencyKey: `${EXECUTION_ARN}#0#observe-only` });
    expect(redriveIdempotencyKey('k', true)).toBe('k#observe-only');
    expect(redriveIdempotencyKey('k', false)).toBe('k');
  });

  it('refuses an execution that stopped 14 days ago, even inside a 14-day lookback', () => {
    // Prepare
    const wide = { now: NOW, lookbackStart: lookbackStartOf(NOW, 14 * 24) };
    const execution = listed(14 * DAY, { startDate: NOW - 14 * DAY });

    // Act
    const plan = planSweep(execution, policy, wide, LONG_AGO);

    // Assess
    expect(plan).toEqual({ verdict: 'out-of-scope', detail: 'stopped more than 14 days ago' });
  });

  it('reports when a failure not due yet will be due', () => {
    // Prepare
    const execution = listed(MINUTE, { redriveCount: 1 });

    // Act
    const plan = planSweep(execution, policy, window, LONG_AGO);

    // Assess: 240 s after the stop
    expect(plan).toEqual({ verdict: 'not-due', dueAt: NOW - MINUTE + 240 * SECOND });
    expect(DEFAULT_DUE_GRACE_MS).toBe(15 * MINUTE);
  });

  it('never calls a failure due that the redrive decision would defer (jitter on, no grace)', () => {
    // Prepare
    const jittered = policyFor(
      parseRedriveConfig({ stateMachineNamePrefixes: ['autoheal-demo-'] }),
      'autoheal-demo-orders',
    );
    const noGrace = { ...window, dueGraceMs: 0 };
    const offsets = Array.from({ length: 200 }, (_, i) => i * 7 * SECOND);

    // Act
    const disagreements = offsets.flatMap((offset) =>
      [0, 1, 2].flatMap((redriveCount) => {
        const execution = listed(offset, {
          redriveCount,
          executionArn: `${EXECUTION_ARN}-${offset}`,
        });
        const plan = planSweep(execution, jittered, noGrace, LONG_AGO);
        const change = parseExecutionStatusChange(
          JSON.stringify(sweptStatusChange(execution, NOW)),
          NOW,
        );
        const decision = decideRedrive(
          { ...change, redriveStatus: 'REDRIVABLE', errorName: 'States.TaskFailed' },
          jittered,
          NOW,
          LONG_AGO,
        );
        return plan.verdict === 'candidate' && decision.action !== 'redrive'
          ? [{ offset, redriveCount, decision }]
          : [];
      }),
    );

    // Assess
    expect(disagreements).toEqual([]);
  });
});

describe('sweptStatusChange', () => {
  it('builds a status-change event the redrive path accepts, from the sweeper', () => {
    // Prepare
    const execution = listed(HOUR, { redriveCount: 2, redriveDate: NOW - 2 * HOUR });

    // Act
    const event = sweptStatusChange(execution, NOW);

    // Assess
    expect(event).toEqual({
      version: '0',
      id: `sweep-${expectedToken(EXECUTION_ARN, 2)}`,
      'detail-type': 'Step Functions Execution Status Change',
      source: 'autoheal.sweeper',
      account: ACCOUNT,
      time: '2026-03-02T10:00:00.000Z',
      region: REGION,
      resources: [EXECUTION_ARN],
      detail: {
        executionArn: EXECUTION_ARN,
        stateMachineArn: MACHINE_ARN,
        name: 'order-1042',
        status: 'FAILED',
        startDate: NOW - HOUR - 2 * MINUTE,
        stopDate: NOW - HOUR,
        redriveCount: 2,
        redriveDate: NOW - 2 * HOUR,
      },
    });
    expect(event.source).toBe(SFN_EVENT.sweeperSource);
  });

  it('leaves the redrive decision to DescribeExecution: no redriveStatus, no error', () => {
    // Prepare
    const body = JSON.stringify(sweptStatusChange(listed(HOUR), NOW));

    // Act
    const change = parseExecutionStatusChange(body, NOW);
    const decision = decideRedrive(change, policy, NOW, LONG_AGO);

    // Assess
    expect(change).toMatchObject({
      eventId: sweptEventId(`${EXECUTION_ARN}#0`),
      executionArn: EXECUTION_ARN,
      stateMachineName: 'autoheal-demo-orders',
      status: 'FAILED',
      redriveCount: 0,
      redriveStatus: undefined,
      errorName: undefined,
      stopDate: NOW - HOUR,
    });
    expect(decision).toEqual({ action: 'describe' });
    for (const key of ['input', 'output', 'error', 'cause', 'redriveStatus']) {
      expect(JSON.parse(body).detail).not.toHaveProperty(key);
    }
  });

  it.each([
    { label: 'the same failure found by a later sweep', redriveCount: 0, same: true },
    { label: 'the next failure of the same execution', redriveCount: 1, same: false },
  ])('gives $label the same id: $same', ({ redriveCount, same }) => {
    // Prepare
    const first = sweptStatusChange(listed(HOUR), NOW);

    // Act
    const later = sweptStatusChange(listed(HOUR, { redriveCount }), NOW + HOUR);

    // Assess
    expect(later.id === first.id).toBe(same);
    expect(later.id).toMatch(/^sweep-[0-9a-f]{64}$/);
  });
});

describe('reachedLookbackStart', () => {
  it.each([
    { label: 'an empty page', starts: [], reached: false },
    { label: 'a page inside the lookback', starts: [NOW - HOUR, LOOKBACK_START], reached: false },
    { label: 'a page that crosses it', starts: [NOW - HOUR, LOOKBACK_START - 1], reached: true },
  ])('says $reached for $label', ({ starts, reached }) => {
    // Prepare
    const page = starts.map((startDate) => ({ startDate }));

    // Act
    const result = reachedLookbackStart(page, LOOKBACK_START);

    // Assess
    expect(result).toBe(reached);
    expect(LOOKBACK_START).toBe(NOW - DAY);
  });
});

describe('rotate', () => {
  it.each([
    { sweepNumber: 0, order: ['a', 'b', 'c'] },
    { sweepNumber: 1, order: ['b', 'c', 'a'] },
    { sweepNumber: 5, order: ['c', 'a', 'b'] },
  ])('starts sweep $sweepNumber with the next machine', ({ sweepNumber, order }) => {
    // Prepare
    const machines = ['a', 'b', 'c'];

    // Act
    const rotated = rotate(machines, sweepNumber);

    // Assess
    expect(rotated).toEqual(order);
    expect(rotate([], sweepNumber)).toEqual([]);
  });
});

describe('createPacer', () => {
  /** A clock that only moves when the pacer sleeps, or when told to. */
  function fakeClock() {
    let t = NOW;
    const slept: number[] = [];
    return {
      now: () => t,
      sleep: async (ms: number) => {
        slept.push(ms);
        t += ms;
      },
      advance: (ms: number) => {
        t += ms;
      },
      slept,
    };
  }

  it.each([
    { requestsPerSecond: 1, spacing: 1000 },
    { requestsPerSecond: 2, spacing: 500 },
    { requestsPerSecond: 0.5, spacing: 2000 },
  ])(
    'spaces calls $spacing ms apart at $requestsPerSecond per second',
    async ({ requestsPerSecond, spacing }) => {
      // Prepare
      const clock = fakeClock();
      const pacer = createPacer({ requestsPerSecond, now: clock.now, sleep: clock.sleep });
      const callTimes: number[] = [];

      // Act
      for (let i = 0; i < 5; i++) {
        await pacer.take();
        callTimes.push(clock.now() - NOW);
      }

      // Assess
      expect(callTimes).toEqual([0, 1, 2, 3, 4].map((i) => i * spacing));
    },
  );

  it('does not wait when the caller was slower than the rate, and says how long the next wait is', async () => {
    // Prepare
    const clock = fakeClock();
    const pacer = createPacer({ requestsPerSecond: 1, now: clock.now, sleep: clock.sleep });
    await pacer.take();

    // Act
    const justAfter = pacer.msUntilNextSlot();
    clock.advance(1500);
    const later = pacer.msUntilNextSlot();
    await pacer.take();

    // Assess
    expect(justAfter).toBe(1000);
    expect(later).toBe(0);
    expect(clock.slept).toEqual([]);
  });

  it('refuses a rate of 0', () => {
    // Prepare
    const clock = fakeClock();

    // Act & Assess
    expect(() => createPacer({ requestsPerSecond: 0, now: clock.now, sleep: clock.sleep })).toThrow(
      RangeError,
    );
  });
});
