import { CustomResource, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import {
  type ClockConfig,
  clockConfigOf,
  clockRecordKey,
  configTokenPartKey,
  configTokenPartsPrefix,
} from '../../lambda/redrive/live-healing';
import type { RedriveConfig } from '../../lambda/shared/autoheal-config';
import { CONFIG_PLACEHOLDER, ENV, LIVE_HEALING_CLOCK } from '../../lambda/shared/contract';
import { shardId } from '../limits/shards';
import { customResourceRequestBytes, TEMPLATE_LIMITS } from '../limits/template-limits';
import { nagResourceFinding } from '../nag';
import { AutohealFunction } from './autoheal-function';
import { type ConfigTokenRecord, configTokensFitEnvironment } from './config-asset';
import type { IdempotencyTable } from './idempotency-table';
import { resourceTypes, ScopeSizer } from './scoped-grants';

/**
 * Characters of one config token part's `Values` (tokens at their longest):
 * a part's Update request carries its properties twice, within the 256 KB
 * budgeted for a custom resource request (see
 * `TEMPLATE_LIMITS.customResourceRequestBytes`), with room for the envelope
 * and the other properties.
 */
export const CONFIG_TOKEN_PART_CHARS = 120_000;

export interface LiveHealingClockProps {
  /** The validated redrive config: its scope and observe-only switches set the clock. */
  readonly config: RedriveConfig;
  /** Where the clock keeps its record (one item, under its own key prefix). */
  readonly idempotencyTable: IdempotencyTable;
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
  /**
   * Where the scope's ARNs only known at deploy go when they do not fit the
   * handlers' environment (see `stageConfigAsset`): parts written at deploy
   * into records beside the clock's, which the clock and the handlers read.
   * Undefined when they fit (or there are none): the template is as without it.
   */
  public readonly configTokenRecord?: ConfigTokenRecord;
  /** The config token parts (custom resources), when {@link configTokenRecord} is set. */
  public readonly configTokenParts: CustomResource[] = [];

  public constructor(scope: Construct, id: string, props: LiveHealingClockProps) {
    super(scope, id);
    // Unique in the app and stable across deploys: two Autoheals on one table keep two clocks.
    const clockId = Names.uniqueId(this);
    this.recordKey = clockRecordKey(clockId);
    const tokens = [...new Set(props.config.stateMachineArns.filter(Token.isUnresolved))];
    // Token ARNs travel in parts when the handlers' environment cannot hold them; every ARN
    // does when ClockConfig would make too large a request (some 1,200 literal ARNs and more).
    let partValues = configTokensFitEnvironment(this, tokens) ? [] : tokens;
    if (
      clockRequestBytes(
        this,
        clockId,
        withTokenPlaceholders(clockConfigOf(props.config), partValues),
      ) > TEMPLATE_LIMITS.customResourceRequestBytes
    ) {
      partValues = [...new Set(props.config.stateMachineArns)];
    }
    const tokenSlices =
      partValues.length === 0
        ? []
        : new ScopeSizer(this).shard(
            partValues,
            (slice) => ({ Values: JSON.stringify(slice) }),
            CONFIG_TOKEN_PART_CHARS,
            'a config token part',
          );
    const clockConfig = withTokenPlaceholders(clockConfigOf(props.config), tokenSlices.flat());

    this.handler = new AutohealFunction(this, 'Handler', {
      entry: 'redrive/live-healing-clock.handler.ts',
      description: 'Autoheal: records when live healing of each scoped state machine began',
      serviceName: 'live-healing-clock',
      environment: { [ENV.idempotencyTable]: props.idempotencyTable.table.tableName },
    });
    this.handler.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'OwnClockRecordOnly',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [props.idempotencyTable.table.tableArn],
        conditions: {
          'ForAllValues:StringEquals': {
            'dynamodb:LeadingKeys': [
              this.recordKey,
              ...tokenSlices.map((_, part) => configTokenPartKey(clockId, part)),
            ],
          },
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

    const { configTokenPart } = LIVE_HEALING_CLOCK;
    tokenSlices.forEach((slice, part) => {
      this.configTokenParts.push(
        new CustomResource(this, shardId('ConfigTokens', part), {
          serviceToken: provider.serviceToken,
          resourceType: configTokenPart.resourceType,
          properties: {
            [configTokenPart.properties.clockId]: clockId,
            [configTokenPart.properties.part]: String(part),
            [configTokenPart.properties.values]: Stack.of(this).toJsonString(slice),
          },
        }),
      );
    });
    const digests = this.configTokenParts.map((part) =>
      part.getAttString(configTokenPart.attribute),
    );
    if (tokenSlices.length > 0) {
      this.configTokenRecord = {
        tokens: tokenSlices.flat(),
        reference: Stack.of(this).toJsonString({
          record: configTokenPartsPrefix(clockId),
          parts: digests,
        }),
      };
    }

    const properties = {
      [LIVE_HEALING_CLOCK.properties.clockId]: clockId,
      [LIVE_HEALING_CLOCK.properties.config]: JSON.stringify(clockConfig),
      ...(digests.length > 0 && {
        [LIVE_HEALING_CLOCK.properties.configTokenParts]: Stack.of(this).toJsonString(digests),
      }),
    };
    refuseOversizedRequest(this, props.config, provider.serviceToken, properties);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::AutohealLiveHealingClock',
      properties,
    });
    this.liveSince = this.resource.getAttString(LIVE_HEALING_CLOCK.attribute);
  }
}

