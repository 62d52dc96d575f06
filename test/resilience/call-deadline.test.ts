/**
 * Through the real SDK to the local AWS endpoint: a call that AWS accepts and
 * never answers ends at the deadline of its work, not after the SDK's
 * 3 attempts × 5 s, and is not retried by the SDK.
 */
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { autohealClient, withCallDeadline } from '../../lambda/shared/aws-call';
import { isTransientAwsError } from '../../lambda/shared/aws-errors';
import { AUTOHEAL_CLIENT_CONFIG } from '../../lambda/shared/sdk-clients';
import { LocalAwsEndpoint } from '../support/local-aws/local-aws-endpoint';

const REGION = 'eu-central-1';
const ACCOUNT = '123456789012';

let endpoint: LocalAwsEndpoint;
let sfn: SFNClient;

beforeEach(async () => {
  endpoint = await LocalAwsEndpoint.start();
  process.env.AWS_ENDPOINT_URL_SFN = endpoint.url;
  process.env.AWS_REGION ??= REGION;
  // As the handlers create it: Autoheal's timeouts and retries, every call bounded.
  sfn = autohealClient(SFNClient);
});

afterEach(async () => {
  sfn.destroy();
  delete process.env.AWS_ENDPOINT_URL_SFN;
  await endpoint.stop();
});

it('ends a hung DescribeExecution started 1 s before the deadline by the deadline, once', async () => {
  // Prepare
  const executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:orders:run-1`;
  endpoint.addExecution({
    executionArn,
    stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:orders`,
    status: 'FAILED',
    startDate: Date.now() - 120_000,
    stopDate: Date.now() - 60_000,
    error: 'States.TaskFailed',
  });
  endpoint.setFaults({ hangRate: 1 });
  const started = Date.now();

  // Act
  const error = await withCallDeadline(started + 1_000, () =>
    sfn.send(new DescribeExecutionCommand({ executionArn })),
  ).then(
    () => undefined,
    (e: Error) => e,
  );

  // Assess: cut short by the abort, well before the SDK's own 5 s request timeout
  expect(error?.name).toBe('AbortError');
  expect(isTransientAwsError(error)).toBe(true);
  expect(Date.now() - started).toBeLessThan(AUTOHEAL_CLIENT_CONFIG.requestHandler.requestTimeout);
  expect(endpoint.countCalls({ operation: 'DescribeExecution', outcome: 'hung' })).toBe(1);
});
