/**
 * Every AWS call ends by the invocation's deadline.
 *
 * One SDK call may take `maxAttempts × requestTimeout` (3 × 5 s): started just
 * before the deadline, it would run past the Lambda timeout, and Lambda would
 * then redeliver the whole batch, including the records already handled. So
 * each call gets an `abortSignal` that fires at the deadline of the work it is
 * part of; an aborted call fails with an `AbortError`, which Autoheal classes
 * as transient (see `aws-errors.ts`), so the record is retried, never lost.
 *
 * The bound is applied by the client, not by each call site, so no call can
 * forget it, including the calls libraries make with Autoheal's clients
 * (Powertools' idempotency records): {@link autohealClient} makes every client
 * read the deadline of the work it runs in, which the handlers set with
 * {@link withCallDeadline}. Outside such work a call is not bounded.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { AUTOHEAL_CLIENT_CONFIG, type AutohealClientConfig } from './sdk-clients';

interface CallBound {
  /** Epoch milliseconds by which every call must have ended. */
  readonly deadline: number;
  readonly now: () => number;
}

/** The bound of the work running now; one per record (records of a batch run concurrently). */
const currentBound = new AsyncLocalStorage<CallBound>();

/**
 * Runs `work` so that every AWS call it makes through an {@link autohealClient}
 * ends by `deadline`.
 *
 * @param deadline epoch milliseconds
 * @param now the clock the deadline is read against @default Date.now
 * @example
 * ```ts
 * await withCallDeadline(invocationDeadline(Date.now(), context.getRemainingTimeInMillis()), () => handle(record));
 * ```
 */
export function withCallDeadline<T>(deadline: number, work: () => T, now = Date.now): T {
  return currentBound.run({ deadline, now }, work);
}

/** The error of a call cut short at its deadline; named as the SDK names an abort. */
function abortError(deadline: number): Error {
  return Object.assign(
    new Error(
      `The AWS call was cut short at the invocation deadline (${new Date(deadline).toISOString()}); it is retried later`,
    ),
    { name: 'AbortError' },
  );
}

/** Settles as `call` does, or rejects with an AbortError when `signal` fires first. */
function untilAborted<T>(call: Promise<T>, signal: AbortSignal, deadline: number): Promise<T> {
  if (signal.aborted) {
    call.catch(() => undefined);
    return Promise.reject(abortError(deadline));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(deadline));
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

// biome-ignore lint/suspicious/noExplicitAny: the SDK's send is overloaded per client; only its shape matters here.
type Sendable = { send(...args: any[]): any };

/**
 * Makes `client` bound every call by the deadline of the work it runs in
 * ({@link withCallDeadline}): the call gets an `abortSignal` for the time left,
 * and is abandoned at the deadline even where a handler ignores the signal.
 * Returns the same client.
 */
export function boundByDeadline<C extends Sendable>(client: C): C {
  // The prototype's send is looked up per call, so a test double installed later is still used.
  const send = (command: unknown, options?: unknown, callback?: unknown) => {
    const proto = Object.getPrototypeOf(client) as Sendable;
    const bound = currentBound.getStore();
    if (bound === undefined || typeof options === 'function' || callback !== undefined) {
      return proto.send.call(client, command, options, callback);
    }
    const remainingMs = bound.deadline - bound.now();
    // Past the deadline the signal is already aborted: the SDK's HTTP handler then sends nothing.
    // AbortSignal.timeout takes whole milliseconds; a deadline may keep back a fraction of one.
    const abortSignal =
      remainingMs > 0
        ? AbortSignal.timeout(Math.ceil(remainingMs))
        : AbortSignal.abort(abortError(bound.deadline));
    const call = proto.send.call(client, command, { abortSignal, ...(options as object) });
    return untilAborted(call, abortSignal, bound.deadline);
  };
  Object.defineProperty(client, 'send', { value: send, configurable: true, writable: true });
  return client;
}

/**
 * An AWS SDK client as every Autoheal handler creates it: the shared timeouts
 * and retries of {@link AUTOHEAL_CLIENT_CONFIG}, and every call bounded by the
 * invocation's deadline. `extra` adds or overrides client options, such as
 * a scope role's credentials.
 *
 * @example
 * ```ts
 * const sfn = autohealClient(SFNClient);
 * const asScopeRole = autohealClient(SFNClient, { credentials: assumedRoleCredentials(...) });
 * ```
 */
export function autohealClient<C extends Sendable, X extends object = object>(
  Client: new (config: AutohealClientConfig & X) => C,
  extra?: X,
): C {
  return boundByDeadline(new Client({ ...AUTOHEAL_CLIENT_CONFIG, ...(extra as X) }));
}
