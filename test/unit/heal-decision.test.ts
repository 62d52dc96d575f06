/**
 * The flow healer's decisions, branch by branch: when a failed run is re-run,
 * deferred, given up on or ignored, and when a deactivated flow is re-activated.
 * Expected delays are derived from the documented default policy,
 * `min(3600, 300 × 2^rerunsSoFar)` seconds, with jitter off unless a test says so.
 */
import type { FlowDescription } from '../../lambda/appflow/flow-api';
import type { FlowDeactivated, FlowRunEnded } from '../../lambda/appflow/flow-run-event';
import {
  type Deferral,
  decideReactivation,
  decideReactivationTiming,
  decideRerun,
  isOnDemandTrigger,
  type RerunDecision,
} from '../../lambda/appflow/heal-decision';
import { type FlowHealingPolicy, parseAppflowConfig } from '../../lambda/shared/autoheal-config';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const ENDED_AT = Date.parse('2026-03-02T09:49:24.512Z');
const DEACTIVATED_AT = Date.parse('2026-03-02T09:20:00Z');
const ORIGIN = 'b7e2c1d4-5f6a-4b8c-9d0e-1f2a3b4c5d6e';

/** The validated policy of a config with these healing options. */
function policyWith(healing: Record<string, unknown> = {}): FlowHealingPolicy {
  return parseAppflowConfig({ healedFlows: ['crm-accounts-export'], healing }).healing;
}

/** The default policy without jitter: every delay is exact. */
const exact = policyWith({ delay: { jitterRatio: 0 } });

function failedRun(changes: Partial<FlowRunEnded> = {}): FlowRunEnded {
  return {
    kind: 'run-ended',
    eventId: '0f3c6a7e-1d2b-4e5f-8a9b-3c4d5e6f7a81',
    flowName: 'crm-accounts-export',
    executionId: ORIGIN,
    triggerType: 'ONDEMAND',
    status: 'Execution Failed',
    endedAt: ENDED_AT,
    ...changes,
  };
}

const deactivation: FlowDeactivated = {
  kind: 'deactivated',
  eventId: '6f5e4d3c-2b1a-4f0e-9d8c-7b6a5f4e3d2c',
  flowName: 'erp-orders-sync',
  deactivatedAt: DEACTIVATED_AT,
};

function flow(changes: Partial<FlowDescription> = {}): FlowDescription {
  return {
    flowName: 'erp-orders-sync',
    flowStatus: 'Suspended',
    flowStatusMessage: 'Flow deactivated after repeated failed runs',
    triggerType: 'Scheduled',
    ...changes,
  };
}

function deferral(decision: RerunDecision): Deferral {
  if (decision.action !== 'defer') {
    throw new Error(`expected defer, got ${JSON.stringify(decision)}`);
  }
  return decision;
}

/** Long after any delay of the default policy (at most 3600 s). */
const LATER = ENDED_AT + 2 * HOUR;

