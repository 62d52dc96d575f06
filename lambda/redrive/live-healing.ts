/**
 * When live healing began: the deploy-time clock's pure parts and the runtime
 * rule built on them. No I/O, no clock of its own.
 *
 * Autoheal never redrives automatically a failure that stopped before its
 * state machine came under live (not observe-only) healing: on a first deploy,
 * after a state machine joins the scope, or after `observeOnly` is switched
 * off, the failures already in the sweeper's lookback are older than that, and
 * an operator may have dealt with them already (for example by starting a
 * fresh execution). The same holds per status: after `ABORTED` joins
 * `statuses`, the executions an operator aborted before are not redriven.
 *
 * A CloudFormation custom resource (the live-healing clock) runs
 * {@link advanceClock} on every deploy with the live-relevant parts of the
 * config ({@link ClockConfig}), keeps the result ({@link ClockState}) in the
 * idempotency table and hands the handlers {@link LiveSinceDocument} through an
 * environment variable, so deciding costs no AWS call (a document too large
 * for the environment is read from the record once per execution environment:
 * {@link LiveSinceReference}).
 */
import { createHash } from 'node:crypto';
import type { RedriveConfig } from '../shared/autoheal-config';
import { REDRIVABLE_STATUSES, type RedrivableStatus } from '../shared/config/redrive-config';
import { scopeIndexOf } from '../shared/config/scope-index';
import { HEALING_STATE, REDRIVE_WINDOW_DAYS } from '../shared/contract';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The parts of the redrive config that decide when live healing began. */
export interface ClockConfig {
  /** `redrive.stateMachineArns`, in config order. */
  readonly stateMachineArns: readonly string[];
  /** `redrive.stateMachineNamePrefixes`, in config order. */
  readonly stateMachineNamePrefixes: readonly string[];
  /** The global `observeOnly`. */
  readonly observeOnly: boolean;
  /** `observeOnly` of each override that sets it, by state machine name. */
  readonly overrideObserveOnly: Readonly<Record<string, boolean>>;
  /** The global `statuses`. */
  readonly statuses: readonly RedrivableStatus[];
  /** `statuses` of each override that sets them, by state machine name. */
  readonly overrideStatuses: Readonly<Record<string, readonly RedrivableStatus[]>>;
}

/** Since when each status has been redriven (epoch milliseconds). */
export type StatusTimes = Readonly<Partial<Record<RedrivableStatus, number>>>;

/**
 * What the clock remembers between deploys (epoch milliseconds; `null` while
 * observe-only). Plain JSON.
 */
export interface ClockState {
  /** Since when each scoped ARN has been in scope. */
  readonly arns: Readonly<Record<string, number>>;
  /** Since when each name prefix has been in scope. */
  readonly prefixes: Readonly<Record<string, number>>;
  /** Since when the global policy has been live; `null` while it is observe-only. */
  readonly global: number | null;
  /**
   * State machines whose policy has been live since another time than the
   * global policy (`null`: observe-only while the global policy is live). An
   * override's own `observeOnly` puts a machine here; so does removing an
   * observe-only override while the global policy is live (the machine goes
   * live at that deploy, not when the global policy did).
   */
  readonly machines: Readonly<Record<string, number | null>>;
  /**
   * Since when each global status has been redriven. Absent in a record of a
   * clock before status times (see {@link advanceClock} for what an upgrade does).
   */
  readonly statuses?: StatusTimes;
  /**
   * State machines whose statuses have been redriven since other times than the
   * global ones: every override that sets `statuses`, and a machine whose
   * override's `statuses` were removed (until its times age past the redrive window).
   */
  readonly machineStatuses?: Readonly<Record<string, StatusTimes>>;
}

/**
 * Status times as the document carries them: one per status of
 * `REDRIVABLE_STATUSES`, in that order, `null` where it is not redriven
 * (`[t, t, null]` is some 30 bytes, a keyed object some 75).
 */
