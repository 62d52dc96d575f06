/**
 * A local AWS endpoint for tests and benchmarks: one in-process HTTP server on
 * 127.0.0.1 that speaks the wire protocols of Step Functions (JSON 1.0),
 * AppFlow (REST-JSON), SQS (JSON 1.0, query-compatible errors), STS's
 * AssumeRole (AWS Query), and, for the operator CLI, CloudFormation's
 * DescribeStacks and ListStackResources (AWS Query) and Lambda's GetFunction
 * (REST-JSON, the code zip served at its `Code.Location`), so the real AWS SDK v3 clients work against it
 * unchanged, through `AWS_ENDPOINT_URL_SFN` / `_APPFLOW` / `_SQS` / `_STS` or
 * `endpoint:` - retries, error
 * parsing and SQS's MD5 checks included. It injects AWS-like faults (token
 * bucket quotas, 5xx, hangs, latency, ExecutionLimitExceeded) from a seeded
 * PRNG and records every request. A state machine's downstream can be
 * scripted (`scriptDownstream`): its redriven executions then fail again or
 * succeed, and send their status-change events (`onStatusChange`), as Step
 * Functions would.
 *
 * @example
 * const endpoint = await LocalAwsEndpoint.start({ faults: { quotas: { RedriveExecution: { burst: 800, perSecond: 150 } } } });
 * const sfn = new SFNClient({ endpoint: endpoint.url });
 * ...
 * await endpoint.stop();
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  APPFLOW_PATHS,
  AppFlowRegistry,
  type FlowRun,
  type FlowSpec,
  type FlowStatus,
} from './appflow';
import { CLOUDFORMATION_XMLNS, CloudFormationRegistry, type StackSpec } from './cloudformation';
import { type FaultDecision, type FaultOptions, FaultPlan } from './faults';
import {
  type FunctionSpec,
  LAMBDA_CODE_PATH,
  LAMBDA_GET_FUNCTION_PATH,
  LambdaRegistry,
} from './lambda';
import { type QueueDepth, type QueueOptions, SqsBroker, type StoredMessage } from './sqs';
import {
  type DownstreamScript,
  type ExecutionSpec,
  type ExecutionState,
  type ExecutionStatus,
  type StateMachineType,
  type StatusChangeEvent,
  type StatusChangeListener,
  StepFunctionsRegistry,
} from './step-functions';
import { type IssuedCredentials, STS_XMLNS, StsRegistry } from './sts';
import { AwsError, type JsonInput, type LocalAwsService } from './wire';

export type { FlowRun, FlowSpec, FlowStatus, FlowTriggerType } from './appflow';
export type { StackOutputSpec, StackResourceSpec, StackSpec } from './cloudformation';
export type { FaultOptions, TokenBucketQuota } from './faults';
export type { FunctionSpec } from './lambda';
export type { MessageAttribute, QueueDepth, QueueOptions, StoredMessage } from './sqs';
export type {
  DownstreamScript,
  ExecutionSpec,
  ExecutionState,
  ExecutionStatus,
  RedriveRecord,
  StateMachineState,
  StateMachineType,
  StatusChangeEvent,
  StatusChangeListener,
  TimeSpan,
} from './step-functions';
export { brokenBetween, flapping, isWithin } from './step-functions';
export type { IssuedCredentials } from './sts';
export { LOCAL_ACCOUNT, LOCAL_REGION, type LocalAwsService } from './wire';

/** What happened to one request. */
export type CallOutcome =
  | 'ok'
  | 'throttled'
  | 'server-error'
  | 'hung'
  | 'execution-limit'
  | 'error';

/** One request the endpoint received. */
export interface CallRecord {
  readonly service: LocalAwsService;
  readonly operation: string;
  /** `Date.now()` when it was received. */
  readonly at: number;
  readonly outcome: CallOutcome;
  /** The error answered, for every outcome but `ok` and `hung`. */
  readonly errorName?: string;
  /** The executionArn, stateMachineArn, flowName or queue name it was about. */
  readonly target?: string;
  readonly clientToken?: string;
  /** The access key id of the SigV4 `Authorization` header, and the session token, that signed it. */
  readonly signedWith?: { readonly accessKeyId: string; readonly sessionToken?: string };
}

