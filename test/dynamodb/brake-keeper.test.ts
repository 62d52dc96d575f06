/**
 * The brake keeper against DynamoDB Local (the breaker store) with SQS mocked
 * for exact calls: probes oldest first when the cool-down ends, the held
 * backlog re-sent when closed and nothing lost when a send fails midway,
 * held failures near or past their redrive window reported (never silent),
 * the state gauge and the registry.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import 'aws-sdk-client-mock-jest';
import {
  BRAKE_METRIC,
  BrakeKeeperIncompleteError,
  createBrakeKeeper,
} from '../../lambda/brake/brake-keeper';
import {
  type BreakerOptions,
  DEFAULT_BREAKER_OPTIONS,
  evaluateBreaker,
  openingsAfter,
} from '../../lambda/redrive/breaker/breaker-policy';
import {
  createBreakerStore,
  type HeldFailure,
  type KeeperBreakerStore,
} from '../../lambda/redrive/breaker/breaker-store';
import { parseExecutionStatusChange } from '../../lambda/redrive/failure-event';
import {
  BRAKE_KEEPER_ORIGIN,
  BRAKE_KEEPER_SERVICE_NAME,
  MESSAGE_ATTRIBUTES,
  METRICS_NAMESPACE,
  SFN_EVENT,
} from '../../lambda/shared/contract';
import type { Notice } from '../../lambda/shared/notices';
import { sqsMock } from '../support/aws-mocks';
import { createStateTable, type StateTable } from '../support/state-table';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const NOW = Date.parse('2026-03-02T10:00:00.000Z');
const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const MACHINE = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:orders-fulfilment`;
const OTHER_MACHINE = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:orders-billing`;
const QUEUE_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/autoheal-redrive-work`;
const OPTIONS: BreakerOptions = { ...DEFAULT_BREAKER_OPTIONS, probes: 3 };

// DynamoDB Local is slow to start a table's first requests.
jest.setTimeout(30_000);

let table: StateTable;
let store: KeeperBreakerStore;
let notices: Notice[];

function heldFailure(index: number, stopDate: number, machine = MACHINE): HeldFailure {
  const machineName = machine.split(':').at(-1);
  return {
    executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machineName}:order-${index}`,
    stateMachineArn: machine,
    redriveCount: 1,
    stopDate,
    errorName: 'States.TaskFailed',
  };
}

/** Holds `count` failures, the i-th stopped `i` minutes after `firstStop`, held two minutes before NOW. */
async function holdFailures(
  count: number,
  firstStop = NOW - DAY,
  machine = MACHINE,
): Promise<HeldFailure[]> {
  const held = Array.from({ length: count }, (_, i) =>
    heldFailure(i, firstStop + i * MINUTE, machine),
  );
  // Held in reverse: the keeper must not depend on the order they came in.
  for (const h of [...held].reverse()) await store.hold(h, NOW - 2 * MINUTE);
  return held;
}

function keeper(options: { now?: number; notify?: (notice: Notice) => Promise<void> } = {}) {
  const logger = new Logger({ serviceName: BRAKE_KEEPER_SERVICE_NAME });
  const metrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: BRAKE_KEEPER_SERVICE_NAME,
  });
  const counted: string[] = [];
  const gauges: { stateMachine: string; value: number }[] = [];
  jest.spyOn(metrics, 'addMetric').mockImplementation((name) => {
    counted.push(name);
    return metrics;
  });
  jest.spyOn(metrics, 'singleMetric').mockImplementation(() => {
    let dimension = '';
    const single = {
      addDimension: (_name: string, value: string) => {
        dimension = value;
      },
      addMetric: (name: string, _unit: unknown, value: number) => {
        if (name === BRAKE_METRIC.state) gauges.push({ stateMachine: dimension, value });
        else counted.push(name);
      },
    };
    return single as unknown as Metrics;
  });
  jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
  const keep = createBrakeKeeper({
    store,
    optionsFor: () => OPTIONS,
    sqs: new SQSClient({ region: REGION }),
    workQueueUrl: QUEUE_URL,
    notify:
      options.notify ??
      (async (notice) => {
        notices.push(notice);
      }),
    logger,
    metrics,
    now: () => options.now ?? NOW,
    sleep: async () => undefined,
  });
  return { keep, counted, gauges };
}