export type StatusTimeList = readonly (number | null)[];

/**
 * What the handlers receive: {@link ClockState} with the scope times in
 * config order (the handlers hold the same config), to keep the environment small.
 */
export interface LiveSinceDocument {
  /**
   * {@link clockConfigDigest} of the config the times belong to: the times are
   * positional, so a document read beside another config means nothing.
   */
  readonly config: string;
  readonly arns: readonly number[];
  readonly prefixes: readonly number[];
  readonly global: number | null;
  readonly machines: Readonly<Record<string, number | null>>;
  /**
   * {@link ClockState.statuses} as a {@link StatusTimeList}. Absent (a document
   * of a clock before status times): status times do not restrict.
   */
  readonly statuses?: StatusTimeList;
  /** {@link ClockState.machineStatuses}, each as a {@link StatusTimeList}. */
  readonly machineStatuses?: Readonly<Record<string, StatusTimeList>>;
}

/**
 * What the handlers receive in place of a {@link LiveSinceDocument} too large
 * for their environment: where the clock keeps the document (see
 * `lambda/redrive/live-since-source.ts`).
 */
export interface LiveSinceReference {
  /** {@link clockConfigDigest} of the config the document belongs to. */
  readonly config: string;
  /** The `id` of the clock's record in the idempotency table. */
  readonly record: string;
  /** The record's `clockVersion` the document was written with. */
  readonly version: number;
}

/** The live-relevant parts of a validated redrive config. */
export function clockConfigOf(
  config: Pick<
    RedriveConfig,
    'stateMachineArns' | 'stateMachineNamePrefixes' | 'observeOnly' | 'overrides' | 'statuses'
  >,
): ClockConfig {
  const overrideObserveOnly: Record<string, boolean> = {};
  const overrideStatuses: Record<string, readonly RedrivableStatus[]> = {};
  for (const [name, override] of Object.entries(config.overrides)) {
    if (override.observeOnly !== undefined) overrideObserveOnly[name] = override.observeOnly;
    if (override.statuses !== undefined) overrideStatuses[name] = override.statuses;
  }
  return {
    stateMachineArns: config.stateMachineArns,
    stateMachineNamePrefixes: config.stateMachineNamePrefixes,
    observeOnly: config.observeOnly,
    overrideObserveOnly,
    statuses: config.statuses,
    overrideStatuses,
  };
}

/**
 * The clock after a deploy of `config` at `now`. Entries that stay keep their
 * times; new ones start at `now`; removed ones are forgotten (re-added later,
 * they start again). A policy switched to observe-only loses its time; switched
 * back, it starts at `now`. Statuses likewise, per policy: a status keeps the
 * time it joined a policy's `statuses` while it stays (observe-only or not).
 * `previous` is undefined on the first deploy: then everything starts at `now`.
 *
 * Upgrade: a record of the clock before status times has no `statuses`. The
 * first deploy of this version then dates each configured FAILED and TIMED_OUT
 * from the policy time already recorded (or `now` while observe-only), so
 * their healing goes on uninterrupted; ABORTED starts at `now`, since the old
 * record cannot tell whether this very deploy added it (that is the case this
 * clock exists for). The cost: an execution aborted before the upgrade, while
 * ABORTED was already configured, is no longer redriven automatically.
 *
 * @param now epoch milliseconds of the deploy
 * @example
 * ```ts
 * const first = advanceClock(undefined, config, Date.parse('2026-03-01T00:00:00Z'));
 * first.global; // 1772323200000
 * ```
 */
