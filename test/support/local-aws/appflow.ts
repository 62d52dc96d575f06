/**
 * The AppFlow side of the local AWS endpoint: a registry of flows and the two
 * operations the flow starter and healer call, StartFlow (`POST /start-flow`)
 * and DescribeFlow (`POST /describe-flow`), REST-JSON.
 */
import { randomUUID } from 'node:crypto';
import {
  AwsError,
  epochSeconds,
  type JsonInput,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  optionalString,
  requiredString,
} from './wire';

export type FlowTriggerType = 'OnDemand' | 'Scheduled' | 'Event';
export type FlowStatus = 'Active' | 'Suspended' | 'Draft' | 'Errored' | 'Deleted' | 'Deprecated';

/** A flow as a test registers it. */
export interface FlowSpec {
  readonly flowName: string;
  readonly triggerType: FlowTriggerType;
  /** @default 'Active' */
  readonly flowStatus?: FlowStatus;
  readonly flowStatusMessage?: string;
}

/** One effective StartFlow: a run of an OnDemand flow, or the activation of a Scheduled or Event flow. */
export interface FlowRun {
  /** When StartFlow ran it (the endpoint's clock, epoch ms). */
  readonly at: number;
  readonly clientToken?: string;
  /** OnDemand runs only. */
  readonly executionId?: string;
}

/** The REST paths of the AppFlow operations the endpoint serves (from the SDK's model). */
export const APPFLOW_PATHS: Readonly<Record<string, string>> = {
  '/start-flow': 'StartFlow',
  '/describe-flow': 'DescribeFlow',
};

/** How long StartFlow answers a client token idempotently. */
const TOKEN_TTL_MS = 8 * 60 * 60 * 1000;
const CLIENT_TOKEN = /^[ -~]{1,256}$/;

interface Flow {
  flowName: string;
  flowArn: string;
  triggerType: FlowTriggerType;
  flowStatus: FlowStatus;
  flowStatusMessage?: string;
  createdAt: number;
  lastUpdatedAt: number;
  runs: FlowRun[];
  tokens: Map<string, { at: number; executionId?: string }>;
}

/** AppFlow flows, and the API operations on them. */
export class AppFlowRegistry {
  private readonly flows = new Map<string, Flow>();

  constructor(private readonly clock: () => number) {}

  /** Registers (or replaces) a flow. */
  addFlow(spec: FlowSpec): void {
    const now = this.clock();
    this.flows.set(spec.flowName, {
      flowName: spec.flowName,
      flowArn: `arn:aws:appflow:${LOCAL_REGION}:${LOCAL_ACCOUNT}:flow/${spec.flowName}`,
      triggerType: spec.triggerType,
      flowStatus: spec.flowStatus ?? 'Active',
      flowStatusMessage: spec.flowStatusMessage,
      createdAt: now,
      lastUpdatedAt: now,
      runs: [],
      tokens: new Map(),
    });
  }

  /** Sets a flow's status, e.g. to make AppFlow deactivate a scheduled flow. */
  setFlowStatus(flowName: string, flowStatus: FlowStatus, flowStatusMessage?: string): void {
    const flow = this.flows.get(flowName);
    if (!flow) throw new Error(`No flow ${flowName}`);
    flow.flowStatus = flowStatus;
    flow.flowStatusMessage = flowStatusMessage;
    flow.lastUpdatedAt = this.clock();
  }

  /** The flow's effective runs and activations, oldest first. */
  flowRuns(flowName: string): readonly FlowRun[] {
    return [...(this.flows.get(flowName)?.runs ?? [])];
  }

  /** The target a call is about, for the call log. */
  target(input: JsonInput): string | undefined {
    return typeof input.flowName === 'string' ? input.flowName : undefined;
  }

  /** Runs one operation; throws an {@link AwsError} for the service's error answers. */
  invoke(operation: string, input: JsonInput): unknown {
    switch (operation) {
      case 'StartFlow':
        return this.startFlow(input);
      case 'DescribeFlow':
        return this.describeFlow(input);
      default:
        throw new AwsError('UnknownOperationException', `Unknown operation ${operation}`, 404);
    }
  }

  private findFlow(input: JsonInput): Flow {
    const flowName = requiredString(input, 'flowName');
    const flow = this.flows.get(flowName);
    if (!flow || flow.flowStatus === 'Deleted') {
      throw new AwsError('ResourceNotFoundException', `Flow ${flowName} does not exist`, 404);
    }
    return flow;
  }

  private startFlow(input: JsonInput) {
    const clientToken = optionalString(input, 'clientToken');
    if (clientToken !== undefined && !CLIENT_TOKEN.test(clientToken)) {
      throw new AwsError(
        'ValidationException',
        'clientToken must be 1-256 printable ASCII characters',
      );
    }
    const flow = this.findFlow(input);
    if (flow.flowStatus === 'Draft' || flow.flowStatus === 'Deprecated') {
      throw new AwsError(
        'ConflictException',
        `Flow ${flow.flowName} is ${flow.flowStatus} and cannot be started`,
        409,
      );
    }
    const now = this.clock();
    for (const [token, used] of flow.tokens) {
      if (now - used.at >= TOKEN_TTL_MS) flow.tokens.delete(token);
    }
    const replay = clientToken === undefined ? undefined : flow.tokens.get(clientToken);
    if (replay) {
      return {
        flowArn: flow.flowArn,
        flowStatus: flow.flowStatus,
        ...(replay.executionId && { executionId: replay.executionId }),
      };
    }
    if (flow.triggerType === 'OnDemand') {
      const executionId = randomUUID();
      flow.runs.push({ at: now, executionId, ...(clientToken !== undefined && { clientToken }) });
      if (clientToken !== undefined) flow.tokens.set(clientToken, { at: now, executionId });
      return { flowArn: flow.flowArn, flowStatus: flow.flowStatus, executionId };
    }
    // Scheduled and Event flows are activated, not run; activating an active flow changes nothing.
    if (flow.flowStatus !== 'Active') {
      flow.flowStatus = 'Active';
      flow.flowStatusMessage = undefined;
      flow.lastUpdatedAt = now;
      flow.runs.push({ at: now, ...(clientToken !== undefined && { clientToken }) });
    }
    if (clientToken !== undefined) flow.tokens.set(clientToken, { at: now });
    return { flowArn: flow.flowArn, flowStatus: flow.flowStatus };
  }

  private describeFlow(input: JsonInput) {
    const flow = this.findFlow(input);
    const lastRun = [...flow.runs].reverse().find((run) => run.executionId !== undefined);
    return {
      flowArn: flow.flowArn,
      flowName: flow.flowName,
      flowStatus: flow.flowStatus,
      ...(flow.flowStatusMessage !== undefined && { flowStatusMessage: flow.flowStatusMessage }),
      triggerConfig: { triggerType: flow.triggerType },
      createdAt: epochSeconds(flow.createdAt),
      lastUpdatedAt: epochSeconds(flow.lastUpdatedAt),
      ...(lastRun && {
        lastRunExecutionDetails: {
          mostRecentExecutionTime: epochSeconds(lastRun.at),
          mostRecentExecutionStatus: 'InProgress',
        },
      }),
    };
  }
}