/** Every message sent to the work queue, in order, with its parsed body. */
function sentMessages() {
  return sqsMock.commandCalls(SendMessageBatchCommand).flatMap(({ args: [command] }) =>
    (command.input.Entries ?? []).map((entry) => ({
      entry,
      change: parseExecutionStatusChange(entry.MessageBody ?? '', NOW),
    })),
  );
}

/** SendMessageBatch answers: every entry accepted. */
function acceptAll(input: SendMessageBatchCommandInput) {
  return {
    Successful: (input.Entries ?? []).map((e) => ({
      Id: e.Id,
      MessageId: randomUUID(),
      MD5OfMessageBody: 'x',
    })),
    Failed: [],
  };
}

async function openBreaker(machine = MACHINE, openedAt = NOW - 6 * MINUTE): Promise<void> {
  const view = await store.read(machine, openedAt, { fresh: true });
  expect(await store.transition(machine, view, 'open', openedAt)).toBe(true);
}

beforeEach(async () => {
  table = await createStateTable();
  store = createBreakerStore({
    dynamodb: table.client,
    tableName: table.tableName,
    optionsFor: () => OPTIONS,
    cacheMs: 0,
  });
  notices = [];
  sqsMock.reset();
  sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);
});
afterEach(async () => {
  jest.restoreAllMocks();
  await table.dispose();
});

describe('half-open and probes', () => {
  it('moves an open breaker past its cool-down to half-open and sends the 3 oldest held failures as probes', async () => {
    // Prepare: opened 6 minutes ago (5-minute cool-down), 8 held
    await openBreaker();
    const held = await holdFailures(8);
    const { keep, counted, gauges } = keeper();

    // Act
    await keep();

    // Assess
    const sent = sentMessages();
    expect(sent.map((m) => m.change.executionArn)).toEqual(
      held.slice(0, 3).map((h) => h.executionArn),
    );
    for (const { entry, change } of sent) {
      expect(entry.MessageAttributes).toEqual({
        [MESSAGE_ATTRIBUTES.origin]: { DataType: 'String', StringValue: BRAKE_KEEPER_ORIGIN },
        [MESSAGE_ATTRIBUTES.probe]: { DataType: 'String', StringValue: 'true' },
      });
      expect(change).toMatchObject({
        source: SFN_EVENT.sweeperSource,
        redriveCount: 1,
        status: 'FAILED',
      });
    }
    expect((await store.read(MACHINE, NOW, { fresh: true })).state).toBe('half-open');
    expect((await store.oldestHeld(MACHINE, 100)).map((h) => h.executionArn)).toEqual(
      held.slice(3).map((h) => h.executionArn),
    );
    expect(counted.filter((name) => name === BRAKE_METRIC.probe)).toHaveLength(3);
    expect(gauges).toEqual([{ stateMachine: 'orders-fulfilment', value: 1 }]);
    expect(notices).toEqual([]);
  });

  it('two keepers at once: one half-open transition, the probes sent once', async () => {
    // Prepare
    await openBreaker();
    await holdFailures(8);
    const first = keeper();
    const second = keeper();

    // Act
    await Promise.all([first.keep(), second.keep()]);

    // Assess
    expect(sentMessages()).toHaveLength(3);
  });

  it('keeps an open breaker inside its cool-down open: no probe, gauge 2', async () => {
    // Prepare: opened 4 minutes ago
    await openBreaker(MACHINE, NOW - 4 * MINUTE);
    await holdFailures(5);
    const { keep, gauges } = keeper();

    // Act
    await keep();

    // Assess
    expect(sqsMock).not.toHaveReceivedCommand(SendMessageBatchCommand);
    expect(gauges).toEqual([{ stateMachine: 'orders-fulfilment', value: 2 }]);
    expect(await store.oldestHeld(MACHINE, 100)).toHaveLength(5);
  });

  it('probes again when the probes did not settle within the cool-down', async () => {
    // Prepare: half-open for 6 minutes, probes long gone, 2 still held
    await openBreaker(MACHINE, NOW - 20 * MINUTE);
    const view = await store.read(MACHINE, NOW - 6 * MINUTE, { fresh: true });
    await store.transition(MACHINE, view, 'half-open', NOW - 6 * MINUTE);
    const held = await holdFailures(2);
    const { keep } = keeper();

    // Act
    await keep();

    // Assess
    expect(sentMessages().map((m) => m.change.executionArn)).toEqual(
      held.map((h) => h.executionArn),
    );
  });

  it('closes a half-open breaker with nothing held after the cool-down, with one breaker-closed notice', async () => {
    // Prepare
    await openBreaker(MACHINE, NOW - 20 * MINUTE);
    const view = await store.read(MACHINE, NOW - 6 * MINUTE, { fresh: true });
    await store.transition(MACHINE, view, 'half-open', NOW - 6 * MINUTE);
    const { keep } = keeper();

    // Act
    await keep();

    // Assess
    expect((await store.read(MACHINE, NOW, { fresh: true })).state).toBe('closed');
    expect(notices.map((n) => [n.kind, n.reason])).toEqual([['breaker-closed', 'nothing-held']]);
  });
});

