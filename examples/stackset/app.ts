#!/usr/bin/env node
/**
 * Autoheal in every account and region of a CloudFormation StackSet.
 *
 * Deploy the administrator stack from the management account (or a delegated
 * administrator of CloudFormation StackSets), with the config in cdk.json:
 *
 * ```sh
 * npx cdk deploy --app 'npx ts-node --prefer-ts-exts examples/stackset/app.ts' \
 *   -c stackSetRegions=eu-west-1,us-east-1 \
 *   -c stackSetOrganizationalUnits=ou-ab12-34cd56ef \
 *   -c stackSetAssetBucketPrefix=acme-autoheal-assets
 * ```
 *
 * `stackSetOrganizationalUnits` makes a service-managed StackSet (AWS
 * Organizations deploys to every account of the units, and to accounts that
 * join later; add `-c stackSetDelegatedAdmin=false` when deploying from the
 * management account itself); `stackSetAccounts=111111111111,222222222222` instead makes a
 * self-managed one (the AWSCloudFormationStackSetAdministrationRole and
 * AWSCloudFormationStackSetExecutionRole roles must exist). Create the asset
 * buckets first, one per region, named `PREFIX-REGION` and readable by the
 * target accounts.
 */
import { App, Stack } from 'aws-cdk-lib';
import { DeploymentType, StackSetTarget } from 'cdk-stacksets';
import type { Node } from 'constructs';
import { loadAutohealConfig } from '../../bin/config/load-config';
import { exitOnConfigError } from '../../bin/config-errors';
import { describeSynthTarget } from '../../bin/synth-target';
import { ConfigError } from '../../lambda/shared/errors';
import { AutohealStackSet, type AutohealStackSetProps } from './autoheal-stackset';

/** The context keys this app reads, besides Autoheal's own config. */
export const STACKSET_CONTEXT = {
  regions: 'stackSetRegions',
  organizationalUnits: 'stackSetOrganizationalUnits',
  accounts: 'stackSetAccounts',
  assetBucketPrefix: 'stackSetAssetBucketPrefix',
  delegatedAdmin: 'stackSetDelegatedAdmin',
} as const;

/** A comma-separated context value as a list; absent or empty is an empty list. */
function listOf(node: Node, key: string): string[] {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

/**
 * Where the StackSet deploys, from `-c` context: regions, then organisational
 * units (service-managed) or accounts (self-managed), and the asset buckets'
 * prefix.
 *
 * @throws {ConfigError} naming the context key that is missing or conflicting
 */
export function stackSetTargetFromContext(node: Node): Omit<AutohealStackSetProps, 'config'> {
  const regions = listOf(node, STACKSET_CONTEXT.regions);
  const organizationalUnits = listOf(node, STACKSET_CONTEXT.organizationalUnits);
  const accounts = listOf(node, STACKSET_CONTEXT.accounts);
  const assetBucketPrefix = listOf(node, STACKSET_CONTEXT.assetBucketPrefix)[0];
  if (regions.length === 0) {
    throw new ConfigError(
      STACKSET_CONTEXT.regions,
      'names no region: pass -c stackSetRegions=eu-west-1,us-east-1',
    );
  }
  if ((organizationalUnits.length === 0) === (accounts.length === 0)) {
    throw new ConfigError(
      STACKSET_CONTEXT.organizationalUnits,
      'pass either -c stackSetOrganizationalUnits=ou-… (service-managed) or -c stackSetAccounts=111111111111,… (self-managed), not both or neither',
    );
  }
  if (!assetBucketPrefix) {
    throw new ConfigError(
      STACKSET_CONTEXT.assetBucketPrefix,
      'is missing: pass -c stackSetAssetBucketPrefix=PREFIX, where buckets PREFIX-REGION exist in each region',
    );
  }
  return organizationalUnits.length > 0
    ? {
        regions,
        assetBucketPrefix,
        target: StackSetTarget.fromOrganizationalUnits({ organizationalUnits, regions }),
        // cdk-stacksets calls as a delegated administrator unless told this is the management account.
        deploymentType: DeploymentType.serviceManaged({
          delegatedAdmin: String(node.tryGetContext(STACKSET_CONTEXT.delegatedAdmin)) !== 'false',
        }),
      }
    : {
        regions,
        assetBucketPrefix,
        target: StackSetTarget.fromAccounts({ accounts, regions }),
        deploymentType: DeploymentType.selfManaged(),
      };
}

if (require.main === module) {
  // The administrator stack deploys where the CLI points; the stack instances go where the target says.
  process.stderr.write(
    `${describeSynthTarget(process.env)} (the StackSet's administrator stack)\n`,
  );
  exitOnConfigError(() => {
    const app = new App();
    const admin = new Stack(app, 'AutohealStackSet', {
      env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    });
    const target = stackSetTargetFromContext(app.node);
    process.stderr.write(
      `Autoheal: the StackSet deploys to regions ${target.regions.join(', ')}; each stack instance scopes itself to its own account and region\n`,
    );
    new AutohealStackSet(admin, 'Autoheal', { config: loadAutohealConfig(app.node), ...target });
    app.synth();
  });
}
