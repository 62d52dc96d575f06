/**
 * Issue 13 evidence on DynamoDB Local: 1,000 state machines whose ARNs are
 * imports of another stack (only known at deploy) reach the redrive handler
 * through the live-healing clock's config token records. The template is
 * synthesised by the Autoheal construct; CloudFormation's part (resolving the
 * imports, running the custom resources in dependency order) is played here
 * on that template; the clock's handler writes the records; the handler is
 * built from its own asset's config file and the records, as at its first event.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { RedriveExecutionCommand } from '@aws-sdk/client-sfn';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { App, Fn, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import 'aws-sdk-client-mock-jest';
import { readConfigTokens } from '../../lambda/redrive/config-token-record';
import { createLiveHealingClock } from '../../lambda/redrive/live-healing-clock';
import { liveSinceSource } from '../../lambda/redrive/live-since-source';
import { parseRedriveConfig, type RedriveConfig } from '../../lambda/shared/autoheal-config';
import type { RedriveHandlerConfig } from '../../lambda/shared/config/redrive-config';
import {
  CONFIG_FILE_NAME,
  CONFIG_SECTION,
  ENV,
  HEALING_STATE,
  LIVE_HEALING_CLOCK,
} from '../../lambda/shared/contract';
import { normalisedConfigSource } from '../../lambda/shared/normalised-config';
import { Autoheal } from '../../lib/autoheal';
import { synthesisedTemplate } from '../../lib/limits/template-limits';
import { sqsMock } from '../support/aws-mocks';
import {
  createIdempotencyTable,
  type IdempotencyTable,
  lambdaContext,
  sqsEvent,
  sqsRecord,
} from '../support/idempotency-table';
import { ACCOUNT, HOUR_MS, MINUTE_MS, REGION } from '../support/lambda-env';
import {
  DLQ_URL,
  NOW,
  redriveHandler,
  resetRedriveMocks,
  sfnMock,
} from '../support/redrive-harness';
import { parkedInvalidEvent } from '../support/sqs-messages';

const MACHINES = 1_000;
const machineArn = (i: number) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:imported-${i}`;

// biome-ignore lint/suspicious/noExplicitAny: template JSON, read field by field
type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

/** The Autoheal construct over 1,000 imported state machines (200 with overrides), synthesised. */
function synthesisedScope() {
  const app = new App();
  const stack = new Stack(app, 'Consumer', { env: { account: ACCOUNT, region: REGION } });
  const machines = Array.from({ length: MACHINES }, (_, i) =>
    sfn.StateMachine.fromStateMachineArn(stack, `Imported${i}`, Fn.importValue(`machine-${i}-arn`)),
  );
  new Autoheal(stack, 'Autoheal', {
    redrive: {
      stateMachines: machines,
      overrides: Object.fromEntries(
        Array.from({ length: 200 }, (_, i) => [
          `imported-${MACHINES - 200 + i}`,
          { maxRedrives: 2 },
        ]),
      ),
    },
  });
  const resources = (synthesisedTemplate(stack) as unknown as { Resources: Resources }).Resources;
  return { outdir: app.outdir, resources };
}

/** A template value as CloudFormation resolves it: the imports' ARNs, the pseudo parameters, the attributes given. */
function resolve(value: unknown, attributes: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, attributes));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if (typeof record['Fn::ImportValue'] === 'string') {
    return machineArn(Number(/machine-(\d+)-arn/.exec(record['Fn::ImportValue'])?.[1]));
  }
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
  };
  if (typeof record.Ref === 'string' && pseudo[record.Ref]) return pseudo[record.Ref];
  if (Array.isArray(record['Fn::GetAtt'])) {
    const [id, attribute] = record['Fn::GetAtt'] as [string, string];
    return attributes[`${id}.${attribute}`] ?? `unresolved:${id}.${attribute}`;
  }
  if (Array.isArray(record['Fn::Join'])) {
    const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolve(part, attributes)).join(separator);
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, resolve(v, attributes)]));
}