describe('draining the held backlog', () => {
  it('re-sends every held failure of a closed breaker in batches of 10, oldest first, and stops watching it', async () => {
    // Prepare: 25 held, breaker closed (e.g. the probes recovered)
    const held = await holdFailures(25);
    const { keep, gauges } = keeper();

    // Act
    await keep();

    // Assess
    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 5]);
    expect(sentMessages().map((m) => m.change.executionArn)).toEqual(
      held.map((h) => h.executionArn),
    );
    expect(sentMessages()[0].entry.MessageAttributes).toEqual({
      [MESSAGE_ATTRIBUTES.origin]: { DataType: 'String', StringValue: BRAKE_KEEPER_ORIGIN },
    });
    expect(await store.oldestHeld(MACHINE, 100)).toEqual([]);
    expect(await store.machinesToWatch()).toEqual([]);
    expect(gauges).toEqual([{ stateMachine: 'orders-fulfilment', value: 0 }]);
  });

  it('loses nothing when a send fails midway: what SQS did not take stays held and goes on the next run', async () => {
    // Prepare: 25 held; the second call fails outright (three attempts), an entry of the third is refused
    const held = await holdFailures(25);
    let call = 0;
    sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      call++;
      if (call >= 2 && call <= 4)
        throw Object.assign(new Error('down'), { name: 'ServiceUnavailable' });
      if (call === 5) {
        const answer = acceptAll(input);
        return {
          Successful: answer.Successful.slice(1),
          Failed: [{ Id: input.Entries?.[0].Id, Code: 'InvalidParameterValue', SenderFault: true }],
        };
      }
      return acceptAll(input);
    });
    const { keep } = keeper();

    // Act
    const firstRun = keep();
    await expect(firstRun).rejects.toThrow(BrakeKeeperIncompleteError);
    const stillHeld = await store.oldestHeld(MACHINE, 100);
    sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);
    await keeper().keep();

    // Assess: every failure sent at least once after the two runs, none left held, the registry cleared
    const accepted = new Set(sentMessages().map((m) => m.change.executionArn));
    expect(stillHeld.map((h) => h.executionArn)).toEqual([
      ...held.slice(10, 20).map((h) => h.executionArn),
      held[20].executionArn,
    ]);
    expect(held.every((h) => accepted.has(h.executionArn))).toBe(true);
    expect(await store.oldestHeld(MACHINE, 100)).toEqual([]);
    expect(await store.machinesToWatch()).toEqual([]);
  });

  it('a forced-closed breaker drains; a forced-open one neither drains nor probes', async () => {
    // Prepare
    await openBreaker(MACHINE, NOW - 30 * MINUTE);
    await store.force(MACHINE, 'closed', 'alice', 'downstream fixed', NOW - MINUTE);
    await holdFailures(4);
    await store.force(OTHER_MACHINE, 'open', 'bob', 'maintenance', NOW - 30 * MINUTE);
    await holdFailures(4, NOW - DAY, OTHER_MACHINE);
    const { keep, gauges } = keeper();

    // Act
    await keep();

    // Assess
    expect(new Set(sentMessages().map((m) => m.change.stateMachineArn))).toEqual(
      new Set([MACHINE]),
    );
    expect(sentMessages()).toHaveLength(4);
    expect(await store.oldestHeld(OTHER_MACHINE, 100)).toHaveLength(4);
    expect([...gauges].sort((a, b) => a.stateMachine.localeCompare(b.stateMachine))).toEqual([
      { stateMachine: 'orders-billing', value: 2 },
      { stateMachine: 'orders-fulfilment', value: 0 },
    ]);
    expect((await store.machinesToWatch()).sort()).toEqual([MACHINE, OTHER_MACHINE].sort());
  });
});

