/**
 * When live healing began: the deploy-time clock (what each deploy does to
 * the times it remembers) and the runtime rule the redrive handler and the
 * sweeper share (since when a state machine's failures may be redriven).
 */
import {
  advanceClock,
  type ClockConfig,
  type ClockState,
  clockConfigDigest,
  clockConfigOf,
  documentForConfig,
  liveSinceDocument,
  liveSinceOf,
  maxLiveSinceDocumentBytes,
  NOT_LIVE,
  parseLiveSinceDocument,
} from '../../lambda/redrive/live-healing';
import { parseRedriveConfig } from '../../lambda/shared/autoheal-config';

const DAY = 24 * 60 * 60 * 1000;
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const T1 = T0 + DAY;
const T2 = T0 + 2 * DAY;
const HOME = 'arn:aws:states:eu-central-1:123456789012:stateMachine:';
const ORDERS = `${HOME}orders`;
const BILLING = `${HOME}billing-close`;

function clockConfig(changes: Partial<ClockConfig> = {}): ClockConfig {
  return {
    stateMachineArns: [ORDERS],
    stateMachineNamePrefixes: ['billing-'],
    observeOnly: false,
    overrideObserveOnly: {},
    statuses: ['FAILED', 'TIMED_OUT'],
    overrideStatuses: {},
    ...changes,
  };
}

/** The status times of a clock whose statuses never changed since the first deploy. */
const UNCHANGED_STATUSES = { statuses: { FAILED: T0, TIMED_OUT: T0 }, machineStatuses: {} };

/** The clock after deploying each config in turn, the first at T0, then one a day. */
function deployed(...configs: ClockConfig[]): ClockState {
  let state: ClockState | undefined;
  configs.forEach((config, day) => {
    state = advanceClock(state, config, T0 + day * DAY);
  });
  return state as ClockState;
}

