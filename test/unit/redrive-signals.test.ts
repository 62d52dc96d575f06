/**
 * The storm brake's signals: which execution status changes tell the breaker
 * that a redrive relapsed or recovered. A wrong answer either opens a breaker
 * on first failures (no redrive was ever made) or misses a broken downstream.
 */
import { breakerSignalOf, type RedriveDecision } from '../../lambda/redrive/decide';
import type { ExecutionStatusChange } from '../../lambda/redrive/failure-event';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const MINUTE = 60_000;
const WINDOW = 10 * MINUTE;
const MACHINE = 'arn:aws:states:eu-central-1:123456789012:stateMachine:orders';

function change(facts: Partial<ExecutionStatusChange> = {}): ExecutionStatusChange {
  return {
    eventId: 'e-1',
    source: 'aws.states',
    eventTime: NOW - MINUTE,
    executionArn: 'arn:aws:states:eu-central-1:123456789012:execution:orders:o-1',
    stateMachineArn: MACHINE,
    stateMachineName: 'orders',
    status: 'FAILED',
    isMapRunChild: false,
    redriveCount: 1,
    redriveStatus: 'REDRIVABLE',
    redriveStatusReason: undefined,
    errorName: 'Lambda.ServiceException',
    stopDate: NOW - MINUTE,
    ...facts,
  };
}

const DEFER: RedriveDecision = { action: 'defer', dueAt: NOW + MINUTE, delaySeconds: 60 };
const REDRIVE: RedriveDecision = { action: 'redrive', attempt: 2 };
const GIVE_UP: RedriveDecision = { action: 'give-up', reason: 'max-redrives', detail: '' };
const NOT_A_FAILURE: RedriveDecision = { action: 'ignore', reason: 'not-a-failure', detail: '' };
const skip = (reason: Extract<RedriveDecision, { action: 'skip' }>['reason']): RedriveDecision => ({
  action: 'skip',
  reason,
  detail: '',
});

describe('breaker signals', () => {
  it.each([
    ['a redriven execution that failed again, deferred', change(), DEFER, 'relapse'],
    ['a redriven execution that failed again, due now', change(), REDRIVE, 'relapse'],
    ['a redriven execution that timed out', change({ status: 'TIMED_OUT' }), DEFER, 'relapse'],
    ['a relapse Autoheal gives up on', change({ redriveCount: 3 }), GIVE_UP, 'relapse'],
    ['a relapse with a denied error', change(), skip('error-denied'), 'relapse'],
    ['a relapse found by the sweeper', change({ source: 'autoheal.sweeper' }), DEFER, 'relapse'],
    [
      'a redriven execution that succeeded',
      change({ status: 'SUCCEEDED', errorName: undefined }),
      NOT_A_FAILURE,
      'recovery',
    ],
    ['a first failure (never redriven)', change({ redriveCount: 0 }), DEFER, undefined],
    [
      'a first success (never redriven)',
      change({ status: 'SUCCEEDED', redriveCount: 0 }),
      NOT_A_FAILURE,
      undefined,
    ],
    [
      'a status the machine does not redrive',
      change({ status: 'ABORTED' }),
      { action: 'ignore', reason: 'status-not-configured', detail: '' } as RedriveDecision,
      undefined,
    ],
    [
      'a redrive in progress',
      change({ status: 'RUNNING', redriveStatus: 'REDRIVE_IN_PROGRESS' }),
      NOT_A_FAILURE,
      undefined,
    ],
    ['a Distributed Map child run', change({ isMapRunChild: true }), DEFER, undefined],
    [
      'a relapse that stopped before the window',
      change({ stopDate: NOW - WINDOW - 1 }),
      DEFER,
      undefined,
    ],
    [
      'a recovery that stopped before the window',
      change({ status: 'SUCCEEDED', stopDate: NOW - WINDOW - 1 }),
      NOT_A_FAILURE,
      undefined,
    ],
    ['a failure from before live healing', change(), skip('before-live-healing'), undefined],
    ['a failure past the redrive window', change(), skip('redrive-window-expired'), undefined],
    ['an execution that no longer exists', change(), skip('execution-not-found'), undefined],
    ['an event of the older format', change({ redriveCount: undefined }), DEFER, undefined],
  ] as const)('%s', (_case, facts, decision, expected) => {
    // Act
    const signal = breakerSignalOf(facts, decision, NOW, WINDOW);

    // Assess
    expect(signal).toBe(expected);
  });

  it('dates an outcome without stopDate by its event time', () => {
    // Prepare
    const late = change({ stopDate: undefined, eventTime: NOW - WINDOW - 1 });
    const recent = change({ stopDate: undefined, eventTime: NOW - MINUTE });

    // Act + Assess
    expect(breakerSignalOf(late, DEFER, NOW, WINDOW)).toBeUndefined();
    expect(breakerSignalOf(recent, DEFER, NOW, WINDOW)).toBe('relapse');
  });
});
