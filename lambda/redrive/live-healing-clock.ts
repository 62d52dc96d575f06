/**
 * The live-healing clock's custom resource handler (the `onEvent` of a CDK
 * custom resource Provider), built from an injected DynamoDB client.
 *
 * Create, Update: read the clock's record (consistently), advance it with the
 * deployed config ({@link advanceClock}), write it back on the condition that
 * nobody else wrote it meanwhile, and return the handlers' document as the
 * `LiveSince` data attribute. Delete: remove the record.
 *
 * The record lives in the idempotency table under a key prefix Powertools
 * never uses, without an expiration. The physical resource id is the record's
 * key, so an Update never replaces the resource (a replacement's Delete would
 * remove the record).
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { REDRIVABLE_STATUSES, type RedrivableStatus } from '../shared/config/redrive-config';
import {
  CONFIG_PLACEHOLDER,
  HEALING_STATE,
  IDEMPOTENCY_TABLE,
  LIVE_HEALING_CLOCK,
} from '../shared/contract';
import { configTokensDigest, parseConfigTokens, readConfigTokens } from './config-token-record';
import {
  advanceClock,
  type ClockConfig,
  type ClockState,
  clockConfigDigest,
  clockRecordKey,
  configTokenPartKey,
  configTokenPartsPrefix,
  type LiveSinceReference,
  liveSinceDocument,
} from './live-healing';

export { clockRecordKey };

/**
 * The largest document handed to the handlers inline, through their
 * environment (Lambda allows 4 KB for all variables together, and a custom
 * resource may return 4 KB of data). A larger one, as with hundreds of scoped
 * ARNs, stays in the clock's record and the handlers get a
 * {@link LiveSinceReference} to it.
 */
export const LIVE_SINCE_INLINE_BYTES = 1024;

export interface LiveHealingClockDeps {
  readonly dynamodb: DynamoDBClient;
  /** The idempotency table. */
  readonly tableName: string;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** What the Provider framework passes back to CloudFormation. */
export interface ClockResponse {
  readonly PhysicalResourceId: string;
  /** The clock's `LiveSince`, or a config token part's `Digest`. */
  readonly Data?: Readonly<Record<string, string>>;
}

function stringArray(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`${field}: must be a list of strings`);
  }
  return value;
}

/**
 * Reads the `ClockConfig` property.
 *
 * @throws {Error} naming the bad field
 */
export function parseClockConfig(json: unknown): ClockConfig {
  if (typeof json !== 'string') throw new Error(`${LIVE_HEALING_CLOCK.properties.config}: missing`);
  const raw = JSON.parse(json) as Record<string, unknown>;
  const field = LIVE_HEALING_CLOCK.properties.config;
  if (typeof raw.observeOnly !== 'boolean') throw new Error(`${field}.observeOnly: not a boolean`);
  const overrides = raw.overrideObserveOnly;
  if (
    typeof overrides !== 'object' ||
    overrides === null ||
    !Object.values(overrides).every((v) => typeof v === 'boolean')
  ) {
    throw new Error(`${field}.overrideObserveOnly: must map names to booleans`);
  }
  const isStatuses = (v: unknown): v is RedrivableStatus[] =>
    Array.isArray(v) && v.every((s) => (REDRIVABLE_STATUSES as readonly unknown[]).includes(s));
  if (!isStatuses(raw.statuses)) {
    throw new Error(`${field}.statuses: must list ${REDRIVABLE_STATUSES.join(', ')}`);
  }
  const overrideStatuses = raw.overrideStatuses;
  if (
    typeof overrideStatuses !== 'object' ||
    overrideStatuses === null ||
    !Object.values(overrideStatuses).every(isStatuses)
  ) {
    throw new Error(`${field}.overrideStatuses: must map names to lists of statuses`);
  }
  return {
    stateMachineArns: stringArray(raw.stateMachineArns, `${field}.stateMachineArns`),
    stateMachineNamePrefixes: stringArray(
      raw.stateMachineNamePrefixes,
      `${field}.stateMachineNamePrefixes`,
    ),
    observeOnly: raw.observeOnly,
    overrideObserveOnly: overrides as Record<string, boolean>,
    statuses: raw.statuses,
    overrideStatuses: overrideStatuses as Record<string, RedrivableStatus[]>,
  };
}

/**
 * Builds the clock's `onEvent` handler.
 *
 * @example
 * ```ts
 * export const handler = createLiveHealingClock({ dynamodb: new DynamoDBClient({}), tableName });
 * ```
 */