export function advanceClock(
  previous: ClockState | undefined,
  config: ClockConfig,
  now: number,
): ClockState {
  const since = (
    entries: readonly string[],
    before: Readonly<Record<string, number>> | undefined,
  ): Record<string, number> =>
    Object.fromEntries(entries.map((entry) => [entry, before?.[entry] ?? now]));

  const previousGlobal = previous ? previous.global : null;
  const global = config.observeOnly ? null : (previousGlobal ?? now);
  const machines: Record<string, number | null> = {};
  const names = new Set([
    ...Object.keys(config.overrideObserveOnly),
    ...Object.keys(previous?.machines ?? {}),
  ]);
  for (const name of names) {
    const before = previous && name in previous.machines ? previous.machines[name] : previousGlobal;
    const live = !(config.overrideObserveOnly[name] ?? config.observeOnly);
    const time = live ? (before ?? now) : null;
    // A machine that follows the global time needs no entry of its own.
    if (time === global) continue;
    // Failures older than the redrive window cannot be redriven anyway: a time
    // that old, later than the global one, no longer changes any decision.
    if (
      !(name in config.overrideObserveOnly) &&
      time !== null &&
      global !== null &&
      time < now - REDRIVE_WINDOW_DAYS * DAY_MS
    ) {
      continue;
    }
    machines[name] = time;
  }
  // See the upgrade note above.
  const upgradeTime = (policyTime: number | null | undefined) => (status: RedrivableStatus) =>
    status === 'ABORTED' ? now : (policyTime ?? now);
  const statusSince = (
    statuses: readonly RedrivableStatus[],
    before: StatusTimes | undefined,
    carried: (status: RedrivableStatus) => number,
  ): Partial<Record<RedrivableStatus, number>> =>
    Object.fromEntries(statuses.map((s) => [s, before ? (before[s] ?? now) : carried(s)]));

  const statuses = statusSince(config.statuses, previous?.statuses, upgradeTime(previousGlobal));
  const machineStatuses: Record<string, StatusTimes> = {};
  const statusNames = new Set([
    ...Object.keys(config.overrideStatuses),
    ...Object.keys(previous?.machineStatuses ?? {}),
  ]);
  for (const name of statusNames) {
    const own = previous?.machineStatuses?.[name];
    // A machine without times of its own followed the global statuses until now.
    const before = own ?? previous?.statuses;
    const previousPolicy =
      previous && name in previous.machines ? previous.machines[name] : previousGlobal;
    const times = statusSince(
      config.overrideStatuses[name] ?? config.statuses,
      before,
      upgradeTime(previousPolicy),
    );
    if (!(name in config.overrideStatuses)) {
      // Back on the global statuses: its own times matter only while they
      // differ from the global ones and are within the redrive window.
      const matters = Object.entries(times).some(
        ([s, t]) =>
          t !== statuses[s as RedrivableStatus] && t >= now - REDRIVE_WINDOW_DAYS * DAY_MS,
      );
      if (!matters) continue;
    }
    machineStatuses[name] = times;
  }
  return {
    arns: since(config.stateMachineArns, previous?.arns),
    prefixes: since(config.stateMachineNamePrefixes, previous?.prefixes),
    global,
    machines,
    statuses,
    machineStatuses,
  };
}

const statusTimeList = (times: StatusTimes): StatusTimeList =>
  REDRIVABLE_STATUSES.map((s) => times[s] ?? null);

/** A short digest of the live-relevant config, which the document carries. */
export function clockConfigDigest(config: ClockConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
}

/** The document for the handlers: the scope times in the order of `config`. */
export function liveSinceDocument(state: ClockState, config: ClockConfig): LiveSinceDocument {
  return {
    config: clockConfigDigest(config),
    arns: config.stateMachineArns.map((arn) => state.arns[arn]),
    prefixes: config.stateMachineNamePrefixes.map((prefix) => state.prefixes[prefix]),
    global: state.global,
    machines: state.machines,
    statuses: statusTimeList(state.statuses ?? {}),
    // Left out when empty, as it mostly is: the environment is small.
    ...(Object.keys(state.machineStatuses ?? {}).length === 0
      ? {}
      : {
          machineStatuses: Object.fromEntries(
            Object.entries(state.machineStatuses ?? {}).map(([name, t]) => [
              name,
              statusTimeList(t),
            ]),
          ),
        }),
  };
}