describe('advanceClock', () => {
  it.each<{ label: string; deploys: ClockConfig[]; expected: ClockState }>([
    {
      label: 'a first deploy starts everything now',
      deploys: [clockConfig()],
      expected: { arns: { [ORDERS]: T0 }, prefixes: { 'billing-': T0 }, global: T0, machines: {} },
    },
    {
      label: 'a first deploy in observe-only starts the scope, not the policy',
      deploys: [clockConfig({ observeOnly: true })],
      expected: {
        arns: { [ORDERS]: T0 },
        prefixes: { 'billing-': T0 },
        global: null,
        machines: {},
      },
    },
    {
      label: 'an unchanged update keeps every time',
      deploys: [clockConfig(), clockConfig()],
      expected: { arns: { [ORDERS]: T0 }, prefixes: { 'billing-': T0 }, global: T0, machines: {} },
    },
    {
      label: 'an added entry starts at its deploy; the others keep theirs',
      deploys: [clockConfig(), clockConfig({ stateMachineNamePrefixes: ['billing-', 'etl-'] })],
      expected: {
        arns: { [ORDERS]: T0 },
        prefixes: { 'billing-': T0, 'etl-': T1 },
        global: T0,
        machines: {},
      },
    },
    {
      label: 'an entry removed and added again starts again',
      deploys: [clockConfig(), clockConfig({ stateMachineArns: [] }), clockConfig()],
      expected: { arns: { [ORDERS]: T2 }, prefixes: { 'billing-': T0 }, global: T0, machines: {} },
    },
    {
      label: 'observe-only switched off starts the policy',
      deploys: [clockConfig({ observeOnly: true }), clockConfig()],
      expected: { arns: { [ORDERS]: T0 }, prefixes: { 'billing-': T0 }, global: T1, machines: {} },
    },
    {
      label: 'observe-only switched on clears the policy time',
      deploys: [clockConfig(), clockConfig({ observeOnly: true })],
      expected: {
        arns: { [ORDERS]: T0 },
        prefixes: { 'billing-': T0 },
        global: null,
        machines: {},
      },
    },
    {
      label: 'observe-only switched on and off again starts the policy again',
      deploys: [clockConfig(), clockConfig({ observeOnly: true }), clockConfig()],
      expected: { arns: { [ORDERS]: T0 }, prefixes: { 'billing-': T0 }, global: T2, machines: {} },
    },
    {
      label: "an override's observeOnly switched off starts that machine's policy only",
      deploys: [
        clockConfig({ overrideObserveOnly: { orders: true } }),
        clockConfig({ overrideObserveOnly: { orders: false } }),
      ],
      expected: {
        arns: { [ORDERS]: T0 },
        prefixes: { 'billing-': T0 },
        global: T0,
        machines: { orders: T1 },
      },
    },
    {
      label: 'an observe-only override removed while the global policy is live starts that machine',
      deploys: [clockConfig({ overrideObserveOnly: { orders: true } }), clockConfig()],
      expected: {
        arns: { [ORDERS]: T0 },
        prefixes: { 'billing-': T0 },
        global: T0,
        machines: { orders: T1 },
      },
    },
    {
      label: 'a live override of a live machine keeps its time when the global policy stops',
      deploys: [
        clockConfig({ overrideObserveOnly: { orders: false } }),
        clockConfig({ observeOnly: true, overrideObserveOnly: { orders: false } }),
      ],
      expected: {
        arns: { [ORDERS]: T0 },
        prefixes: { 'billing-': T0 },
        global: null,
        machines: { orders: T0 },
      },
    },
    {
      label: 'an override that repeats the live global policy adds no time of its own',
      deploys: [clockConfig(), clockConfig({ overrideObserveOnly: { orders: false } })],
      expected: { arns: { [ORDERS]: T0 }, prefixes: { 'billing-': T0 }, global: T0, machines: {} },
    },
  ])('$label', ({ deploys, expected }) => {
    // Prepare & Act
    const state = deployed(...deploys);

    // Assess
    expect(state).toEqual({ ...UNCHANGED_STATUSES, ...expected });
  });

  const scope = { arns: { [ORDERS]: T0 }, prefixes: { 'billing-': T0 }, global: T0, machines: {} };
  it.each<{ label: string; deploys: ClockConfig[]; expected: Partial<ClockState> }>([
    {
      label: 'a status added starts at its deploy; the others keep theirs',
      deploys: [clockConfig(), clockConfig({ statuses: ['FAILED', 'TIMED_OUT', 'ABORTED'] })],
      expected: { statuses: { FAILED: T0, TIMED_OUT: T0, ABORTED: T1 }, machineStatuses: {} },
    },
    {
      label: 'a status removed is forgotten',
      deploys: [clockConfig(), clockConfig({ statuses: ['FAILED'] })],
      expected: { statuses: { FAILED: T0 }, machineStatuses: {} },
    },
    {
      label: 'a status removed and added again starts again',
      deploys: [clockConfig(), clockConfig({ statuses: ['FAILED'] }), clockConfig()],
      expected: { statuses: { FAILED: T0, TIMED_OUT: T2 }, machineStatuses: {} },
    },
    {
      label: 'a status added while observe-only keeps its time when observe-only is switched off',
      deploys: [
        clockConfig({ observeOnly: true }),
        clockConfig({ observeOnly: true, statuses: ['ABORTED'] }),
        clockConfig({ statuses: ['ABORTED'] }),
      ],
      expected: { global: T2, statuses: { ABORTED: T1 }, machineStatuses: {} },
    },
    {
      label: "an override's statuses: those the machine redrove keep their time, a new one starts",
      deploys: [
        clockConfig(),
        clockConfig({ overrideStatuses: { orders: ['FAILED', 'ABORTED'] } }),
      ],
      expected: {
        statuses: { FAILED: T0, TIMED_OUT: T0 },
        machineStatuses: { orders: { FAILED: T0, ABORTED: T1 } },
      },
    },
    {
      label: "a status added to an override's statuses starts that machine's status only",
      deploys: [
        clockConfig({ overrideStatuses: { orders: ['FAILED'] } }),
        clockConfig({ overrideStatuses: { orders: ['FAILED', 'ABORTED'] } }),
      ],
      expected: {
        statuses: { FAILED: T0, TIMED_OUT: T0 },
        machineStatuses: { orders: { FAILED: T0, ABORTED: T1 } },
      },
    },
    {
      label: "an override's statuses removed: the global statuses it lacked start at that deploy",
      deploys: [clockConfig({ overrideStatuses: { orders: ['FAILED'] } }), clockConfig()],
      expected: {
        statuses: { FAILED: T0, TIMED_OUT: T0 },
        machineStatuses: { orders: { FAILED: T0, TIMED_OUT: T1 } },
      },
    },
    {
      label:
        "an override's statuses that repeated the global ones, removed, leave no times of their own",
      deploys: [
        clockConfig({ overrideStatuses: { orders: ['FAILED', 'TIMED_OUT'] } }),
        clockConfig(),
      ],
      expected: { statuses: { FAILED: T0, TIMED_OUT: T0 }, machineStatuses: {} },
    },
  ])('statuses: $label', ({ deploys, expected }) => {
    // Prepare & Act
    const state = deployed(...deploys);

    // Assess
    expect(state).toEqual({ ...scope, ...expected });
  });

  it.each<{ label: string; previous: ClockState; expected: ClockState['statuses'] }>([
    {
      label: 'FAILED and TIMED_OUT keep the policy time, so their healing goes on',
      previous: { arns: { [ORDERS]: T0 }, prefixes: {}, global: T0, machines: {} },
      expected: { FAILED: T0, TIMED_OUT: T0, ABORTED: T1 },
    },
    {
      label: 'an observe-only policy dates them from the upgrade',
      previous: { arns: { [ORDERS]: T0 }, prefixes: {}, global: null, machines: {} },
      expected: { FAILED: T1, TIMED_OUT: T1, ABORTED: T1 },
    },
  ])(
    'upgrading a record without status times: $label; ABORTED starts at the upgrade',
    ({ previous, expected }) => {
      // Prepare
      const config = clockConfig({
        observeOnly: previous.global === null,
        statuses: ['FAILED', 'TIMED_OUT', 'ABORTED'],
      });

      // Act
      const state = advanceClock(previous, config, T1);

      // Assess
      expect(state.statuses).toEqual(expected);
    },
  );

  it('upgrading a record without status times dates an override machine from its own policy time', () => {
    // Prepare
    const previous: ClockState = { arns: {}, prefixes: {}, global: T0, machines: { orders: T1 } };
    const config = clockConfig({
      overrideObserveOnly: { orders: false },
      overrideStatuses: { orders: ['FAILED'] },
    });

    // Act
    const state = advanceClock(previous, config, T2);

    // Assess
    expect(state.machineStatuses).toEqual({ orders: { FAILED: T1 } });
  });

  it('forgets a machine time that no longer changes any decision (older than the redrive window)', () => {
    // Prepare
    const removedOverride = deployed(
      clockConfig({ overrideObserveOnly: { orders: true } }),
      clockConfig(),
    );

    // Act
    const state = advanceClock(removedOverride, clockConfig(), T1 + 15 * DAY);

    // Assess
    expect(removedOverride.machines).toEqual({ orders: T1 });
    expect(state.machines).toEqual({});
  });
});

