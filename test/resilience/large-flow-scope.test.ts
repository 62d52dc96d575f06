/**
 * The AppFlow scope of issue 13 end to end, with the flows past a function's
 * role on a scope role: the real flow healer and flow starter, with the real
 * AWS SDK, against the local AWS endpoint (AppFlow, STS, SQS) and DynamoDB
 * Local. Each handler lists its flows as the construct granted them
 * (`flowsInScope`, `scheduledFlowsOf`) and routes them by
 * `AUTOHEAL_SCOPE_ROLES` as the construct sets it for this config (asserted on
 * the template by scale-appflow.test.ts): a flow past the role's budget is
 * described, re-run, re-activated or started with the scope role's
 * credentials, flow #0 with the function's own, and one AssumeRole, made with
 * the function's own credentials, serves every call of the role.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { AppflowClient } from '@aws-sdk/client-appflow';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createFlowHealerHandler } from '../../lambda/appflow/flow-healer';
import { createFlowStarterHandler } from '../../lambda/appflow/flow-starter';
import { appflowClientsByScopeRole } from '../../lambda/appflow/scope-roles';
import {
  flowsInScope,
  parseAppflowConfig,
  scheduledFlowsOf,
} from '../../lambda/shared/autoheal-config';
import {
  FLOW_HEALER_SERVICE_NAME,
  FLOW_STARTER_SERVICE_NAME,
  METRICS_NAMESPACE,
} from '../../lambda/shared/contract';
import { AUTOHEAL_CLIENT_CONFIG } from '../../lambda/shared/sdk-clients';
import {
  FLOW_SCOPE_ROLE_ROUTES,
  flowName,
  flowScaleConfig,
  healedFlowName,
} from '../support/flow-scale';
import {
  createIdempotencyTableOn,
  lambdaContext,
  sqsEvent,
  sqsRecord,
} from '../support/idempotency-table';
import {
  type FlowSpec,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  LocalAwsEndpoint,
} from '../support/local-aws/local-aws-endpoint';

jest.setTimeout(60_000);

/** The access key id of the test's own credentials (test-env.ts): the function's role's. */
const OWN_ACCESS_KEY = 'test';
/** The handlers' clock: two hours after the fixtures' failures, past every delay and cool-down. */
const NOW = Date.parse('2026-03-02T12:00:00Z');
const TOPIC_ARN = `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:autoheal-notices`;
/** A scope role of the endpoint's account, as the construct names one. */
const scopeRoleArn = (functionId: string) =>
  `arn:aws:iam::${LOCAL_ACCOUNT}:role/Autoheal-${functionId}ScopeRole1-AbC123`;

let endpoint: LocalAwsEndpoint;
let tableName: string;
const clients: { destroy(): void }[] = [];

beforeAll(async () => {
  const admin = new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });
  clients.push(admin);
  tableName = await createIdempotencyTableOn(admin);
});

beforeEach(async () => {
  endpoint = await LocalAwsEndpoint.start();
});

afterEach(async () => {
  await endpoint.stop();
});

afterAll(() => {
  for (const client of clients) client.destroy();
});

/** An SDK client of the function's own credentials, on the local endpoint (DynamoDB: DynamoDB Local). */
function ownClients() {
  const config = { ...AUTOHEAL_CLIENT_CONFIG, endpoint: endpoint.url };
  const appflow = new AppflowClient(config);
  const sqs = new SQSClient(config);
  // The endpoint has no SNS: Publish is answered here (notices are not under test).
  const sns = new SNSClient(config);
  sns.middlewareStack.add(
    () => async () =>
      ({ output: { MessageId: randomUUID(), $metadata: {} }, response: {} }) as never,
    { step: 'initialize', name: 'answerPublish' },
  );
  const dynamodb = new DynamoDBClient({
    ...AUTOHEAL_CLIENT_CONFIG,
    endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB,
  });
  clients.push(appflow, sqs, sns, dynamodb);
  return { appflow, sqs, sns, dynamodb };
}

function powertools(serviceName: string) {
  const logger = new Logger({ serviceName, logLevel: 'SILENT' });
  return { logger, metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName, logger }) };
}