describe('held failures at the end of their redrive window', () => {
  it('reports one nearing expiry once, and an expired one with a notice before removing it', async () => {
    // Prepare: breaker open (so nothing drains); 13.5 days, 14.2 days and 2 days held
    await openBreaker(MACHINE, NOW - MINUTE);
    const nearing = heldFailure(1, NOW - 13.5 * DAY);
    const expired = heldFailure(2, NOW - 14.2 * DAY);
    const young = heldFailure(3, NOW - 2 * DAY);
    for (const h of [nearing, expired, young]) await store.hold(h, NOW - 2 * MINUTE);

    // Act: two runs a minute apart
    await keeper().keep();
    await keeper({ now: NOW + MINUTE }).keep();

    // Assess
    expect(notices.map((n) => [n.kind, n.facts.executionArn])).toEqual([
      ['held-expired', expired.executionArn],
      ['held-nearing-expiry', nearing.executionArn],
    ]);
    expect(notices[1].facts).toMatchObject({
      redriveWindowEndsAt: new Date(nearing.stopDate + 14 * DAY).toISOString(),
      breaker: 'open',
    });
    expect((await store.oldestHeld(MACHINE, 10)).map((h) => h.executionArn)).toEqual([
      nearing.executionArn,
      young.executionArn,
    ]);
  });

  it('keeps an expired held failure whose notice could not be sent, and reports it on the next run', async () => {
    // Prepare
    await openBreaker(MACHINE, NOW - MINUTE);
    const expired = heldFailure(1, NOW - 14.5 * DAY);
    await store.hold(expired, NOW - 2 * MINUTE);
    const failing = keeper({
      notify: async () => {
        throw Object.assign(new Error('SNS down'), { name: 'InternalErrorException' });
      },
    });

    // Act
    await expect(failing.keep()).rejects.toThrow(BrakeKeeperIncompleteError);
    const keptAfterFailure = await store.oldestHeld(MACHINE, 10);
    await keeper({ now: NOW + MINUTE }).keep();

    // Assess
    expect(keptAfterFailure).toHaveLength(1);
    expect(notices.map((n) => n.kind)).toEqual(['held-expired']);
    expect(await store.oldestHeld(MACHINE, 10)).toEqual([]);
  });

  it('a nearing-expiry notice that could not be sent is sent on the next run', async () => {
    // Prepare
    await openBreaker(MACHINE, NOW - MINUTE);
    const nearing = heldFailure(1, NOW - 13.2 * DAY);
    await store.hold(nearing, NOW - 2 * MINUTE);
    let fail = true;
    const flaky = keeper({
      notify: async (notice) => {
        if (fail) throw Object.assign(new Error('SNS down'), { name: 'InternalErrorException' });
        notices.push(notice);
      },
    });

    // Act
    await expect(flaky.keep()).rejects.toThrow(BrakeKeeperIncompleteError);
    fail = false;
    await flaky.keep();
    await flaky.keep();

    // Assess
    expect(notices.map((n) => n.kind)).toEqual(['held-nearing-expiry']);
  });
});

