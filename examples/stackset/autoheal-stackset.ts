import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  Capability,
  DeploymentType,
  StackSet,
  StackSetStack,
  type StackSetTarget,
  StackSetTemplate,
} from 'cdk-stacksets';
import { Construct } from 'constructs';
import { autohealPropsFromConfig } from '../../bin/config/props-from-config';
import type { AutohealConfig } from '../../lambda/shared/autoheal-config';
import { Autoheal } from '../../lib/autoheal';

/** Where the StackSet deploys Autoheal, and how its assets reach each region. */
export interface AutohealStackSetProps {
  /** The validated config every stack instance gets (see `loadAutohealConfig`). */
  readonly config: AutohealConfig;
  /**
   * The accounts (or organisational units) and regions of the stack instances.
   * @example StackSetTarget.fromOrganizationalUnits({ organizationalUnits: ['ou-ab12-34cd56ef'], regions })
   */
  readonly target: StackSetTarget;
  /**
   * The regions of {@link target} again: the Lambda code is copied to one
   * asset bucket per region (a StackSetTarget does not expose its regions).
   */
  readonly regions: readonly string[];
  /**
   * Prefix of the asset buckets, one per target region, named
   * `PREFIX-REGION`, created beforehand and readable by the target accounts
   * (the organisation for a service-managed StackSet, the execution role's
   * accounts for a self-managed one).
   * @example 'acme-autoheal-assets'
   */
  readonly assetBucketPrefix: string;
  /**
   * Service-managed (AWS Organizations, automatic deployment to new accounts)
   * or self-managed (your administration and execution roles).
   * @default DeploymentType.serviceManaged()
   */
  readonly deploymentType?: DeploymentType;
  /** @default - CloudFormation's name derived from the construct path */
  readonly stackSetName?: string;
}

/**
 * The environment-agnostic Autoheal stack of a StackSet: no account, no
 * region, so each stack instance scopes itself to the account and region it
 * is deployed in (CloudFormation pseudo parameters). Its Lambda code is read
 * from the asset bucket of the instance's region.
 */
export class AutohealStackSetStack extends StackSetStack {
  public readonly autoheal: Autoheal;

  public constructor(
    scope: Construct,
    id: string,
    props: { config: AutohealConfig; assetBuckets: s3.IBucket[]; assetBucketPrefix: string },
  ) {
    super(scope, id, {
      assetBuckets: props.assetBuckets,
      assetBucketPrefix: props.assetBucketPrefix,
    });
    this.autoheal = new Autoheal(this, 'Autoheal', autohealPropsFromConfig(props.config));
  }
}

/**
 * Autoheal in every account and region of a CloudFormation StackSet, placed
 * in the administrator (or delegated administrator) account's stack. That
 * stack copies the Lambda code to the asset buckets and creates the StackSet
 * from the environment-agnostic {@link AutohealStackSetStack}.
 *
 * @example
 * ```ts
 * const admin = new Stack(app, 'AutohealStackSet', { env: { account: '111111111111', region: 'eu-west-1' } });
 * new AutohealStackSet(admin, 'Autoheal', {
 *   config: loadAutohealConfig(app.node),
 *   target: StackSetTarget.fromOrganizationalUnits({ organizationalUnits: ['ou-ab12-34cd56ef'], regions: ['eu-west-1', 'us-east-1'] }),
 *   regions: ['eu-west-1', 'us-east-1'],
 *   assetBucketPrefix: 'acme-autoheal-assets',
 * });
 * ```
 */
export class AutohealStackSet extends Construct {
  /** One per region, `PREFIX-REGION`, imported: they must exist before the first deploy. */
  public readonly assetBuckets: s3.IBucket[];
  public readonly stackSetStack: AutohealStackSetStack;
  public readonly stackSet: StackSet;

  public constructor(scope: Construct, id: string, props: AutohealStackSetProps) {
    super(scope, id);
    this.assetBuckets = props.regions.map((region) =>
      s3.Bucket.fromBucketAttributes(this, `AssetBucket-${region}`, {
        bucketName: `${props.assetBucketPrefix}-${region}`,
        region,
      }),
    );
    this.stackSetStack = new AutohealStackSetStack(this, 'Template', {
      config: props.config,
      assetBuckets: this.assetBuckets,
      assetBucketPrefix: props.assetBucketPrefix,
    });
    this.stackSet = new StackSet(this, 'StackSet', {
      description: 'Autoheal: self-healing for Step Functions executions and AppFlow flows',
      stackSetName: props.stackSetName,
      target: props.target,
      template: StackSetTemplate.fromStackSetStack(this.stackSetStack),
      deploymentType: props.deploymentType ?? DeploymentType.serviceManaged(),
      // Autoheal creates IAM roles (without fixed names).
      capabilities: [Capability.IAM],
      managedExecution: true,
    });
  }
}
