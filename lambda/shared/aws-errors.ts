/**
 * Classification of AWS SDK errors into transient (retry later) and the rest.
 * A transient error is rethrown as a {@link RetryableError} so the message goes
 * back to the buffer and the attempt is not lost.
 */
import { RetryableError } from './errors';

/** Error names that mean "not now": throttling, quotas that refill, server-side faults. */
const TRANSIENT_ERROR_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'ExecutionLimitExceeded',
  'InternalServerException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

/** Socket-level failures: the request may never have reached AWS. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/**
 * The error's AWS name, e.g. `ThrottlingException`; for a socket error its
 * code, e.g. `ECONNRESET`; otherwise its class name.
 */
export function awsErrorName(error: unknown): string {
  if (!(error instanceof Error)) return 'UnknownError';
  const { code } = error as Error & SdkErrorShape;
  return error.name === 'Error' && typeof code === 'string' ? code : error.name;
}

/**
 * The name of the error that really happened: the AWS error behind a
 * {@link RetryableError}, e.g. `ThrottlingException`, for reasons and metrics.
 */
export function underlyingErrorName(error: unknown): string {
  return error instanceof RetryableError && error.cause !== undefined
    ? awsErrorName(error.cause)
    : awsErrorName(error);
}

/** True when retrying the same call later may succeed. */
export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const e = error as Error & SdkErrorShape;
  return (
    TRANSIENT_ERROR_NAMES.has(e.name) ||
    (e.code !== undefined && NETWORK_ERROR_CODES.has(e.code)) ||
    e.$fault === 'server' ||
    (e.$metadata?.httpStatusCode ?? 0) >= 500 ||
    Boolean(e.$retryable)
  );
}

/** Rethrows a transient error as {@link RetryableError}; anything else as it is. */
export function rethrowClassified(error: unknown, what: string): never {
  if (isTransientAwsError(error)) {
    throw new RetryableError(
      `${what} failed transiently (${awsErrorName(error)}); it is retried later, nothing is lost`,
      { cause: error },
    );
  }
  throw error;
}