describe('digests and the registry', () => {
  it('flushes the due notice digests on every run, with or without watched machines', async () => {
    // Prepare
    const flushed: number[] = [];
    const logger = new Logger({ serviceName: BRAKE_KEEPER_SERVICE_NAME });
    const metrics = new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: BRAKE_KEEPER_SERVICE_NAME,
    });
    const keep = createBrakeKeeper({
      store,
      optionsFor: () => OPTIONS,
      sqs: new SQSClient({ region: REGION }),
      workQueueUrl: QUEUE_URL,
      notify: async () => undefined,
      flushDigests: async (now) => {
        flushed.push(now);
      },
      logger,
      metrics,
      now: () => NOW,
    });

    // Act
    await keep();

    // Assess
    expect(flushed).toEqual([NOW]);
  });

  it('keeps a closed machine registered within the last minute (a hold may be on its way)', async () => {
    // Prepare: registered 30 s ago, nothing held yet
    await store.hold(heldFailure(1, NOW - DAY), NOW - 30_000);
    await store.release(MACHINE, heldFailure(1, NOW - DAY));
    const { keep } = keeper();

    // Act
    await keep();

    // Assess
    expect(await store.machinesToWatch()).toEqual([MACHINE]);
  });
});

describe('a storm end to end (the redrive handler played by hand)', () => {
  it('opens once, holds, probes oldest first, closes on a recovery, drains every held failure exactly once', async () => {
    // Prepare: the downstream is broken; 8 environments see 25 relapses at once (minRelapses 20)
    const environments = Array.from({ length: 8 }, () =>
      createBreakerStore({
        dynamodb: table.newClient(),
        tableName: table.tableName,
        optionsFor: () => OPTIONS,
        cacheMs: 0,
      }),
    );
    const openedAt = NOW - 6 * MINUTE;
    const wins = await Promise.all(
      Array.from({ length: 25 }, async (_, i) => {
        const environment = environments[i % environments.length];
        const { view } = await environment.recordSignal(
          MACHINE,
          `${heldFailure(100 + i, openedAt).executionArn}#1`,
          'relapse',
          'Lambda.ServiceException',
          openedAt,
        );
        if (evaluateBreaker(view, OPTIONS, openedAt).transition !== 'open') return false;
        return environment.transition(MACHINE, view, 'open', openedAt, {
          openings: openingsAfter(view, OPTIONS, openedAt),
        });
      }),
    );
    // While open, the handler holds what would be redriven
    const held = await holdFailures(10, NOW - DAY);

    // Act 1: the keeper after the cool-down
    await keeper().keep();
    const probes = sentMessages().map((m) => m.change.executionArn);
    // Act 2: a probe recovers; the handler records it and closes the breaker
    const settledAt = NOW + 30_000;
    const { view } = await environments[0].recordSignal(
      MACHINE,
      `${probes[0]}#1`,
      'recovery',
      '',
      settledAt,
    );
    const verdict = evaluateBreaker(view, OPTIONS, settledAt);
    const closed = await environments[0].transition(MACHINE, view, 'closed', settledAt);
    // Act 3: the keeper's next runs (the registry keeps a machine registered within the last minute)
    await keeper({ now: NOW + MINUTE }).keep();
    await keeper({ now: NOW + 2 * MINUTE }).keep();

    // Assess
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect(probes).toEqual(held.slice(0, 3).map((h) => h.executionArn));
    expect(verdict).toMatchObject({ state: 'half-open', transition: 'closed' });
    expect(closed).toBe(true);
    const sent = sentMessages().map((m) => m.change.executionArn);
    expect([...sent].sort()).toEqual(held.map((h) => h.executionArn).sort());
    expect(await store.oldestHeld(MACHINE, 100)).toEqual([]);
    expect(await store.machinesToWatch()).toEqual([]);
    expect(await store.read(MACHINE, NOW + 2 * MINUTE, { fresh: true })).toMatchObject({
      state: 'closed',
      openings: 1,
    });
  }, 60_000);
});