/** A Create request of CloudFormation to a custom resource of the template. */
function createRequest(
  logicalId: string,
  resource: Resources[string],
  attributes: Record<string, string>,
): CloudFormationCustomResourceEvent {
  return {
    RequestType: 'Create',
    ServiceToken: 'arn:aws:lambda:eu-central-1:123456789012:function:framework-onEvent',
    ResponseURL: 'https://cloudformation-custom-resource-response.example/response',
    StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/Consumer/guid`,
    RequestId: randomUUID(),
    LogicalResourceId: logicalId,
    ResourceType: resource.Type,
    ResourceProperties: resolve(resource.Properties, attributes) as {
      ServiceToken: string;
    },
  };
}

/** A redrivable FAILED status change of an execution of `machine`, ten minutes before NOW. */
function failureOf(machine: string) {
  const name = `order-${randomUUID()}`;
  return JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: ACCOUNT,
    time: new Date(NOW - 10 * MINUTE_MS).toISOString(),
    region: REGION,
    resources: [`arn:aws:states:${REGION}:${ACCOUNT}:execution:${machine}:${name}`],
    detail: {
      executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machine}:${name}`,
      stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${machine}`,
      name,
      status: 'FAILED',
      startDate: NOW - 12 * MINUTE_MS,
      stopDate: NOW - 10 * MINUTE_MS,
      input: '{}',
      inputDetails: { included: true },
      redriveCount: 0,
      redriveDate: null,
      redriveStatus: 'REDRIVABLE',
      error: 'Lambda.ServiceException',
      cause: 'Lambda was unable to process the request',
    },
  });
}

let table: IdempotencyTable;
const savedEnv = { ...process.env };

beforeEach(async () => {
  resetRedriveMocks();
  table = await createIdempotencyTable();
});

afterEach(async () => {
  process.env = { ...savedEnv };
  await table.dispose();
});

describe('1,000 imported state machines, their ARNs in the clock’s config token records', () => {
  it('redrives a failure of machine #999 and parks the event of an unlisted machine', async () => {
    // Prepare: CloudFormation creates the token parts, then the clock (it reads their digests)
    const { outdir, resources } = synthesisedScope();
    const clock = createLiveHealingClock({
      dynamodb: table.client,
      tableName: table.tableName,
      now: () => NOW - HOUR_MS,
    });
    const attributes: Record<string, string> = {};
    const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
    const parts = ofType(LIVE_HEALING_CLOCK.configTokenPart.resourceType);
    for (const [id, part] of parts) {
      const created = await clock(createRequest(id, part, attributes));
      attributes[`${id}.${LIVE_HEALING_CLOCK.configTokenPart.attribute}`] =
        created.Data?.[LIVE_HEALING_CLOCK.configTokenPart.attribute] ?? '';
    }
    const [[clockId, clockResource]] = ofType('Custom::AutohealLiveHealingClock');
    const deployed = await clock(createRequest(clockId, clockResource, attributes));
    attributes[`${clockId}.${LIVE_HEALING_CLOCK.attribute}`] =
      deployed.Data?.[LIVE_HEALING_CLOCK.attribute] ?? '';
    // The redrive handler's function: its variables as deployed, its config file from its asset.
    const [, fn] = ofType('AWS::Lambda::Function').find(([id]) =>
      id.startsWith('AutohealRedriveHandler'),
    ) as [string, Resources[string]];
    const variables = resolve(fn.Properties.Environment.Variables, attributes) as Record<
      string,
      string
    >;
    const asset = path.join(outdir, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
    process.env = {
      ...process.env,
      [ENV.configTokens]: variables[ENV.configTokens],
      [ENV.configFile]: path.join(asset, CONFIG_FILE_NAME),
    };
    const deps = { dynamodb: table.client, tableName: table.tableName };

    // Act: the handler's first event reads the records, then handles the batch
    const source = normalisedConfigSource<RedriveHandlerConfig>(CONFIG_SECTION.redrive, (ref) =>
      readConfigTokens(deps, ref),
    );
    const config = 'load' in source ? await source.load() : source.config;
    const live = liveSinceSource(variables[ENV.liveSince], deps);
    const liveSince = 'load' in live ? await live.load() : live.document;
    const { handler } = redriveHandler(
      table,
      {
        ...config,
        processing: parseRedriveConfig({ stateMachineNamePrefixes: ['any-'] }).processing,
      } as RedriveConfig,
      undefined,
      liveSince,
    );
    const listed = sqsRecord(failureOf(`imported-${MACHINES - 1}`));
    const unlisted = sqsRecord(failureOf(`imported-${MACHINES}`));
    const result = await handler(sqsEvent(listed, unlisted), lambdaContext());

    // Assess
    expect(fs.existsSync(path.join(asset, CONFIG_FILE_NAME))).toBe(true);
    expect(parts.length).toBeGreaterThan(1);
    expect('load' in source).toBe(true);
    expect(config.stateMachineArns).toHaveLength(MACHINES);
    expect(config.stateMachineArns[MACHINES - 1]).toBe(machineArn(MACHINES - 1));
    expect(config.overrides[`imported-${MACHINES - 1}`]).toEqual(
      expect.objectContaining({ maxRedrives: 2 }),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
    expect(sfnMock).toHaveReceivedCommandWith(RedriveExecutionCommand, {
      executionArn: expect.stringContaining(`:execution:imported-${MACHINES - 1}:`),
    });
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    expect(sqsMock).toHaveReceivedCommandWith(
      SendMessageCommand,
      parkedInvalidEvent(DLQ_URL, unlisted, 'detail.stateMachineArn'),
    );
  }, 120_000);

  /** A Create, Update or Delete of config token part 0 of clock `Clock` with `values` as its Values. */
  function partRequest(
    requestType: 'Create' | 'Delete',
    values: unknown,
  ): CloudFormationCustomResourceEvent {
    const create = createRequest(
      'Part',
      {
        Type: LIVE_HEALING_CLOCK.configTokenPart.resourceType,
        Properties: {
          ServiceToken: 'arn:aws:lambda:eu-central-1:123456789012:function:framework-onEvent',
          ClockId: 'Clock',
          Part: '0',
          Values: values,
        },
      },
      {},
    );
    if (requestType === 'Create') return create;
    const { RequestType: _create, ...common } = create;
    return {
      ...common,
      RequestType: 'Delete',
      PhysicalResourceId: `${HEALING_STATE.liveHealingClockPrefix}Clock${HEALING_STATE.configTokenPartInfix}0`,
    };
  }

  it.each([
    ['not JSON text', 'arn:aws:states:eu-central-1:123456789012:stateMachine:x'],
    ['a list holding a number', '["arn:aws:states:eu-central-1:123456789012:stateMachine:x", 1]'],
  ])(
    'refuses Values that are %s with one line naming the property, writing nothing',
    async (_, values) => {
      // Prepare
      const clock = createLiveHealingClock({ dynamodb: table.client, tableName: table.tableName });

      // Act
      const created = clock(partRequest('Create', values));

      // Assess
      await expect(created).rejects.toThrow(/Values/);
      expect(await partRecord()).toBeUndefined();
    },
  );

  it('removes the part’s record on Delete', async () => {
    // Prepare
    const clock = createLiveHealingClock({ dynamodb: table.client, tableName: table.tableName });
    await clock(partRequest('Create', JSON.stringify([machineArn(1)])));
    const written = await partRecord();

    // Act
    await clock(partRequest('Delete', JSON.stringify([machineArn(1)])));

    // Assess
    expect(written).toBeDefined();
    expect(await partRecord()).toBeUndefined();
  });

  /** Config token part 0 of clock `Clock` as the table holds it. */
  async function partRecord() {
    const { Item } = await table.client.send(
      new GetItemCommand({
        TableName: table.tableName,
        Key: {
          id: {
            S: `${HEALING_STATE.liveHealingClockPrefix}Clock${HEALING_STATE.configTokenPartInfix}0`,
          },
        },
        ConsistentRead: true,
      }),
    );
    return Item;
  }

  it('refuses, naming the record, a part another deploy rewrote since the handler got its reference', async () => {
    // Prepare: a part written with other values than the reference's digest
    const clock = createLiveHealingClock({ dynamodb: table.client, tableName: table.tableName });
    const request = (values: string[]): CloudFormationCustomResourceEvent =>
      createRequest(
        'Part',
        {
          Type: LIVE_HEALING_CLOCK.configTokenPart.resourceType,
          Properties: {
            ServiceToken: 'arn:aws:lambda:eu-central-1:123456789012:function:framework-onEvent',
            ClockId: 'Clock',
            Part: '0',
            Values: JSON.stringify(values),
          },
        },
        {},
      );
    const first = await clock(request([machineArn(1)]));
    await clock(request([machineArn(2)]));
    const reference = {
      record: first.PhysicalResourceId.replace(/0$/, ''),
      parts: [first.Data?.Digest ?? ''],
    };

    // Act
    const read = readConfigTokens(
      { dynamodb: table.client, tableName: table.tableName },
      reference,
    );

    // Assess
    await expect(read).rejects.toThrow(
      `The config token record ${first.PhysicalResourceId} holds other values`,
    );
  });
});
