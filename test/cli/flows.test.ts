import { AppflowClient } from '@aws-sdk/client-appflow';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { CliClients } from '../../cli/clients';
import type { Deployment } from '../../cli/deployment';
import { createFlowStarterHandler, type TickResult } from '../../lambda/appflow/flow-starter';
import { FLOW_STARTER_SERVICE_NAME } from '../../lambda/shared/contract';
import { testDeployment } from '../support/cli-deployment';
import { runAutoheal } from '../support/cli-io';
import { cliClientsFor } from '../support/cli-stack';
import {
  createIdempotencyTable,
  type IdempotencyTable,
  lambdaContext,
} from '../support/idempotency-table';
import { powertools } from '../support/lambda-env';
import { LocalAwsEndpoint } from '../support/local-aws/local-aws-endpoint';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const TICK = '2026-11-30T02:00:00Z';
const KEY_PREFIX = 'autoheal-flows-test';

const APP_CONFIG = {
  appflow: {
    schedules: [
      {
        name: 'nightly',
        expression: 'cron(0 2 * * ? *)',
        timeZone: 'UTC',
        flows: ['crm-export', 'erp-sync'],
      },
      { name: 'hourly', expression: 'rate(1 hour)', flows: ['ledger-pull'] },
      {
        name: 'zurich',
        expression: 'cron(30 6 ? * MON-FRI *)',
        timeZone: 'Europe/Zurich',
        flows: ['ch-sync'],
      },
    ],
    healedFlows: ['salesforce-native'],
  },
};