describe('liveSinceOf', () => {
  const config = parseRedriveConfig({
    stateMachineArns: [ORDERS, BILLING],
    stateMachineNamePrefixes: ['billing-', 'bill'],
  });
  const document = {
    config: clockConfigDigest(clockConfigOf(config)),
    arns: [T0, T2],
    prefixes: [T1, T2],
    global: T0,
    machines: { 'billing-observed': null, 'billing-late': T2 + DAY },
  };

  it.each([
    {
      label: 'a machine in scope by ARN since T0, live since T0',
      name: 'orders',
      arn: ORDERS,
      expected: T0,
    },
    {
      label: 'a machine covered by an ARN (T2) and prefixes (T1, T2): the earliest',
      name: 'billing-close',
      arn: BILLING,
      expected: T1,
    },
    {
      label: 'a machine whose own policy went live after its scope',
      name: 'billing-late',
      arn: `${HOME}billing-late`,
      expected: T2 + DAY,
    },
    {
      label: 'an observe-only machine: not live',
      name: 'billing-observed',
      arn: `${HOME}billing-observed`,
      expected: undefined,
    },
    {
      label: 'a machine no entry covers: not live',
      name: 'payments',
      arn: `${HOME}payments`,
      expected: undefined,
    },
  ])('$label', ({ name, arn, expected }) => {
    // Act
    const liveSince = liveSinceOf(document, config, { name, arn }, 'FAILED');

    // Assess
    expect(liveSince).toBe(expected);
  });

  it('is the later of the scope time and the policy time', () => {
    // Act
    const liveSince = liveSinceOf(
      { ...document, global: T2 + 3 * DAY },
      config,
      { name: 'orders', arn: ORDERS },
      'FAILED',
    );

    // Assess
    expect(liveSince).toBe(T2 + 3 * DAY);
  });

  it('reads no live time from an observe-only global policy', () => {
    // Act
    const liveSince = liveSinceOf(
      { ...document, global: null },
      config,
      { name: 'orders', arn: ORDERS },
      'FAILED',
    );

    // Assess
    expect(liveSince).toBeUndefined();
  });

  it('agrees with the clock: a first deploy makes every scoped machine live since then', () => {
    // Prepare
    const clock = clockConfigOf(config);
    const firstDeploy = liveSinceDocument(advanceClock(undefined, clock, T1), clock);

    // Act
    const liveSince = liveSinceOf(
      parseLiveSinceDocument(JSON.stringify(firstDeploy)),
      config,
      { name: 'billing-close', arn: BILLING },
      'FAILED',
    );

    // Assess
    expect(liveSince).toBe(T1);
  });

  describe('by status', () => {
    // FAILED since T0, TIMED_OUT since T2 + 2 days, ABORTED not redriven; `orders` has statuses of its own.
    const withStatuses = {
      ...document,
      statuses: [T0, T2 + 2 * DAY, null],
      machineStatuses: { orders: [null, null, T2] },
    };

    it.each([
      {
        label: 'a status redriven since before the scope: the scope time',
        status: 'FAILED',
        expected: T1,
      },
      {
        label: 'a status added after the scope and policy: its own time',
        status: 'TIMED_OUT',
        expected: T2 + 2 * DAY,
      },
      { label: 'a status not redriven: not live', status: 'ABORTED', expected: undefined },
      {
        label: 'a status Autoheal never redrives: not live',
        status: 'RUNNING',
        expected: undefined,
      },
    ])('$label', ({ status, expected }) => {
      // Act
      const liveSince = liveSinceOf(
        withStatuses,
        config,
        { name: 'billing-close', arn: BILLING },
        status,
      );

      // Assess
      expect(liveSince).toBe(expected);
    });

    it.each([
      { status: 'ABORTED', expected: T2 },
      { status: 'FAILED', expected: undefined },
    ])("reads a machine's own statuses, not the global ones: $status", ({ status, expected }) => {
      // Act
      const liveSince = liveSinceOf(withStatuses, config, { name: 'orders', arn: ORDERS }, status);

      // Assess
      expect(liveSince).toBe(expected);
    });

    it('agrees with the clock: ABORTED added a day after the first deploy is live since then', () => {
      // Prepare
      const before = clockConfigOf(config);
      const withAborted = parseRedriveConfig({
        stateMachineArns: [ORDERS, BILLING],
        stateMachineNamePrefixes: ['billing-', 'bill'],
        statuses: ['FAILED', 'TIMED_OUT', 'ABORTED'],
      });
      const after = clockConfigOf(withAborted);
      const state = advanceClock(advanceClock(undefined, before, T0), after, T1);
      const parsed = parseLiveSinceDocument(JSON.stringify(liveSinceDocument(state, after)));
      const orders = { name: 'orders', arn: ORDERS };

      // Act
      const failed = liveSinceOf(parsed, withAborted, orders, 'FAILED');
      const aborted = liveSinceOf(parsed, withAborted, orders, 'ABORTED');

      // Assess
      expect(failed).toBe(T0);
      expect(aborted).toBe(T1);
    });

    it('lets a document of the clock before status times (none) follow the policy time', () => {
      // Act
      const liveSince = liveSinceOf(
        parseLiveSinceDocument(JSON.stringify(document)),
        config,
        { name: 'orders', arn: ORDERS },
        'ABORTED',
      );

      // Assess
      expect(liveSince).toBe(T0);
    });
  });
});

