/**
 * Scheduled AppFlow runs when ticks arrive more than once, at the same time,
 * to several environments, while AppFlow answers some calls with a 5xx: each
 * flow still starts exactly once per tick.
 */
import { runTickStorm } from '../support/resilience/flow-tick-rig';

jest.setTimeout(60_000);

describe('flow starter under duplicated, concurrent ticks', () => {
  it.each([
    { label: 'a healthy AppFlow', faults: {} },
    {
      label: '20% 5xx from AppFlow',
      faults: { serverErrorRate: 0.2, services: ['appflow'] as const },
    },
  ])('starts each flow once per tick with $label', async ({ faults }) => {
    // Prepare / Act: 3 ticks of 8 flows, each tick delivered 3 times at once to 4 environments.
    const result = await runTickStorm({
      flows: 8,
      ticks: 3,
      deliveries: 3,
      environments: 4,
      faults,
    });

    // Assess
    expect(result).toMatchObject({
      flowTicks: 24,
      startedOnce: 24,
      startedTwice: 0,
      notStarted: 0,
    });
    if (Object.keys(faults).length > 0) expect(result.faultsInjected).toBeGreaterThan(0);
  });
});
