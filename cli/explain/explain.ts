/**
 * `autoheal explain`: why Autoheal did (or would do) what it did about one
 * execution. Every rule comes from the runtime: the handler's own flow
 * (`redrive-rule.ts`: scope, effective policy, live-since, `decideRedrive`,
 * when it confirms with DescribeExecution), its DescribeExecution call
 * (`describeStatusChange`), its record lookup (`redrive-records.ts`, as the
 * sweeper reads records) and the breaker's control functions. Nothing here
 * decides anything on its own.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SQSRecord } from 'aws-lambda';
import type { BreakerDescription } from '../../lambda/redrive/breaker/breaker-control';
import type { HeldFailure } from '../../lambda/redrive/breaker/breaker-store';
import {
  failureKey,
  type RedriveDecision,
  redriveIdempotencyKey,
} from '../../lambda/redrive/decide';
import { describeStatusChange } from '../../lambda/redrive/execution-api';
import {
  type ExecutionStatusChange,
  parseExecutionStatusChange,
} from '../../lambda/redrive/failure-event';
import { documentForConfig, type LiveSinceDocument } from '../../lambda/redrive/live-healing';
import { judgeFreshness } from '../../lambda/redrive/message-freshness';
import type { RedriveRecordReader } from '../../lambda/redrive/redrive-records';
import {
  decideOnFacts,
  EXECUTION_NOT_FOUND,
  mustConfirm,
  outOfScopeError,
} from '../../lambda/redrive/redrive-rule';
import type {
  RedriveHandlerConfig,
  RedrivePolicy,
} from '../../lambda/shared/config/redrive-config';
import { scopeIndexOf } from '../../lambda/shared/config/scope-index';
import { InvalidInputError } from '../../lambda/shared/errors';
import { parseExecutionArn } from '../../lambda/shared/state-machine-names';
import { CliError } from '../cli-error';
import { manualIdempotencyKey } from '../redrive/plan';

/** The deployed rule explain applies: the redrive handler's config, live-since document and home. */
export interface ExplainSetup {
  /** The redrive section as the handler reads it. */
  readonly config: RedriveHandlerConfig;
  /** The live-since document the handler holds (checked against the config here, as the handler does). */
  readonly liveSince: LiveSinceDocument;
  /** `arn:PARTITION:states:REGION:ACCOUNT:`: where name-prefix scope applies. */
  readonly statesArnPrefix: string;
}

/**
 * What the redrive handler does about the facts, in one word: `park` (the
 * event is invalid or out of scope: dead-letter queue, no action), `describe`
 * (it reads the execution first; offline only), or the decision's action.
 */
export type HandlerAction = 'park' | RedriveDecision['action'];

/** One idempotency record of one failure of the execution. */
export interface FailureRecord {
  /** `executionArn#redriveCount`. */
  readonly failureKey: string;
  readonly redriveCount: number;
  /**
   * Which key it is under: the failure key (`automatic`: the handler, or a
   * bulk redrive of a failure nobody had recorded), `observe-only` (an
   * observe-only decision), `manual` (a bulk redrive of a failure the
   * automatic path gave up on or skipped).
   */
  readonly key: 'automatic' | 'observe-only' | 'manual';
  /** Powertools' status: COMPLETED, INPROGRESS or EXPIRED. */
  readonly status: string;
  /** What the handler recorded (`FailureOutcome`): outcome, reason, redriveDate. */
  readonly outcome?: Readonly<Record<string, unknown>>;
  /** ISO time the record expires (TTL). */
  readonly expiresAt?: string;
}

/** Everything explain found; printed as text, or as JSON with `--json`. */
export interface Explanation {
  /** Where the facts come from: DescribeExecution (the execution now) or the event file. */
  readonly factsFrom: 'DescribeExecution' | 'event';
  readonly executionArn?: string;
  readonly stateMachineArn?: string;
  readonly stateMachineName?: string;
  /** The facts decided on (undefined when the event was parked before a decision). */
  readonly facts?: ExecutionStatusChange;
  /** What the handler does, in one word. */
  readonly action: HandlerAction;
  /** The rule that made the decision, in words (which deny/allow entry, which limit, when due). */
  readonly rule: string;
  /** The decision as `decideRedrive` returned it. */
  readonly decision?: RedriveDecision;
  /** When a deferred redrive comes due (ISO). */
  readonly dueAt?: string;
  /** Why the handler parks the event (`invalid-event: FIELD: PROBLEM`). */
  readonly parked?: { readonly field: string; readonly problem: string };
  /** The scope entries (configured ARNs, name prefixes) that cover the machine; empty when out of scope. */
  readonly scope?: { readonly inScope: boolean; readonly coveredBy: readonly string[] };
  /** The override key that applied to the default policy, if any. */
  readonly override?: string;
  readonly policy?: RedrivePolicy;
  /** Since when the machine has been under live healing for this status (ISO), if it is. */
  readonly liveSince?: string;
  /**
   * Event files only: the handler would read the execution with
   * DescribeExecution before acting (the event lacks the redrive fields, or
   * its facts may be stale), and decide on what that returns.
   */
  readonly handlerDescribesFirst?: boolean;
  /** What the facts leave open or what a describe would add (offline), and stale-message notes. */
  readonly notes: readonly string[];
  /** The idempotency records of each failure, `#0` to the current one. */
  readonly records?: readonly FailureRecord[];
  /** The machine's breaker, when its breaker is enabled and the deployment has a state table. */
  readonly breaker?: Pick<
    BreakerDescription,
    'effectiveState' | 'computedState' | 'forced' | 'cooldownEndsAt'
  >;
  /** The failure as the breaker holds it, if held. */
  readonly held?: HeldFailure;
}

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