/** Options of {@link LocalAwsEndpoint.start}. */
export interface LocalAwsEndpointOptions {
  /** @default no faults */
  readonly faults?: FaultOptions;
  /**
   * Real milliseconds per simulated SQS second (DelaySeconds, visibility
   * timeouts, WaitTimeSeconds).
   * @default 1000
   */
  readonly timeScale?: number;
  /**
   * The clock of the Step Functions and AppFlow registries (redrive and token
   * windows, redriveDate, run times), epoch ms. Quotas, SQS times and
   * `CallRecord.at` always use the real clock.
   * @default Date.now
   */
  readonly clock?: () => number;
  /**
   * A simulated clock, epoch ms, for everything but `CallRecord.at`: the
   * registries (unless `clock` is given), SQS (sent times, delays,
   * visibility: one simulated second is 1000 ms of it, `timeScale` is not
   * used) and the quotas (a quota is then a rate per simulated second).
   * @default real time
   */
  readonly simulatedClock?: () => number;
}

/** How often (real ms) the endpoint settles redriven executions whose run has ended. */
const SETTLE_EVERY_MS = 5;

type Protocol = 'json' | 'rest-json' | 'query';

interface Route {
  readonly service: LocalAwsService;
  readonly operation: string;
  readonly protocol: Protocol;
  /** Members taken from the request's path (REST-JSON), merged into its input. */
  readonly params?: JsonInput;
}

type MutableCall = { -readonly [K in keyof CallRecord]: CallRecord[K] };

const JSON_TARGETS: Readonly<Record<string, LocalAwsService>> = {
  AWSStepFunctions: 'sfn',
  AmazonSQS: 'sqs',
};
/** The `__type` namespace of each JSON service's errors (the SDK keeps only the name after `#`). */
const NAMESPACES: Readonly<Record<LocalAwsService, string>> = {
  sfn: 'com.amazonaws.states',
  sqs: 'com.amazonaws.sqs',
  appflow: 'com.amazonaws.appflow',
  sts: 'com.amazonaws.sts',
  cloudformation: 'com.amazonaws.cloudformation',
  lambda: 'com.amazonaws.lambda',
};

/** The `xmlns` of each AWS Query service's answers. */
const XMLNS: Readonly<Partial<Record<LocalAwsService, string>>> = {
  sts: STS_XMLNS,
  cloudformation: CLOUDFORMATION_XMLNS,
};

function errorFor(decision: FaultDecision, route: Route, serverErrors: number): AwsError {
  switch (decision) {
    case 'throttled':
      if (route.protocol === 'query') return new AwsError('Throttling', 'Rate exceeded', 400);
      return route.protocol === 'rest-json'
        ? new AwsError('ThrottlingException', 'Rate exceeded', 429)
        : new AwsError('ThrottlingException', 'Rate exceeded', 400, 'ThrottlingException');
    case 'execution-limit':
      return new AwsError('ExecutionLimitExceeded', 'Execution limit exceeded for the account');
    default:
      if (route.protocol === 'rest-json') {
        return new AwsError('InternalServerException', 'An internal error occurred', 500);
      }
      return serverErrors % 2 === 0
        ? new AwsError('InternalFailure', 'An internal error occurred', 500, 'InternalFailure')
        : new AwsError('ServiceUnavailable', 'Service is unavailable', 503, 'ServiceUnavailable');
  }
}