/** Who signed each AppFlow call of `operation`: the role an access key was issued for, or the function. */
function signers(operation: string) {
  return endpoint.calls
    .filter((call) => call.operation === operation)
    .map((call) => ({
      target: call.target,
      signedBy:
        call.signedWith?.accessKeyId === OWN_ACCESS_KEY
          ? 'function'
          : (endpoint.assumedRoleOf(call.signedWith?.accessKeyId ?? '') ?? 'unknown'),
    }));
}

/** An AppFlow event of the fixtures, for `flow`. */
function appflowEvent(
  fixture: 'run-failed-on-demand' | 'scheduled-flow-deactivated',
  flow: string,
): string {
  const path = join(__dirname, '..', 'fixtures', 'appflow', `${fixture}.json`);
  const event = JSON.parse(readFileSync(path, 'utf8'));
  return JSON.stringify({
    ...event,
    id: randomUUID(),
    detail: {
      ...event.detail,
      'flow-name': flow,
      'flow-arn': `arn:aws:appflow:${LOCAL_REGION}:${LOCAL_ACCOUNT}:flow/${flow}`,
      ...(event.detail['execution-id'] && { 'execution-id': randomUUID() }),
    },
  });
}

describe('the flow healer of 500 scheduled and 300 healed flows, the last 97 on a scope role', () => {
  const config = parseAppflowConfig(flowScaleConfig(500, 50, 300).appflow);
  const listed = flowsInScope(config);
  const [firstOnScopeRole] = FLOW_SCOPE_ROLE_ROUTES[1].healer;
  const role = scopeRoleArn('FlowHealingHealer');
  /** Failed OnDemand runs are re-run; deactivated Scheduled flows described and re-activated. */
  const flows = {
    rerunOnRole: healedFlowName(299),
    reactivatedOnRole: healedFlowName(298),
    rerunOwn: flowName(0),
    reactivatedOwn: flowName(1),
  };

  it("re-runs and re-activates healed flows #299 and #298 with the scope role's credentials, and flows #0 and #1 with the function's own", async () => {
    // Prepare
    expect(listed.indexOf(flows.rerunOnRole)).toBe(799);
    expect(listed.indexOf(flows.reactivatedOnRole)).toBeGreaterThanOrEqual(firstOnScopeRole);
    expect(listed.indexOf(flows.reactivatedOwn)).toBeLessThan(firstOnScopeRole);
    const specs: FlowSpec[] = [
      { flowName: flows.rerunOnRole, triggerType: 'OnDemand' },
      { flowName: flows.rerunOwn, triggerType: 'OnDemand' },
      { flowName: flows.reactivatedOnRole, triggerType: 'Scheduled', flowStatus: 'Suspended' },
      { flowName: flows.reactivatedOwn, triggerType: 'Scheduled', flowStatus: 'Suspended' },
    ];
    for (const spec of specs) endpoint.addFlow(spec);
    const { appflow, sqs, sns, dynamodb } = ownClients();
    const handler = createFlowHealerHandler({
      config,
      appflow,
      // As flow-healer.handler.ts builds it, against the local endpoint.
      appflowFor: appflowClientsByScopeRole({
        flows: listed,
        scopeRoles: JSON.stringify([[firstOnScopeRole, role]]),
        own: appflow,
        sessionName: `autoheal-${FLOW_HEALER_SERVICE_NAME}`,
        clientConfig: { ...AUTOHEAL_CLIENT_CONFIG, endpoint: endpoint.url },
      }),
      sns,
      sqs,
      dynamodb,
      idempotencyTable: tableName,
      persistenceStore: new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: dynamodb }),
      noticeTopicArn: TOPIC_ARN,
      workQueueUrl: endpoint.createQueue('autoheal-flow-healer-work'),
      deadLetterQueueUrl: endpoint.createQueue('autoheal-flow-healer-dlq'),
      maxReceiveCount: 5,
      ...powertools(FLOW_HEALER_SERVICE_NAME),
      now: () => NOW,
    });

    // Act
    const response = await handler(
      sqsEvent(
        sqsRecord(appflowEvent('run-failed-on-demand', flows.rerunOnRole)),
        sqsRecord(appflowEvent('run-failed-on-demand', flows.rerunOwn)),
        sqsRecord(appflowEvent('scheduled-flow-deactivated', flows.reactivatedOnRole)),
        sqsRecord(appflowEvent('scheduled-flow-deactivated', flows.reactivatedOwn)),
      ),
      lambdaContext(),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    for (const flow of Object.values(flows)) expect(endpoint.flowRuns(flow)).toHaveLength(1);
    expect(signers('StartFlow')).toEqual(
      expect.arrayContaining([
        { target: flows.rerunOnRole, signedBy: role },
        { target: flows.reactivatedOnRole, signedBy: role },
        { target: flows.rerunOwn, signedBy: 'function' },
        { target: flows.reactivatedOwn, signedBy: 'function' },
      ]),
    );
    expect(signers('StartFlow')).toHaveLength(4);
    expect(signers('DescribeFlow')).toEqual(
      expect.arrayContaining([
        { target: flows.reactivatedOnRole, signedBy: role },
        { target: flows.reactivatedOwn, signedBy: 'function' },
      ]),
    );
    expect(signers('DescribeFlow')).toHaveLength(2);
    expect(endpoint.calls.filter((call) => call.operation === 'AssumeRole')).toEqual([
      expect.objectContaining({
        service: 'sts',
        target: role,
        outcome: 'ok',
        signedWith: { accessKeyId: OWN_ACCESS_KEY },
      }),
    ]);
    expect(endpoint.issuedCredentials()).toEqual([
      expect.objectContaining({ roleArn: role, roleSessionName: 'autoheal-flow-healer' }),
    ]);
  });
});

