/**
 * The storm brake's store against DynamoDB Local: one opening under many
 * concurrent environments, each signal counted once, the sliding window, the
 * forced state, held failures and the registry, and the breaker item's size.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  type BreakerOptions,
  type BreakerView,
  DEFAULT_BREAKER_OPTIONS,
  evaluateBreaker,
  openingsAfter,
} from '../../lambda/redrive/breaker/breaker-policy';
import {
  createBreakerStore,
  type HeldFailure,
  type KeeperBreakerStore,
} from '../../lambda/redrive/breaker/breaker-store';
import { stateKeys } from '../../lambda/shared/contract';
import { createStateTable, type StateTable } from '../support/state-table';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const NOW = Date.parse('2026-03-02T10:00:00.000Z');
const MACHINE = 'arn:aws:states:eu-central-1:123456789012:stateMachine:orders-fulfilment';
const OTHER_MACHINE = 'arn:aws:states:eu-central-1:123456789012:stateMachine:orders-billing';
const OPTIONS: BreakerOptions = { ...DEFAULT_BREAKER_OPTIONS, minRelapses: 5, relapseRatio: 0.8 };

const executionArn = (name: string, machine = 'orders-fulfilment') =>
  `arn:aws:states:eu-central-1:123456789012:execution:${machine}:${name}`;
const failureKey = (name: string, redriveCount = 1) => `${executionArn(name)}#${redriveCount}`;

let table: StateTable;

function store(
  options: { cacheMs?: number; client?: StateTable['client'] } = {},
): KeeperBreakerStore {
  return createBreakerStore({
    dynamodb: options.client ?? table.client,
    tableName: table.tableName,
    keyPrefix: 'autoheal',
    optionsFor: () => OPTIONS,
    cacheMs: options.cacheMs ?? 0,
  });
}

function heldFailure(name: string, stopDate: number, machine = MACHINE): HeldFailure {
  return {
    executionArn: executionArn(name, machine.split(':').at(-1)),
    stateMachineArn: machine,
    redriveCount: 1,
    stopDate,
    errorName: 'States.TaskFailed',
  };
}

/**
 * One simulated Lambda environment of the redrive handler: records a relapse,
 * evaluates, and opens the breaker when the rule says so. True when it won the opening.
 */
async function environmentRecordsRelapse(
  environment: KeeperBreakerStore,
  name: string,
  now: number,
): Promise<boolean> {
  const { view } = await environment.recordSignal(
    MACHINE,
    failureKey(name),
    'relapse',
    'States.TaskFailed',
    now,
  );
  const verdict = evaluateBreaker(view, OPTIONS, now);
  if (verdict.transition !== 'open') return false;
  return environment.transition(MACHINE, view, 'open', now, {
    openings: openingsAfter(view, OPTIONS, now),
  });
}

beforeEach(async () => {
  table = await createStateTable();
});
afterEach(() => table.dispose());

describe('one opening under concurrency', () => {
  it('8 environments recording relapses in parallel: exactly one wins the opening', async () => {
    // Prepare: 8 environments (own client, own cache), 40 relapses of distinct failures
    const environments = Array.from({ length: 8 }, () => store({ client: table.newClient() }));

    // Act
    const wins = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        environmentRecordsRelapse(environments[i % environments.length], `order-${i}`, NOW + i),
      ),
    );

    // Assess
    expect(wins.filter(Boolean)).toHaveLength(1);
    const view = await store().read(MACHINE, NOW + 100, { fresh: true });
    expect(view).toMatchObject({ state: 'open', openings: 1, version: 1 });
    // DynamoDB Local runs concurrent transactions slowly (seconds); DynamoDB takes milliseconds.
  }, 60_000);

  it.each([['open'], ['half-open'], ['closed']] as const)(
    'only one of 8 concurrent transitions to %s from the same view wins',
    async (to) => {
      // Prepare
      const environments = Array.from({ length: 8 }, () => store({ client: table.newClient() }));
      const from = await environments[0].read(MACHINE, NOW);

      // Act
      const wins = await Promise.all(environments.map((e) => e.transition(MACHINE, from, to, NOW)));

      // Assess
      expect(wins.filter(Boolean)).toHaveLength(1);
    },
  );
});

