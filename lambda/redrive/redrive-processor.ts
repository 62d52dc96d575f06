/**
 * The redrive handler, built from injected clients so tests can drive it
 * against mocks, DynamoDB Local or a local AWS endpoint.
 *
 * Per SQS record: parse and validate the event (a bad one is parked with its
 * reason, no AWS call), decide with the pure {@link decideRedrive} (which
 * skips a failure from before its state machine came under live healing, by
 * the live-since document in the environment: no AWS call), then act:
 * defer by re-sending the message with a delay, or run the one idempotent
 * action for this failure (redrive, give-up notice, skip notice).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MAX_DELAY_SECONDS } from '../shared/config/common';
import type { RedriveHandlerConfig } from '../shared/config/redrive-config';
import { MESSAGE_ATTRIBUTES } from '../shared/contract';
import { RetryableError } from '../shared/errors';
import { autohealIdempotencyConfig } from '../shared/idempotency';
import { countMetric } from '../shared/metrics';
import { type NoticeSender, plainNoticeSender } from '../shared/notice-digest';
import { deferralLimit } from '../shared/sqs-buffer';
import {
  type BufferedHealerDeps,
  createSqsEventHandler,
  deferOrPark,
} from '../shared/sqs-event-handler';
import type { BreakerStore } from './breaker/breaker-store';
import { describeStatusChange } from './execution-api';
import { createFailureAction, failureActionFor } from './failure-action';
import { type ExecutionStatusChange, parseExecutionStatusChange } from './failure-event';
import { documentForConfig, type LiveSinceDocument } from './live-healing';
import { judgeFreshness } from './message-freshness';
import { createRedriveBreaker } from './redrive-breaker';
import { decideOnFacts, EXECUTION_NOT_FOUND, mustConfirm, outOfScopeError } from './redrive-rule';

export interface RedriveProcessorDeps extends BufferedHealerDeps {
  /**
   * The installation's idempotency key prefix (`AUTOHEAL_IDEMPOTENCY_KEY_PREFIX`).
   * @default 'autoheal' (the app's, and every record's before installations had prefixes)
   */
  readonly idempotencyKeyPrefix?: string;
  readonly config: RedriveHandlerConfig;
  readonly sfn: SFNClient;
  /**
   * The storm brake's state (`AUTOHEAL_STATE_TABLE`): with it, each machine whose
   * `breaker` is enabled records relapses and recoveries and holds failures while
   * its breaker is open.
   * @default undefined (no breaker anywhere)
   */
  readonly breakerStore?: BreakerStore;
  /**
   * The client to call about a state machine with: a scope role's for the
   * machines granted to one (see `scope-roles.ts`).
   * @default - `sfn` for every machine
   */
  readonly sfnFor?: (stateMachineArn: string) => SFNClient;
  /**
   * `arn:PARTITION:states:REGION:ACCOUNT:` of the deployment (the
   * `AUTOHEAL_STATES_ARN_PREFIX` variable): name-prefix scope covers only the
   * state machines under it.
   */
  readonly statesArnPrefix: string;
  /**
   * Since when each scoped state machine has been under live healing (the
   * `AUTOHEAL_LIVE_SINCE` document): older failures are skipped, never redriven.
   */
  readonly liveSince: LiveSinceDocument;
  /**
   * Role ids of the Autoheal roles that send to the work queue (the
   * `AUTOHEAL_SENDER_ROLE_IDS` variable); see {@link judgeFreshness}.
   * @default [] (the sender check is off)
   */
  readonly autohealRoleIds?: readonly string[];
  /**
   * Sends the give-up and skip notices, at once or into digests.
   * @default every notice published on its own (`plainNoticeSender`)
   */
  readonly notices?: NoticeSender;
}

export type { FailureAction, FailureOutcome } from './failure-action';

/** This handler's metric names; the dashboard graphs them (test/unit/dashboard-metrics.test.ts). */
export const METRIC = {
  redriven: 'Redriven',
  observed: 'ObservedRedrive',
  deferred: 'Deferred',
  skipped: 'Skipped',
  gaveUp: 'GaveUp',
  ignored: 'Ignored',
  duplicate: 'DuplicateDelivery',
  confirmed: 'ConfirmedStale',
} as const;

/** Deferral hops one message may take: every redrive delay is at most 12 h ({@link deferralLimit}). */
export const REDRIVE_DEFERRAL_LIMIT = deferralLimit(MAX_DELAY_SECONDS);

/**
 * Builds the SQS batch handler of the redrive path.
 *
 * @example
 * ```ts
 * export const handler = createRedriveHandler({ config, sfn, sns, sqs, persistenceStore, ... });
 * ```
 */
