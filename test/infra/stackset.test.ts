/**
 * examples/stackset: Autoheal's environment-agnostic template in a
 * CloudFormation StackSet. Each stack instance must scope itself to its own
 * account and region (pseudo parameters only), and read its Lambda code from
 * the asset bucket of its region, where the administrator stack copies it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { StackSet, StackSetStack, StackSetTarget, StackSetTemplate } from 'cdk-stacksets';
import { STACKSET_CONTEXT, stackSetTargetFromContext } from '../../examples/stackset/app';
import { AutohealStackSet } from '../../examples/stackset/autoheal-stackset';
import { parseAutohealConfig } from '../../lambda/shared/autoheal-config';
import { defaultContextConfig, featureFlagsOfCdkJson } from '../support/stack';

const ADMIN = { account: '111111111111', region: 'eu-west-1' };
const REGIONS = ['eu-west-1', 'us-east-1', 'ap-southeast-2'];
const PREFIX = 'acme-autoheal-assets';

type Resource = { Type: string; Properties: Record<string, unknown> };
type CfnTemplate = { Resources: Record<string, Resource>; Parameters?: Record<string, unknown> };

/** The StackSet app of the example, synthesised once (bundling runs: a StackSet needs real assets). */
function synthStackSet() {
  // Real bundling: cdk-stacksets copies each asset from the cloud assembly, which skipped bundling leaves empty.
  const app = new App({ context: featureFlagsOfCdkJson() });
  const admin = new Stack(app, 'AutohealStackSet', { env: ADMIN });
  const stackSet = new AutohealStackSet(admin, 'Autoheal', {
    config: parseAutohealConfig(defaultContextConfig()),
    regions: REGIONS,
    assetBucketPrefix: PREFIX,
    target: StackSetTarget.fromOrganizationalUnits({
      organizationalUnits: ['ou-ab12-34cd56ef'],
      regions: REGIONS,
    }),
  });
  const assembly = app.synth();
  const instanceText = fs.readFileSync(
    path.join(assembly.directory, stackSet.stackSetStack.templateFile),
    'utf8',
  );
  return {
    instanceText,
    instance: JSON.parse(instanceText) as CfnTemplate,
    admin: Template.fromStack(admin).toJSON() as CfnTemplate,
  };
}

function ofType(template: CfnTemplate, type: string): Resource[] {
  return Object.values(template.Resources).filter((r) => r.Type === type);
}

/** A 12-digit account id or a region name standing alone (not inside a hash). */
const LITERAL_ENVIRONMENT =
  /(?<![\w-])(?:\d{12}|(?:af|ap|ca|cn|eu|il|me|mx|sa|us)-[a-z]+-\d)(?![\w])/g;

describe('Autoheal in a StackSet (examples/stackset)', () => {
  let built: ReturnType<typeof synthStackSet>;
  beforeAll(() => {
    built = synthStackSet();
  }, 120_000);

  it('gives every stack instance a template that names no account or region but through pseudo parameters', () => {
    // Prepare
    const { instanceText } = built;

    // Act
    const literals = instanceText.match(LITERAL_ENVIRONMENT) ?? [];

    // Assess
    expect(literals).toEqual([]);
    expect(instanceText).toContain('"Ref": "AWS::AccountId"');
    expect(instanceText).toContain('"Ref": "AWS::Region"');
    // No CDK bootstrap: target accounts need none.
    expect(instanceText).not.toMatch(/cdk-hnb659fds|BootstrapVersion/);
  });

  it('reads each Lambda function code from the asset bucket of the instance region', () => {
    // Prepare
    const functions = ofType(built.instance, 'AWS::Lambda::Function');

    // Act
    const codes = functions.map((f) => f.Properties.Code);

    // Assess
    expect(functions.length).toBeGreaterThan(0);
    for (const code of codes) {
      expect(code).toEqual({
        S3Bucket: { 'Fn::Join': ['-', [PREFIX, { Ref: 'AWS::Region' }]] },
        S3Key: expect.stringMatching(/^[0-9a-f]{64}\.zip$/),
      });
    }
  });

  it('copies every asset the instances read to the bucket of each target region', () => {
    // Prepare
    const keys = ofType(built.instance, 'AWS::Lambda::Function').map(
      (f) => (f.Properties.Code as { S3Key: string }).S3Key,
    );

    // Act
    const deployments = ofType(built.admin, 'Custom::CDKBucketDeployment').map((d) => ({
      bucket: d.Properties.DestinationBucketName,
      keys: d.Properties.SourceObjectKeys as string[],
      extract: d.Properties.Extract,
    }));

    // Assess
    expect(deployments.map((d) => d.bucket).sort()).toEqual(
      REGIONS.map((region) => `${PREFIX}-${region}`).sort(),
    );
    for (const deployment of deployments) {
      expect(deployment.extract).toBe(false);
      expect(deployment.keys).toEqual(expect.arrayContaining(keys));
    }
  });

  it('creates a service-managed StackSet over the target regions, allowed to create IAM roles', () => {
    // Act
    const [stackSet] = ofType(built.admin, 'AWS::CloudFormation::StackSet');

    // Assess
    expect(stackSet.Properties).toMatchObject({
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true },
      Capabilities: ['CAPABILITY_IAM'],
      StackInstancesGroup: [
        {
          DeploymentTargets: { OrganizationalUnitIds: ['ou-ab12-34cd56ef'] },
          Regions: REGIONS,
        },
      ],
    });
  });
});