describe('decideRerun', () => {
  it.each([0, 1])(
    're-runs a failed OnDemand run whose delay has passed (%i re-runs so far)',
    (rerunsSoFar) => {
      // Prepare
      const run = failedRun();

      // Act
      const decision = decideRerun(run, exact, rerunsSoFar, ORIGIN, LATER);

      // Assess
      expect(decision).toEqual({ action: 'rerun', rerunNumber: rerunsSoFar + 1 });
    },
  );

  it('ignores a successful run, whatever else holds', () => {
    // Prepare
    const run = failedRun({ status: 'Execution Successful', triggerType: 'SCHEDULED' });

    // Act
    const decision = decideRerun(run, policyWith({ rerunFailedRuns: false }), 9, ORIGIN, LATER);

    // Assess
    expect(decision).toMatchObject({ action: 'ignore', reason: 'run-succeeded' });
  });

  it.each(['Execution Canceled', 'Execution Cancelled', 'CancelStarted', 'Canceled'])(
    'ignores a run an operator cancelled (status %s): it is never re-run',
    (status) => {
      // Prepare
      const run = failedRun({ status });

      // Act
      const decision = decideRerun(run, exact, 0, ORIGIN, LATER);

      // Assess
      expect(decision).toMatchObject({ action: 'ignore', reason: 'run-cancelled' });
    },
  );

  it('ignores every failed run when rerunFailedRuns is false', () => {
    // Prepare
    const policy = policyWith({ rerunFailedRuns: false });

    // Act
    const decision = decideRerun(failedRun(), policy, 0, ORIGIN, LATER);

    // Assess
    expect(decision).toMatchObject({ action: 'ignore', reason: 'reruns-disabled' });
  });

  it.each(['SCHEDULED', 'Scheduled', 'EVENT', 'Event', 'unknown'])(
    'ignores a failed run with trigger type %s: AppFlow runs it again itself',
    (triggerType) => {
      // Prepare
      const run = failedRun({ triggerType });

      // Act
      const decision = decideRerun(run, exact, 0, ORIGIN, LATER);

      // Assess
      expect(decision).toMatchObject({ action: 'ignore', reason: 'not-on-demand' });
    },
  );

  it.each(['ONDEMAND', 'OnDemand', 'ON_DEMAND', 'on-demand', 'ondemand'])(
    'treats trigger type %s as OnDemand',
    (triggerType) => {
      // Prepare
      const run = failedRun({ triggerType });

      // Act
      const decision = decideRerun(run, exact, 0, ORIGIN, LATER);

      // Assess
      expect(isOnDemandTrigger(triggerType)).toBe(true);
      expect(decision).toEqual({ action: 'rerun', rerunNumber: 1 });
    },
  );

  it.each([
    { maxReruns: 2, rerunsSoFar: 2 },
    { maxReruns: 2, rerunsSoFar: 3 },
    { maxReruns: 0, rerunsSoFar: 0 },
  ])(
    'gives up after $rerunsSoFar re-runs when maxReruns is $maxReruns, even before the delay',
    ({ maxReruns, rerunsSoFar }) => {
      // Prepare
      const policy = policyWith({ maxReruns });

      // Act
      const decision = decideRerun(failedRun(), policy, rerunsSoFar, ORIGIN, ENDED_AT);

      // Assess
      expect(decision).toEqual({
        action: 'give-up',
        reason: 'max-reruns',
        detail: `re-ran ${rerunsSoFar} time(s); maxReruns is ${maxReruns}`,
      });
    },
  );

  it.each([
    { rerunsSoFar: 0, delaySeconds: 300 },
    { rerunsSoFar: 1, delaySeconds: 600 },
    { rerunsSoFar: 2, delaySeconds: 1200 },
    { rerunsSoFar: 3, delaySeconds: 2400 },
    // capped at capSeconds
    { rerunsSoFar: 4, delaySeconds: 3600 },
  ])(
    'defers a run ended just now by $delaySeconds s after $rerunsSoFar re-runs',
    ({ rerunsSoFar, delaySeconds }) => {
      // Prepare
      const policy = policyWith({ maxReruns: 10, delay: { jitterRatio: 0 } });

      // Act
      const decision = decideRerun(failedRun(), policy, rerunsSoFar, ORIGIN, ENDED_AT);

      // Assess
      expect(decision).toEqual({
        action: 'defer',
        dueAt: ENDED_AT + delaySeconds * SECOND,
        delaySeconds,
      });
    },
  );

  it('counts the delay from the end of the run, not from when the event is handled', () => {
    // Prepare: 240 s of the 300 s delay have passed
    const now = ENDED_AT + 240 * SECOND;

    // Act
    const decision = decideRerun(failedRun(), exact, 0, ORIGIN, now);

    // Assess
    expect(decision).toEqual({ action: 'defer', dueAt: ENDED_AT + 300 * SECOND, delaySeconds: 60 });
  });

  it.each([
    { label: 'more than a second before', offsetMs: -1001, action: 'defer' },
    { label: 'a second before', offsetMs: -1000, action: 'rerun' },
    { label: 'exactly at', offsetMs: 0, action: 'rerun' },
  ])('decides $action $label the due time', ({ offsetMs, action }) => {
    // Prepare
    const now = ENDED_AT + 300 * SECOND + offsetMs;

    // Act
    const decision = decideRerun(failedRun(), exact, 0, ORIGIN, now);

    // Assess
    expect(decision.action).toBe(action);
  });

  describe('with jitter', () => {
    const jittered = policyWith({ maxReruns: 10, delay: { jitterRatio: 0.2 } });
    const dueAt = (decision: RerunDecision) => deferral(decision).dueAt;

    it.each([0, 1, 2])(
      'takes at most 20 %% off the delay after %i re-runs, the same on every delivery',
      (rerunsSoFar) => {
        // Prepare
        const nominal = Math.min(3600, 300 * 2 ** rerunsSoFar) * SECOND;

        // Act
        const first = dueAt(decideRerun(failedRun(), jittered, rerunsSoFar, ORIGIN, ENDED_AT));
        const again = dueAt(decideRerun(failedRun(), jittered, rerunsSoFar, ORIGIN, ENDED_AT));

        // Assess
        expect(again).toBe(first);
        expect(first - ENDED_AT).toBeLessThanOrEqual(nominal);
        expect(first - ENDED_AT).toBeGreaterThanOrEqual(nominal * 0.8);
      },
    );

    it('seeds the jitter with the original run, whichever re-run failed', () => {
      // Prepare: a re-run's failure carries its own execution id
      const rerunFailure = failedRun({ executionId: 'c8f3d2e5-rerun-1' });

      // Act
      const viaRerun = dueAt(decideRerun(rerunFailure, jittered, 1, ORIGIN, ENDED_AT));
      const viaOrigin = dueAt(decideRerun(failedRun(), jittered, 1, ORIGIN, ENDED_AT));

      // Assess
      expect(viaRerun).toBe(viaOrigin);
    });
  });
});