export function createRedriveHandler(
  deps: RedriveProcessorDeps,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const { config, sfn, sns, sqs, logger, metrics } = deps;
  const sfnFor = deps.sfnFor ?? (() => sfn);
  const now = deps.now ?? Date.now;
  const notices = deps.notices ?? plainNoticeSender(sns, deps.noticeTopicArn);
  const liveSinceDocument = documentForConfig(deps.liveSince, config);
  if (liveSinceDocument !== deps.liveSince) {
    logger.warn('The live-since document belongs to another config; no failure will be redriven');
  }

  const breaker =
    deps.breakerStore &&
    createRedriveBreaker(
      { store: deps.breakerStore, config, sns, noticeTopicArn: deps.noticeTopicArn, metrics },
      now,
    );

  const idempotencyConfig = autohealIdempotencyConfig('idempotencyKey');
  const count = (name: string, dimension?: { reason: string }): void =>
    countMetric(metrics, name, dimension?.reason);

  const actOnce = createFailureAction({
    sfnFor,
    notices,
    persistenceStore: deps.persistenceStore,
    idempotencyKeyPrefix: deps.idempotencyKeyPrefix,
    now,
    idempotencyConfig,
  });

  const handleChange = async (
    record: SQSRecord,
    received: ExecutionStatusChange,
    log: Logger,
    deadline: number,
  ): Promise<void> => {
    // The rule is shared with `autoheal explain` (redrive-rule.ts): one copy of the flow.
    const ruled = decideOnFacts(config, liveSinceDocument, received, now());
    const { policy } = ruled;
    let change = received;
    let decision = ruled.decision;
    const freshness = judgeFreshness(record, received, {
      now: now(),
      autohealRoleIds: deps.autohealRoleIds ?? [],
      maxDeferralMs: policy.delay.capSeconds * 1000,
    });
    const confirm = mustConfirm(decision, freshness);
    if (decision.action === 'describe' || confirm) {
      if (!freshness.fresh) {
        log.info('The message may be stale; deciding on the execution as it is now', {
          reason: freshness.reason,
          detail: freshness.detail,
        });
        count(METRIC.confirmed, { reason: freshness.reason });
      }
      // Confirmed facts replace the message's, redriveCount included. When the count
      // moved on, the message is about an earlier failure, and the decision below is
      // about the current one, under the current failure's key: that is the key the
      // current failure's own event (or sweep) uses, so the two are acted on once.
      // Deciding on the message's old key instead would redrive the current failure
      // under a key no other message of it uses, past its own policy.
      const described = await describeStatusChange(
        sfnFor(change.stateMachineArn),
        change,
        { deadline },
        freshness.fresh ? 'completing' : 'confirming',
      );
      if (described) {
        change = described;
        decision = decideOnFacts(config, liveSinceDocument, change, now()).decision;
        if (decision.action === 'describe') {
          throw new RetryableError(
            'DescribeExecution did not return the redrive fields yet (it is eventually consistent); retrying',
          );
        }
      } else {
        // Recorded and announced once per failure, like every other skip: never silent, never a DLQ page.
        decision = EXECUTION_NOT_FOUND;
      }
    }

    // The storm brake: the signal this outcome carries first, then the breaker state decisions run under.
    const machine = change.isMapRunChild ? undefined : breaker?.machine(change, policy.observeOnly);
    const signalled =
      machine &&
      (await breaker?.observe(machine, record, change, decision, freshness.fresh || confirm, log));
    const breakerState = async () =>
      machine && breaker ? { breaker: signalled ?? (await breaker.state(machine)) } : {};

    switch (decision.action) {
      case 'ignore':
        log.info('Ignored', {
          decision: 'ignore',
          reason: decision.reason,
          detail: decision.detail,
          ...(signalled ? { breaker: signalled } : {}),
        });
        count(METRIC.ignored);
        return;
      case 'defer': {
        const hopSeconds = await deferOrPark(
          deps,
          record,
          log,
          decision,
          REDRIVE_DEFERRAL_LIMIT,
          // A confirmed stale message is still stale when its hop comes due: the body keeps the old facts.
          freshness.fresh ? {} : { [MESSAGE_ATTRIBUTES.unconfirmed]: freshness.reason },
        );
        if (hopSeconds === undefined) return;
        log.info('Deferred until the redrive delay has elapsed', {
          decision: 'defer',
          dueAt: new Date(decision.dueAt).toISOString(),
          hopSeconds,
          ...(await breakerState()),
        });
        count(METRIC.deferred);
        return;
      }
      default: {
        let breakerFacts: { breaker?: string } = {};
        if (decision.action === 'redrive' && machine && breaker) {
          const admission = await breaker.admit(machine, record, change, log, signalled);
          if (admission.verdict === 'hold') return;
          breakerFacts = { breaker: admission.breaker };
        } else {
          breakerFacts = await breakerState();
        }
        const result = await actOnce(
          failureActionFor(change, decision, policy.observeOnly),
          deadline,
        );
        log.info(result.replayed ? 'Duplicate delivery; already handled' : 'Handled failure', {
          decision: decision.action,
          ...result,
          ...breakerFacts,
        });
        if (result.replayed) {
          count(METRIC.duplicate);
          return;
        }
        if (result.outcome === 'redriven') count(METRIC.redriven);
        if (result.outcome === 'observed') count(METRIC.observed);
        if (result.outcome === 'gave-up') count(METRIC.gaveUp);
        if (result.outcome === 'skipped')
          count(METRIC.skipped, { reason: result.reason ?? 'unknown' });
      }
    }
  };

  return createSqsEventHandler({
    parse: (record) => {
      const change = parseExecutionStatusChange(record.body, now());
      const outOfScope = outOfScopeError(config, change.stateMachineArn, deps.statesArnPrefix);
      if (outOfScope) throw outOfScope;
      return change;
    },
    logKeys: (change) => ({
      correlation_id: change.eventId,
      executionArn: change.executionArn,
      stateMachine: change.stateMachineName,
    }),
    handle: (change, record, log, deadline) => handleChange(record, change, log, deadline),
    sqs,
    deadLetterQueueUrl: deps.deadLetterQueueUrl,
    maxReceiveCount: deps.maxReceiveCount,
    logger,
    metrics,
    idempotencyConfig,
  });
}