/**
 * The rule behind a decision, in words: from the decision's own reason,
 * detail and due time, and the policy's limits.
 *
 * @example
 * ```ts
 * ruleOf({ action: 'redrive', attempt: 2 }, policy); // 'redrive: attempt 2 of maxRedrives 3, due now'
 * ```
 */
export function ruleOf(decision: RedriveDecision, policy: RedrivePolicy): string {
  switch (decision.action) {
    case 'describe':
      return 'the facts lack the redrive fields (redriveCount, redriveStatus, stopDate): the handler reads them with DescribeExecution, then decides';
    case 'ignore':
      return `ignore (${decision.reason}): ${decision.detail}`;
    case 'defer':
      return `defer: the redrive delay (policy delay: base ${policy.delay.baseSeconds} s, factor ${policy.delay.factor}, cap ${policy.delay.capSeconds} s, jitter ${policy.delay.jitterRatio}) runs from the stop; due at ${iso(decision.dueAt)}, ${decision.delaySeconds} s from now`;
    case 'redrive':
      return `redrive: attempt ${decision.attempt} of maxRedrives ${policy.maxRedrives}, due now`;
    case 'give-up':
      return `give up (${decision.reason}): ${decision.detail}`;
    case 'skip':
      return `skip (${decision.reason}): ${decision.detail}`;
  }
}

/** The facts and decision for one parsed change, as the handler decides on it. */
function explainFacts(
  setup: ExplainSetup,
  change: ExecutionStatusChange,
  now: number,
  factsFrom: Explanation['factsFrom'],
  notes: string[],
): Explanation {
  const base = {
    factsFrom,
    executionArn: change.executionArn,
    stateMachineArn: change.stateMachineArn,
    stateMachineName: change.stateMachineName,
    facts: change,
  };
  const entries = scopeIndexOf(setup.config).coveringEntries(
    change.stateMachineArn.split('/')[0],
    change.stateMachineName,
  );
  const coveredBy = [
    ...entries.arns.map((i) => setup.config.stateMachineArns[i]),
    ...entries.prefixes.map((i) => `prefix ${setup.config.stateMachineNamePrefixes[i]}`),
  ];
  const outOfScope = outOfScopeError(setup.config, change.stateMachineArn, setup.statesArnPrefix);
  if (outOfScope) {
    return {
      ...base,
      action: 'park',
      rule: `park (invalid-event): ${outOfScope.field} ${outOfScope.problem}`,
      parked: { field: outOfScope.field, problem: outOfScope.problem },
      scope: { inScope: false, coveredBy: [] },
      notes,
    };
  }
  const document = documentForConfig(setup.liveSince, setup.config);
  if (document !== setup.liveSince) {
    notes.push('the live-since document belongs to another config: the handler redrives nothing');
  }
  const { policy, liveSince, decision } = decideOnFacts(setup.config, document, change, now);
  const override = Object.hasOwn(setup.config.overrides, change.stateMachineName)
    ? change.stateMachineName
    : undefined;
  return {
    ...base,
    action: decision.action,
    rule: ruleOf(decision, policy),
    decision,
    dueAt: decision.action === 'defer' ? iso(decision.dueAt) : undefined,
    scope: { inScope: true, coveredBy },
    override,
    policy,
    liveSince: iso(liveSince),
    notes,
  };
}

/** An SQS record as EventBridge delivers an event to the work queue: what the handler judges freshness on. */
function deliveredRecord(body: string, now: number): SQSRecord {
  return {
    messageId: 'autoheal-explain',
    receiptHandle: '',
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(now),
      SenderId: '',
      ApproximateFirstReceiveTimestamp: String(now),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: '',
    awsRegion: '',
  };
}

/**
 * Explains an EventBridge status-change event (the body of a work-queue
 * message) without any AWS call: parsed, scoped and decided as the handler
 * does, as if EventBridge delivered it now. Where the handler would call
 * DescribeExecution first, the explanation says so and what it would add.
 *
 * @param body the event's JSON text
 * @param now epoch milliseconds
 * @example
 * ```ts
 * const explanation = explainEvent(setup, readFileSync('event.json', 'utf8'), Date.now());
 * explanation.action; // 'skip'
 * ```
 */
