/**
 * Which AWS SDK errors Autoheal waits out (throttling), retries through the
 * buffer (transient) or records as final, on the errors the SDK really throws:
 * the modelled exception classes of each client, generic service exceptions
 * with an HTTP status, socket errors and the SDK's own timeout and abort.
 */
import {
  AccessDeniedException,
  InternalServerException as AppflowInternalServerException,
  ThrottlingException as AppflowThrottlingException,
} from '@aws-sdk/client-appflow';
import {
  ConditionalCheckFailedException,
  ThrottlingException as DynamoDbThrottlingException,
  ProvisionedThroughputExceededException,
  ReplicatedWriteConflictException,
  RequestLimitExceeded,
} from '@aws-sdk/client-dynamodb';
import {
  ExecutionDoesNotExist,
  ExecutionLimitExceeded,
  ExecutionNotRedrivable,
  KmsThrottlingException,
  SFNServiceException,
  ValidationException,
} from '@aws-sdk/client-sfn';
import { ThrottledException } from '@aws-sdk/client-sns';
import { RequestThrottled } from '@aws-sdk/client-sqs';
import {
  awsErrorName,
  isThrottlingError,
  isTransientAwsError,
  rethrowClassified,
} from '../../lambda/shared/aws-errors';
import { RetryableError } from '../../lambda/shared/errors';

const $metadata = {};

/** A Step Functions error the model does not name, as the SDK builds it from the HTTP answer. */
function sfnError(name: string, httpStatusCode: number, extra: object = {}) {
  const error = new SFNServiceException({
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
    message: name,
  });
  return Object.assign(error, extra);
}

const socketError = (code: string) => Object.assign(new Error(`socket: ${code}`), { code });
const named = (name: string) => Object.assign(new Error(name), { name });

describe('AWS error classification', () => {
  it.each([
    // Throttling: waited out inside the invocation, and transient.
    {
      label: 'Step Functions ThrottlingException (400)',
      error: sfnError('ThrottlingException', 400),
      throttling: true,
      transient: true,
    },
    {
      label: 'AppFlow ThrottlingException',
      error: new AppflowThrottlingException({ message: 'slow down', $metadata }),
      throttling: true,
      transient: true,
    },
    {
      label: 'DynamoDB ProvisionedThroughputExceededException',
      error: new ProvisionedThroughputExceededException({ message: 'x', $metadata }),
      throttling: true,
      transient: true,
    },
    {
      label: 'DynamoDB RequestLimitExceeded',
      error: new RequestLimitExceeded({ message: 'x', $metadata }),
      throttling: true,
      transient: true,
    },
    {
      label: 'DynamoDB ThrottlingException',
      error: new DynamoDbThrottlingException({ message: 'x', $metadata }),
      throttling: true,
      transient: true,
    },
    {
      label: 'SQS RequestThrottled',
      error: new RequestThrottled({ message: 'x', $metadata }),
      throttling: true,
      transient: true,
    },
    {
      label: 'SNS ThrottledException',
      error: new ThrottledException({ message: 'x', $metadata }),
      throttling: true,
      transient: true,
    },
    {
      label: 'any error answered with HTTP 429',
      error: sfnError('SlowDownPlease', 429),
      throttling: true,
      transient: true,
    },
    {
      label: 'an error with the throttling trait',
      error: sfnError('Unnamed', 400, { $retryable: { throttling: true } }),
      throttling: true,
      transient: true,
    },
    // Transient, not throttling: retried through the buffer.
    {
      label: 'Step Functions ExecutionLimitExceeded',
      error: new ExecutionLimitExceeded({ message: 'too many open executions', $metadata }),
      throttling: false,
      transient: true,
    },
    {
      label: 'Step Functions KmsThrottlingException',
      error: new KmsThrottlingException({ message: 'x', $metadata }),
      throttling: false,
      transient: true,
    },
    {
      label: 'InternalFailure (500)',
      error: sfnError('InternalFailure', 500),
      throttling: false,
      transient: true,
    },
    {
      label: 'ServiceUnavailable (503)',
      error: sfnError('ServiceUnavailable', 503),
      throttling: false,
      transient: true,
    },
    {
      label: 'any other 5xx (501)',
      error: sfnError('NotImplemented', 501),
      throttling: false,
      transient: true,
    },
    {
      label: 'AppFlow InternalServerException (a server fault, no status)',
      error: new AppflowInternalServerException({ message: 'Try again later', $metadata }),
      throttling: false,
      transient: true,
    },
    {
      label: 'a retryable trait (DynamoDB ReplicatedWriteConflictException)',
      error: new ReplicatedWriteConflictException({ message: 'x', $metadata }),
      throttling: false,
      transient: true,
    },
    ...['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'].map(
      (code) => ({
        label: `a socket error (${code})`,
        error: socketError(code),
        throttling: false,
        transient: true,
      }),
    ),
    {
      label: "the SDK's request timeout (TimeoutError)",
      error: named('TimeoutError'),
      throttling: false,
      transient: true,
    },
    {
      label: 'a call aborted at the invocation deadline (AbortError)',
      error: named('AbortError'),
      throttling: false,
      transient: true,
    },
    // Final: no retry can fix them.
    {
      label: 'ExecutionNotRedrivable',
      error: new ExecutionNotRedrivable({ message: 'x', $metadata }),
      throttling: false,
      transient: false,
    },
    {
      label: 'ExecutionDoesNotExist',
      error: new ExecutionDoesNotExist({ message: 'x', $metadata }),
      throttling: false,
      transient: false,
    },
    {
      label: 'ValidationException',
      error: new ValidationException({ message: 'x', $metadata }),
      throttling: false,
      transient: false,
    },
    {
      label: 'AppFlow AccessDeniedException',
      error: new AccessDeniedException({ message: 'x', $metadata }),
      throttling: false,
      transient: false,
    },
    {
      label: 'DynamoDB ConditionalCheckFailedException',
      error: new ConditionalCheckFailedException({ message: 'x', $metadata }),
      throttling: false,
      transient: false,
    },
    { label: 'a plain Error', error: new Error('bug'), throttling: false, transient: false },
    { label: 'a string', error: 'ThrottlingException', throttling: false, transient: false },
    { label: 'null', error: null, throttling: false, transient: false },
  ])('$label: throttling $throttling, transient $transient', ({ error, throttling, transient }) => {
    expect({ throttling: isThrottlingError(error), transient: isTransientAwsError(error) }).toEqual(
      { throttling, transient },
    );
  });

  it('rethrows a transient error as RetryableError naming it, and a final one unchanged', () => {
    // Prepare
    const transient = new ExecutionLimitExceeded({ message: 'x', $metadata });
    const final = new ExecutionNotRedrivable({ message: 'x', $metadata });

    // Act / Assess
    expect(() => rethrowClassified(transient, 'RedriveExecution')).toThrow(RetryableError);
    expect(() => rethrowClassified(transient, 'RedriveExecution')).toThrow(
      /RedriveExecution failed transiently \(ExecutionLimitExceeded\)/,
    );
    expect(() => rethrowClassified(final, 'RedriveExecution')).toThrow(final);
  });

  it.each([
    { error: sfnError('ThrottlingException', 400), name: 'ThrottlingException' },
    { error: socketError('ECONNRESET'), name: 'ECONNRESET' },
    { error: 'oops', name: 'UnknownError' },
  ])('names $name', ({ error, name }) => {
    expect(awsErrorName(error)).toBe(name);
  });
});
