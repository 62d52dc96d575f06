/**
 * The AWS clients a command uses, signed with the operator's own credentials
 * (the usual profile and region settings, `--profile`, `--region`), created
 * on first use so a command that needs one service loads no other.
 */
import type { AppflowClient } from '@aws-sdk/client-appflow';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';

/** The clients a command may use. */
export interface CliClients {
  readonly sfn: SFNClient;
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly cloudformation: CloudFormationClient;
  readonly lambda: LambdaClient;
  readonly appflow: AppflowClient;
  /** Notices the runtime's code sends (e.g. a manual flow start that was skipped). */
  readonly sns?: SNSClient;
}

/** Where the clients connect, and as whom. */
export interface CliClientOptions {
  /** @default - the SDK's (AWS_REGION, the profile's region) */
  readonly region?: string;
  /** @default - the SDK's (AWS_PROFILE, default) */
  readonly profile?: string;
  /**
   * An endpoint for every service (a local AWS endpoint in tests).
   * @default - the SDK's (AWS_ENDPOINT_URL, else AWS)
   */
  readonly endpointUrl?: string;
}

/**
 * Creates the clients lazily: each getter builds its client once.
 *
 * @example
 * ```ts
 * const clients = createCliClients({ region: 'eu-west-1' });
 * await clients.sfn.send(new ListExecutionsCommand({ stateMachineArn }));
 * ```
 */
export function createCliClients(options: CliClientOptions): CliClients {
  const config = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
  };
  const cache = new Map<string, unknown>();
  const lazy = <T>(name: string, create: () => T): T => {
    if (!cache.has(name)) cache.set(name, create());
    return cache.get(name) as T;
  };
  // require() inside the getters: loading all six SDK clients up front would slow every command.
  return {
    get sfn() {
      return lazy('sfn', () => new (require('@aws-sdk/client-sfn').SFNClient)(config));
    },
    get dynamodb() {
      return lazy(
        'dynamodb',
        () => new (require('@aws-sdk/client-dynamodb').DynamoDBClient)(config),
      );
    },
    get sqs() {
      return lazy('sqs', () => new (require('@aws-sdk/client-sqs').SQSClient)(config));
    },
    get cloudformation() {
      return lazy(
        'cloudformation',
        () => new (require('@aws-sdk/client-cloudformation').CloudFormationClient)(config),
      );
    },
    get lambda() {
      return lazy('lambda', () => new (require('@aws-sdk/client-lambda').LambdaClient)(config));
    },
    get appflow() {
      return lazy('appflow', () => new (require('@aws-sdk/client-appflow').AppflowClient)(config));
    },
    get sns() {
      return lazy('sns', () => new (require('@aws-sdk/client-sns').SNSClient)(config));
    },
  };
}
