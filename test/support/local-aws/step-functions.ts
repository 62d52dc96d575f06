/**
 * The Step Functions side of the local AWS endpoint: a registry of executions
 * and state machines, and the operations the redrive path calls
 * (RedriveExecution, DescribeExecution, ListExecutions, ListStateMachines),
 * with the service's documented rules.
 *
 * A state machine's downstream can be scripted ({@link DownstreamScript}): a
 * redriven execution of it then runs for a while and settles, FAILED again
 * while the downstream is broken, SUCCEEDED once it is healthy, and each step
 * is a `Step Functions Execution Status Change` event as Step Functions sends
 * it (RUNNING with the higher redriveCount at once, then the terminal event).
 */
import { randomUUID } from 'node:crypto';
import {
  AwsError,
  epochSeconds,
  type JsonInput,
  optionalInteger,
  optionalString,
  page,
  requiredString,
} from './wire';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
export type StateMachineType = 'STANDARD' | 'EXPRESS';

/** An execution as a test registers it. Times are epoch milliseconds. */
export interface ExecutionSpec {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly status: ExecutionStatus;
  readonly startDate: number;
  readonly stopDate?: number;
  readonly error?: string;
  readonly cause?: string;
  /** @default 0 */
  readonly redriveCount?: number;
  /** @default 'STANDARD' */
  readonly type?: StateMachineType;
}

/** One effective redrive (a client-token replay is not one). */
export interface RedriveRecord {
  /** When the redrive happened (the endpoint's clock, epoch ms); also the redriveDate answered. */
  readonly at: number;
  readonly clientToken?: string;
}

/** An execution as the endpoint holds it now. */
export interface ExecutionState {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly type: StateMachineType;
  readonly status: ExecutionStatus;
  readonly startDate: number;
  readonly stopDate?: number;
  readonly error?: string;
  readonly cause?: string;
  readonly redriveCount: number;
  /** The last effective redrive, epoch ms. */
  readonly redriveDate?: number;
  /** Every effective redrive through the endpoint, oldest first. */
  readonly redrives: readonly RedriveRecord[];
}

/** A state machine as the endpoint holds it. */
export interface StateMachineState {
  readonly stateMachineArn: string;
  readonly name: string;
  readonly type: StateMachineType;
  readonly creationDate: number;
}

/** A span of time, epoch ms on the registry's clock: `from` inclusive, `to` exclusive. */
export interface TimeSpan {
  readonly from: number;
  readonly to: number;
}

/**
 * How a state machine's downstream answers its redriven executions: each
 * RedriveExecution made while the downstream is broken (inside one of
 * `broken`) fails again, any other succeeds. The outcome is fixed when the
 * redrive is made (the re-run state calls the downstream then); the execution
 * settles `runMs` later.
 */
export interface DownstreamScript {
  /** When the downstream is broken; outside these spans it is healthy. */
  readonly broken: readonly TimeSpan[];
  /**
   * How long a redriven execution runs before it settles, ms.
   * @default 1000
   */
  readonly runMs?: number;
  /**
   * The error of an execution that fails again.
   * @default 'Lambda.ServiceException'
   */
  readonly error?: string;
}

/** The downstream broken from `from` to `to` (epoch ms), healthy before and after. */
export function brokenBetween(from: number, to: number): readonly TimeSpan[] {
  return [{ from, to }];
}

/**
 * A flapping downstream: broken for `brokenMs`, then healthy for `healthyMs`,
 * repeating from `from` until `until` (healthy from then on).
 */
export function flapping(options: {
  readonly from: number;
  readonly brokenMs: number;
  readonly healthyMs: number;
  readonly until: number;
}): readonly TimeSpan[] {
  const spans: TimeSpan[] = [];
  const period = options.brokenMs + options.healthyMs;
  if (!(options.brokenMs > 0 && period > 0)) throw new Error('A flap needs a broken time above 0');
  for (let at = options.from; at < options.until; at += period) {
    spans.push({ from: at, to: Math.min(at + options.brokenMs, options.until) });
  }
  return spans;
}

/** True when `at` falls in one of `spans`. */
export function isWithin(spans: readonly TimeSpan[], at: number): boolean {
  return spans.some((span) => at >= span.from && at < span.to);
}