describe('autoheal flows start', () => {
  let endpoint: LocalAwsEndpoint;
  let table: IdempotencyTable;
  let deployment: Deployment;
  let clients: CliClients;

  beforeEach(async () => {
    endpoint = await LocalAwsEndpoint.start({ clock: () => NOW });
    table = await createIdempotencyTable();
    for (const flowName of ['crm-export', 'erp-sync', 'ledger-pull', 'ch-sync']) {
      endpoint.addFlow({ flowName, triggerType: 'OnDemand' });
    }
    deployment = testDeployment(APP_CONFIG, {
      idempotencyTableName: table.tableName,
      keyPrefix: KEY_PREFIX,
      queueUrl: `${endpoint.url}/000000000000`,
    });
    clients = { ...cliClientsFor(endpoint), dynamodb: table.client };
  });

  afterEach(async () => {
    await endpoint.stop();
    await table.dispose();
  });

  const run = (argv: string[]) =>
    runAutoheal(argv, { clients, deployment: async () => deployment, now: () => NOW });

  /** The deployed flow starter, as Scheduler invokes it with a tick (its own execution environment). */
  const scheduledDelivery = (tick: {
    schedule: string;
    scheduledTime: string;
    flows: string[];
  }) => {
    const env = powertools(FLOW_STARTER_SERVICE_NAME);
    const config = { endpoint: endpoint.url, region: 'eu-central-1' };
    const handler = createFlowStarterHandler({
      config: deployment.appflow?.config as NonNullable<Deployment['appflow']>['config'],
      appflow: new AppflowClient(config),
      sns: new SNSClient(config),
      sqs: new SQSClient(config),
      idempotencyKeyPrefix: KEY_PREFIX,
      persistenceStore: table.persistenceLayer(),
      noticeTopicArn: 'arn:aws:sns:eu-central-1:000000000000:autoheal-notices',
      deadLetterQueueUrl: `${endpoint.url}/000000000000/starter-dlq`,
      logger: env.logger,
      metrics: env.metrics,
    });
    return handler(tick, lambdaContext()) as Promise<
      TickResult & { results: { replayed?: boolean }[] }
    >;
  };

  it('starts a missed tick once, and the late scheduled delivery of that tick does not start it again', async () => {
    // Act
    const manual = await run(['flows', 'start', 'crm-export', '--tick', TICK]);
    const late = await scheduledDelivery({
      schedule: 'nightly',
      scheduledTime: TICK,
      flows: ['crm-export', 'erp-sync'],
    });

    // Assess
    expect(manual.exitCode).toBe(0);
    expect(manual.stdout).toMatch(
      /^Started flow crm-export for tick 2026-11-30T02:00:00Z of schedule nightly \(execution .+\)\.\n$/,
    );
    expect(endpoint.flowRuns('crm-export')).toHaveLength(1);
    expect(endpoint.countCalls({ operation: 'StartFlow', target: 'crm-export' })).toBe(1);
    expect(late.results).toEqual([
      expect.objectContaining({ flowName: 'crm-export', outcome: 'started', replayed: true }),
      expect.objectContaining({ flowName: 'erp-sync', outcome: 'started' }),
    ]);
    expect(endpoint.flowRuns('erp-sync')).toHaveLength(1);
  });

  it('does not start again a tick the schedule delivered already, and says so', async () => {
    // Prepare
    await scheduledDelivery({ schedule: 'nightly', scheduledTime: TICK, flows: ['crm-export'] });

    // Act: the same tick, as an operator may spell it.
    const manual = await run(['flows', 'start', 'crm-export', '--tick', '2026-11-30T03:00+01:00']);

    // Assess
    expect(endpoint.countCalls({ operation: 'StartFlow', target: 'crm-export' })).toBe(1);
    expect(manual.exitCode).toBe(0);
    expect(manual.stdout).toMatch(
      /^Already handled flow crm-export for tick 2026-11-30T02:00:00Z of schedule nightly \(started, execution .+\): not started again\.\n$/,
    );
    expect(endpoint.flowRuns('crm-export')).toHaveLength(1);
  });

  it('starts a tick once however often the operator runs the command', async () => {
    // Act
    const runs = [
      await run(['flows', 'start', 'crm-export', '--tick', TICK]),
      await run(['flows', 'start', 'crm-export', '--tick', TICK]),
    ];

    // Assess
    expect(runs.map((r) => r.exitCode)).toEqual([0, 0]);
    expect(runs[1].stdout).toMatch(/^Already handled/);
    expect(endpoint.flowRuns('crm-export')).toHaveLength(1);
  });

  it('checks the tick against the schedule in its time zone', async () => {
    // Act: 06:30 in Zurich on a Monday is 05:30 UTC in winter.
    const run1 = await run(['flows', 'start', 'ch-sync', '--tick', '2026-11-30T05:30:00Z']);

    // Assess
    expect(run1.exitCode).toBe(0);
    expect(endpoint.flowRuns('ch-sync')).toHaveLength(1);
  });

  it('warns that a rate schedule’s tick cannot be checked, and starts it', async () => {
    // Act
    const result = await run(['flows', 'start', 'ledger-pull', '--tick', '2026-11-30T11:17:00Z']);

    // Assess
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(
      'Schedule hourly is rate(1 hour): its ticks depend on when it was created, so Autoheal cannot check 2026-11-30T11:17:00Z is one.',
    );
    expect(endpoint.flowRuns('ledger-pull')).toHaveLength(1);
  });

  it.each<[string, string[], string]>([
    [
      'the flow is in no schedule',
      ['flows', 'start', 'crm-exprot', '--tick', TICK],
      'error: FLOW crm-exprot: is in no schedule of the deployed config (appflow.schedules: nightly (crm-export, erp-sync); hourly (ledger-pull); zurich (ch-sync))\n',
    ],
    [
      'the flow is healed but not scheduled',
      ['flows', 'start', 'salesforce-native', '--tick', TICK],
      'error: FLOW salesforce-native: is healed by Autoheal but not started by its schedules (appflow.schedules): start it in AppFlow\n',
    ],
    [
      'the tick has no zone',
      ['flows', 'start', 'crm-export', '--tick', '2026-11-30T02:00:00'],
      'error: --tick: must be an ISO-8601 date and time with a zone, such as "2026-03-02T10:00:00Z", got "2026-11-30T02:00:00"\n',
    ],
    [
      'the tick is not a tick of the cron expression',
      ['flows', 'start', 'crm-export', '--tick', '2026-11-30T02:05:00Z'],
      'error: --tick 2026-11-30T02:05:00Z: is not a tick of schedule nightly (cron(0 2 * * ? *) in UTC); its tick before that was 2026-11-30T02:00:00Z\n',
    ],
    [
      'the tick is 06:30 UTC, not 06:30 in the schedule’s time zone',
      ['flows', 'start', 'ch-sync', '--tick', '2026-11-30T06:30:00Z'],
      'error: --tick 2026-11-30T06:30:00Z: is not a tick of schedule zurich (cron(30 6 ? * MON-FRI *) in Europe/Zurich); its tick before that was 2026-11-30T05:30:00Z\n',
    ],
    [
      'the tick is not on a whole minute',
      ['flows', 'start', 'crm-export', '--tick', '2026-11-30T02:00:30Z'],
      "error: --tick 2026-11-30T02:00:30Z: must be on a whole minute, as Scheduler's ticks are (e.g. 2026-11-30T02:00:00Z)\n",
    ],
    [
      'the tick is in the future',
      ['flows', 'start', 'crm-export', '--tick', '2026-12-01T02:00:00Z'],
      'error: --tick 2026-12-01T02:00:00Z: is in the future; schedule nightly starts flow crm-export then\n',
    ],
    [
      'the schedule named does not start the flow',
      ['flows', 'start', 'crm-export', '--tick', TICK, '--schedule', 'hourly'],
      'error: --schedule hourly: no schedule of that name starts flow crm-export; nightly do\n',
    ],
  ])('refuses in one line, without any AWS call, when %s', async (_case, argv, stderr) => {
    // Act
    const result = await run(argv);

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(stderr);
    expect(endpoint.calls).toEqual([]);
    expect(await table.items()).toEqual([]);
  });

  it('refuses a deployment without AppFlow schedules', async () => {
    // Prepare
    deployment = { ...deployment, appflow: undefined };

    // Act
    const result = await run(['flows', 'start', 'crm-export', '--tick', TICK]);

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      'error: The deployment in stack Autoheal has no AppFlow schedules: configure appflow.schedules, or name another stack with --stack\n',
    );
  });
});
