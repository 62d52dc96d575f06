/**
 * Classification of AWS SDK errors into throttling, transient (retry later) and
 * the rest. A transient error is rethrown as a {@link RetryableError} so the
 * message goes back to the buffer and the attempt is not lost.
 *
 * The SDK's own classifier, `@smithy/service-error-classification` (what its
 * retry strategy uses), is the source of truth: throttling names and HTTP 429,
 * `$retryable` traits, timeouts, 500/502/503/504, socket errors. Added here only
 * what it leaves out on purpose or does not know:
 *
 * - `AbortError`: the SDK never retries an abort, since a caller asked for it.
 *   Autoheal aborts a call only at its invocation deadline (see
 *   `aws-call.ts`), so the call is retried through the buffer.
 * - Step Functions' `ExecutionLimitExceeded` (the open-executions quota: a
 *   quota that frees up, not a request rate) and the KMS throttling errors of
 *   Step Functions, SQS and SNS (KMS's request quota refills).
 * - an error the service model marks as the server's fault (`$fault: server`)
 *   and any other 5xx status: the service failed, not the request.
 * - `ECONNABORTED`, a socket error the library does not list.
 */
import {
  isRetryableByTrait,
  isThrottlingError as isSdkThrottlingError,
  isTransientError as isSdkTransientError,
  isServerError,
} from '@smithy/service-error-classification';
import { RetryableError } from './errors';

/** Transient error names the SDK's classifier does not know (see the module comment). */
const MORE_TRANSIENT_ERROR_NAMES = new Set([
  'AbortError',
  'ExecutionLimitExceeded',
  'KmsThrottlingException',
  'KmsThrottled',
  'KMSThrottlingException',
]);

/** Socket errors the SDK's classifier does not list. */
const MORE_NETWORK_ERROR_CODES = new Set(['ECONNABORTED']);

/** What the SDK's classifiers read: an SDK error, or any Error they can inspect. */
type SdkError = Parameters<typeof isSdkTransientError>[0] & {
  code?: string;
  $fault?: 'client' | 'server';
};

interface SdkErrorShape {
  code?: string;
}

/** The error as the SDK's classifiers take it; they expect an object, never a string or null. */
function sdkError(error: unknown): SdkError | undefined {
  return error instanceof Error ? (error as unknown as SdkError) : undefined;
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

/** True when AWS refused the call for its rate, not for its content (the SDK's own rule). */
export function isThrottlingError(error: unknown): boolean {
  const e = sdkError(error);
  return e !== undefined && isSdkThrottlingError(e);
}

/** True when retrying the same call later may succeed. */
export function isTransientAwsError(error: unknown): boolean {
  const e = sdkError(error);
  if (e === undefined) return false;
  return (
    isSdkThrottlingError(e) ||
    isSdkTransientError(e) ||
    isRetryableByTrait(e) ||
    isServerError(e) ||
    e.$fault === 'server' ||
    MORE_TRANSIENT_ERROR_NAMES.has(e.name) ||
    (e.code !== undefined && MORE_NETWORK_ERROR_CODES.has(e.code))
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
