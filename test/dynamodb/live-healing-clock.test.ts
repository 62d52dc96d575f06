/**
 * The live-healing clock's custom resource handler against DynamoDB Local:
 * what each CloudFormation request does to its record and to the document it
 * hands the redrive handler and the sweeper.
 */
import { createHash } from 'node:crypto';
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  clockConfigDigest,
  clockConfigOf,
  liveSinceOf,
  NOT_LIVE,
} from '../../lambda/redrive/live-healing';
import {
  type ClockResponse,
  createLiveHealingClock,
  LIVE_SINCE_INLINE_BYTES,
} from '../../lambda/redrive/live-healing-clock';
import { liveSinceSource } from '../../lambda/redrive/live-since-source';
import { parseRedriveConfig, type RedriveConfig } from '../../lambda/shared/autoheal-config';
import { HEALING_STATE, IDEMPOTENCY_TABLE, LIVE_HEALING_CLOCK } from '../../lambda/shared/contract';
import { createIdempotencyTable, type IdempotencyTable } from '../support/idempotency-table';
import { clockRequest } from '../support/live-since';

const T0 = Date.parse('2026-03-01T09:00:00.000Z');
const T1 = T0 + 24 * 60 * 60 * 1000;
const ORDERS = 'arn:aws:states:eu-central-1:123456789012:stateMachine:orders';

const config = (redrive: Record<string, unknown> = {}): RedriveConfig =>
  parseRedriveConfig({
    stateMachineArns: [ORDERS],
    stateMachineNamePrefixes: ['billing-'],
    ...redrive,
  });

let table: IdempotencyTable;

beforeEach(async () => {
  table = await createIdempotencyTable();
});

afterEach(async () => {
  await table.dispose();
});

/** The clock as CloudFormation runs it at `now`, on this test's table. */
function clockAt(now: number) {
  return createLiveHealingClock({
    dynamodb: table.client,
    tableName: table.tableName,
    now: () => now,
  });
}

function documentOf(response: ClockResponse) {
  return JSON.parse(response.Data?.[LIVE_HEALING_CLOCK.attribute] ?? 'null');
}

