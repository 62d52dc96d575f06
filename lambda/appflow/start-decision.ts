/**
 * Whether to start a flow at a schedule tick, decided from its description
 * alone. Pure: no AWS call, no clock.
 *
 * StartFlow **runs** only OnDemand flows; for a Scheduled or Event flow it
 * merely activates the flow. So only an Active OnDemand flow is started; any
 * other flow is skipped with a reason and a detail for the operator's notice.
 */
import type { FlowDescription } from './flow-api';

export type StartDecision =
  | { readonly action: 'start' }
  | {
      readonly action: 'skip';
      /** Machine-readable: `flow-not-found`, `not-on-demand` or `flow-<status>` (e.g. `flow-suspended`). */
      readonly reason: string;
      /** One line for humans: why, and what to do about it. */
      readonly detail: string;
    };

/** The status AppFlow runs flows in. */
const ACTIVE = 'Active';
const ON_DEMAND = 'OnDemand';

/**
 * @param flow the flow as DescribeFlow described it; undefined when it does not exist
 * @example
 * ```ts
 * decideStart({ flowName: 'crm-export', flowStatus: 'Active', flowStatusMessage: '', triggerType: 'OnDemand' });
 * // { action: 'start' }
 * ```
 */
export function decideStart(flow: FlowDescription | undefined): StartDecision {
  if (flow === undefined) {
    return {
      action: 'skip',
      reason: 'flow-not-found',
      detail:
        'DescribeFlow found no flow of this name: create the flow, or remove it from the schedule',
    };
  }
  if (flow.triggerType !== ON_DEMAND) {
    return {
      action: 'skip',
      reason: 'not-on-demand',
      detail:
        `the flow's trigger is ${flow.triggerType}: StartFlow would only activate a Scheduled or Event flow, not run it; ` +
        'use an OnDemand flow in the schedule, or let AppFlow schedule this one',
    };
  }
  if (flow.flowStatus !== ACTIVE) {
    return {
      action: 'skip',
      reason: `flow-${flow.flowStatus.toLowerCase()}`,
      detail:
        flow.flowStatusMessage !== ''
          ? flow.flowStatusMessage
          : `the flow is ${flow.flowStatus}; AppFlow runs only Active flows`,
    };
  }
  return { action: 'start' };
}