/** A `Step Functions Execution Status Change` event as EventBridge delivers it. */
export interface StatusChangeEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'Step Functions Execution Status Change';
  readonly source: 'aws.states';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: {
    readonly executionArn: string;
    readonly stateMachineArn: string;
    readonly name: string;
    readonly status: ExecutionStatus;
    readonly startDate: number;
    readonly stopDate: number | null;
    readonly input: string;
    readonly inputDetails: { readonly included: boolean };
    readonly output: string | null;
    readonly outputDetails: { readonly included: boolean } | null;
    readonly stateMachineVersionArn: null;
    readonly stateMachineAliasArn: null;
    readonly redriveCount: number;
    readonly redriveDate: number | null;
    readonly redriveStatus: string;
    readonly redriveStatusReason: string | null;
    readonly error: string | null;
    readonly cause: string | null;
  };
}

/** Receives the status-change events of scripted executions, in the order Step Functions sends them. */
export type StatusChangeListener = (event: StatusChangeEvent) => void;

interface Settlement {
  readonly executionArn: string;
  readonly at: number;
  readonly status: 'FAILED' | 'SUCCEEDED';
  readonly error?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Executions stopped this long ago or longer are no longer redrivable. */
const REDRIVE_WINDOW_MS = 14 * DAY_MS;
/** Open executions this old are no longer redrivable. */
const MAX_OPEN_MS = 365 * DAY_MS;
/** Redrive exists for executions started after this. */
const REDRIVE_RELEASE = Date.parse('2023-11-15T00:00:00Z');
/** How long, and for how many of the latest tokens, RedriveExecution answers a client token idempotently. */
const TOKEN_TTL_MS = 15 * 60 * 1000;
const TOKENS_KEPT = 10;
const CLIENT_TOKEN = /^[!-~]{1,64}$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:(execution|express):[^:]+:[^:]+/;
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/;
const STATUSES = new Set([
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
]);
const REDRIVABLE_STATUSES = new Set<ExecutionStatus>(['FAILED', 'TIMED_OUT', 'ABORTED']);

interface Execution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  type: StateMachineType;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  error?: string;
  cause?: string;
  redriveCount: number;
  redriveDate?: number;
  redrives: RedriveRecord[];
  /** The latest tokens that redrove this execution, newest last. */
  tokens: { token: string; at: number; redriveDate: number }[];
}

interface StateMachine extends StateMachineState {
  /** Its executions, newest startDate first (sorted when listed). */
  executions: Execution[];
  sorted: boolean;
}

/** The last `:`-separated part of an ARN. */
function lastPart(arn: string): string {
  return arn.slice(arn.lastIndexOf(':') + 1);
}

/** Step Functions executions and state machines, and the API operations on them. */
export class StepFunctionsRegistry {
  private readonly executions = new Map<string, Execution>();
  private readonly machines = new Map<string, StateMachine>();
  private readonly downstreams = new Map<string, DownstreamScript>();
  /** Redriven executions of scripted machines that have yet to settle, in redrive order. */
  private settlements: Settlement[] = [];
  private readonly listeners: StatusChangeListener[] = [];

  constructor(private readonly clock: () => number) {}

  /**
   * Scripts the downstream of a state machine (again: replaces the script):
   * from now on its redriven executions settle as {@link DownstreamScript} says.
   */
  scriptDownstream(stateMachineArn: string, script: DownstreamScript): void {
    this.downstreams.set(stateMachineArn, script);
  }

  /** Adds a listener of the status-change events of scripted executions. */
  onStatusChange(listener: StatusChangeListener): void {
    this.listeners.push(listener);
  }

  /** When the next redriven execution settles (clock ms), or undefined when none is running. */
  nextSettlementAt(): number | undefined {
    let next: number | undefined;
    for (const s of this.settlements) if (next === undefined || s.at < next) next = s.at;
    return next;
  }

  /** Settles the redriven executions whose run has ended by now; returns how many settled. */
  settleDue(): number {
    const now = this.clock();
    const due = this.settlements.filter((s) => s.at <= now);
    if (due.length === 0) return 0;
    this.settlements = this.settlements.filter((s) => s.at > now);
    due.sort((a, b) => a.at - b.at);
    for (const settlement of due) {
      const e = this.executions.get(settlement.executionArn);
      if (e?.status !== 'RUNNING') continue;
      e.status = settlement.status;
      e.stopDate = settlement.at;
      e.error = settlement.error;
      e.cause =
        settlement.error === undefined
          ? undefined
          : `${settlement.error}: the downstream is unavailable`;
      this.emit(e, settlement.at);
    }
    return due.length;
  }