describe('the live-healing clock', () => {
  it('starts every scope entry and the policy at the first deploy', async () => {
    // Act
    const response = await clockAt(T0)(clockRequest('Create', config()));

    // Assess
    expect(response.PhysicalResourceId).toMatch(
      new RegExp(`^${HEALING_STATE.liveHealingClockPrefix}`),
    );
    expect(documentOf(response)).toEqual({
      config: expect.any(String),
      arns: [T0],
      prefixes: [T0],
      global: T0,
      machines: {},
      // FAILED, TIMED_OUT, ABORTED (not redriven by default)
      statuses: [T0, T0, null],
    });
    const items = await table.items();
    expect(items).toEqual([
      expect.objectContaining({ [IDEMPOTENCY_TABLE.partitionKey]: response.PhysicalResourceId }),
    ]);
    // It never expires: it lives as long as the custom resource.
    expect(items[0]).not.toHaveProperty(IDEMPOTENCY_TABLE.timeToLive);
  });

  it('keeps the times of unchanged entries on an update and starts the new ones', async () => {
    // Prepare
    const created = await clockAt(T0)(clockRequest('Create', config({ observeOnly: true })));

    // Act
    const updated = await clockAt(T1)(
      clockRequest('Update', config({ stateMachineNamePrefixes: ['billing-', 'etl-'] })),
    );

    // Assess
    expect(updated.PhysicalResourceId).toBe(created.PhysicalResourceId);
    expect(documentOf(updated)).toEqual({
      config: expect.any(String),
      arns: [T0],
      prefixes: [T0, T1],
      global: T1,
      machines: {},
      statuses: [T0, T0, null],
    });
  });

  it('starts a status added on an update at that deploy; the others keep theirs', async () => {
    // Prepare
    await clockAt(T0)(clockRequest('Create', config()));

    // Act
    const updated = await clockAt(T1)(
      clockRequest(
        'Update',
        config({
          statuses: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          overrides: { 'billing-close': { statuses: ['FAILED', 'ABORTED'] } },
        }),
      ),
    );

    // Assess
    expect(documentOf(updated)).toMatchObject({
      statuses: [T0, T0, T1],
      machineStatuses: { 'billing-close': [T0, null, T1] },
    });
  });

  it('upgrades a record of the clock before status times: FAILED and TIMED_OUT keep the policy time, ABORTED starts now', async () => {
    // Prepare: the record as the previous version wrote it, without status times
    const created = await clockAt(T0)(clockRequest('Create', config()));
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: {
          [IDEMPOTENCY_TABLE.partitionKey]: { S: created.PhysicalResourceId },
          [HEALING_STATE.clockState]: {
            S: JSON.stringify({ arns: { [ORDERS]: T0 }, prefixes: {}, global: T0, machines: {} }),
          },
          [HEALING_STATE.clockVersion]: { N: '1' },
        },
      }),
    );

    // Act
    const updated = await clockAt(T1)(
      clockRequest('Update', config({ statuses: ['FAILED', 'TIMED_OUT', 'ABORTED'] })),
    );

    // Assess
    expect(documentOf(updated)).toMatchObject({
      arns: [T0],
      prefixes: [T1],
      global: T0,
      statuses: [T0, T0, T1],
    });
  });

  it('survives a rollback to the version before status times: that version’s properties get its own digest, and the next deploy upgrades again', async () => {
    // Prepare: this version deployed; the rollback sends the previous version's properties
    const created = await clockAt(T0)(
      clockRequest('Create', config({ statuses: ['FAILED', 'TIMED_OUT', 'ABORTED'] })),
    );
    const previousConfig = {
      stateMachineArns: [ORDERS],
      stateMachineNamePrefixes: ['billing-'],
      observeOnly: false,
      overrideObserveOnly: {},
    };
    const rollback = clockRequest('Update', config());
    rollback.ResourceProperties[LIVE_HEALING_CLOCK.properties.config] =
      JSON.stringify(previousConfig);

    // Act
    const rolledBack = await clockAt(T1)(rollback);
    const redeployed = await clockAt(T1 + 1000)(
      clockRequest('Update', config({ statuses: ['FAILED', 'TIMED_OUT', 'ABORTED'] })),
    );

    // Assess: the previous version's handlers find their document (digest of their config)
    expect(rolledBack.PhysicalResourceId).toBe(created.PhysicalResourceId);
    expect(documentOf(rolledBack)).toEqual({
      config: createHash('sha256')
        .update(JSON.stringify(previousConfig))
        .digest('hex')
        .slice(0, 16),
      arns: [T0],
      prefixes: [T0],
      global: T0,
      machines: {},
    });
    // Redeployed: FAILED and TIMED_OUT from the policy time, ABORTED from the redeploy
    expect(documentOf(redeployed)).toMatchObject({ global: T0, statuses: [T0, T0, T1 + 1000] });
  });

  it('gives an update the same document again when it is retried', async () => {
    // Prepare
    await clockAt(T0)(clockRequest('Create', config()));
    const first = await clockAt(T1)(clockRequest('Update', config({ observeOnly: true })));

    // Act
    const retried = await clockAt(T1 + 60_000)(
      clockRequest('Update', config({ observeOnly: true })),
    );

    // Assess
    expect(documentOf(retried)).toEqual(documentOf(first));
  });

  it('keeps one record per clock id: two Autoheals on one table do not share times', async () => {
    // Prepare
    await clockAt(T0)(clockRequest('Create', config(), { clockId: 'First' }));

    // Act
    const second = await clockAt(T1)(clockRequest('Create', config(), { clockId: 'Second' }));

    // Assess
    expect(documentOf(second).global).toBe(T1);
    expect(await table.items()).toHaveLength(2);
  });

  it('removes its record on delete, and only its own', async () => {
    // Prepare
    const created = await clockAt(T0)(clockRequest('Create', config()));
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: { [IDEMPOTENCY_TABLE.partitionKey]: { S: 'autoheal-redrive#some-failure#0' } },
      }),
    );

    // Act
    const deleted = await clockAt(T1)(
      clockRequest('Delete', config(), { physicalResourceId: created.PhysicalResourceId }),
    );
    const afterFailedCreate = await clockAt(T1)(
      clockRequest('Delete', config(), { physicalResourceId: 'a-request-id-cloudformation-chose' }),
    );

    // Assess
    expect(deleted).toEqual({ PhysicalResourceId: created.PhysicalResourceId });
    expect(afterFailedCreate).toEqual({ PhysicalResourceId: 'a-request-id-cloudformation-chose' });
    const { Item } = await table.client.send(
      new GetItemCommand({
        TableName: table.tableName,
        Key: { [IDEMPOTENCY_TABLE.partitionKey]: { S: created.PhysicalResourceId } },
      }),
    );
    expect(Item).toBeUndefined();
    expect(await table.items()).toEqual([
      { [IDEMPOTENCY_TABLE.partitionKey]: 'autoheal-redrive#some-failure#0' },
    ]);
  });

  it('starts afresh when an update finds no record (deleted by hand): never earlier', async () => {
    // Act
    const updated = await clockAt(T1)(clockRequest('Update', config()));

    // Assess
    expect(documentOf(updated)).toEqual({
      config: expect.any(String),
      arns: [T1],
      prefixes: [T1],
      global: T1,
      machines: {},
      statuses: [T1, T1, null],
    });
  });

  it('refuses to overwrite a record someone else wrote after it was read, saying to deploy again', async () => {
    // Prepare: a second writer bumps the record between the clock's read and its write
    const created = await clockAt(T0)(clockRequest('Create', config()));
    const racing = {
      send: async (command: GetItemCommand | PutItemCommand) => {
        const result = await table.client.send(command as GetItemCommand);
        if (command instanceof GetItemCommand) {
          await table.client.send(
            new PutItemCommand({
              TableName: table.tableName,
              Item: {
                ...(result.Item ?? {}),
                [HEALING_STATE.clockVersion]: { N: '99' },
              },
            }),
          );
        }
        return result;
      },
    } as unknown as DynamoDBClient;
    const clock = createLiveHealingClock({
      dynamodb: racing,
      tableName: table.tableName,
      now: () => T1,
    });

    // Act & Assess
    await expect(clock(clockRequest('Update', config({ observeOnly: true })))).rejects.toThrow(
      /written by someone else during this deploy; deploy again/,
    );
    const [item] = await table.items();
    expect(item[IDEMPOTENCY_TABLE.partitionKey]).toBe(created.PhysicalResourceId);
    expect(item[HEALING_STATE.clockVersion]).toBe(99);
  });

  it('refuses a request without its config, naming the property', async () => {
    // Prepare
    const request = clockRequest('Create', config());
    delete (request.ResourceProperties as Record<string, unknown>)[
      LIVE_HEALING_CLOCK.properties.config
    ];

    // Act & Assess
    await expect(clockAt(T0)(request)).rejects.toThrow(/ClockConfig: missing/);
    expect(await table.items()).toEqual([]);
  });
});

