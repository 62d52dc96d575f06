/**
 * `autoheal flows start FLOW --tick TIME`: starts a flow for a tick its
 * schedule missed, at most once per flow and tick, whoever comes first: this
 * command or a late delivery of the scheduled tick.
 *
 * Why in-process, through the flow starter's own handler
 * (`createFlowStarterHandler`) with the operator's credentials, rather than
 * invoking the deployed starter function: the handler's idempotent path is
 * what makes "once" hold, and running it here keeps one copy of it (same
 * Powertools record key `PREFIX-flow-start#md5(flow#tick)`, same StartFlow
 * client token, same describe-then-decide rule), while the operator sees the
 * outcome at once (started, already handled, skipped and why) instead of an
 * asynchronous invocation's `202`. Invoking the function would need
 * `lambda:InvokeFunction` and a synchronous invoke, and an invalid tick
 * would be parked in its dead-letter queue; here it is refused before any
 * AWS call. The cost: the operator needs the starter's grants (the
 * idempotency table, `appflow:DescribeFlow`/`StartFlow`, the notice topic).
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { createFlowStarterHandler, type FlowStartResult } from '../../lambda/appflow/flow-starter';
import { parseScheduleTick } from '../../lambda/appflow/schedule-tick';
import type { AppflowHandlerConfig, FlowSchedule } from '../../lambda/shared/config/appflow-config';
import {
  cronMatches,
  parseSchedulerCron,
  wallClockReader,
} from '../../lambda/shared/config/scheduler-cron';
import {
  FLOW_STARTER_SERVICE_NAME,
  METRICS_NAMESPACE,
  type ScheduleTickInput,
} from '../../lambda/shared/contract';
import { InvalidInputError, RetryableError } from '../../lambda/shared/errors';
import { autohealPersistenceStore } from '../../lambda/shared/idempotency';
import { CliError } from '../cli-error';
import type { CliClients } from '../clients';
import type { Deployment } from '../deployment';

const MINUTE_MS = 60_000;
/** How far back a refused tick looks for the schedule's previous tick, to suggest it. */
const SUGGEST_WITHIN_MS = 8 * 24 * 60 * MINUTE_MS;

/** The tick a manual start runs, and what the operator should know about it. */
export interface ManualTick {
  readonly tick: ScheduleTickInput;
  /** A caveat to print (a rate schedule's ticks cannot be checked). */
  readonly warning?: string;
}

/** `ms` as EventBridge Scheduler writes `<aws.scheduler.scheduled-time>`: `2026-03-02T10:00:00Z`. */
export function schedulerTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** True when the schedule's cron expression names the instant `ms`; undefined for a rate schedule. */
function cronNames(
  schedule: FlowSchedule,
  ms: number,
): { matches: boolean; previous?: number } | undefined {
  const cron = /^cron\((.*)\)$/.exec(schedule.expression);
  if (!cron) return undefined;
  const parsed = parseSchedulerCron(cron[1].trim().split(/\s+/), 'expression');
  const wallClock = wallClockReader(schedule.timeZone);
  if (cronMatches(parsed, wallClock(ms))) return { matches: true };
  for (let at = ms - MINUTE_MS; at > ms - SUGGEST_WITHIN_MS; at -= MINUTE_MS) {
    if (cronMatches(parsed, wallClock(at))) return { matches: false, previous: at };
  }
  return { matches: false };
}

/**
 * The tick the scheduled start of `flowName` at `tickText` would have carried,
 * checked against the deployed config with the starter's own parser, before
 * any AWS call.
 *
 * @throws {CliError} one line naming the argument: the flow is in no schedule
 *   (or in several and `--schedule` is not given), the tick is not an ISO time
 *   with a zone, not on a whole minute, in the future, or not a tick of the schedule's cron expression
 * @example
 * ```ts
 * const { tick } = manualTick(config, 'crm-export', '2026-11-30T02:00:00Z', undefined, Date.now());
 * ```
 */