/**
 * The document a clock first deployed at `since` returns for `config`: every
 * scoped machine under live healing since then. What the CLI assumes offline
 * (no clock to read) and the suites start from.
 *
 * @example
 * ```ts
 * const liveSince = liveSinceSince(redriveConfig, 0); // live since 1970: nothing is "before live healing"
 * ```
 */
export function liveSinceSince(
  config: Parameters<typeof clockConfigOf>[0],
  since: number,
): LiveSinceDocument {
  const clockConfig = clockConfigOf(config);
  return liveSinceDocument(advanceClock(undefined, clockConfig, since), clockConfig);
}

/** Digits of an epoch-milliseconds time until the year 2286. */
const TIME_DIGITS = 13;

/**
 * The most bytes the document of `config` can take as JSON, whatever the
 * times (its removed-override entries aside, which expire after the redrive
 * window).
 */
export function maxLiveSinceDocumentBytes(config: ClockConfig): number {
  const widest: LiveSinceDocument = {
    config: clockConfigDigest(config),
    arns: config.stateMachineArns.map(() => 10 ** (TIME_DIGITS - 1)),
    prefixes: config.stateMachineNamePrefixes.map(() => 10 ** (TIME_DIGITS - 1)),
    global: 10 ** (TIME_DIGITS - 1),
    machines: Object.fromEntries(
      Object.keys(config.overrideObserveOnly).map((name) => [name, 10 ** (TIME_DIGITS - 1)]),
    ),
    statuses: REDRIVABLE_STATUSES.map(() => 10 ** (TIME_DIGITS - 1)),
    machineStatuses: Object.fromEntries(
      Object.keys(config.overrideStatuses).map((name) => [
        name,
        REDRIVABLE_STATUSES.map(() => 10 ** (TIME_DIGITS - 1)),
      ]),
    ),
  };
  return Buffer.byteLength(JSON.stringify(widest));
}

const isTime = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * Reads the document from its environment variable. Anything not a time reads
 * as "not live", so a damaged document can only stop redrives, never start them.
 *
 * @throws {Error} when the value is not a JSON object
 */
export function parseLiveSinceDocument(json: string): LiveSinceDocument {
  const raw: unknown = JSON.parse(json);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error('The live-since document is not a JSON object');
  }
  const value = raw as Record<string, unknown>;
  const times = (v: unknown): number[] =>
    Array.isArray(v) ? v.map((t) => (isTime(t) ? t : Number.NaN)) : [];
  const machines: Record<string, number | null> = {};
  if (typeof value.machines === 'object' && value.machines !== null) {
    for (const [name, t] of Object.entries(value.machines)) machines[name] = isTime(t) ? t : null;
  }
  // A status time that is not a time reads as "not redriven".
  const statusTimes = (v: unknown): StatusTimeList =>
    REDRIVABLE_STATUSES.map((_, i) => {
      const t: unknown = Array.isArray(v) ? v[i] : undefined;
      return isTime(t) ? t : null;
    });
  const machineStatuses: Record<string, StatusTimeList> = {};
  if (typeof value.machineStatuses === 'object' && value.machineStatuses !== null) {
    for (const [name, t] of Object.entries(value.machineStatuses)) {
      machineStatuses[name] = statusTimes(t);
    }
  }
  return {
    config: typeof value.config === 'string' ? value.config : '',
    arns: times(value.arns),
    prefixes: times(value.prefixes),
    global: isTime(value.global) ? value.global : null,
    machines,
    // A document of the clock before status times has none: its statuses
    // follow their policy's time (see `liveSinceOf`).
    ...(value.statuses === undefined ? {} : { statuses: statusTimes(value.statuses) }),
    machineStatuses,
  };
}