/** `config` with each token ARN that travels in a config token part named by its index in `tokens`. */
function withTokenPlaceholders(config: ClockConfig, tokens: readonly string[]): ClockConfig {
  if (tokens.length === 0) return config;
  const index = new Map(tokens.map((token, i) => [token, i]));
  return {
    ...config,
    stateMachineArns: config.stateMachineArns.map((arn) =>
      index.has(arn) ? `${CONFIG_PLACEHOLDER.token}${index.get(arn)}` : arn,
    ),
  };
}

/**
 * Bytes of the clock's request with `clockConfig` (its parts' digests aside:
 * some 50 bytes a part), tokens at their longest; the service token at the
 * longest a function ARN takes.
 */
function clockRequestBytes(scope: Construct, clockId: string, clockConfig: ClockConfig): number {
  const stack = Stack.of(scope);
  return customResourceRequestBytes(
    stack.resolve({
      ServiceToken: 'x'.repeat(256),
      [LIVE_HEALING_CLOCK.properties.clockId]: clockId,
      [LIVE_HEALING_CLOCK.properties.config]: JSON.stringify(clockConfig),
    }),
    resourceTypes(stack),
  );
}

/**
 * Fails synth, naming the field, when the clock's request would pass what
 * CloudFormation hands a provider (`TEMPLATE_LIMITS.customResourceRequestBytes`)
 * even with every ARN in parts: name prefixes and overrides still travel in
 * `ClockConfig` itself (some 3,000 overrides or prefixes).
 */
function refuseOversizedRequest(
  scope: Construct,
  config: RedriveConfig,
  serviceToken: string,
  properties: Record<string, unknown>,
): void {
  const stack = Stack.of(scope);
  const bytes = customResourceRequestBytes(
    stack.resolve({ ServiceToken: serviceToken, ...properties }),
    resourceTypes(stack),
  );
  const maximum = TEMPLATE_LIMITS.customResourceRequestBytes;
  if (bytes <= maximum) return;
  throw new Error(
    `redrive: the live-healing clock's ${LIVE_HEALING_CLOCK.properties.config} of ${config.stateMachineArns.length} ARNs (in parts), ${config.stateMachineNamePrefixes.length} name prefixes and ${Object.keys(config.overrides).length} overrides makes a custom resource request of up to ${bytes} bytes (an Update carries it twice), ${bytes - maximum} over the ${maximum} Autoheal budgets for it; scope by name prefix (one prefix replaces every ARN it covers), or split the scope across two Autoheal stacks.`,
  );
}