export function manualTick(
  config: AppflowHandlerConfig,
  flowName: string,
  tickText: string,
  scheduleName: string | undefined,
  now: number,
): ManualTick {
  const schedules = config.schedules.filter((s) => s.flows.includes(flowName));
  const listed = config.schedules.map((s) => `${s.name} (${s.flows.join(', ')})`).join('; ');
  if (schedules.length === 0) {
    throw new CliError(
      config.healedFlows.includes(flowName)
        ? `FLOW ${flowName}: is healed by Autoheal but not started by its schedules (appflow.schedules): start it in AppFlow`
        : `FLOW ${flowName}: is in no schedule of the deployed config (appflow.schedules: ${listed || 'none'})`,
    );
  }
  let schedule = schedules[0];
  if (scheduleName !== undefined) {
    const named = schedules.find((s) => s.name === scheduleName);
    if (!named) {
      throw new CliError(
        `--schedule ${scheduleName}: no schedule of that name starts flow ${flowName}; ${schedules.map((s) => s.name).join(', ')} do`,
      );
    }
    schedule = named;
  } else if (schedules.length > 1) {
    throw new CliError(
      `FLOW ${flowName}: is in ${schedules.length} schedules (${schedules.map((s) => s.name).join(', ')}): name the missed one with --schedule NAME`,
    );
  }
  let parsed: ScheduleTickInput;
  try {
    // The starter's own check of a tick (ISO time with a zone, a real date).
    parsed = parseScheduleTick(
      { schedule: schedule.name, scheduledTime: tickText, flows: [flowName] },
      config,
    );
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    const flag = error.field === 'scheduledTime' ? '--tick' : error.field;
    throw new CliError(`${flag}: ${error.problem}`);
  }
  const ms = Date.parse(parsed.scheduledTime);
  if (ms % MINUTE_MS !== 0) {
    throw new CliError(
      `--tick ${tickText}: must be on a whole minute, as Scheduler's ticks are (e.g. ${schedulerTime(ms - (ms % MINUTE_MS))})`,
    );
  }
  const scheduledTime = schedulerTime(ms);
  if (ms > now) {
    throw new CliError(
      `--tick ${scheduledTime}: is in the future; schedule ${schedule.name} starts flow ${flowName} then`,
    );
  }
  const named = cronNames(schedule, ms);
  if (named && !named.matches) {
    const previous =
      named.previous === undefined
        ? ''
        : `; its tick before that was ${schedulerTime(named.previous)}`;
    throw new CliError(
      `--tick ${scheduledTime}: is not a tick of schedule ${schedule.name} (${schedule.expression} in ${schedule.timeZone})${previous}`,
    );
  }
  return {
    // Scheduler's own spelling of the time: the idempotency key and client token are made of it.
    tick: { schedule: schedule.name, scheduledTime, flows: [flowName] },
    ...(!named && {
      warning: `Schedule ${schedule.name} is ${schedule.expression}: its ticks depend on when it was created, so Autoheal cannot check ${scheduledTime} is one. Give the tick exactly as Scheduler sent it (the starter's logs or dead-letter message), or a late delivery would start the flow again.`,
    }),
  };
}

/** What a manual start did. */
export type ManualStartOutcome = FlowStartResult;

/** A Metrics that records nothing: EMF lines on a terminal would be noise, not metrics. */
function silentMetrics(): Metrics {
  const before = process.env.POWERTOOLS_METRICS_DISABLED;
  // Powertools reads the switch at construction only.
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  try {
    return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: FLOW_STARTER_SERVICE_NAME });
  } finally {
    if (before === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = before;
  }
}

/**
 * Starts the tick's flow through the flow starter's handler, in this process,
 * with the operator's credentials: the same idempotency record and client
 * token as the scheduled start, so the two run the flow once.
 *
 * @throws {CliError} when the deployment has no flow starter, or the start did
 *   not happen for a reason a retry may fix (run the command again)
 */
export async function startMissedTick(
  deployment: Deployment,
  clients: CliClients,
  tick: ScheduleTickInput,
  now: () => number,
): Promise<ManualStartOutcome> {
  const appflow = deployment.appflow as NonNullable<Deployment['appflow']>;
  const dynamodb: DynamoDBClient = clients.dynamodb;
  const handler = createFlowStarterHandler({
    config: appflow.config,
    appflow: clients.appflow,
    sns: clients.sns ?? new SNSClient({}),
    sqs: clients.sqs,
    idempotencyKeyPrefix: deployment.idempotencyKeyPrefix,
    persistenceStore: autohealPersistenceStore(deployment.idempotencyTableName, dynamodb),
    noticeTopicArn: deployment.noticeTopicArn ?? '',
    deadLetterQueueUrl: appflow.starterDeadLetterQueueUrl ?? '',
    logger: new Logger({ serviceName: FLOW_STARTER_SERVICE_NAME, logLevel: 'SILENT' }),
    metrics: silentMetrics(),
    now,
  });
  // What Lambda would pass: the handler bounds its AWS calls by the remaining time.
  const context = {
    awsRequestId: `autoheal-cli-${randomUUID()}`,
    functionName: appflow.starterFunctionName ?? 'autoheal-cli',
    getRemainingTimeInMillis: () => 60_000,
  } as Context;
  try {
    const result = await handler(tick, context);
    if ('parked' in result) throw new CliError(`The tick was refused: ${result.reason}`);
    return result.results[0];
  } catch (error) {
    if (error instanceof RetryableError) {
      throw new CliError(
        `Flow ${tick.flows[0]} did not start for tick ${tick.scheduledTime} (a transient error, or a start of the same tick under way): run the same command again; it starts the flow at most once`,
      );
    }
    throw error;
  }
}