describe('decideReactivationTiming', () => {
  it('ignores deactivations when reactivateDeactivated is false', () => {
    // Prepare
    const policy = policyWith({ reactivateDeactivated: false });

    // Act
    const timing = decideReactivationTiming(deactivation, policy, DEACTIVATED_AT + HOUR);

    // Assess
    expect(timing).toMatchObject({ action: 'ignore', reason: 'reactivation-disabled' });
  });

  it.each([
    { minutesSince: 0, delaySeconds: 1800 },
    { minutesSince: 10, delaySeconds: 1200 },
    { minutesSince: 29, delaySeconds: 60 },
  ])(
    'defers a deactivation $minutesSince min old by $delaySeconds s (30 min cool-down)',
    ({ minutesSince, delaySeconds }) => {
      // Prepare
      const now = DEACTIVATED_AT + minutesSince * MINUTE;

      // Act
      const timing = decideReactivationTiming(deactivation, exact, now);

      // Assess
      expect(timing).toEqual({
        action: 'defer',
        dueAt: DEACTIVATED_AT + 30 * MINUTE,
        delaySeconds,
      });
    },
  );

  it.each([30, 31, 24 * 60])('is due %i min after the deactivation', (minutesSince) => {
    // Prepare
    const now = DEACTIVATED_AT + minutesSince * MINUTE;

    // Act
    const timing = decideReactivationTiming(deactivation, exact, now);

    // Assess
    expect(timing).toEqual({ action: 'due' });
  });

  it('is due at once with a cool-down of 0', () => {
    // Prepare
    const policy = policyWith({ reactivationCooldownMinutes: 0 });

    // Act
    const timing = decideReactivationTiming(deactivation, policy, DEACTIVATED_AT);

    // Assess
    expect(timing).toEqual({ action: 'due' });
  });
});

