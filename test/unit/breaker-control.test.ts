/**
 * Operator control of the storm brake (what the CLI calls): bad input is
 * refused with one line naming the field and no store call; good input forces,
 * releases and describes through the store.
 */
import {
  describeBreaker,
  forceBreaker,
  releaseBreaker,
} from '../../lambda/redrive/breaker/breaker-control';
import { DEFAULT_BREAKER_OPTIONS, NEW_BREAKER } from '../../lambda/redrive/breaker/breaker-policy';
import type { BreakerStore } from '../../lambda/redrive/breaker/breaker-store';

const MACHINE = 'arn:aws:states:eu-central-1:123456789012:stateMachine:orders-fulfilment';
const NOW = Date.parse('2026-03-02T10:00:00.000Z');
const MINUTE = 60_000;

function fakeStore(): jest.Mocked<BreakerStore> {
  return {
    read: jest.fn().mockResolvedValue(NEW_BREAKER),
    recordSignal: jest.fn(),
    transition: jest.fn(),
    hold: jest.fn(),
    oldestHeld: jest.fn().mockResolvedValue([]),
    release: jest.fn(),
    machinesToWatch: jest.fn(),
    force: jest.fn().mockResolvedValue(undefined),
    releaseForce: jest.fn().mockResolvedValue(undefined),
  };
}

describe('bad input', () => {
  it.each([
    [
      'not an ARN',
      'orders-fulfilment',
      'open',
      { by: 'alice', reason: 'x' },
      'stateMachineArn: must be a state machine ARN',
    ],
    [
      'an execution ARN',
      `${MACHINE.replace('stateMachine', 'execution')}:run-1`,
      'open',
      { by: 'alice', reason: 'x' },
      'stateMachineArn:',
    ],
    [
      'a state other than open or closed',
      MACHINE,
      'half-open',
      { by: 'alice', reason: 'x' },
      "state: must be 'open' or 'closed'",
    ],
    ['no one forcing', MACHINE, 'open', { by: ' ', reason: 'x' }, 'by: must be a non-empty string'],
    [
      'no reason',
      MACHINE,
      'closed',
      { by: 'alice', reason: '' },
      'reason: must be a non-empty string',
    ],
    [
      'a reason too long',
      MACHINE,
      'closed',
      { by: 'alice', reason: 'x'.repeat(513) },
      'reason: must be a non-empty string of at most 512',
    ],
  ])(
    'forceBreaker refuses %s with one line naming the field, before any call',
    async (_, arn, state, request, message) => {
      // Prepare
      const store = fakeStore();

      // Act
      const forcing = forceBreaker(store, arn, state as 'open', request);

      // Assess
      await expect(forcing).rejects.toThrow(message);
      await expect(forcing).rejects.toMatchObject({ name: 'InvalidInputError' });
      expect(store.force).not.toHaveBeenCalled();
    },
  );

  it.each([
    ['releaseBreaker', (store: BreakerStore) => releaseBreaker(store, 'nope')],
    ['describeBreaker', (store: BreakerStore) => describeBreaker(store, 'nope')],
  ])('%s refuses a bad ARN before any call', async (_, act) => {
    // Prepare
    const store = fakeStore();

    // Act
    const result = act(store);

    // Assess
    await expect(result).rejects.toThrow(/^stateMachineArn: /);
    expect(store.releaseForce).not.toHaveBeenCalled();
    expect(store.read).not.toHaveBeenCalled();
  });
});

describe('good input', () => {
  it('forceBreaker records who, why and when', async () => {
    // Prepare
    const store = fakeStore();

    // Act
    await forceBreaker(store, MACHINE, 'open', {
      by: 'alice',
      reason: 'payments maintenance',
      now: NOW,
    });

    // Assess
    expect(store.force).toHaveBeenCalledWith(MACHINE, 'open', 'alice', 'payments maintenance', NOW);
  });

  it('releaseBreaker releases the forced state', async () => {
    // Prepare
    const store = fakeStore();

    // Act
    await releaseBreaker(store, MACHINE, { now: NOW });

    // Assess
    expect(store.releaseForce).toHaveBeenCalledWith(MACHINE, NOW);
  });

  it('describeBreaker shows the effective state over the computed one, and when the cool-down ends', async () => {
    // Prepare: computed open (cooling down), forced closed by alice
    const store = fakeStore();
    store.read.mockResolvedValue({
      ...NEW_BREAKER,
      state: 'open',
      openings: 2,
      openedAt: NOW - MINUTE,
      version: 4,
      forced: 'closed',
      forcedBy: 'alice',
      forcedAt: NOW - 30_000,
      forcedReason: 'fixed',
    });

    // Act
    const description = await describeBreaker(store, MACHINE, {
      breaker: DEFAULT_BREAKER_OPTIONS,
      now: NOW,
    });

    // Assess
    expect(description).toMatchObject({
      stateMachineArn: MACHINE,
      effectiveState: 'closed',
      computedState: 'open',
      forced: {
        state: 'closed',
        by: 'alice',
        at: new Date(NOW - 30_000).toISOString(),
        reason: 'fixed',
      },
      openings: 2,
      openedAt: new Date(NOW - MINUTE).toISOString(),
      oldestHeld: [],
    });
    expect(store.read).toHaveBeenCalledWith(MACHINE, NOW, { fresh: true });
  });
});
