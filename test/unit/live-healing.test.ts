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
    ...changes,
  };
}

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
    expect(state).toEqual(expected);
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
    const liveSince = liveSinceOf(document, config, { name, arn });

    // Assess
    expect(liveSince).toBe(expected);
  });

  it('is the later of the scope time and the policy time', () => {
    // Act
    const liveSince = liveSinceOf({ ...document, global: T2 + 3 * DAY }, config, {
      name: 'orders',
      arn: ORDERS,
    });

    // Assess
    expect(liveSince).toBe(T2 + 3 * DAY);
  });

  it('reads no live time from an observe-only global policy', () => {
    // Act
    const liveSince = liveSinceOf({ ...document, global: null }, config, {
      name: 'orders',
      arn: ORDERS,
    });

    // Assess
    expect(liveSince).toBeUndefined();
  });

  it('agrees with the clock: a first deploy makes every scoped machine live since then', () => {
    // Prepare
    const clock = clockConfigOf(config);
    const firstDeploy = liveSinceDocument(advanceClock(undefined, clock, T1), clock);

    // Act
    const liveSince = liveSinceOf(parseLiveSinceDocument(JSON.stringify(firstDeploy)), config, {
      name: 'billing-close',
      arn: BILLING,
    });

    // Assess
    expect(liveSince).toBe(T1);
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
  ])(
    'reads nothing as live beside a config with %s (the times are positional)',
    (_label, other) => {
      // Act
      const checked = documentForConfig(document, parseRedriveConfig(other));

      // Assess
      expect(checked).toBe(NOT_LIVE);
      expect(
        liveSinceOf(checked, parseRedriveConfig(other), { name: 'orders', arn: ORDERS }),
      ).toBeUndefined();
    },
  );
});

describe('parseLiveSinceDocument', () => {
  it.each([
    { label: 'a missing scope time', json: '{"arns":[],"prefixes":[],"global":0,"machines":{}}' },
    { label: 'a scope time that is not a number', json: '{"arns":["0"],"prefixes":[],"global":0}' },
    {
      label: 'a global time that is not a number',
      json: '{"arns":[0],"prefixes":[],"global":"0"}',
    },
  ])('reads $label as not live (a damaged document can only stop redrives)', ({ json }) => {
    // Act
    const liveSince = liveSinceOf(
      parseLiveSinceDocument(json),
      { stateMachineArns: [ORDERS], stateMachineNamePrefixes: [] },
      { name: 'orders', arn: ORDERS },
    );

    // Assess
    expect(liveSince).toBeUndefined();
  });

  it('refuses a value that is not a JSON object', () => {
    // Act & Assess
    expect(() => parseLiveSinceDocument('[]')).toThrow(/not a JSON object/);
  });
});