export function createLiveHealingClock(
  deps: LiveHealingClockDeps,
): (event: CloudFormationCustomResourceEvent) => Promise<ClockResponse> {
  const now = deps.now ?? Date.now;
  const key = (id: string) => ({ [IDEMPOTENCY_TABLE.partitionKey]: { S: id } });

  const read = async (id: string): Promise<{ state: ClockState; version: number } | undefined> => {
    const { Item } = await deps.dynamodb.send(
      new GetItemCommand({ TableName: deps.tableName, Key: key(id), ConsistentRead: true }),
    );
    const state = Item?.[HEALING_STATE.clockState]?.S;
    const version = Item?.[HEALING_STATE.clockVersion]?.N;
    if (state === undefined || version === undefined) return undefined;
    return { state: JSON.parse(state) as ClockState, version: Number(version) };
  };

  const write = async (
    id: string,
    state: ClockState,
    document: string,
    previousVersion: number | undefined,
  ) => {
    try {
      await deps.dynamodb.send(
        new PutItemCommand({
          TableName: deps.tableName,
          Item: {
            ...key(id),
            [HEALING_STATE.clockState]: { S: JSON.stringify(state) },
            [HEALING_STATE.clockVersion]: { N: String((previousVersion ?? 0) + 1) },
            [HEALING_STATE.clockDocument]: { S: document },
          },
          // Nobody else wrote the clock since we read it.
          ...(previousVersion === undefined
            ? {
                ConditionExpression: 'attribute_not_exists(#id)',
                ExpressionAttributeNames: { '#id': IDEMPOTENCY_TABLE.partitionKey },
              }
            : {
                ConditionExpression: '#version = :previousVersion',
                ExpressionAttributeNames: { '#version': HEALING_STATE.clockVersion },
                ExpressionAttributeValues: { ':previousVersion': { N: String(previousVersion) } },
              }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new Error(
          `The live-healing clock ${id} was written by someone else during this deploy; deploy again.`,
        );
      }
      throw error;
    }
  };

  /** A config token part: its values, as CloudFormation resolved them, into a record of its own. */
  const tokenPart = async (event: CloudFormationCustomResourceEvent): Promise<ClockResponse> => {
    if (event.RequestType === 'Delete') {
      if (event.PhysicalResourceId.startsWith(HEALING_STATE.liveHealingClockPrefix)) {
        await deps.dynamodb.send(
          new DeleteItemCommand({ TableName: deps.tableName, Key: key(event.PhysicalResourceId) }),
        );
      }
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    const { properties } = LIVE_HEALING_CLOCK.configTokenPart;
    const clockId = event.ResourceProperties[properties.clockId];
    const part = Number(event.ResourceProperties[properties.part]);
    if (typeof clockId !== 'string' || clockId === '') {
      throw new Error(`${properties.clockId}: missing`);
    }
    if (!Number.isInteger(part) || part < 0) {
      throw new Error(`${properties.part}: must be a whole number from 0`);
    }
    const values = event.ResourceProperties[properties.values];
    parseConfigTokens(values, properties.values);
    const id = configTokenPartKey(clockId, part);
    const digest = configTokensDigest(values);
    await deps.dynamodb.send(
      new PutItemCommand({
        TableName: deps.tableName,
        Item: {
          ...key(id),
          [HEALING_STATE.configTokens]: { S: values },
          [HEALING_STATE.configTokensDigest]: { S: digest },
        },
      }),
    );
    return {
      PhysicalResourceId: id,
      Data: { [LIVE_HEALING_CLOCK.configTokenPart.attribute]: digest },
    };
  };

  /**
   * The `ClockConfig` property with the values of its config token parts in
   * place of their placeholders; as it came when it has none.
   */
  const withConfigTokens = async (
    property: unknown,
    partsProperty: unknown,
    clockId: string,
  ): Promise<unknown> => {
    if (partsProperty === undefined || typeof property !== 'string') return property;
    const field = LIVE_HEALING_CLOCK.properties.configTokenParts;
    const parts = parseConfigTokens(partsProperty, field);
    const tokens = await readConfigTokens(deps, {
      record: configTokenPartsPrefix(clockId),
      parts,
    });
    const raw = JSON.parse(property) as { stateMachineArns?: unknown };
    const marker = CONFIG_PLACEHOLDER.token;
    if (Array.isArray(raw.stateMachineArns)) {
      raw.stateMachineArns = raw.stateMachineArns.map((value: unknown, i) => {
        if (typeof value !== 'string' || !value.startsWith(marker)) return value;
        const token = tokens[Number(value.slice(marker.length))];
        if (token === undefined) {
          throw new Error(
            `${LIVE_HEALING_CLOCK.properties.config}.stateMachineArns[${i}]: no value ${value.slice(marker.length)} in the ${parts.length} config token parts`,
          );
        }
        return token;
      });
    }
    return JSON.stringify(raw);
  };

  return async (event) => {
    if (event.ResourceType === LIVE_HEALING_CLOCK.configTokenPart.resourceType) {
      return tokenPart(event);
    }
    const clockId = event.ResourceProperties[LIVE_HEALING_CLOCK.properties.clockId];
    if (event.RequestType === 'Delete') {
      // A failed Create may leave CloudFormation with a physical id of its own choosing.
      if (event.PhysicalResourceId.startsWith(HEALING_STATE.liveHealingClockPrefix)) {
        await deps.dynamodb.send(
          new DeleteItemCommand({ TableName: deps.tableName, Key: key(event.PhysicalResourceId) }),
        );
      }
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    if (typeof clockId !== 'string' || clockId === '') {
      throw new Error(`${LIVE_HEALING_CLOCK.properties.clockId}: missing`);
    }
    const id = clockRecordKey(clockId);
    const property = await withConfigTokens(
      event.ResourceProperties[LIVE_HEALING_CLOCK.properties.config],
      event.ResourceProperties[LIVE_HEALING_CLOCK.properties.configTokenParts],
      clockId,
    );
    const stored = await read(id);
    // A Create starts the clock afresh, even over a record a failed attempt left.
    const previous = event.RequestType === 'Create' ? undefined : stored?.state;
    const { state, document: liveSince } = previousVersionConfig(property)
      ? rollBackToPreviousVersion(previous, property as string, now())
      : advance(previous, parseClockConfig(property), now());
    const document = JSON.stringify(liveSince);
    await write(id, state, document, stored?.version);
    const reference: LiveSinceReference = {
      config: liveSince.config,
      record: id,
      version: (stored?.version ?? 0) + 1,
    };
    const data =
      Buffer.byteLength(document) <= LIVE_SINCE_INLINE_BYTES ? document : JSON.stringify(reference);
    return { PhysicalResourceId: id, Data: { [LIVE_HEALING_CLOCK.attribute]: data } };
  };
}

function advance(previous: ClockState | undefined, config: ClockConfig, now: number) {
  const state = advanceClock(previous, config, now);
  return { state, document: liveSinceDocument(state, config) };
}

/**
 * True for the `ClockConfig` property of the version before status times: it
 * has no `statuses`. The new code meets it when CloudFormation rolls a failed
 * upgrade back: it sends the old properties to the custom resource, whose
 * handler is still the new one.
 */
function previousVersionConfig(json: unknown): boolean {
  if (typeof json !== 'string') return false;
  const raw = JSON.parse(json) as Record<string, unknown>;
  return raw.statuses === undefined && raw.overrideStatuses === undefined;
}

/**
 * A rollback to the version before status times must not fail (the stack would
 * be stuck in UPDATE_ROLLBACK_FAILED). The clock advances as that version's did,
 * every status counted as always redriven, and the document carries the digest
 * of that version's own config, so its handlers find their times. The status
 * times are dropped from the record: the next deploy of this version treats it
 * as an upgrade (FAILED and TIMED_OUT from the policy time, ABORTED from then),
 * the cautious reading.
 */
function rollBackToPreviousVersion(previous: ClockState | undefined, json: string, now: number) {
  const withStatuses = JSON.stringify({
    ...JSON.parse(json),
    statuses: [...REDRIVABLE_STATUSES],
    overrideStatuses: {},
  });
  const config = parseClockConfig(withStatuses);
  const {
    statuses: _statuses,
    machineStatuses: _machineStatuses,
    ...state
  } = advanceClock(previous, config, now);
  const previousConfig = {
    stateMachineArns: config.stateMachineArns,
    stateMachineNamePrefixes: config.stateMachineNamePrefixes,
    observeOnly: config.observeOnly,
    overrideObserveOnly: config.overrideObserveOnly,
  };
  const { statuses: _s, machineStatuses: _m, ...document } = liveSinceDocument(state, config);
  return {
    state,
    // The previous version's digest is of its own, shorter config, in this key order.
    document: { ...document, config: clockConfigDigest(previousConfig as ClockConfig) },
  };
}
