/**
 * The config values only known at deploy, when too many for the Lambda
 * environment: the live-healing clock's handler writes them at deploy, one
 * record per part (`LIVE_HEALING_CLOCK.configTokenPart`), and the redrive
 * handler, the sweeper and the clock itself read them back.
 *
 * Why records written by the clock rather than Parameter Store or AppConfig:
 * CloudFormation resolves the values (cross-stack imports, `Ref`s) only into
 * resource properties, and the clock's custom resource already receives the
 * resolved scope and writes a record the handlers read at their first event
 * (its live-since document); a parameter holds 8 KB at most (a thousand ARNs
 * take some 150 KB), an AppConfig document needs an application, a profile, a
 * deployment and an extension of the handlers' init. A part is a custom
 * resource of its own, so each request stays within what CloudFormation
 * hands a provider (see `TEMPLATE_LIMITS.customResourceRequestBytes`).
 */
import { createHash } from 'node:crypto';
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  type ConfigTokenReference,
  HEALING_STATE,
  IDEMPOTENCY_TABLE,
  LIVE_HEALING_CLOCK,
} from '../shared/contract';

export interface ConfigTokenRecordDeps {
  readonly dynamodb: DynamoDBClient;
  /** The idempotency table, where the clock keeps its records. */
  readonly tableName: string;
}

/** The digest of a part's values (its `Values` property, as CloudFormation resolved it). */
export function configTokensDigest(valuesJson: string): string {
  return createHash('sha256')
    .update(valuesJson)
    .digest('hex')
    .slice(0, LIVE_HEALING_CLOCK.configTokenPart.digestChars);
}

/** The values of a part's `Values` property, or an error naming it. */
export function parseConfigTokens(valuesJson: unknown, field: string): string[] {
  let values: unknown;
  try {
    values = typeof valuesJson === 'string' ? JSON.parse(valuesJson) : undefined;
  } catch {
    values = undefined;
  }
  if (!Array.isArray(values) || !values.every((value) => typeof value === 'string')) {
    throw new Error(`${field}: must be a JSON list of strings`);
  }
  return values;
}

/**
 * The values of every part the reference names, in order: one consistent
 * GetItem per part, in parallel.
 *
 * @throws Error naming the record when a part is missing or holds other values
 *   than the reference's digest (another deploy wrote it since): the caller
 *   tries again at its next event, by which time its own update has arrived
 * @example
 * ```ts
 * const tokens = await readConfigTokens({ dynamodb, tableName }, reference);
 * ```
 */
export async function readConfigTokens(
  deps: ConfigTokenRecordDeps,
  reference: ConfigTokenReference,
): Promise<string[]> {
  const parts = await Promise.all(
    reference.parts.map(async (digest, i) => {
      const id = `${reference.record}${i}`;
      const { Item } = await deps.dynamodb.send(
        new GetItemCommand({
          TableName: deps.tableName,
          Key: { [IDEMPOTENCY_TABLE.partitionKey]: { S: id } },
          ConsistentRead: true,
          ProjectionExpression: '#values, #digest',
          ExpressionAttributeNames: {
            '#values': HEALING_STATE.configTokens,
            '#digest': HEALING_STATE.configTokensDigest,
          },
        }),
      );
      const values = Item?.[HEALING_STATE.configTokens]?.S;
      const stored = Item?.[HEALING_STATE.configTokensDigest]?.S;
      if (values === undefined || stored !== digest) {
        throw new Error(
          `The config token record ${id} ${values === undefined ? 'is missing' : `holds other values (digest ${stored}, expected ${digest})`}: a deploy is under way or failed; the next event tries again.`,
        );
      }
      return parseConfigTokens(values, id);
    }),
  );
  return parts.flat();
}
