import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  discoverHandlers,
  HANDLER_SDK_CLIENTS,
  SDK_CLIENT_PACKAGES,
  type SdkClientName,
  sdkFloorSource,
} from '../../bench/sdk-floor';
import { parseAutohealConfig } from '../../lambda/shared/autoheal-config';
import { CONFIG_SECTION, ENV } from '../../lambda/shared/contract';
import { writeConfigFile } from '../support/config-file';
import { liveSinceFor } from '../support/live-since';

/**
 * The cold-start guard compares each handler with an SDK floor generated from
 * the clients declared in bench/sdk-floor.ts. These tests load each handler
 * module, count the SDK clients it creates, and fail when the declaration
 * no longer matches, so the floor cannot drift from its handler silently.
 */

// Every client class of SDK_CLIENT_PACKAGES, subclassed to record its construction.
const mockCreated: string[] = [];
function mockCounting(pkg: string, name: string) {
  const actual = jest.requireActual(pkg);
  const Base = actual[name];
  return {
    ...actual,
    [name]: class extends Base {
      constructor(...args: unknown[]) {
        super(...args);
        mockCreated.push(name);
      }
    },
  };
}
jest.mock('@aws-sdk/client-appflow', () =>
  mockCounting('@aws-sdk/client-appflow', 'AppflowClient'),
);
jest.mock('@aws-sdk/client-dynamodb', () =>
  mockCounting('@aws-sdk/client-dynamodb', 'DynamoDBClient'),
);
jest.mock('@aws-sdk/client-sfn', () => mockCounting('@aws-sdk/client-sfn', 'SFNClient'));
jest.mock('@aws-sdk/client-sns', () => mockCounting('@aws-sdk/client-sns', 'SNSClient'));
jest.mock('@aws-sdk/client-sqs', () => mockCounting('@aws-sdk/client-sqs', 'SQSClient'));

const PROJECT_ROOT = path.join(__dirname, '..', '..');
const handlers = discoverHandlers(PROJECT_ROOT);

/** The environment the construct gives a handler: the default config of cdk.json, dummies for the rest. */
function handlerEnvironment(): Record<string, string> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8'));
  const config = parseAutohealConfig(cdkJson.context.autoheal);
  const section = (s: object | undefined) => {
    const { processing: _processing, ...rest } = (s ?? {}) as { processing?: unknown };
    return rest;
  };
  const env: Record<string, string> = {};
  for (const [key, name] of Object.entries(ENV)) env[name] = `test-${key}`;
  return {
    ...env,
    [ENV.configFile]: writeConfigFile({
      [CONFIG_SECTION.redrive]: section(config.redrive),
      [CONFIG_SECTION.appflow]: section(config.appflow),
    }),
    [ENV.noticeTopicArn]: 'arn:aws:sns:eu-central-1:123456789012:autoheal-notices',
    [ENV.workQueueUrl]: 'https://sqs.eu-central-1.amazonaws.com/123456789012/work',
    [ENV.deadLetterQueueUrl]: 'https://sqs.eu-central-1.amazonaws.com/123456789012/dlq',
    [ENV.maxReceiveCount]: '5',
    [ENV.statesArnPrefix]: 'arn:aws:states:eu-central-1:123456789012:',
    [ENV.liveSince]: JSON.stringify(config.redrive ? liveSinceFor(config.redrive) : {}),
    // As the construct leaves them for the default scope: no scope roles, no deploy-time values.
    [ENV.scopeRoles]: '',
    [ENV.configTokens]: '',
  };
}

/** The SDK client classes the handler's source imports from their packages. */
function importedClients(entry: string): SdkClientName[] {
  const source = fs.readFileSync(path.join(PROJECT_ROOT, 'lambda', entry), 'utf8');
  const found: SdkClientName[] = [];
  for (const [name, pkg] of Object.entries(SDK_CLIENT_PACKAGES) as [SdkClientName, string][]) {
    const imports = new RegExp(`import\\s*{[^}]*\\b${name}\\b[^}]*}\\s*from\\s*'${pkg}'`);
    if (imports.test(source)) found.push(name);
  }
  return found.sort();
}

describe('the SDK floor of each handler', () => {
  const saved = { ...process.env };
  beforeAll(() => Object.assign(process.env, handlerEnvironment()));
  afterAll(() => {
    process.env = saved;
  });

  it('is declared for every handler, and only for handlers', () => {
    // Assess
    expect(Object.keys(HANDLER_SDK_CLIENTS).sort()).toEqual(handlers.map((h) => h.name).sort());
  });

  it.each(handlers.map((h) => [h.name, h.entry]))(
    '%s: the declared clients are the ones its module creates when it loads',
    (name, entry) => {
      // Prepare
      mockCreated.length = 0;

      // Act
      jest.isolateModules(() => {
        require(path.join(PROJECT_ROOT, 'lambda', entry));
      });

      // Assess
      expect([...mockCreated].sort()).toEqual([...HANDLER_SDK_CLIENTS[name]].sort());
    },
  );

  it.each(handlers.map((h) => [h.name, h.entry]))(
    '%s: every SDK client it imports is declared (a client created later would be missing from the floor)',
    (name, entry) => {
      // Assess
      expect(importedClients(entry)).toEqual([...new Set(HANDLER_SDK_CLIENTS[name])].sort());
    },
  );

  it('generates a floor that imports and creates exactly the declared clients, with the handlers’ client options', () => {
    // Act
    const source = sdkFloorSource(['SFNClient', 'SQSClient', 'DynamoDBClient'], './sdk-clients');

    // Assess
    expect(source).toContain("import { DynamoDBClient } from '@aws-sdk/client-dynamodb';");
    expect(source).toContain("import { SFNClient } from '@aws-sdk/client-sfn';");
    expect(source).toContain("import { SQSClient } from '@aws-sdk/client-sqs';");
    expect(source).not.toContain('client-sns');
    expect(source).toContain(
      'const clients = [new SFNClient(AUTOHEAL_CLIENT_CONFIG), new SQSClient(AUTOHEAL_CLIENT_CONFIG), new DynamoDBClient(AUTOHEAL_CLIENT_CONFIG)];',
    );
    expect(source).toContain("import { AUTOHEAL_CLIENT_CONFIG } from './sdk-clients';");
  });
});