describe('signals', () => {
  it('a duplicate signal (the same failure key) is counted once', async () => {
    // Prepare
    const environment = store();

    // Act
    const first = await environment.recordSignal(MACHINE, failureKey('a'), 'relapse', 'Boom', NOW);
    const again = await environment.recordSignal(
      MACHINE,
      failureKey('a'),
      'relapse',
      'Boom',
      NOW + 1,
    );
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () =>
        store({ client: table.newClient() }).recordSignal(
          MACHINE,
          failureKey('b'),
          'recovery',
          '',
          NOW + 2,
        ),
      ),
    );

    // Assess
    expect([first.counted, again.counted]).toEqual([true, false]);
    expect(concurrent.filter((r) => r.counted)).toHaveLength(1);
    const view = await environment.read(MACHINE, NOW + 3, { fresh: true });
    expect({ relapses: view.relapses, recoveries: view.recoveries }).toEqual({
      relapses: 1,
      recoveries: 1,
    });
  });

  it('the window slides: signals older than the window stop counting', async () => {
    // Prepare: 3 relapses now, 2 recoveries 6 minutes later (10-minute window)
    const environment = store();
    for (const name of ['a', 'b', 'c']) {
      await environment.recordSignal(MACHINE, failureKey(name), 'relapse', 'Boom', NOW);
    }
    for (const name of ['d', 'e']) {
      await environment.recordSignal(MACHINE, failureKey(name), 'recovery', '', NOW + 6 * MINUTE);
    }

    // Act
    const inside = await environment.read(MACHINE, NOW + 9 * MINUTE, { fresh: true });
    const slid = await environment.read(MACHINE, NOW + 11 * MINUTE, { fresh: true });
    const gone = await environment.read(MACHINE, NOW + 17 * MINUTE, { fresh: true });

    // Assess
    expect([inside.relapses, inside.recoveries]).toEqual([3, 2]);
    expect([slid.relapses, slid.recoveries]).toEqual([0, 2]);
    expect([gone.relapses, gone.recoveries]).toEqual([0, 0]);
  });

  it('a signal in a slot the window left behind starts a new bucket there (counted once, old count gone)', async () => {
    // Prepare: a relapse now; the same ring slot comes round again after one window
    const environment = store();
    await environment.recordSignal(MACHINE, failureKey('a'), 'relapse', 'Boom', NOW);

    // Act
    const later = NOW + 10 * MINUTE;
    await environment.recordSignal(MACHINE, failureKey('b'), 'relapse', 'Boom', later);
    await environment.recordSignal(MACHINE, failureKey('c'), 'relapse', 'Boom', later + 1);

    // Assess
    const view = await environment.read(MACHINE, later + 2, { fresh: true });
    expect(view.relapses).toBe(2);
  });

  it('does not count (nor retry forever) a signal from a clock a window behind, whose slot holds a later bucket', async () => {
    // Prepare
    const environment = store();
    await environment.recordSignal(MACHINE, failureKey('a'), 'relapse', 'Boom', NOW);

    // Act: same ring slot, one window earlier
    const behind = await store().recordSignal(
      MACHINE,
      failureKey('b'),
      'relapse',
      'Boom',
      NOW - 10 * MINUTE,
    );

    // Assess
    expect(behind.counted).toBe(false);
    expect((await environment.read(MACHINE, NOW, { fresh: true })).relapses).toBe(1);
  });

  it('keeps the breaker item under 1 KB with many error names and a full window', async () => {
    // Prepare
    const environment = store();
    const longName = 'X'.repeat(250);

    // Act: 10 buckets, 12 distinct (long) error names
    for (let i = 0; i < 30; i++) {
      await environment.recordSignal(
        MACHINE,
        failureKey(`o-${i}`),
        i % 3 === 0 ? 'recovery' : 'relapse',
        `${longName}${i % 12}`,
        NOW + i * 20_000,
      );
    }

    // Assess
    const key = stateKeys('autoheal').breaker(MACHINE);
    const { Item } = await table.client.send(
      new GetItemCommand({
        TableName: table.tableName,
        Key: { pk: { S: key.pk }, sk: { S: key.sk } },
      }),
    );
    const bytes = Object.entries(Item ?? {}).reduce(
      (sum, [name, value]) =>
        sum + Buffer.byteLength(name) + Buffer.byteLength(JSON.stringify(value)),
      0,
    );
    expect(bytes).toBeLessThan(1024);
    const view = await environment.read(MACHINE, NOW + 30 * 20_000, { fresh: true });
    expect(Object.keys(view.topErrors).length).toBeLessThanOrEqual(6);
  });

  it('reads the closed breaker once per cache period, not once per redrive', async () => {
    // Prepare
    const environment = store({ cacheMs: 5000 });
    const first = await environment.read(MACHINE, NOW);
    await environment.force(MACHINE, 'open', 'someone-else', 'test', NOW);

    // Act
    const cached = await environment.read(MACHINE, NOW + 4999);
    const elsewhere = store({ cacheMs: 5000 });
    await elsewhere.read(MACHINE, NOW);
    await store().releaseForce(MACHINE, NOW);
    const stillCached = await elsewhere.read(MACHINE, NOW + 4000);
    const refreshed = await elsewhere.read(MACHINE, NOW + 5000);

    // Assess: force drops the forcing store's cache; another store sees changes after its cache period
    expect(first.forced).toBeUndefined();
    expect(cached.forced).toBe('open');
    expect(stillCached.forced).toBe('open');
    expect(refreshed.forced).toBeUndefined();
  });
});

