/**
 * What the brake scenarios need of the storm brake, in one place: the redrive
 * config of a run (breaker on or off), the handler's extra dependencies, and,
 * with the breaker on, the keeper invoked every simulated minute, the
 * breaker's state and the held failures, read from the healing state table on
 * DynamoDB Local.
 */
import type { RedriveProcessorDeps } from '../../../lambda/redrive/redrive-processor';
import { parseRedriveConfig } from '../../../lambda/shared/autoheal-config';
import type { RedriveHandlerConfig } from '../../../lambda/shared/config/redrive-config';
import type { RedriveRig, RigEnvironmentClients } from './redrive-rig';

export type BreakerMode = 'on' | 'off';

/** The breaker's state as the timeline shows it; `off` when the run has no breaker. */
export type BreakerTimelineState = 'closed' | 'open' | 'half-open' | 'off';

/**
 * The retry policy of the brake scenarios: 10 s, doubling, capped at 60 s,
 * 20% jitter, 3 redrives. The naive baseline's three redrives all fall inside
 * a two-minute outage, as the default policy's (1, 4, 16 minutes) fall
 * inside an outage of half an hour: the storm the brake exists for.
 */
export const BRAKE_SCENARIO_DELAY = {
  baseSeconds: 10,
  factor: 2,
  capSeconds: 60,
  jitterRatio: 0.2,
} as const;

/** The state machines the scenarios scope: every name under the rig's demo prefix. */
export const BRAKE_SCENARIO_PREFIX = 'autoheal-demo-';

/** The redrive config of a brake scenario. */
export function brakeScenarioConfig(_breaker: BreakerMode): RedriveHandlerConfig {
  // TODO(storm brake): `breaker: { enabled: _breaker === 'on' }` once brake-infra's schema has it.
  return parseRedriveConfig({
    stateMachineNamePrefixes: [BRAKE_SCENARIO_PREFIX],
    maxRedrives: 3,
    delay: { ...BRAKE_SCENARIO_DELAY },
  });
}

/** The breaker of one run, attached to its rig. */
export interface AttachedBrake {
  /** One invocation of the keeper at `now` (simulated epoch ms). */
  keeperTick(now: number): Promise<void>;
  breakerState(stateMachineArn: string): Promise<BreakerTimelineState>;
  /** Failures held by the breaker, across machines. */
  heldCount(): Promise<number>;
  destroy(): void;
}

/** The storm brake of one breaker-on run. */
export interface BrakeWiring {
  readonly config: RedriveHandlerConfig;
  /** The handler's extra dependencies (the breaker's store), from one environment's clients. */
  handlerDeps(clients: RigEnvironmentClients): Partial<RedriveProcessorDeps>;
  /** Builds the keeper on the rig (its work queue, its clock). */
  attach(rig: RedriveRig): Promise<AttachedBrake>;
}

/** The breaker-on runs cannot run on this branch: the storm brake is not wired in yet. */
export class BrakeNotWiredError extends Error {
  constructor() {
    super(
      'The breaker-on runs need the storm brake (branches brake-core, brake-runtime, brake-infra): not merged yet',
    );
    this.name = 'BrakeNotWiredError';
  }
}

/**
 * The storm brake for a breaker-on run: the healing state table on DynamoDB
 * Local, the real handler integration and the real keeper.
 */
export async function createBrakeWiring(): Promise<BrakeWiring> {
  throw new BrakeNotWiredError();
}