/** An in-process AWS endpoint for Step Functions, AppFlow and SQS. See the module comment. */
export class LocalAwsEndpoint {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  private readonly callLog: MutableCall[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sfn: StepFunctionsRegistry;
  private readonly appflow: AppFlowRegistry;
  private readonly sqs: SqsBroker;
  private readonly sts: StsRegistry;
  private readonly cloudformation: CloudFormationRegistry;
  private readonly lambda: LambdaRegistry;
  private faultPlan: FaultPlan;
  /** 5xx answered per service, so SFN and SQS alternate 500 and 503 on their own. */
  private readonly serverErrors: Record<LocalAwsService, number> = {
    sfn: 0,
    appflow: 0,
    sqs: 0,
    sts: 0,
    cloudformation: 0,
    lambda: 0,
  };
  private stopping?: Promise<void>;
  private readonly quotaClock: () => number;
  private settler?: NodeJS.Timeout;

  private constructor(
    private readonly server: Server,
    options: LocalAwsEndpointOptions,
  ) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    const simulated = options.simulatedClock;
    const clock = options.clock ?? simulated ?? Date.now;
    this.sfn = new StepFunctionsRegistry(clock);
    this.appflow = new AppFlowRegistry(clock);
    this.sqs = simulated
      ? new SqsBroker(this.url, 1000, (ms) => this.sleep(ms), simulated)
      : new SqsBroker(this.url, options.timeScale ?? 1000, (ms) => this.sleep(ms));
    this.quotaClock = simulated ?? (() => performance.now());
    this.faultPlan = new FaultPlan(options.faults ?? {}, this.quotaClock);
    this.sts = new StsRegistry(clock);
    this.cloudformation = new CloudFormationRegistry(clock);
    this.lambda = new LambdaRegistry(this.url);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
  }

  /** Starts an endpoint on a free port of 127.0.0.1. */
  static async start(options: LocalAwsEndpointOptions = {}): Promise<LocalAwsEndpoint> {
    const server = createServer();
    // Hung requests stay open until the client gives up; idle keep-alive sockets are not cut under a client.
    server.requestTimeout = 0;
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new LocalAwsEndpoint(server, options);
  }

