import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  type AppflowConfig,
  DEFAULT_NOTICES,
  flowsInScope,
  type NoticesConfig,
} from '../../lambda/shared/autoheal-config';
import {
  APPFLOW_EVENT,
  CONFIG_SECTION,
  DEFAULT_IDEMPOTENCY_KEY_PREFIX,
  ENV,
  FLOW_HEALER_SERVICE_NAME,
} from '../../lambda/shared/contract';
import { AutohealFunction } from './autoheal-function';
import { EventBuffer, shardedRules } from './event-buffer';
import { grantStartFlows } from './flow-permissions';
import { HEALING_STATE_ACTIONS, type HealingStateTable } from './healing-state-table';
import { type IdempotencyTable, keyPrefixEnvironment } from './idempotency-table';
import type { Notices } from './notices';

export interface FlowHealingProps {
  /** The validated `appflow` config: the flows in scope and the healing policy. */
  readonly config: AppflowConfig;
  /** Idempotency records, re-run lineage and re-activation history. */
  readonly idempotencyTable: IdempotencyTable;
  /** Receives re-activation, give-up and failure notices. */
  readonly notices: Notices /**
   * IAM roles and users (exact ARNs) that may send to the work queue by hand,
   * to replay its dead-letter queue; everyone else but Autoheal is denied.
   * @default []
   */;
  readonly operatorPrincipalArns?: readonly string[];
  /**
   * The installation's idempotency key prefix.
   * @default 'autoheal' (the app's)
   */
  readonly idempotencyKeyPrefix?: string;
  /**
   * The normalised `notices` section, for the notice digests.
   * @default - the defaults
   */
  readonly noticesConfig?: NoticesConfig;
  /**
   * The healing state table, where notices are counted into digests.
   * @default - none: one notice per failure
   */
  readonly stateTable?: HealingStateTable;
}

/**
 * Healing of AppFlow flows: failed runs of OnDemand flows are re-run, and
 * scheduled flows AppFlow deactivated are re-activated, within the policy's
 * limits. Events flow rules → SQS work queue → healer, like the redrive path.
 *
 * @example
 * ```ts
 * new FlowHealing(this, 'FlowHealing', { config: appflowConfig, idempotencyTable, notices });
 * ```
 */
export class FlowHealing extends Construct {
  public readonly buffer: EventBuffer;
  public readonly healer: AutohealFunction;

  public constructor(scope: Construct, id: string, props: FlowHealingProps) {
    super(scope, id);
    const { config, notices } = props;
    const flows = flowsInScope(config);

    this.buffer = new EventBuffer(this, 'Buffer', {
      purpose: 'flow healer',
      processing: config.processing,
      operatorPrincipalArns: props.operatorPrincipalArns,
      rules: [
        ...shardedRules(flows, {
          id: 'FailedFlowRuns',
          description: 'AppFlow runs of the flows in scope that did not succeed',
          eventPattern: (slice) => ({
            source: [APPFLOW_EVENT.source],
            detailType: [APPFLOW_EVENT.endReport],
            detail: {
              'flow-name': slice,
              status: [{ 'anything-but': APPFLOW_EVENT.successStatus }],
            },
          }),
        }),
        ...shardedRules(flows, {
          id: 'DeactivatedFlows',
          description: 'Scheduled flows in scope that AppFlow deactivated',
          eventPattern: (slice) => ({
            source: [APPFLOW_EVENT.source],
            detailType: [APPFLOW_EVENT.deactivated],
            detail: { 'flow-name': slice },
          }),
        }),
      ],
    });

    this.healer = new AutohealFunction(this, 'Healer', {
      entry: 'appflow/flow-healer.handler.ts',
      description: 'Autoheal: re-runs failed AppFlow runs and re-activates deactivated flows',
      serviceName: FLOW_HEALER_SERVICE_NAME,
      timeout: Duration.seconds(30),
      config: {
        [CONFIG_SECTION.appflow]: config,
        [CONFIG_SECTION.notices]: props.noticesConfig ?? DEFAULT_NOTICES,
      },
      environment: {
        [ENV.idempotencyTable]: props.idempotencyTable.table.tableName,
        [ENV.noticeTopicArn]: notices.topic.topicArn,
        ...keyPrefixEnvironment(props.idempotencyKeyPrefix ?? DEFAULT_IDEMPOTENCY_KEY_PREFIX),
      },
    });
    this.buffer.attachConsumer(this.healer);
    // In the order the healer lists them (flowsInScope): its scope roles' slices index that list.
    grantStartFlows(this.healer, flows, 'appflow.healedFlows');
    props.idempotencyTable.grantIdempotency(this.healer.function);
    notices.grantPublish(this.healer);
    props.stateTable?.grantItems(
      this.healer,
      HEALING_STATE_ACTIONS.digests,
      props.idempotencyKeyPrefix ?? DEFAULT_IDEMPOTENCY_KEY_PREFIX,
    );
  }
}
