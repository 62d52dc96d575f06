import { Duration, TimeZone } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type {
  AutohealConfig,
  BreakerOverride,
  DelayPolicy,
  ErrorPolicy,
  ProcessingOptions,
  RedrivePolicyOverride,
} from '../../lambda/shared/autoheal-config';
import type {
  AutohealProps,
  BackoffDelay,
  EventProcessingOptions,
  RedrivableStatus,
  RedriveBreakerOptions,
  RedrivePolicyOptions,
} from '../../lib/autoheal-props';

/**
 * The app's JSON config (validated by `loadAutohealConfig`) as the props of
 * the `Autoheal` construct: the one mapping between the two. Seconds, minutes
 * and hours become `Duration`s, a schedule's expression and time zone a
 * `ScheduleExpression`; the construct turns them back and validates again, so
 * the app deploys exactly what its config says.
 *
 * @example
 * ```ts
 * new Autoheal(stack, 'Default', autohealPropsFromConfig(loadAutohealConfig(app.node)));
 * ```
 */
export function autohealPropsFromConfig(config: AutohealConfig): AutohealProps {
  const { redrive, appflow, operators, notices, dashboard } = config;
  return {
    ...(redrive && {
      redrive: {
        ...policyOptions(redrive),
        stateMachineArns: [...redrive.stateMachineArns],
        stateMachineNamePrefixes: [...redrive.stateMachineNamePrefixes],
        overrides: Object.fromEntries(
          Object.entries(redrive.overrides).map(([name, override]) => [
            name,
            policyOptions(override),
          ]),
        ),
        processing: processingOptions(redrive.processing),
        sweeper: {
          enabled: redrive.sweeper.enabled,
          period: Duration.minutes(redrive.sweeper.periodMinutes),
          lookback: Duration.hours(redrive.sweeper.lookbackHours),
          requestsPerSecond: redrive.sweeper.requestsPerSecond,
        },
        kmsKeyArns: [...redrive.kmsKeyArns],
      },
    }),
    ...(appflow && {
      appflow: {
        schedules: appflow.schedules.map((schedule) => ({
          name: schedule.name,
          schedule: scheduler.ScheduleExpression.expression(
            schedule.expression,
            TimeZone.of(schedule.timeZone),
          ),
          flexibleWindow: Duration.minutes(schedule.flexibleWindowMinutes),
          flows: [...schedule.flows],
        })),
        healedFlows: [...appflow.healedFlows],
        healing: {
          rerunFailedRuns: appflow.healing.rerunFailedRuns,
          maxReruns: appflow.healing.maxReruns,
          delay: backoffDelay(appflow.healing.delay),
          reactivateDeactivated: appflow.healing.reactivateDeactivated,
          reactivationCooldown: Duration.minutes(appflow.healing.reactivationCooldownMinutes),
          maxReactivations: appflow.healing.maxReactivations,
          reactivationWindow: Duration.hours(appflow.healing.reactivationWindowHours),
        },
        maxConcurrentStarts: appflow.maxConcurrentStarts,
        processing: processingOptions(appflow.processing),
      },
    }),
    ...(operators && { operatorPrincipalArns: [...operators.principalArns] }),
    notices: {
      digestWindow: Duration.minutes(notices.digestWindowMinutes),
      immediateNotices: notices.immediateNotices,
      digestExamples: notices.digestExamples,
    },
    dashboard: { enabled: dashboard.enabled, name: dashboard.name },
  };
}

function policyOptions(policy: RedrivePolicyOverride): RedrivePolicyOptions {
  return {
    statuses: policy.statuses && (policy.statuses as readonly RedrivableStatus[]).slice(),
    maxRedrives: policy.maxRedrives,
    errors: policy.errors && errorFilter(policy.errors),
    delay: policy.delay && backoffDelay(policy.delay),
    observeOnly: policy.observeOnly,
    breaker: policy.breaker && breakerOptions(policy.breaker),
  };
}

function breakerOptions(breaker: BreakerOverride): RedriveBreakerOptions {
  const minutes = (value: number | undefined) =>
    value === undefined ? undefined : Duration.minutes(value);
  return {
    enabled: breaker.enabled,
    window: minutes(breaker.windowMinutes),
    minRelapses: breaker.minRelapses,
    relapseRatio: breaker.relapseRatio,
    cooldown: minutes(breaker.cooldownMinutes),
    cooldownFactor: breaker.cooldownFactor,
    maxCooldown: minutes(breaker.maxCooldownMinutes),
    probes: breaker.probes,
  };
}

function errorFilter(errors: Partial<ErrorPolicy>): RedrivePolicyOptions['errors'] {
  return {
    deny: errors.deny && [...errors.deny],
    allow: errors.allow && [...errors.allow],
  };
}

function backoffDelay(delay: Partial<DelayPolicy>): BackoffDelay {
  return {
    baseDelay: delay.baseSeconds === undefined ? undefined : Duration.seconds(delay.baseSeconds),
    factor: delay.factor,
    maxDelay: delay.capSeconds === undefined ? undefined : Duration.seconds(delay.capSeconds),
    jitterRatio: delay.jitterRatio,
  };
}

function processingOptions(processing: ProcessingOptions): EventProcessingOptions {
  return { ...processing };
}
