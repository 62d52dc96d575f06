/**
 * The options of `autoheal redrive`, checked before any AWS call: every bad
 * value is one line naming the flag.
 */
import {
  REDRIVABLE_STATUSES,
  type RedrivableStatus,
} from '../../lambda/shared/config/redrive-config';
import { REDRIVE_WINDOW_DAYS } from '../../lambda/shared/contract';
import { parseStateMachineArn } from '../../lambda/shared/state-machine-names';
import { CliError } from '../cli-error';
import { parseTimeAgo } from '../time-options';

/**
 * The default `--rate`: redrives per second. RedriveExecution's quota is a
 * token bucket of 800 with 150 a second in most regions (1,300 / 300 in
 * us-east-1, us-west-2, eu-west-1), per account and region, shared with the
 * redrive Lambda and anyone else. 50 a second is a third of the smaller
 * refill: the Lambda path keeps most of the quota while the bulk runs.
 */
export const DEFAULT_REDRIVE_RATE = 50;
/** The highest `--rate`: the larger regions' refill; above it the bucket empties and calls throttle. */
export const MAX_REDRIVE_RATE = 300;
/**
 * The default `--describe-rate`: DescribeExecution calls per second.
 * Its quota refills 10 a second in most regions (15 in the larger ones), and
 * the redrive Lambda describes every failure the sweeper found: half of the
 * smaller refill.
 */
export const DEFAULT_DESCRIBE_RATE = 5;
/** The highest `--describe-rate`: the larger regions' refill. */
export const MAX_DESCRIBE_RATE = 15;
/**
 * The default `--list-rate`: ListExecutions and ListStateMachines pages per
 * second, the sweeper's own default pace (its quota refills 2 a second in
 * most regions, 5 in the larger ones, and the sweeper lists too).
 */
export const DEFAULT_LIST_RATE = 1;
/** The highest `--list-rate`: the larger regions' refill. */
export const MAX_LIST_RATE = 5;

/** Which state machines a `--state-machine` value picks. */
export type MachineSelector =
  | { readonly kind: 'arn'; readonly arn: string; readonly text: string }
  | { readonly kind: 'name'; readonly name: string; readonly text: string }
  | { readonly kind: 'prefix'; readonly prefix: string; readonly text: string };

/** The options as commander hands them over. */
export interface RawRedriveOptions {
  readonly stateMachine?: readonly string[];
  readonly outsideScope?: string;
  readonly since?: string;
  readonly until?: string;
  readonly status?: readonly string[];
  readonly error?: readonly string[];
  readonly includeGaveUp?: boolean;
  readonly includeDenied?: boolean;
  readonly includeBeforeLiveHealing?: boolean;
  readonly ignoreBreaker?: boolean;
  readonly dryRun?: boolean;
  readonly yes?: boolean;
  readonly rate?: string;
  readonly describeRate?: string;
  readonly listRate?: string;
  readonly json?: boolean;
  readonly report?: string;
}

/** What `autoheal redrive` was asked to do, validated. */
export interface RedriveRequest {
  /** Empty: every state machine in the deployed scope. */
  readonly machines: readonly MachineSelector[];
  /** Why machines outside the deployed scope may be redriven; undefined: they are refused. */
  readonly outsideScope?: string;
  /** Epoch ms: failures that stopped before are left out. */
  readonly since: number;
  /** Epoch ms: failures that stopped at or after are left out. */
  readonly until: number;
  /** Undefined: each machine's configured statuses. */
  readonly statuses?: readonly RedrivableStatus[];
  /** Error globs (`*`, `?`); empty: any error. */
  readonly errors: readonly string[];
  readonly includeGaveUp: boolean;
  readonly includeDenied: boolean;
  readonly includeBeforeLiveHealing: boolean;
  readonly ignoreBreaker: boolean;
  readonly dryRun: boolean;
  readonly yes: boolean;
  /** Redrives per second. */
  readonly rate: number;
  /** DescribeExecution calls per second. */
  readonly describeRate: number;
  /** List pages per second. */
  readonly listRate: number;
  readonly json: boolean;
  readonly report?: string;
}

