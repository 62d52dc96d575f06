/**
 * How every Autoheal AWS SDK client talks to AWS. One place, so a hung
 * connection or a slow endpoint is bounded the same way in every handler.
 *
 * Without timeouts a connection AWS accepts but never answers holds the call
 * until the Lambda itself times out, and with it the whole batch. With them the
 * SDK abandons the attempt, retries it (a timeout is transient), and if every
 * attempt hangs the record is retried through the buffer like any other
 * transient failure.
 */

/** Client options shared by every Autoheal SDK client. */
export interface AutohealClientConfig {
  /** SDK attempts per call (first try plus retries) for 5xx, timeouts and network errors. */
  readonly maxAttempts: number;
  readonly requestHandler: {
    /** Milliseconds to establish a connection. */
    readonly connectionTimeout: number;
    /** Milliseconds for the whole request and response. */
    readonly requestTimeout: number;
    /** Without it the SDK only warns when requestTimeout passes (see @smithy/node-http-handler). */
    readonly throwOnRequestTimeout: true;
  };
}

/**
 * The defaults: 3 attempts, 2 s to connect, 5 s per request. Every API Autoheal
 * calls answers in well under a second when healthy.
 *
 * @example
 * ```ts
 * const sfn = new SFNClient(AUTOHEAL_CLIENT_CONFIG);
 * ```
 */
export const AUTOHEAL_CLIENT_CONFIG: AutohealClientConfig = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
};
