/**
 * The zod schema of the `dashboard` section: the CloudWatch dashboard of an
 * installation. Synth side only (no handler reads it).
 */
import type { z } from 'zod';
import type { Immutable } from './common';
import { flag, section, text } from './zod-rules';

/** CloudWatch's rule for dashboard names (PutDashboard: A-Z, a-z, 0-9, `-`, `_`, at most 255). */
export const DASHBOARD_NAME = /^[A-Za-z0-9_-]+$/;

/** The dashboard: on by default; its alarms and saved queries are created either way. */
export const dashboardSchema = section({
  enabled: flag()
    .default(true)
    .describe(
      'Create the CloudWatch dashboard. Its alarms and saved Logs Insights queries are created either way.',
    ),
  name: text({
    maxLength: 255,
    pattern: DASHBOARD_NAME,
    patternHint: 'letters, digits, "-" and "_"',
  })
    .optional()
    .describe(
      'Name of the dashboard, unique in the account (dashboards are not regional). Defaults to the stack name, the region and the installation.',
    ),
})
  .prefault({})
  .describe(
    'The CloudWatch dashboard of the installation: outcomes, skips by reason, breaker state, dead-letter queues, functions, sweeper and AppFlow.',
  );

/** The dashboard settings, with every default filled in. */
export type DashboardConfig = Immutable<z.output<typeof dashboardSchema>>;
