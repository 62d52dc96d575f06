/**
 * The rule `autoheal explain --event FILE --config FILE` applies with no AWS
 * at all: the config file as cli/offline-config.ts reads it, a live-since
 * document from the live-healing clock's own functions, and the home (where
 * name-prefix scope applies) of the event's account and region.
 */
import { liveSinceSince } from '../../lambda/redrive/live-healing';
import type { RedriveConfig } from '../../lambda/shared/autoheal-config';
import { parseStateMachineArn } from '../../lambda/shared/state-machine-names';
import type { ExplainSetup } from './explain';

/** Options of {@link offlineSetup}. */
export interface OfflineOptions {
  /** The redrive section of the `--config` file (see cli/offline-config.ts). */
  readonly config: RedriveConfig;
  /**
   * Since when every scoped machine has been under live healing, epoch ms.
   * @default 0 (always: the before-live-healing rule then skips nothing)
   */
  readonly liveSince?: number;
  /**
   * Where name-prefix scope applies.
   * @default the home of the event's state machine ARN
   */
  readonly statesArnPrefix?: string;
  /** The event's `detail.stateMachineArn`, if it has one. */
  readonly eventStateMachineArn?: string;
}

/**
 * The rule to explain an event with, offline.
 *
 * @example
 * ```ts
 * const setup = offlineSetup({ config: readOfflineConfig('cdk.json').redrive, eventStateMachineArn });
 * ```
 */
export function offlineSetup(options: OfflineOptions): ExplainSetup {
  const { config } = options;
  const liveSince = liveSinceSince(config, options.liveSince ?? 0);
  const home = options.eventStateMachineArn
    ? parseStateMachineArn(options.eventStateMachineArn)
    : undefined;
  const statesArnPrefix =
    options.statesArnPrefix ??
    (home ? `arn:${home.partition}:states:${home.region}:${home.account}:` : 'arn:aws:states:::');
  return { config, liveSince, statesArnPrefix };
}