export function explainEvent(setup: ExplainSetup, body: string, now: number): Explanation {
  let change: ExecutionStatusChange;
  try {
    change = parseExecutionStatusChange(body, now);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    return {
      factsFrom: 'event',
      action: 'park',
      rule: `park (invalid-event): ${error.field} ${error.problem}`,
      parked: { field: error.field, problem: error.problem },
      notes: [],
    };
  }
  const notes: string[] = [];
  const explanation = explainFacts(setup, change, now, 'event', notes);
  if (explanation.action === 'describe') {
    notes.push(
      'DescribeExecution would add redriveCount, redriveStatus and stopDate: run `autoheal explain EXECUTION_ARN` to decide on the execution as it is now',
    );
    return { ...explanation, handlerDescribesFirst: true };
  }
  if (!explanation.decision || !explanation.policy) return explanation;
  const freshness = judgeFreshness(deliveredRecord(body, now), change, {
    now,
    autohealRoleIds: [],
    maxDeferralMs: explanation.policy.delay.capSeconds * 1000,
  });
  if (freshness.fresh || !mustConfirm(explanation.decision, freshness)) {
    return { ...explanation, handlerDescribesFirst: false };
  }
  notes.push(
    `${freshness.detail}: the handler would confirm the facts with DescribeExecution and decide on the execution as it is now (this decision is on the event's facts)`,
  );
  return { ...explanation, handlerDescribesFirst: true };
}

/**
 * Explains an execution as it is now: DescribeExecution (the handler's own
 * call, confirming: only what Step Functions says counts), then the handler's
 * decision on those facts. Invalid ARNs fail before any AWS call.
 *
 * @throws {CliError} when the ARN is not a Standard execution ARN
 */
export async function explainExecution(
  setup: ExplainSetup,
  sfn: SFNClient,
  executionArn: string,
  now: number,
): Promise<Explanation> {
  const parts = parseExecutionArn(executionArn);
  if (!parts) {
    throw new CliError(
      `${executionArn} is not an execution ARN (arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME)`,
    );
  }
  if (parts.kind === 'express') {
    throw new CliError(
      `${executionArn} is an Express execution: Autoheal redrives Standard executions only`,
    );
  }
  const stateMachineArn = `arn:${parts.partition}:states:${parts.region}:${parts.account}:stateMachine:${parts.stateMachineName}`;
  const known: ExecutionStatusChange = {
    eventId: 'autoheal-explain',
    source: 'aws.states',
    eventTime: now,
    executionArn,
    stateMachineArn,
    stateMachineName: parts.stateMachineName,
    status: 'UNKNOWN',
    isMapRunChild: parts.mapRunLabel !== undefined,
    redriveCount: undefined,
    redriveStatus: undefined,
    redriveStatusReason: undefined,
    errorName: undefined,
    stopDate: undefined,
  };
  const described = await describeStatusChange(
    sfn,
    known,
    { deadline: now + 60_000 },
    'confirming',
  );
  if (!described) {
    const explanation = explainFacts(setup, known, now, 'DescribeExecution', []);
    if (explanation.action === 'park') return explanation;
    return {
      ...explanation,
      facts: undefined,
      action: EXECUTION_NOT_FOUND.action,
      decision: EXECUTION_NOT_FOUND,
      rule: `skip (${EXECUTION_NOT_FOUND.reason}): ${EXECUTION_NOT_FOUND.detail}`,
      dueAt: undefined,
    };
  }
  return explainFacts(setup, described, now, 'DescribeExecution', []);
}

/** The most failures whose records are read (the latest ones): an execution redriven more often is rare. */
export const MAX_FAILURES_READ = 20;

/**
 * The idempotency records of each failure of the execution, `#0` to
 * `#redriveCount` (the latest {@link MAX_FAILURES_READ}), under each of its
 * keys (automatic, observe-only, manual). Three reads per failure.
 *
 * @example
 * ```ts
 * const records = await failureRecords(redriveRecordReader(store, 'autoheal'), executionArn, 2);
 * records[0]; // { failureKey: `${executionArn}#0`, key: 'automatic', status: 'COMPLETED', outcome: { outcome: 'redriven', ... } }
 * ```
 */
export async function failureRecords(
  read: RedriveRecordReader,
  executionArn: string,
  redriveCount: number,
): Promise<FailureRecord[]> {
  const records: FailureRecord[] = [];
  for (
    let count = Math.max(0, redriveCount - MAX_FAILURES_READ + 1);
    count <= redriveCount;
    count++
  ) {
    const key = failureKey(executionArn, count);
    const keys = [
      ['automatic', redriveIdempotencyKey(key, false)],
      ['observe-only', redriveIdempotencyKey(key, true)],
      ['manual', manualIdempotencyKey(key)],
    ] as const;
    for (const [kind, idempotencyKey] of keys) {
      const record = await read(idempotencyKey);
      if (!record) continue;
      records.push({
        failureKey: key,
        redriveCount: count,
        key: kind,
        status: record.getStatus(),
        outcome: record.responseData as Record<string, unknown> | undefined,
        expiresAt: iso(
          record.expiryTimestamp === undefined ? undefined : record.expiryTimestamp * 1000,
        ),
      });
    }
  }
  return records;
}