describe('the flow starter of 750 scheduled flows, the last 44 on a scope role', () => {
  const config = parseAppflowConfig(flowScaleConfig(750, 75, 0).appflow);
  const listed = scheduledFlowsOf(config);
  const [firstOnScopeRole] = FLOW_SCOPE_ROLE_ROUTES[1.5].starter;
  const role = scopeRoleArn('ScheduledFlowsStarter');
  const onRole = listed[listed.length - 1];
  const own = flowName(0);
  const scheduleOf = (flow: string) =>
    config.schedules.find((schedule) => schedule.flows.includes(flow))?.name ?? '';

  it("starts the last scheduled flow with the scope role's credentials and flow #0 with the function's own", async () => {
    // Prepare
    expect(listed.indexOf(own)).toBe(0);
    for (const flow of [onRole, own]) endpoint.addFlow({ flowName: flow, triggerType: 'OnDemand' });
    const { appflow, sqs, sns, dynamodb } = ownClients();
    const handler = createFlowStarterHandler({
      config,
      appflow,
      // As flow-starter.handler.ts builds it, against the local endpoint.
      appflowFor: appflowClientsByScopeRole({
        flows: listed,
        scopeRoles: JSON.stringify([[firstOnScopeRole, role]]),
        own: appflow,
        sessionName: `autoheal-${FLOW_STARTER_SERVICE_NAME}`,
        clientConfig: { ...AUTOHEAL_CLIENT_CONFIG, endpoint: endpoint.url },
      }),
      sns,
      sqs,
      persistenceStore: new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: dynamodb }),
      noticeTopicArn: TOPIC_ARN,
      deadLetterQueueUrl: endpoint.createQueue('autoheal-flow-starter-dlq'),
      ...powertools(FLOW_STARTER_SERVICE_NAME),
      now: () => NOW,
    });
    const scheduledTime = new Date(NOW).toISOString();

    // Act
    const results = [];
    for (const flow of [onRole, own]) {
      results.push(
        await handler(
          { schedule: scheduleOf(flow), scheduledTime, flows: [flow] },
          lambdaContext(),
        ),
      );
    }

    // Assess
    expect(results).toEqual([
      expect.objectContaining({ results: [expect.objectContaining({ outcome: 'started' })] }),
      expect.objectContaining({ results: [expect.objectContaining({ outcome: 'started' })] }),
    ]);
    expect(listed.indexOf(onRole)).toBeGreaterThanOrEqual(firstOnScopeRole);
    for (const operation of ['DescribeFlow', 'StartFlow']) {
      expect(signers(operation)).toEqual([
        { target: onRole, signedBy: role },
        { target: own, signedBy: 'function' },
      ]);
    }
    expect(endpoint.issuedCredentials()).toEqual([
      expect.objectContaining({ roleArn: role, roleSessionName: 'autoheal-flow-starter' }),
    ]);
  });
});