describe('cost while closed', () => {
  it.each([
    // redrives a second in one environment, their outcome, most DynamoDB calls per redrive
    [10, 'recovery', 1.25],
    [1, 'recovery', 1.25],
    [10, 'relapse', 1.25],
    // a relapse reads the breaker after counting, at most once a second
    [1, 'relapse', 2],
  ] as const)(
    'at %d redrives a second per environment, each a %s: at most %d DynamoDB calls per redrive',
    async (perSecond, outcome, maxCallsPerRedrive) => {
      // Prepare: the store as the redrive handler builds it (default caches), counting its calls
      const client = table.newClient();
      const calls: string[] = [];
      client.middlewareStack.add(
        (next, context) => (args) => {
          calls.push(String(context.commandName));
          return next(args);
        },
        { step: 'initialize' },
      );
      const environment = createBreakerStore({ dynamodb: client, tableName: table.tableName });
      const redrives = 60;

      // Act: per redrive, the decision reads the breaker; its outcome (a recovery) is one signal
      for (let i = 0; i < redrives; i++) {
        const at = NOW + Math.floor((i * 1000) / perSecond);
        await environment.read(MACHINE, at);
        await environment.recordSignal(MACHINE, failureKey(`order-${i}`), outcome, 'Boom', at + 10);
      }

      // Assess
      expect(calls.filter((name) => name === 'TransactWriteItemsCommand')).toHaveLength(redrives);
      expect(calls.length / redrives).toBeLessThanOrEqual(maxCallsPerRedrive);
    },
  );
});