describe('decideReactivation', () => {
  const NOW = DEACTIVATED_AT + HOUR;
  const nowSeconds = Math.floor(NOW / SECOND);
  const hoursAgo = (hours: number) => nowSeconds - hours * 3600;

  it('skips a flow that no longer exists', () => {
    // Act
    const decision = decideReactivation(undefined, [], exact, NOW);

    // Assess
    expect(decision).toMatchObject({ action: 'skip', reason: 'flow-not-found' });
  });

  it.each(['Deleted', 'Draft', 'Deprecated'])(
    'skips a %s flow, which StartFlow cannot re-activate, with its status message',
    (flowStatus) => {
      // Prepare
      const described = flow({ flowStatus, flowStatusMessage: 'changed by an operator' });

      // Act
      const decision = decideReactivation(described, [], exact, NOW);

      // Assess
      expect(decision).toEqual({
        action: 'skip',
        reason: 'flow-not-reactivatable',
        detail: `the flow is ${flowStatus}: changed by an operator; StartFlow cannot re-activate it`,
      });
    },
  );

  it('ignores a flow that is Active again, even at the re-activation limit', () => {
    // Prepare
    const recent = [hoursAgo(1), hoursAgo(2), hoursAgo(3)];

    // Act
    const decision = decideReactivation(flow({ flowStatus: 'Active' }), recent, exact, NOW);

    // Assess
    expect(decision).toMatchObject({ action: 'ignore', reason: 'already-active' });
  });

  it.each(['OnDemand', 'Event', 'Unknown'])(
    'ignores a suspended flow with trigger type %s',
    (triggerType) => {
      // Act
      const decision = decideReactivation(flow({ triggerType }), [], exact, NOW);

      // Assess
      expect(decision).toMatchObject({ action: 'ignore', reason: 'not-scheduled' });
    },
  );

  it.each([
    { label: 'none', recent: [], expected: 0 },
    { label: 'two within 24 h', recent: [hoursAgo(23), hoursAgo(1)], expected: 2 },
    {
      label: 'three, one of them 25 h ago',
      recent: [hoursAgo(25), hoursAgo(5), hoursAgo(1)],
      expected: 2,
    },
    {
      label: 'three, one of them exactly 24 h ago',
      recent: [hoursAgo(24), hoursAgo(5), hoursAgo(1)],
      expected: 2,
    },
  ])(
    're-activates a suspended scheduled flow with $label earlier re-activations',
    ({ recent, expected }) => {
      // Act
      const decision = decideReactivation(flow(), recent, exact, NOW);

      // Assess
      expect(decision).toEqual({ action: 'reactivate', recent: expected });
    },
  );

  it.each(['Suspended', 'Errored'])('re-activates a %s scheduled flow', (flowStatus) => {
    // Act
    const decision = decideReactivation(flow({ flowStatus }), [], exact, NOW);

    // Assess
    expect(decision.action).toBe('reactivate');
  });

  it.each([
    { maxReactivations: 3, recent: [hoursAgo(20), hoursAgo(10), hoursAgo(1)] },
    { maxReactivations: 1, recent: [hoursAgo(2)] },
    { maxReactivations: 0, recent: [] },
  ])(
    'gives up at maxReactivations $maxReactivations with $recent.length within the window',
    ({ maxReactivations, recent }) => {
      // Prepare
      const policy = policyWith({ maxReactivations });

      // Act
      const decision = decideReactivation(flow(), recent, policy, NOW);

      // Assess
      expect(decision).toMatchObject({
        action: 'give-up',
        reason: 'max-reactivations',
        recent: recent.length,
      });
    },
  );

  it('counts re-activations in the configured window', () => {
    // Prepare: 3 re-activations 30 h, 20 h and 1 h ago
    const recent = [hoursAgo(30), hoursAgo(20), hoursAgo(1)];

    // Act
    const in24h = decideReactivation(flow(), recent, exact, NOW);
    const in48h = decideReactivation(
      flow(),
      recent,
      policyWith({ reactivationWindowHours: 48 }),
      NOW,
    );

    // Assess
    expect(in24h).toEqual({ action: 'reactivate', recent: 2 });
    expect(in48h).toMatchObject({ action: 'give-up', recent: 3 });
  });
});