describe('documentForConfig', () => {
  const config = parseRedriveConfig({ stateMachineArns: [ORDERS, BILLING] });
  const clock = clockConfigOf(config);
  const document = liveSinceDocument(advanceClock(undefined, clock, T0), clock);

  it('keeps the document made for this config', () => {
    // Act & Assess
    expect(documentForConfig(document, config)).toBe(document);
  });

  it.each([
    ['the ARNs in another order', { stateMachineArns: [BILLING, ORDERS] }],
    ['another observe-only switch', { stateMachineArns: [ORDERS, BILLING], observeOnly: true }],
    ['other statuses', { stateMachineArns: [ORDERS, BILLING], statuses: ['FAILED', 'ABORTED'] }],
  ])(
    'reads nothing as live beside a config with %s (the times are positional)',
    (_label, other) => {
      // Act
      const checked = documentForConfig(document, parseRedriveConfig(other));

      // Assess
      expect(checked).toBe(NOT_LIVE);
      expect(
        liveSinceOf(checked, parseRedriveConfig(other), { name: 'orders', arn: ORDERS }, 'FAILED'),
      ).toBeUndefined();
    },
  );
});

describe('maxLiveSinceDocumentBytes', () => {
  it("bounds the document whatever the times, the status times of each override's statuses included", () => {
    // Prepare: every status redriven, by the global policy and by two overrides
    const config = clockConfig({
      statuses: ['FAILED', 'TIMED_OUT', 'ABORTED'],
      overrideObserveOnly: { orders: false },
      overrideStatuses: {
        orders: ['ABORTED'],
        'billing-close': ['FAILED', 'TIMED_OUT', 'ABORTED'],
      },
    });
    const latest = Date.parse('2286-01-01T00:00:00.000Z');
    const state = advanceClock(advanceClock(undefined, clockConfig(), T0), config, latest);

    // Act
    const bound = maxLiveSinceDocumentBytes(config);

    // Assess
    expect(Object.keys(state.machineStatuses ?? {})).toHaveLength(2);
    expect(Buffer.byteLength(JSON.stringify(liveSinceDocument(state, config)))).toBeLessThanOrEqual(
      bound,
    );
  });
});

describe('parseLiveSinceDocument', () => {
  it.each([
    { label: 'a missing scope time', json: '{"arns":[],"prefixes":[],"global":0,"machines":{}}' },
    { label: 'a scope time that is not a number', json: '{"arns":["0"],"prefixes":[],"global":0}' },
    {
      label: 'a global time that is not a number',
      json: '{"arns":[0],"prefixes":[],"global":"0"}',
    },
    {
      label: 'a status time that is not a number',
      json: '{"arns":[0],"prefixes":[],"global":0,"statuses":["0",0,0]}',
    },
  ])('reads $label as not live (a damaged document can only stop redrives)', ({ json }) => {
    // Act
    const liveSince = liveSinceOf(
      parseLiveSinceDocument(json),
      { stateMachineArns: [ORDERS], stateMachineNamePrefixes: [] },
      { name: 'orders', arn: ORDERS },
      'FAILED',
    );

    // Assess
    expect(liveSince).toBeUndefined();
  });

  it('refuses a value that is not a JSON object', () => {
    // Act & Assess
    expect(() => parseLiveSinceDocument('[]')).toThrow(/not a JSON object/);
  });
});