describe('forced state', () => {
  it('holds through signals, transitions and the cool-down until released', async () => {
    // Prepare
    const environment = store();
    await environment.force(MACHINE, 'closed', 'alice', 'downstream fixed, drain now', NOW);

    // Act: a relapse storm, then a transition the keeper would make, long after the cool-down
    for (let i = 0; i < 10; i++) {
      await environmentRecordsRelapse(environment, `order-${i}`, NOW + i);
    }
    const beforeTransition = await environment.read(MACHINE, NOW + 20, { fresh: true });
    const moved = await environment.transition(MACHINE, beforeTransition, 'open', NOW + 20);
    const later = NOW + 3 * 60 * MINUTE;
    const forced = await environment.read(MACHINE, later, { fresh: true });
    const verdictForced = evaluateBreaker(forced, OPTIONS, later);
    await environment.releaseForce(MACHINE, later);
    const released = await environment.read(MACHINE, later, { fresh: true });

    // Assess
    expect(moved).toBe(true);
    expect(forced).toMatchObject({ forced: 'closed', forcedBy: 'alice', state: 'open' });
    expect(verdictForced).toMatchObject({ state: 'closed' });
    expect(verdictForced.transition).toBeUndefined();
    expect(released.forced).toBeUndefined();
    expect(evaluateBreaker(released, OPTIONS, later)).toMatchObject({
      state: 'open',
      transition: 'half-open',
    });
  });

  it('a force makes a transition computed before it lose', async () => {
    // Prepare
    const environment = store();
    const before = await environment.read(MACHINE, NOW);

    // Act
    await environment.force(MACHINE, 'open', 'bob', 'maintenance', NOW);
    const won = await environment.transition(MACHINE, before, 'open', NOW);

    // Assess
    expect(won).toBe(false);
    expect(await environment.machinesToWatch()).toEqual([MACHINE]);
  });
});