/** A document under which no state machine is live. */
export const NOT_LIVE: LiveSinceDocument = {
  config: '',
  arns: [],
  prefixes: [],
  global: null,
  machines: {},
  statuses: [],
  machineStatuses: {},
};

/**
 * The document if it was made for this config, else {@link NOT_LIVE}: a
 * handler never reads one config's times beside another (only a broken
 * deployment could do that), so a mismatch can stop redrives, never start them.
 *
 * @example
 * ```ts
 * const document = documentForConfig(parseLiveSinceDocument(json), config);
 * ```
 */
export function documentForConfig(
  document: LiveSinceDocument,
  config: Pick<
    RedriveConfig,
    'stateMachineArns' | 'stateMachineNamePrefixes' | 'observeOnly' | 'overrides' | 'statuses'
  >,
): LiveSinceDocument {
  return document.config === clockConfigDigest(clockConfigOf(config)) ? document : NOT_LIVE;
}

/** A state machine as the runtime rule sees it. */
export interface ScopedStateMachine {
  /** Its ARN (never a version, alias or Map Run ARN). */
  readonly arn: string;
  readonly name: string;
}

/**
 * Epoch milliseconds since which a state machine has been under live healing,
 * or undefined when it is not (observe-only, or not in the document). A
 * failure that stopped before it is never redriven automatically.
 *
 * It is the latest of: the earliest time among the scope entries that cover the
 * machine (its exact ARN, the name prefixes it starts with), the time its
 * effective `observeOnly` became false, and the time `status` joined its
 * effective `statuses`.
 *
 * @param status the failure's status
 * @example
 * ```ts
 * const liveSince = liveSinceOf(document, config, { arn, name }, 'ABORTED');
 * if (liveSince === undefined || stopDate < liveSince) skip();
 * ```
 */
export function liveSinceOf(
  document: LiveSinceDocument,
  config: Pick<RedriveConfig, 'stateMachineArns' | 'stateMachineNamePrefixes'>,
  machine: ScopedStateMachine,
  status: string,
): number | undefined {
  const entries = scopeIndexOf(config).coveringEntries(machine.arn, machine.name);
  const covering = [
    ...entries.arns.map((i) => document.arns[i]),
    ...entries.prefixes.map((i) => document.prefixes[i]),
  ];
  const inScope = covering.filter(isTime);
  if (inScope.length === 0) return undefined;
  const policy = Object.hasOwn(document.machines, machine.name)
    ? document.machines[machine.name]
    : document.global;
  if (!isTime(policy)) return undefined;
  const statusTimes = Object.hasOwn(document.machineStatuses ?? {}, machine.name)
    ? document.machineStatuses?.[machine.name]
    : document.statuses;
  // No status times at all: a document of the clock before them.
  if (statusTimes === undefined) return Math.max(Math.min(...inScope), policy);
  const statusTime = statusTimes[REDRIVABLE_STATUSES.indexOf(status as RedrivableStatus)];
  if (!isTime(statusTime)) return undefined;
  return Math.max(Math.min(...inScope), policy, statusTime);
}

/**
 * The record key of a clock: unique per clock id. Here, not in the clock's
 * handler module, because the construct imports it at synth and the handler
 * module loads the DynamoDB client, which a consumer of the package does not
 * have (the SDK is bundled into the handler assets only).
 */
export function clockRecordKey(clockId: string): string {
  return `${HEALING_STATE.liveHealingClockPrefix}${clockId}`;
}

/**
 * Key of part `part` of the clock's config token records (see
 * `LIVE_HEALING_CLOCK.configTokenPart`): beside the clock's record, under its key.
 */
export function configTokenPartKey(clockId: string, part: number): string {
  return `${configTokenPartsPrefix(clockId)}${part}`;
}

/** The key of the clock's config token parts, less the part's number. */
export function configTokenPartsPrefix(clockId: string): string {
  return `${clockRecordKey(clockId)}${HEALING_STATE.configTokenPartInfix}`;
}
