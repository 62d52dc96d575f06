/**
 * decideStart: which flows a schedule tick starts. Only an Active OnDemand
 * flow is started; StartFlow would merely activate a Scheduled or Event flow,
 * and AppFlow runs no flow that is not Active.
 */
import type { FlowDescription } from '../../lambda/appflow/flow-api';
import { decideStart } from '../../lambda/appflow/start-decision';

function flow(changes: Partial<FlowDescription> = {}): FlowDescription {
  return {
    flowName: 'crm-export',
    flowStatus: 'Active',
    flowStatusMessage: '',
    triggerType: 'OnDemand',
    ...changes,
  };
}

describe('decideStart', () => {
  it('starts an Active OnDemand flow', () => {
    // Prepare
    const described = flow();

    // Act
    const decision = decideStart(described);

    // Assess
    expect(decision).toEqual({ action: 'start' });
  });

  it('skips a flow DescribeFlow did not find', () => {
    // Act
    const decision = decideStart(undefined);

    // Assess
    expect(decision).toEqual({
      action: 'skip',
      reason: 'flow-not-found',
      detail: expect.stringContaining('no flow of this name'),
    });
  });

  it.each([
    { triggerType: 'Scheduled', flowStatus: 'Active' },
    { triggerType: 'Event', flowStatus: 'Active' },
    // The trigger decides first: StartFlow would re-activate a Suspended scheduled flow, not run it
    { triggerType: 'Scheduled', flowStatus: 'Suspended' },
    // DescribeFlow without triggerConfig: flow-api reports the trigger as Unknown
    { triggerType: 'Unknown', flowStatus: 'Active' },
  ])(
    'skips a $triggerType flow ($flowStatus) as not-on-demand, saying StartFlow would only activate it',
    ({ triggerType, flowStatus }) => {
      // Prepare
      const described = flow({ triggerType, flowStatus, flowStatusMessage: 'ignored' });

      // Act
      const decision = decideStart(described);

      // Assess
      expect(decision).toEqual({
        action: 'skip',
        reason: 'not-on-demand',
        detail: expect.stringContaining(`trigger is ${triggerType}`),
      });
      expect(decision.action === 'skip' && decision.detail).toMatch(
        /would only activate a Scheduled or Event flow, not run it; use an OnDemand flow/,
      );
    },
  );

  it.each([
    {
      flowStatus: 'Suspended',
      reason: 'flow-suspended',
      message: 'Flow was suspended after 3 consecutive failed runs',
    },
    { flowStatus: 'Errored', reason: 'flow-errored', message: 'Connector profile is invalid' },
    { flowStatus: 'Draft', reason: 'flow-draft', message: 'Flow is a draft' },
    { flowStatus: 'Deprecated', reason: 'flow-deprecated', message: 'Connector is deprecated' },
    { flowStatus: 'Deleted', reason: 'flow-deleted', message: 'Flow was deleted' },
  ])(
    'skips an OnDemand flow in status $flowStatus as $reason, passing on its status message',
    ({ flowStatus, reason, message }) => {
      // Prepare
      const described = flow({ flowStatus, flowStatusMessage: message });

      // Act
      const decision = decideStart(described);

      // Assess
      expect(decision).toEqual({ action: 'skip', reason, detail: message });
    },
  );

  it.each(['Suspended', 'Unknown'])('explains a %s flow without a status message', (flowStatus) => {
    // Prepare
    const described = flow({ flowStatus, flowStatusMessage: '' });

    // Act
    const decision = decideStart(described);

    // Assess
    expect(decision).toEqual({
      action: 'skip',
      reason: `flow-${flowStatus.toLowerCase()}`,
      detail: `the flow is ${flowStatus}; AppFlow runs only Active flows`,
    });
  });

  it('does not change the description it decides on', () => {
    // Prepare
    const described = Object.freeze(flow({ flowStatus: 'Errored', flowStatusMessage: 'boom' }));
    const before = { ...described };

    // Act
    decideStart(described);

    // Assess
    expect(described).toEqual(before);
  });
});
