/**
 * The AppFlow scope of issue 13 (500 flows on 50 schedules, 300 healed, and
 * multiples of it), shared by the synth evidence (test/infra/scale-appflow.test.ts)
 * and the end-to-end run of the handlers on the local AWS endpoint
 * (test/resilience/large-flow-scope.test.ts), so both speak of the same flows
 * in the same order.
 */

/** Flow names as platform teams generate them: no shared prefix to scope by. */
export const flowName = (i: number) =>
  `${['salesforce', 'zendesk', 'sapodata', 'servicenow'][i % 4]}-account-export-${String(i).padStart(4, '0')}`;

/** Name of healed-only flow #`i`. */
export const healedFlowName = (i: number) => flowName(10_000 + i);

/** A schedule of the raw `appflow` config. */
export interface ScaleSchedule {
  readonly name: string;
  readonly expression: string;
  readonly timeZone?: string;
  readonly flexibleWindowMinutes?: number;
  readonly flows: string[];
}

/**
 * `scheduledFlows` flows on `scheduleCount` schedules, 60% of them on one
 * bulk schedule (so its tick input outgrows one Scheduler schedule), the rest
 * spread evenly; and `healedCount` more flows healed only. The raw config.
 *
 * @example
 * flowScaleConfig(500, 50, 300); // the scope
 */
export function flowScaleConfig(
  scheduledFlows: number,
  scheduleCount: number,
  healedCount: number,
) {
  const bulk = Math.ceil(scheduledFlows * 0.6);
  const rest = scheduleCount - 1;
  const schedules: ScaleSchedule[] = [
    {
      name: 'bulk',
      expression: 'cron(0 2 * * ? *)',
      timeZone: 'Europe/Berlin',
      flexibleWindowMinutes: 15,
      flows: Array.from({ length: bulk }, (_, i) => flowName(i)),
    },
    ...Array.from({ length: rest }, (_, s) => ({
      name: `batch-${s + 1}`,
      expression: `cron(${s % 60} * * * ? *)`,
      flows: Array.from({ length: scheduledFlows - bulk }, (_, i) => flowName(bulk + i)).filter(
        (_, i) => i % rest === s,
      ),
    })),
  ];
  const healedFlows = Array.from({ length: healedCount }, (_, i) => healedFlowName(i));
  return { appflow: { schedules, healedFlows } };
}

/**
 * The first flow (index into the function's list) of each scope role, as the
 * construct routes {@link flowScaleConfig} at 1× and 1.5× (the infra test
 * asserts it on the template; the resilience test routes its handlers so).
 */
export const FLOW_SCOPE_ROLE_ROUTES: Readonly<
  Record<number, Readonly<Record<'starter' | 'healer', readonly number[]>>>
> = {
  1: { starter: [], healer: [703] },
  1.5: { starter: [706], healer: [706] },
};
