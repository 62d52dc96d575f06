/**
 * Through the real SDK to the local AWS endpoint: a message replayed from the
 * dead-letter queue long after its failure is decided on the execution as it
 * is now, never on the facts it carries.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MESSAGE_ATTRIBUTES } from '../../lambda/shared/contract';
import { expectedToken } from '../support/client-token';
import {
  type RedriveRig,
  RIG_MACHINE_ARN,
  startRedriveRig,
} from '../support/resilience/redrive-rig';

let rig: RedriveRig;
let operator: SQSClient;

beforeEach(async () => {
  rig = await startRedriveRig({ environments: 1 });
  operator = new SQSClient({ endpoint: rig.endpoint.url });
});

afterEach(async () => {
  operator.destroy();
  await rig.stop();
});

/** What an operator's DLQ replay puts back on the work queue: the body, with Autoheal's parking reason. */
function replay(body: string) {
  return operator.send(
    new SendMessageCommand({
      QueueUrl: rig.workQueueUrl,
      MessageBody: body,
      MessageAttributes: {
        [MESSAGE_ATTRIBUTES.parkedReason]: {
          DataType: 'String',
          StringValue: 'retries-exhausted after 5 receives: ThrottlingException',
        },
      },
    }),
  );
}

/** Puts the execution in the endpoint as it is now, stopped 10 minutes ago. */
function executionNow(
  executionArn: string,
  facts: { status: 'FAILED' | 'SUCCEEDED'; redriveCount: number },
) {
  const stopDate = Date.now() - 10 * 60_000;
  rig.endpoint.addExecution({
    executionArn,
    stateMachineArn: RIG_MACHINE_ARN,
    startDate: stopDate - 60_000,
    stopDate,
    ...(facts.status === 'FAILED' && { error: 'States.TaskFailed' }),
    ...facts,
  });
}

it('redrives a replayed failure #0 of an execution now at #1 once, as failure #1, after one DescribeExecution', async () => {
  // Prepare: parked at redriveCount 0; since then redriven and failed again
  const [executionArn] = rig.seedFailures(1);
  const body = rig.failureEventBody(executionArn);
  executionNow(executionArn, { status: 'FAILED', redriveCount: 1 });

  // Act
  await replay(body);
  await rig.drain(60_000);

  // Assess: the client token is failure #1's, the one its own event would use
  expect(rig.endpoint.countCalls({ operation: 'DescribeExecution' })).toBe(1);
  expect(rig.endpoint.execution(executionArn)?.redrives).toEqual([
    { at: expect.any(Number), clientToken: expectedToken(executionArn, 1) },
  ]);
  expect(rig.parked()).toEqual([]);
  // 4 AWS calls for this redrive: DescribeExecution, then the fresh event's 3.
  expect(rig.endpoint.countCalls({ service: 'sfn' }) + rig.dynamoDbCalls()).toBe(4);
});

it('does nothing for a replay whose execution has since SUCCEEDED', async () => {
  // Prepare
  const [executionArn] = rig.seedFailures(1);
  const body = rig.failureEventBody(executionArn);
  executionNow(executionArn, { status: 'SUCCEEDED', redriveCount: 1 });

  // Act
  await replay(body);
  await rig.drain(60_000);

  // Assess
  expect(rig.endpoint.countCalls({ operation: 'DescribeExecution' })).toBe(1);
  expect(rig.endpoint.countCalls({ operation: 'RedriveExecution' })).toBe(0);
  expect(rig.parked()).toEqual([]);
});

it('acts on the same event at once, without DescribeExecution, when the rule delivers it fresh', async () => {
  // Prepare
  const [executionArn] = rig.seedFailures(1);

  // Act
  await rig.enqueue([rig.failureEventBody(executionArn)]);
  await rig.drain(60_000);

  // Assess
  expect(rig.endpoint.countCalls({ operation: 'DescribeExecution' })).toBe(0);
  expect(rig.endpoint.countCalls({ operation: 'RedriveExecution' })).toBe(1);
  // 3 AWS calls: the idempotency put, RedriveExecution, the idempotency update.
  expect(rig.endpoint.countCalls({ service: 'sfn' }) + rig.dynamoDbCalls()).toBe(3);
});
