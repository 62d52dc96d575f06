/**
 * What the README promises a library user can extend: every resource an
 * Autoheal installation creates is one of its public fields, so a host app
 * can add alarms and grants of its own; and a given `encryptionKey` encrypts
 * the topic and the table only, never the queues.
 */
import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { IConstruct } from 'constructs';
import { Autoheal } from '../../lib/autoheal';
import { templateOnlyApp } from '../support/stack';

/** Redrive and AppFlow with a schedule: every part Autoheal can install. */
function fullInstallation(props: { encryptionKey?: boolean } = {}) {
  const stack = new Stack(templateOnlyApp(), 'Host');
  const heal = new Autoheal(stack, 'Heal', {
    redrive: { stateMachineNamePrefixes: ['orders-'] },
    appflow: {
      schedules: [
        {
          name: 'nightly',
          schedule: scheduler.ScheduleExpression.expression('cron(0 4 * * ? *)'),
          flows: ['crm-export'],
        },
      ],
    },
    encryptionKey: props.encryptionKey
      ? new kms.Key(stack, 'HostKey', { enableKeyRotation: true })
      : undefined,
  });
  return { stack, heal, template: Template.fromStack(stack) };
}

/** Logical ids of the resources of `type`, less those `exclude` picks. */
function idsOf(
  template: Template,
  type: string,
  exclude: (properties: Record<string, unknown>) => boolean = () => false,
): string[] {
  return Object.entries(template.findResources(type))
    .filter(([, resource]) => !exclude(resource.Properties ?? {}))
    .map(([id]) => id)
    .sort();
}

describe('the resources an installation exposes', () => {
  const { stack, heal, template } = fullInstallation();
  const logicalIdOf = (construct: IConstruct | undefined) =>
    construct ? stack.getLogicalId(construct.node.defaultChild as CfnElement) : 'absent';
  const logicalIdsOf = (constructs: readonly IConstruct[]) => constructs.map(logicalIdOf).sort();
  /** The function CDK's custom resource framework adds for the live-healing clock: CDK's, not a handler. */
  const isProviderFramework = (properties: Record<string, unknown>) =>
    String(properties.Description ?? '').startsWith('AWS CDK resource provider framework');

  it.each([
    ['functions: the six handlers', 'AWS::Lambda::Function', () => heal.functions],
    [
      'rules: the event rules, the sweeper schedule and the brake keeper schedule',
      'AWS::Events::Rule',
      () => heal.rules,
    ],
    ['schedules', 'AWS::Scheduler::Schedule', () => heal.schedules],
    ['scheduleGroup', 'AWS::Scheduler::ScheduleGroup', () => [heal.scheduleGroup]],
    ['alarms', 'AWS::CloudWatch::Alarm', () => heal.alarms],
    [
      'table and stateTable',
      'AWS::DynamoDB::Table',
      () => [heal.table, heal.stateTable].filter((table) => table !== undefined),
    ],
    ['notificationTopic', 'AWS::SNS::Topic', () => [heal.notificationTopic]],
    [
      'the five queues',
      'AWS::SQS::Queue',
      () => [
        heal.redriveWorkQueue,
        heal.redriveDeadLetterQueue,
        heal.flowHealerWorkQueue,
        heal.flowHealerDeadLetterQueue,
        heal.flowStarterDeadLetterQueue,
      ],
    ],
  ] as const)('%s: exactly the %s resources of the template', (_name, type, exposed) => {
    // Act
    const fromFields = logicalIdsOf(exposed() as readonly IConstruct[]);

    // Assess
    const created = idsOf(
      template,
      type,
      type === 'AWS::Lambda::Function' ? isProviderFramework : undefined,
    );
    expect(created.length).toBeGreaterThan(0);
    expect(fromFields).toEqual(created);
  });

  it('counts six handler functions (the brake keeper the sixth)', () => {
    expect(heal.functions).toHaveLength(6);
  });

  it('lets a host grant its own role on an exposed queue', () => {
    // Prepare: a fresh tree (the shared one is synthesised)
    const host = new Stack(templateOnlyApp(), 'Host');
    const own = new Autoheal(host, 'Heal', { redrive: { stateMachineNamePrefixes: ['orders-'] } });
    const ops = new iam.Role(host, 'Ops', { assumedBy: new iam.AccountRootPrincipal() });

    // Act
    own.redriveDeadLetterQueue?.grantConsumeMessages(ops);

    // Assess
    const policies = Template.fromStack(host).findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: host.getLogicalId(ops.node.defaultChild as CfnElement) }] },
    });
    const queueId = host.getLogicalId(own.redriveDeadLetterQueue?.node.defaultChild as CfnElement);
    expect(JSON.stringify(policies)).toContain(`"${queueId}"`);
  });
});

describe('encryptionKey', () => {
  it('encrypts the topic and both tables, and leaves every queue SQS-managed encrypted', () => {
    // Act
    const { stack, template } = fullInstallation({ encryptionKey: true });

    // Assess
    const keyArn = {
      'Fn::GetAtt': [
        stack.getLogicalId(stack.node.findChild('HostKey').node.defaultChild as CfnElement),
        'Arn',
      ],
    };
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyArn });
    // The idempotency table and the healing state table.
    template.resourcePropertiesCountIs(
      'AWS::DynamoDB::Table',
      { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn } },
      2,
    );
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(5);
    for (const queue of queues) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      expect(queue.Properties.KmsMasterKeyId).toBeUndefined();
    }
  });
});