describe('a document too large for the handlers environment', () => {
  const manyArns = Array.from({ length: 1000 }, (_, i) => `${ORDERS}-${i}`);
  const big = config({ stateMachineArns: manyArns });
  const source = (response: ClockResponse) =>
    liveSinceSource(response.Data?.[LIVE_HEALING_CLOCK.attribute] ?? '', {
      dynamodb: table.client,
      tableName: table.tableName,
    });

  it('is handed over as a reference to the record, from which the handlers read it', async () => {
    // Act
    const response = await clockAt(T0)(clockRequest('Create', big));
    const read = source(response);
    const document = 'load' in read ? await read.load() : read.document;

    // Assess
    const data = response.Data?.[LIVE_HEALING_CLOCK.attribute] ?? '';
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(LIVE_SINCE_INLINE_BYTES);
    expect(JSON.parse(data)).toEqual({
      config: clockConfigDigest(clockConfigOf(big)),
      record: response.PhysicalResourceId,
      version: 1,
    });
    expect('load' in read).toBe(true);
    expect(document.arns).toHaveLength(1000);
    expect(liveSinceOf(document, big, { arn: manyArns[999], name: 'x' }, 'FAILED')).toBe(T0);
  });

  it('changes the reference on every write, so a redeploy starts fresh execution environments', async () => {
    // Prepare
    const first = await clockAt(T0)(clockRequest('Create', big));
    const grown = config({ stateMachineArns: [...manyArns, `${ORDERS}-new`] });

    // Act
    const second = await clockAt(T1)(clockRequest('Update', grown));
    const read = source(second);
    const document = 'load' in read ? await read.load() : read.document;

    // Assess
    expect(second.Data).not.toEqual(first.Data);
    expect(liveSinceOf(document, grown, { arn: manyArns[0], name: 'x' }, 'FAILED')).toBe(T0);
    expect(liveSinceOf(document, grown, { arn: `${ORDERS}-new`, name: 'x' }, 'FAILED')).toBe(T1);
  });

  it('reads as not live when the record is gone: a broken deployment can only stop redrives', async () => {
    // Prepare
    const response = await clockAt(T0)(clockRequest('Create', big));
    await clockAt(T0)(clockRequest('Delete', big));

    // Act
    const read = source(response);
    const document = 'load' in read ? await read.load() : read.document;

    // Assess
    expect(document).toBe(NOT_LIVE);
  });
});