  /** The environment that points the SDK's clients here: `AWS_ENDPOINT_URL_SFN`, `_APPFLOW`, `_SQS` and `_STS`. */
  env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_SFN: this.url,
      AWS_ENDPOINT_URL_APPFLOW: this.url,
      AWS_ENDPOINT_URL_SQS: this.url,
      AWS_ENDPOINT_URL_STS: this.url,
      AWS_ENDPOINT_URL_CLOUDFORMATION: this.url,
      AWS_ENDPOINT_URL_LAMBDA: this.url,
    };
  }

  /** Replaces the faults in force: quotas start full again and the PRNG restarts from the seed. */
  setFaults(faults: FaultOptions): void {
    this.faultPlan = new FaultPlan(faults, this.quotaClock);
  }

  /** Every request addressed to a served service (SFN, AppFlow, SQS, STS), in the order received. */
  get calls(): readonly CallRecord[] {
    return this.callLog;
  }

  /** How many requests match every field of `filter`. */
  countCalls(
    filter: Partial<Pick<CallRecord, 'service' | 'operation' | 'outcome' | 'target'>>,
  ): number {
    let count = 0;
    for (const call of this.callLog) {
      if (
        (filter.service === undefined || call.service === filter.service) &&
        (filter.operation === undefined || call.operation === filter.operation) &&
        (filter.outcome === undefined || call.outcome === filter.outcome) &&
        (filter.target === undefined || call.target === filter.target)
      ) {
        count++;
      }
    }
    return count;
  }

  /** Closes the server, destroys open (also hung) connections and clears every timer. */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      clearInterval(this.settler);
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.stopping;
  }

  // --- Step Functions registry

  /** Registers (or replaces) an execution, and its state machine. Times are epoch ms. */
  addExecution(execution: ExecutionSpec): void {
    this.sfn.addExecution(execution);
  }

  /** Registers a state machine without executions (ListStateMachines). */
  addStateMachine(
    stateMachineArn: string,
    options?: { readonly type?: StateMachineType; readonly creationDate?: number },
  ): void {
    this.sfn.addStateMachine(stateMachineArn, options);
  }

  /** The execution as it is now (status, redriveCount, effective redrives), or undefined. */
  execution(executionArn: string): ExecutionState | undefined {
    return this.sfn.execution(executionArn);
  }

  /**
   * Sets an execution's status, e.g. to make a redriven execution fail again;
   * a stopped status without `stopDate` stops it now.
   */
  setExecutionStatus(
    executionArn: string,
    status: ExecutionStatus,
    fields?: { readonly error?: string; readonly cause?: string; readonly stopDate?: number },
  ): void {
    this.sfn.setExecutionStatus(executionArn, status, fields);
  }

  /**
   * Scripts the downstream of a state machine: from now on each of its
   * redriven executions fails again (while broken) or succeeds, `runMs`
   * after the redrive, and sends its status-change events to the
   * {@link onStatusChange} listeners.
   *
   * @example
   * endpoint.scriptDownstream(machineArn, { broken: brokenBetween(t0, t0 + 120_000) });
   */
  scriptDownstream(stateMachineArn: string, script: DownstreamScript): void {
    this.sfn.addStateMachine(stateMachineArn);
    this.sfn.scriptDownstream(stateMachineArn, script);
    // Executions settle on the registry's clock; a timer looks for the due ones.
    this.settler ??= setInterval(() => this.sfn.settleDue(), SETTLE_EVERY_MS);
    this.settler.unref();
  }

  /**
   * Adds a listener of the status-change events of scripted executions
   * (EventBridge's `Step Functions Execution Status Change`): RUNNING when
   * one is redriven, then FAILED or SUCCEEDED with the same, higher,
   * redriveCount. Events go to every listener, matched by no rule: the
   * listener plays the rule.
   */
  onStatusChange(listener: StatusChangeListener): void {
    this.sfn.onStatusChange(listener);
  }

  /** The status-change event Step Functions sends for the execution as it is now (stamped with its stop time). */
  statusChangeEvent(executionArn: string): StatusChangeEvent {
    return this.sfn.statusChangeEventOf(executionArn);
  }

  /** Settles now the redriven executions whose run has ended (the timer does it every few ms). */
  settleDueExecutions(): number {
    return this.sfn.settleDue();
  }

  /** When the next redriven execution settles (clock ms), or undefined when none is running. */
  nextSettlementAt(): number | undefined {
    return this.sfn.nextSettlementAt();
  }

  // --- AppFlow registry

  /** Registers (or replaces) a flow; its status defaults to Active. */
  addFlow(flow: FlowSpec): void {
    this.appflow.addFlow(flow);
  }

  /** Sets a flow's status, e.g. Suspended as AppFlow deactivates a failing scheduled flow. */
  setFlowStatus(flowName: string, flowStatus: FlowStatus, flowStatusMessage?: string): void {
    this.appflow.setFlowStatus(flowName, flowStatus, flowStatusMessage);
  }

  /** The flow's effective StartFlow runs (OnDemand) and activations (Scheduled, Event); client-token replays are not counted. */
  flowRuns(flowName: string): readonly FlowRun[] {
    return this.appflow.flowRuns(flowName);
  }

  // --- STS

  /** Every AssumeRole answered (role, access key id, session token), oldest first. */
  issuedCredentials(): readonly IssuedCredentials[] {
    return this.sts.issuedCredentials();
  }

  /** The role whose AssumeRole issued `accessKeyId`, or undefined (not issued here). */
  assumedRoleOf(accessKeyId: string): string | undefined {
    return this.sts.roleOf(accessKeyId);
  }

  // --- CloudFormation and Lambda (what the operator CLI reads to find an installation)

  /** Registers (or replaces) a stack: its outputs and resources. */
  addStack(stack: StackSpec): void {
    this.cloudformation.addStack(stack);
  }

  /** Registers (or replaces) a Lambda function: its environment and code zip (served at its `Code.Location`). */
  addFunction(fn: FunctionSpec): void {
    this.lambda.addFunction(fn);
  }

  /** Answers a CloudFormation or Lambda operation with an access-denied error from now on. */
  denyOperation(service: 'cloudformation' | 'lambda', operation: string): void {
    this[service].denyOperation(operation);
  }

  // --- SQS

  /** Creates a standard queue (again: updates its options); returns its URL, `${url}/000000000000/${name}`. */
  createQueue(name: string, options?: QueueOptions): string {
    return this.sqs.createQueue(name, options);
  }

  /**
   * Fails the SendMessageBatch entries to `queueName` whose body `matches`
   * (SQS's own `InternalError`, per entry); `undefined` stops it.
   */
  failSendEntries(queueName: string, matches: ((body: string) => boolean) | undefined): void {
    this.sqs.failSendEntries(queueName, matches);
  }

  /** The queue's messages by state, now. */
  queueDepth(queueName: string): QueueDepth {
    return this.sqs.queueDepth(queueName);
  }

  /** The queue's messages, without removing them. */
  peek(queueName: string): readonly StoredMessage[] {
    return this.sqs.peek(queueName);
  }

  /** When the queue's next delayed or in-flight message becomes receivable (its clock's ms), or undefined. */
  nextVisibleAt(queueName: string): number | undefined {
    return this.sqs.nextVisibleAt(queueName);
  }

  /** Removes and returns every message of the queue (body, attributes, message attributes, receive count). */
  drain(queueName: string): readonly StoredMessage[] {
    return this.sqs.drain(queueName);
  }

  // --- the server

  /** Waits `ms`; never ends once the endpoint stops (the answer it delays is never sent). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopping) return;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private route(req: IncomingMessage, body: string): Route | undefined {
    const target = req.headers['x-amz-target'];
    // AWS Query (STS, CloudFormation): a form-encoded POST naming its Action;
    // the service is the one the request was signed for.
    if (String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      const action = new URLSearchParams(body).get('Action');
      const signedFor = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(
        req.headers.authorization ?? '',
      )?.[1];
      const service = signedFor === 'cloudformation' ? 'cloudformation' : 'sts';
      return action ? { service, operation: action, protocol: 'query' } : undefined;
    }
    if (typeof target === 'string') {
      const dot = target.indexOf('.');
      const service = JSON_TARGETS[target.slice(0, dot)];
      return service && { service, operation: target.slice(dot + 1), protocol: 'json' };
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const lambdaFunction = LAMBDA_GET_FUNCTION_PATH.exec(path);
    if (lambdaFunction && req.method === 'GET') {
      return {
        service: 'lambda',
        operation: 'GetFunction',
        protocol: 'rest-json',
        params: { FunctionName: decodeURIComponent(lambdaFunction[1]) },
      };
    }
    const operation = APPFLOW_PATHS[path];
    return operation === undefined
      ? undefined
      : { service: 'appflow', operation, protocol: 'rest-json' };
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path.startsWith(LAMBDA_CODE_PATH)) {
      // A function's code zip, as Lambda's pre-signed S3 URL serves it: no AWS protocol, not logged.
      const name = decodeURIComponent(path.slice(LAMBDA_CODE_PATH.length).replace(/\.zip$/, ''));
      const code = this.lambda.code(name);
      res.writeHead(code ? 200 : 404, { 'content-type': 'application/zip' });
      res.end(code ? Buffer.from(code) : undefined);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void this.answer(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  }

  private async answer(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const at = Date.now();
    const route = this.route(req, body);
    if (!route) {
      this.send(
        res,
        { service: 'sfn', operation: 'Unknown', protocol: 'json' },
        new AwsError(
          'UnknownOperationException',
          `Unknown operation ${req.headers['x-amz-target'] ?? req.url}`,
        ),
      );
      return;
    }
    let input: JsonInput;
    try {
      const parsed: unknown =
        route.protocol === 'query'
          ? Object.fromEntries(new URLSearchParams(body))
          : body === ''
            ? {}
            : JSON.parse(body);
      input = typeof parsed === 'object' && parsed !== null ? (parsed as JsonInput) : {};
      if (route.params) input = { ...input, ...route.params };
    } catch {
      this.send(res, route, new AwsError('SerializationException', 'Request body is not JSON'));
      return;
    }
    const backends = {
      sfn: this.sfn,
      appflow: this.appflow,
      sqs: this.sqs,
      sts: this.sts,
      cloudformation: this.cloudformation,
      lambda: this.lambda,
    };
    const backend = backends[route.service];
    const call: MutableCall = {
      service: route.service,
      operation: route.operation,
      at,
      outcome: 'ok',
    };
    const target = backend.target(input);
    if (target !== undefined) call.target = target;
    const clientToken = input.clientToken;
    if (typeof clientToken === 'string') call.clientToken = clientToken;
    const accessKeyId = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
    if (accessKeyId !== undefined) {
      const sessionToken = req.headers['x-amz-security-token'];
      call.signedWith = {
        accessKeyId,
        ...(typeof sessionToken === 'string' && { sessionToken }),
      };
    }
    this.callLog.push(call);

    const { decision, latencyMs } = this.faultPlan.decide(route.service, route.operation);
    if (decision === 'hung') {
      call.outcome = 'hung';
      return;
    }
    let answer: unknown;
    if (decision !== 'ok') {
      answer = errorFor(decision, route, this.serverErrors[route.service]);
      if (decision === 'server-error') this.serverErrors[route.service]++;
      call.outcome = decision;
    } else {
      try {
        answer = await backend.invoke(route.operation, input);
      } catch (error) {
        answer =
          error instanceof AwsError ? error : new AwsError('InternalFailure', String(error), 500);
        call.outcome = 'error';
      }
    }
    if (answer instanceof AwsError) call.errorName = answer.code;
    if (latencyMs > 0) await this.sleep(latencyMs);
    this.send(res, route, answer);
  }

  private send(res: ServerResponse, route: Route, answer: unknown): void {
    if (res.destroyed || res.writableEnded) return;
    if (route.protocol === 'query') {
      this.sendXml(res, route, answer);
      return;
    }
    const contentType =
      route.protocol === 'json' ? 'application/x-amz-json-1.0' : 'application/json';
    const headers: Record<string, string | number> = {
      'content-type': contentType,
      'x-amzn-requestid': randomUUID(),
    };
    let status = 200;
    let payload: string;
    if (answer instanceof AwsError) {
      status = answer.status;
      if (route.protocol === 'rest-json') {
        headers['x-amzn-errortype'] = answer.code;
        payload = JSON.stringify({ message: answer.message });
      } else {
        payload = JSON.stringify({
          __type: `${NAMESPACES[route.service]}#${answer.code}`,
          message: answer.message,
        });
        if (route.service === 'sqs' && answer.queryCode) {
          headers['x-amzn-query-error'] =
            `${answer.queryCode};${status >= 500 ? 'Receiver' : 'Sender'}`;
        }
      }
    } else {
      payload = JSON.stringify(answer ?? {});
    }
    headers['content-length'] = Buffer.byteLength(payload);
    res.writeHead(status, headers);
    res.end(payload);
  }

  /** An AWS Query answer: `<OpResponse><OpResult>…` (the backend's XML), or an `<ErrorResponse>`. */
  private sendXml(res: ServerResponse, route: Route, answer: unknown): void {
    const requestId = randomUUID();
    const { operation } = route;
    const error = answer instanceof AwsError ? answer : undefined;
    const xmlns = XMLNS[route.service] ?? STS_XMLNS;
    const payload = error
      ? `<ErrorResponse xmlns="${xmlns}"><Error><Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
        `<Code>${error.code}</Code><Message>${error.message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
      : `<${operation}Response xmlns="${xmlns}"><${operation}Result>${String(answer)}</${operation}Result>` +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
    res.writeHead(error?.status ?? 200, {
      'content-type': 'text/xml',
      'x-amzn-requestid': requestId,
      'content-length': Buffer.byteLength(payload),
    });
    res.end(payload);
  }
}