  /**
   * The status-change event Step Functions sends for the execution as it is
   * now (e.g. the failure event of a registered FAILED execution), stamped
   * with its stop time (or now, while it runs).
   */
  statusChangeEventOf(executionArn: string): StatusChangeEvent {
    const e = this.executions.get(executionArn);
    if (!e) throw new Error(`No execution ${executionArn}`);
    return this.statusChangeEvent(e, e.stopDate ?? this.clock());
  }

  /** The status-change event of an execution as it is now, stamped `at`. */
  private statusChangeEvent(e: Execution, at: number): StatusChangeEvent {
    // arn:PARTITION:states:REGION:ACCOUNT:execution:MACHINE:NAME
    const [, , , region = '', account = ''] = e.executionArn.split(':');
    const reason = e.status === 'RUNNING' ? undefined : this.notRedrivableReason(e);
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account,
      time: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources: [e.executionArn],
      detail: {
        executionArn: e.executionArn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: e.startDate,
        stopDate: e.stopDate ?? null,
        input: '{}',
        inputDetails: { included: true },
        output: e.status === 'SUCCEEDED' ? '{}' : null,
        outputDetails: e.status === 'SUCCEEDED' ? { included: true } : null,
        stateMachineVersionArn: null,
        stateMachineAliasArn: null,
        redriveCount: e.redriveCount,
        redriveDate: e.redriveDate ?? null,
        redriveStatus:
          e.status === 'RUNNING'
            ? 'REDRIVE_IN_PROGRESS'
            : reason === undefined
              ? 'REDRIVABLE'
              : 'NOT_REDRIVABLE',
        redriveStatusReason: e.status === 'RUNNING' ? null : (reason ?? null),
        error: e.error ?? null,
        cause: e.cause ?? null,
      },
    };
  }

  private emit(e: Execution, at: number): void {
    if (this.listeners.length === 0) return;
    const event = this.statusChangeEvent(e, at);
    for (const listener of this.listeners) listener(event);
  }

  /** Registers a state machine (again: keeps the first registration). */
  addStateMachine(
    stateMachineArn: string,
    options: { readonly type?: StateMachineType; readonly creationDate?: number } = {},
  ): void {
    if (this.machines.has(stateMachineArn)) return;
    this.machines.set(stateMachineArn, {
      stateMachineArn,
      name: lastPart(stateMachineArn),
      type: options.type ?? 'STANDARD',
      creationDate: options.creationDate ?? this.clock(),
      executions: [],
      sorted: true,
    });
  }

  /** Registers (or replaces) an execution, and its state machine. */
  addExecution(spec: ExecutionSpec): void {
    const type = spec.type ?? 'STANDARD';
    this.addStateMachine(spec.stateMachineArn, { type, creationDate: spec.startDate });
    const machine = this.machines.get(spec.stateMachineArn);
    const previous = this.executions.get(spec.executionArn);
    if (previous) this.removeFromMachine(previous);
    const execution: Execution = {
      executionArn: spec.executionArn,
      stateMachineArn: spec.stateMachineArn,
      name: spec.executionArn.split(':')[7] ?? lastPart(spec.executionArn),
      type,
      status: spec.status,
      startDate: spec.startDate,
      stopDate: spec.stopDate ?? (spec.status === 'RUNNING' ? undefined : spec.startDate),
      error: spec.error,
      cause: spec.cause,
      redriveCount: spec.redriveCount ?? 0,
      redrives: [],
      tokens: [],
    };
    this.executions.set(spec.executionArn, execution);
    if (machine) {
      machine.executions.push(execution);
      machine.sorted = false;
    }
  }

  /** The execution as it is now, or undefined. */
  execution(executionArn: string): ExecutionState | undefined {
    const e = this.executions.get(executionArn);
    if (!e) return undefined;
    const { tokens: _tokens, ...state } = e;
    return { ...state, redrives: [...e.redrives] };
  }

  /**
   * Sets an execution's status, e.g. to make a redriven execution fail again.
   * A stopped status without `stopDate` stops it now; RUNNING clears the stop.
   */
  setExecutionStatus(
    executionArn: string,
    status: ExecutionStatus,
    fields: { readonly error?: string; readonly cause?: string; readonly stopDate?: number } = {},
  ): void {
    const e = this.executions.get(executionArn);
    if (!e) throw new Error(`No execution ${executionArn}`);
    e.status = status;
    e.stopDate = status === 'RUNNING' ? undefined : (fields.stopDate ?? this.clock());
    e.error = fields.error;
    e.cause = fields.cause;
  }

  /** The state machines, by name. */
  stateMachines(): readonly StateMachineState[] {
    return [...this.machines.values()]
      .map(({ stateMachineArn, name, type, creationDate }) => ({
        stateMachineArn,
        name,
        type,
        creationDate,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The target a call is about, for the call log. */
  target(input: JsonInput): string | undefined {
    const target = input.executionArn ?? input.stateMachineArn;
    return typeof target === 'string' ? target : undefined;
  }

  /** Runs one operation; throws an {@link AwsError} for the service's error answers. */
  invoke(operation: string, input: JsonInput): unknown {
    switch (operation) {
      case 'RedriveExecution':
        return this.redriveExecution(input);
      case 'DescribeExecution':
        return this.describeExecution(input);
      case 'ListExecutions':
        return this.listExecutions(input);
      case 'ListStateMachines':
        return this.listStateMachines(input);
      default:
        throw new AwsError('UnknownOperationException', `Unknown operation ${operation}`);
    }
  }

  private removeFromMachine(e: Execution): void {
    const machine = this.machines.get(e.stateMachineArn);
    if (machine) machine.executions = machine.executions.filter((x) => x !== e);
  }

  private findExecution(input: JsonInput): Execution {
    const executionArn = requiredString(input, 'executionArn');
    if (!EXECUTION_ARN.test(executionArn)) {
      throw new AwsError(
        'InvalidArn',
        `Invalid Arn: 'Resource type not valid in this context: ${executionArn}'`,
      );
    }
    const e = this.executions.get(executionArn);
    if (!e)
      throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return e;
  }

  /** Why the execution cannot be redriven now; undefined when it can. */
  private notRedrivableReason(e: Execution): string | undefined {
    if (e.type === 'EXPRESS') return 'Express executions cannot be redriven';
    if (!REDRIVABLE_STATUSES.has(e.status))
      return `Execution is ${e.status} and cannot be redriven`;
    const now = this.clock();
    if (e.startDate < REDRIVE_RELEASE) return 'Execution started before redrive was released';
    if (e.stopDate !== undefined && now - e.stopDate >= REDRIVE_WINDOW_MS) {
      return 'Execution can no longer be redriven: it stopped 14 days ago or more';
    }
    if (now - e.startDate >= MAX_OPEN_MS) {
      return 'Execution can no longer be redriven: it was opened one year ago or more';
    }
    return undefined;
  }

  private redriveExecution(input: JsonInput) {
    const clientToken = optionalString(input, 'clientToken');
    if (clientToken !== undefined && !CLIENT_TOKEN.test(clientToken)) {
      throw new AwsError(
        'ValidationException',
        "1 validation error detected: Value at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [!-~]+ and have length between 1 and 64",
      );
    }
    const e = this.findExecution(input);
    const now = this.clock();
    e.tokens = e.tokens.filter((t) => now - t.at < TOKEN_TTL_MS);
    const replay = clientToken && e.tokens.find((t) => t.token === clientToken);
    if (replay) return { redriveDate: epochSeconds(replay.redriveDate) };
    const reason = this.notRedrivableReason(e);
    if (reason) {
      throw new AwsError('ExecutionNotRedrivable', `Execution is not redrivable: ${reason}`);
    }
    e.status = 'RUNNING';
    e.stopDate = undefined;
    e.error = undefined;
    e.cause = undefined;
    e.redriveCount += 1;
    e.redriveDate = now;
    e.redrives.push(clientToken === undefined ? { at: now } : { at: now, clientToken });
    if (clientToken !== undefined) {
      e.tokens.push({ token: clientToken, at: now, redriveDate: now });
      if (e.tokens.length > TOKENS_KEPT) e.tokens.shift();
    }
    const downstream = this.downstreams.get(e.stateMachineArn);
    if (downstream) {
      const broken = isWithin(downstream.broken, now);
      this.settlements.push({
        executionArn: e.executionArn,
        at: now + (downstream.runMs ?? 1000),
        status: broken ? 'FAILED' : 'SUCCEEDED',
        ...(broken && { error: downstream.error ?? 'Lambda.ServiceException' }),
      });
      this.emit(e, now);
    }
    return { redriveDate: epochSeconds(now) };
  }

  private describeExecution(input: JsonInput) {
    const e = this.findExecution(input);
    const reason = this.notRedrivableReason(e);
    return {
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: epochSeconds(e.startDate),
      ...(e.stopDate !== undefined && { stopDate: epochSeconds(e.stopDate) }),
      ...(e.error !== undefined && { error: e.error }),
      ...(e.cause !== undefined && { cause: e.cause }),
      redriveCount: e.redriveCount,
      ...(e.redriveDate !== undefined && { redriveDate: epochSeconds(e.redriveDate) }),
      redriveStatus: reason ? 'NOT_REDRIVABLE' : 'REDRIVABLE',
      ...(reason && { redriveStatusReason: reason }),
    };
  }

  private listExecutions(input: JsonInput) {
    const stateMachineArn = optionalString(input, 'stateMachineArn');
    if (stateMachineArn === undefined) {
      throw new AwsError('ValidationException', 'Must provide a StateMachine ARN or MapRun ARN');
    }
    if (!STATE_MACHINE_ARN.test(stateMachineArn)) {
      throw new AwsError('InvalidArn', `Invalid Arn: '${stateMachineArn}'`);
    }
    const machine = this.machines.get(stateMachineArn);
    if (!machine) {
      throw new AwsError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${stateMachineArn}'`,
      );
    }
    const statusFilter = optionalString(input, 'statusFilter');
    if (statusFilter !== undefined && !STATUSES.has(statusFilter)) {
      throw new AwsError('ValidationException', `Invalid statusFilter: ${statusFilter}`);
    }
    const redriveFilter = optionalString(input, 'redriveFilter');
    if (
      redriveFilter !== undefined &&
      redriveFilter !== 'REDRIVEN' &&
      redriveFilter !== 'NOT_REDRIVEN'
    ) {
      throw new AwsError('ValidationException', `Invalid redriveFilter: ${redriveFilter}`);
    }
    if (!machine.sorted) {
      machine.executions.sort(
        (a, b) =>
          b.startDate - a.startDate ||
          (a.executionArn < b.executionArn ? -1 : a.executionArn > b.executionArn ? 1 : 0),
      );
      machine.sorted = true;
    }
    const matching = machine.executions.filter(
      (e) =>
        (statusFilter === undefined || e.status === statusFilter) &&
        (redriveFilter === undefined || (redriveFilter === 'REDRIVEN') === e.redriveCount > 0),
    );
    const listing = `executions|${stateMachineArn}|${statusFilter ?? ''}|${redriveFilter ?? ''}`;
    const result = page(matching, listing, optionalString(input, 'nextToken'), pageSize(input));
    return {
      executions: result.items.map((e) => ({
        executionArn: e.executionArn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: epochSeconds(e.startDate),
        ...(e.stopDate !== undefined && { stopDate: epochSeconds(e.stopDate) }),
        redriveCount: e.redriveCount,
        ...(e.redriveDate !== undefined && { redriveDate: epochSeconds(e.redriveDate) }),
      })),
      ...(result.nextToken && { nextToken: result.nextToken }),
    };
  }

  private listStateMachines(input: JsonInput) {
    const result = page(
      this.stateMachines(),
      'stateMachines',
      optionalString(input, 'nextToken'),
      pageSize(input),
    );
    return {
      stateMachines: result.items.map((m) => ({
        stateMachineArn: m.stateMachineArn,
        name: m.name,
        type: m.type,
        creationDate: epochSeconds(m.creationDate),
      })),
      ...(result.nextToken && { nextToken: result.nextToken }),
    };
  }
}

/** `maxResults`: 0 or absent means the default page of 100; at most 1000. */
function pageSize(input: JsonInput): number {
  const maxResults = optionalInteger(input, 'maxResults') ?? 0;
  if (maxResults < 0 || maxResults > 1000) {
    throw new AwsError(
      'ValidationException',
      "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000",
    );
  }
  return maxResults === 0 ? 100 : maxResults;
}
