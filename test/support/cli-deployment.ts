/**
 * A deployment as `discoverDeployment` returns it, for command tests that
 * give it directly (discovery itself is tested in test/cli/discover-deployment.test.ts).
 */
import type { Deployment } from '../../cli/deployment';
import { parseAutohealConfig } from '../../lambda/shared/autoheal-config';
import { LOCAL_STATES_ARN_PREFIX } from './cli-stack';
import { liveSinceFor } from './live-since';

/**
 * The deployment of `appConfig` (the app's JSON config) on the given tables,
 * with the local endpoint's ARN prefix and every machine live since long ago.
 */
export function testDeployment(
  appConfig: unknown,
  tables: {
    readonly idempotencyTableName: string;
    readonly stateTableName?: string;
    readonly keyPrefix?: string;
    readonly queueUrl?: string;
  },
): Deployment {
  const config = parseAutohealConfig(appConfig);
  const queue = tables.queueUrl ?? 'http://127.0.0.1/000000000000';
  return {
    stackName: 'Autoheal',
    region: 'eu-central-1',
    idempotencyKeyPrefix: tables.keyPrefix ?? 'autoheal-cli-test',
    idempotencyTableName: tables.idempotencyTableName,
    ...(tables.stateTableName && { stateTableName: tables.stateTableName }),
    noticeTopicArn: 'arn:aws:sns:eu-central-1:000000000000:autoheal-notices',
    ...(config.redrive && {
      redrive: {
        functionName: 'autoheal-redrive',
        workQueueUrl: `${queue}/redrive-work`,
        deadLetterQueueUrl: `${queue}/redrive-dlq`,
        statesArnPrefix: LOCAL_STATES_ARN_PREFIX,
        config: config.redrive,
        liveSince: liveSinceFor(config.redrive),
      },
    }),
    ...(config.appflow && {
      appflow: {
        config: config.appflow,
        starterFunctionName: 'autoheal-flow-starter',
        starterDeadLetterQueueUrl: `${queue}/starter-dlq`,
        healerWorkQueueUrl: `${queue}/healer-work`,
        healerDeadLetterQueueUrl: `${queue}/healer-dlq`,
      },
    }),
  };
}