describe('held failures', () => {
  it('holds idempotently, lists oldest first, and releases', async () => {
    // Prepare: 5 failures held out of order, one held twice
    const environment = store();
    const stops = [5, 1, 4, 2, 3].map((m) => NOW - m * DAY);
    for (const [i, stop] of stops.entries()) {
      await environment.hold(heldFailure(`order-${i}`, stop), NOW);
    }
    await environment.hold({ ...heldFailure('order-0', stops[0]), errorName: 'Other' }, NOW + 1);

    // Act
    const oldestThree = await environment.oldestHeld(MACHINE, 3);
    const all = await environment.oldestHeld(MACHINE, 100);
    await environment.release(MACHINE, all[0]);
    const afterRelease = await environment.oldestHeld(MACHINE, 100);

    // Assess
    expect(oldestThree.map((h) => h.stopDate)).toEqual([5, 4, 3].map((m) => NOW - m * DAY));
    expect(all).toHaveLength(5);
    expect(all[0]).toMatchObject({ errorName: 'States.TaskFailed', heldAt: NOW, redriveCount: 1 });
    expect(afterRelease.map((h) => h.stopDate)).toEqual([4, 3, 2, 1].map((m) => NOW - m * DAY));
    expect(await environment.oldestHeld(OTHER_MACHINE, 10)).toEqual([]);
  });

  it("keeps a failure held again after the keeper read it: the keeper's release of what it read removes nothing, so the failure is never lost", async () => {
    // Prepare: the keeper reads a held failure and re-sends it; its message meets a breaker still
    // open, so the handler holds it again before the keeper releases it
    const handler = store();
    const keeper = store();
    await handler.hold(heldFailure('order-1', NOW - DAY), NOW);
    const [read] = await keeper.oldestHeld(MACHINE, 1);
    await handler.hold(heldFailure('order-1', NOW - DAY), NOW + 1_000);

    // Act
    const removed = await keeper.release(MACHINE, read);

    // Assess: still held, with the first hold's facts, and released once read again
    expect(removed).toBe(false);
    const [again] = await keeper.oldestHeld(MACHINE, 10);
    expect(again).toMatchObject({ executionArn: read.executionArn, heldAt: NOW, holds: 2 });
    expect(await keeper.release(MACHINE, again)).toBe(true);
    expect(await keeper.oldestHeld(MACHINE, 10)).toEqual([]);
  });

  it('gives a held failure a TTL a week past its redrive window (the keeper reports it at the window, TTL never first)', async () => {
    // Prepare
    const environment = store();
    const held = heldFailure('order-1', NOW - DAY);

    // Act
    await environment.hold(held, NOW);

    // Assess
    const items = await table.items();
    const heldItem = items.find((item) => String(item.pk).includes('#held#'));
    const registry = items.find((item) => String(item.pk).endsWith('#breakers'));
    expect(heldItem?.expiration).toBe(Math.floor((held.stopDate + 21 * DAY) / 1000));
    expect(Number(registry?.expiration)).toBeGreaterThan(Number(heldItem?.expiration));
  });

  it('lists only the held failures that stopped before a time, oldest first', async () => {
    // Prepare
    const environment = store();
    for (const days of [14, 1, 13.5, 2, 13]) {
      await environment.hold(heldFailure(`order-${days}`, NOW - days * DAY), NOW);
    }

    // Act
    const nearing = await environment.heldBefore(MACHINE, NOW - 13 * DAY + 1, 10);

    // Assess
    expect(nearing.map((h) => h.stopDate)).toEqual([14, 13.5, 13].map((d) => NOW - d * DAY));
  });

  it('claims the nearing-expiry notice of a held failure once, and gives it back', async () => {
    // Prepare
    const environment = store();
    const held = heldFailure('order-1', NOW - 13.5 * DAY);
    await environment.hold(held, NOW);

    // Act
    const claims = await Promise.all(
      Array.from({ length: 4 }, () =>
        store({ client: table.newClient() }).claimNearExpiry(held, NOW),
      ),
    );
    await environment.unclaimNearExpiry(held);
    const again = await environment.claimNearExpiry(held, NOW + 1);
    const [listed] = await environment.oldestHeld(MACHINE, 1);

    // Assess
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(again).toBe(true);
    expect(listed.reportedNearExpiry).toBe(NOW + 1);
  });

  it('a storm of holds writes the registry once per 10 s per environment, and keeps it fresh', async () => {
    // Prepare
    const client = table.newClient();
    const updates: string[] = [];
    client.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'UpdateItemCommand') updates.push(context.commandName);
        return next(args);
      },
      { step: 'initialize' },
    );
    const environment = createBreakerStore({ dynamodb: client, tableName: table.tableName });

    // Act: 20 holds in 5 s, then one 10 s after the first
    for (let i = 0; i < 20; i++)
      await environment.hold(heldFailure(`order-${i}`, NOW - DAY + i), NOW + i * 250);
    const afterStorm = updates.length;
    await environment.hold(heldFailure('order-late', NOW - DAY), NOW + 10_000);

    // Assess
    expect(afterStorm).toBe(1);
    expect(updates).toHaveLength(2);
    const registry = (await table.items()).find((item) => String(item.pk).endsWith('#breakers'));
    expect(registry?.registeredAt).toBe(NOW + 10_000);
    expect(await environment.oldestHeld(MACHINE, 100)).toHaveLength(21);
  });

  it('registers machines on hold, opening and force; unwatch spares one registered since', async () => {
    // Prepare
    const environment = store();
    await environment.hold(heldFailure('order-1', NOW - DAY), NOW);
    const view = await environment.read(OTHER_MACHINE, NOW);
    await environment.transition(OTHER_MACHINE, view, 'open', NOW);

    // Act
    const watched = await environment.machinesToWatch();
    const spared = await environment.unwatch(MACHINE, NOW);
    const removed = await environment.unwatch(OTHER_MACHINE, NOW + 1);

    // Assess
    expect([...watched].sort()).toEqual([MACHINE, OTHER_MACHINE].sort());
    expect([spared, removed]).toEqual([false, true]);
    expect(await environment.machinesToWatch()).toEqual([MACHINE]);
  });
});

describe('transitions', () => {
  it.each([
    ['open', { state: 'open', openings: 1, openedAt: NOW }],
    ['half-open', { state: 'half-open', halfOpenAt: NOW }],
    ['closed', { state: 'closed', closedAt: NOW }],
  ] as const)(
    'to %s: stores the state and its time, empties the window, bumps the version',
    async (to, expected) => {
      // Prepare
      const environment = store();
      await environment.recordSignal(MACHINE, failureKey('a'), 'relapse', 'Boom', NOW - 1);
      const from: BreakerView = await environment.read(MACHINE, NOW, { fresh: true });

      // Act
      const won = await environment.transition(MACHINE, from, to, NOW);

      // Assess
      const view = await environment.read(MACHINE, NOW, { fresh: true });
      expect(won).toBe(true);
      expect(view).toMatchObject({
        ...expected,
        version: from.version + 1,
        relapses: 0,
        topErrors: {},
      });
    },
  );
});
