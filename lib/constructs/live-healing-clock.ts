import { CustomResource, Names, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { clockConfigOf, clockRecordKey } from '../../lambda/redrive/live-healing';
import type { RedriveConfig } from '../../lambda/shared/autoheal-config';
import { ENV, LIVE_HEALING_CLOCK } from '../../lambda/shared/contract';
import { nagResourceFinding } from '../nag';
import { AutohealFunction } from './autoheal-function';
import type { IdempotencyTable } from './idempotency-table';

export interface LiveHealingClockProps {
  /** The validated redrive config: its scope and observe-only switches set the clock. */
  readonly config: RedriveConfig;
  /** Where the clock keeps its record (one item, under its own key prefix). */
  readonly idempotencyTable: IdempotencyTable;
  /**
   * What the clock function's error alarm does.
   * @default - the alarm only changes state
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/**
 * Remembers, deploy after deploy, since when each scoped state machine has
 * been under live (not observe-only) healing, so the redrive handler and the
 * sweeper never redrive a failure from before (see
 * `lambda/redrive/live-healing.ts`). A custom resource whose properties are
 * the scope entries and the observe-only switches: CloudFormation runs it when
 * they change; unchanged entries keep their times.
 *
 * @example
 * ```ts
 * const clock = new LiveHealingClock(this, 'LiveHealingClock', { config, idempotencyTable });
 * handler.function.addEnvironment(ENV.liveSince, clock.liveSince);
 * ```
 */
export class LiveHealingClock extends Construct {
  /** The custom resource's onEvent function. */
  public readonly handler: AutohealFunction;
  public readonly resource: CustomResource;
  /**
   * The live-since document (a JSON string token): the handlers'
   * `AUTOHEAL_LIVE_SINCE`. At most 1 KB: a larger document stays in the
   * clock's record and this is a reference to it (see
   * `lambda/redrive/live-since-source.ts`); the handlers need GetItem on the table.
   */
  public readonly liveSince: string;
  /** The key of the clock's record in the idempotency table. */
  public readonly recordKey: string;

  public constructor(scope: Construct, id: string, props: LiveHealingClockProps) {
    super(scope, id);
    const clockConfig = clockConfigOf(props.config);
    // Unique in the app and stable across deploys: two Autoheals on one table keep two clocks.
    const clockId = Names.uniqueId(this);
    this.recordKey = clockRecordKey(clockId);

    this.handler = new AutohealFunction(this, 'Handler', {
      entry: 'redrive/live-healing-clock.handler.ts',
      description: 'Autoheal: records when live healing of each scoped state machine began',
      serviceName: 'live-healing-clock',
      alarmAction: props.alarmAction,
      environment: { [ENV.idempotencyTable]: props.idempotencyTable.table.tableName },
    });
    this.handler.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'OwnClockRecordOnly',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [props.idempotencyTable.table.tableArn],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [this.recordKey] },
        },
      }),
    );

    props.idempotencyTable.grantKeyUse(this.handler.role);
    const frameworkLogs = new logs.LogGroup(this, 'ProviderLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
    });
    // An own role instead of the framework's default: that one carries AWSLambdaBasicExecutionRole.
    const frameworkRole = new iam.Role(this, 'ProviderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Autoheal live-healing clock: custom resource provider framework',
    });
    frameworkLogs.grantWrite(frameworkRole);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.handler.function,
      frameworkOnEventRole: frameworkRole,
      logGroup: frameworkLogs,
    });
    const frameworkFunction = provider.node.findChild('framework-onEvent');
    Validations.of(frameworkFunction).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason:
        'The custom resource provider framework function is CDK-owned and uses the runtime aws-cdk-lib pins for it; it only relays CloudFormation events to the clock function.',
    });
    Validations.of(frameworkRole).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[${nagResourceFinding(this, `${this.handler.function.functionArn}:*`)}]`,
      reason:
        'The provider framework (aws-cdk-lib) grants itself lambda:InvokeFunction on the clock function and its versions (ARN:*); it can invoke nothing else.',
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::AutohealLiveHealingClock',
      properties: {
        [LIVE_HEALING_CLOCK.properties.clockId]: clockId,
        [LIVE_HEALING_CLOCK.properties.config]: JSON.stringify(clockConfig),
      },
    });
    this.liveSince = this.resource.getAttString(LIVE_HEALING_CLOCK.attribute);
  }
}