const DAY_MS = 86_400_000;

function parseRate(text: string | undefined, fallback: number, max: number, flag: string): number {
  if (text === undefined) return fallback;
  const rate = Number(text);
  if (!(Number.isFinite(rate) && rate > 0 && rate <= max)) {
    throw new CliError(
      `${flag} ${text}: give a number of calls per second above 0, at most ${max}`,
    );
  }
  return rate;
}

/** Splits repeated and comma-separated values. */
function listOf(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/**
 * A `--state-machine` value: an ARN, a name, or a name prefix ending in `*`.
 *
 * @example
 * ```ts
 * machineSelector('orders-*'); // { kind: 'prefix', prefix: 'orders-', text: 'orders-*' }
 * ```
 */
export function machineSelector(text: string): MachineSelector {
  if (text.startsWith('arn:')) {
    const parts = parseStateMachineArn(text);
    if (!parts || parts.mapRunLabel !== undefined) {
      throw new CliError(
        `--state-machine ${text}: not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)`,
      );
    }
    return { kind: 'arn', arn: text, text };
  }
  if (text.endsWith('*')) {
    const prefix = text.slice(0, -1);
    if (prefix === '' || prefix.includes('*')) {
      throw new CliError(`--state-machine ${text}: a prefix is a name start followed by one *`);
    }
    return { kind: 'prefix', prefix, text };
  }
  return { kind: 'name', name: text, text };
}

/**
 * Validates the options; throws a {@link CliError} naming the flag.
 *
 * @param now epoch ms, for durations
 * @example
 * ```ts
 * const request = redriveRequestOf({ since: '6h', status: ['FAILED'], dryRun: true }, Date.now());
 * ```
 */
export function redriveRequestOf(raw: RawRedriveOptions, now: number): RedriveRequest {
  const statuses = listOf(raw.status).map((s) => s.toUpperCase());
  for (const status of statuses) {
    if (!(REDRIVABLE_STATUSES as readonly string[]).includes(status)) {
      throw new CliError(`--status ${status}: give ${REDRIVABLE_STATUSES.join(', ')}`);
    }
  }
  const since = parseTimeAgo(raw.since ?? `${REDRIVE_WINDOW_DAYS}d`, now, '--since');
  const until = raw.until === undefined ? now + 1 : parseTimeAgo(raw.until, now, '--until');
  if (since >= until) {
    throw new CliError('--since must be before --until');
  }
  if (raw.outsideScope !== undefined && raw.outsideScope.trim() === '') {
    throw new CliError('--outside-scope needs a reason (it goes into the report)');
  }
  if (raw.dryRun && raw.yes) {
    // Harmless, but a script that passes both probably meant one of them.
    throw new CliError('--dry-run and --yes contradict each other: pass one');
  }
  return {
    machines: listOf(raw.stateMachine).map(machineSelector),
    outsideScope: raw.outsideScope?.trim(),
    since,
    until,
    statuses: statuses.length > 0 ? (statuses as RedrivableStatus[]) : undefined,
    errors: listOf(raw.error),
    includeGaveUp: raw.includeGaveUp === true,
    includeDenied: raw.includeDenied === true,
    includeBeforeLiveHealing: raw.includeBeforeLiveHealing === true,
    ignoreBreaker: raw.ignoreBreaker === true,
    dryRun: raw.dryRun === true,
    yes: raw.yes === true,
    rate: parseRate(raw.rate, DEFAULT_REDRIVE_RATE, MAX_REDRIVE_RATE, '--rate'),
    describeRate: parseRate(
      raw.describeRate,
      DEFAULT_DESCRIBE_RATE,
      MAX_DESCRIBE_RATE,
      '--describe-rate',
    ),
    listRate: parseRate(raw.listRate, DEFAULT_LIST_RATE, MAX_LIST_RATE, '--list-rate'),
    json: raw.json === true,
    report: raw.report,
  };
}

/** Milliseconds in a day (the redrive window is in days). */
export { DAY_MS };