describe('the StackSet example app context', () => {
  function nodeWith(context: Record<string, string | undefined>) {
    return new App({ context }).node;
  }

  it.each([
    {
      label: 'organisational units: service-managed',
      context: { stackSetOrganizationalUnits: 'ou-ab12-34cd56ef' },
      permissionModel: 'SERVICE_MANAGED',
      callAs: 'DELEGATED_ADMIN',
    },
    {
      label: 'organisational units, from the management account',
      context: { stackSetOrganizationalUnits: 'ou-ab12-34cd56ef', stackSetDelegatedAdmin: 'false' },
      permissionModel: 'SERVICE_MANAGED',
      callAs: 'SELF',
    },
    {
      label: 'accounts: self-managed',
      context: { stackSetAccounts: '222222222222, 333333333333' },
      permissionModel: 'SELF_MANAGED',
      callAs: undefined,
    },
  ])('deploys to $label', ({ context, permissionModel, callAs }) => {
    // Prepare
    const node = nodeWith({
      [STACKSET_CONTEXT.regions]: 'eu-west-1,us-east-1',
      [STACKSET_CONTEXT.assetBucketPrefix]: PREFIX,
      ...context,
    });

    // Act
    const target = stackSetTargetFromContext(node);

    // Assess: the StackSet such a target makes (with an empty template: no bundling needed)
    const stack = new Stack(new App(), 'Admin');
    new StackSet(stack, 'StackSet', {
      template: StackSetTemplate.fromStackSetStack(new StackSetStack(stack, 'Empty')),
      target: target.target,
      deploymentType: target.deploymentType,
    });
    expect(target.regions).toEqual(['eu-west-1', 'us-east-1']);
    Template.fromStack(stack).hasResourceProperties('AWS::CloudFormation::StackSet', {
      PermissionModel: permissionModel,
      CallAs: callAs ?? Match.absent(),
      StackInstancesGroup: [Match.objectLike({ Regions: ['eu-west-1', 'us-east-1'] })],
    });
  });

  it.each([
    {
      missing: STACKSET_CONTEXT.regions,
      context: { stackSetOrganizationalUnits: 'ou-x', stackSetAssetBucketPrefix: PREFIX },
    },
    {
      missing: STACKSET_CONTEXT.organizationalUnits,
      context: { stackSetRegions: 'eu-west-1', stackSetAssetBucketPrefix: PREFIX },
    },
    {
      missing: STACKSET_CONTEXT.assetBucketPrefix,
      context: { stackSetRegions: 'eu-west-1', stackSetAccounts: '222222222222' },
    },
  ])('refuses a context without $missing, naming the key', ({ missing, context }) => {
    // Act & Assess
    expect(() => stackSetTargetFromContext(nodeWith(context))).toThrow(
      `Invalid Autoheal config at ${missing}: `,
    );
  });
});
