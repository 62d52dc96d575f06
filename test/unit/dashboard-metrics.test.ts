/**
 * The dashboard graphs metrics by name, and the library cannot import the
 * handlers' tables (lib/constructs/autoheal-monitoring.ts says why): so a
 * renamed metric would leave an empty graph. Each name and dimension the
 * dashboard reads is checked against what the handlers emit.
 */
import { METRIC as FLOW_HEALER_METRIC } from '../../lambda/appflow/flow-healer';
import { METRIC as FLOW_STARTER_METRIC } from '../../lambda/appflow/flow-starter';
import { BRAKE_METRIC } from '../../lambda/brake/brake-keeper';
import { METRIC as SWEEPER_METRIC } from '../../lambda/redrive/execution-sweeper';
import { BREAKER_METRIC } from '../../lambda/redrive/redrive-breaker';
import { METRIC as REDRIVE_METRIC } from '../../lambda/redrive/redrive-processor';
import { DASHBOARD_METRICS } from '../../lib/constructs/autoheal-monitoring';

const names = (table: Record<string, string>) => Object.values(table);

describe('the metrics the dashboard graphs', () => {
  it.each([
    ['redrive outcomes', DASHBOARD_METRICS.redrive, REDRIVE_METRIC],
    ['redrive skips by reason', [DASHBOARD_METRICS.redriveSkipped], REDRIVE_METRIC],
    ['breaker counts', DASHBOARD_METRICS.breaker, BREAKER_METRIC],
    ['breaker state gauge', [DASHBOARD_METRICS.breakerState], BRAKE_METRIC],
    ['sweeper counts', DASHBOARD_METRICS.sweeper, SWEEPER_METRIC],
    ['AppFlow starts', DASHBOARD_METRICS.flowStarter, FLOW_STARTER_METRIC],
    ['AppFlow start skips by reason', [DASHBOARD_METRICS.flowStarterSkipped], FLOW_STARTER_METRIC],
    ['AppFlow re-runs and re-activations', DASHBOARD_METRICS.flowHealer, FLOW_HEALER_METRIC],
    [
      'AppFlow give-ups and skips by reason',
      DASHBOARD_METRICS.flowHealerByReason,
      FLOW_HEALER_METRIC,
    ],
  ])('%s are emitted by the handler under those names', (_what, graphed, emitted) => {
    // Prepare
    const emittedNames = names(emitted);

    // Act
    const unknown = graphed.filter((name) => !emittedNames.includes(name));

    // Assess
    expect(unknown).toEqual([]);
  });
});
