import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ENV, STATE_TABLE } from '../../lambda/shared/contract';
import type { AutohealFunction } from './autoheal-function';
import { autohealTableSettings, grantTableKeyUse } from './idempotency-table';

/**
 * The item actions each kind of user of the healing state table needs, and
 * nothing more (read off the calls of `lambda/redrive/breaker/breaker-store.ts`
 * and `lambda/shared/notice-digest-store.ts`). A transaction (`TransactWriteItems`) is authorised by
 * the item actions it is made of (its Put and Update here): IAM has no action
 * of its own for it.
 */
export const HEALING_STATE_ACTIONS = {
  /**
   * The redrive handler: reads a breaker (GetItem); counts a relapse or
   * recovery once (a transaction of a conditional Put and an Update); moves
   * the breaker by conditional UpdateItem; holds a failure (PutItem; UpdateItem
   * counts a second hold of it) and lists
   * its machine in the registry (UpdateItem); counts notices into digests
   * (UpdateItem, PutItem). It never lists or deletes.
   */
  redrive: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  /**
   * The AppFlow handlers: count notices into a digest window and register it
   * for the flush (UpdateItem), write the digest's examples (PutItem).
   */
  digests: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
  /**
   * The brake keeper: reads breakers (GetItem), Queries the registries, a
   * machine's held failures oldest first and the due digests, moves breakers
   * and claims digests and nearing-expiry notices (UpdateItem, transactions of
   * Updates), writes digest examples of its own notices (PutItem), and deletes
   * a held failure re-sent or expired, a registry entry or a flushed digest
   * (DeleteItem).
   */
  keeper: [
    'dynamodb:GetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ],
} as const;

export interface HealingStateTableProps {
  /**
   * Customer managed key of the table.
   * @default - the AWS managed key `aws/dynamodb`
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The healing state table: what the storm brake and the notice digests keep
 * between invocations (breaker state, held failures, digest counts; see
 * `STATE_TABLE` and `stateKeys` in `lambda/shared/contract.ts`). Keys `pk` and
 * `sk`, TTL `expiration`, on demand, point-in-time recovery, encrypted. Like
 * the idempotency table, it is destroyed with the stack unless the
 * installation's `removalPolicy` says otherwise.
 *
 * A table of its own rather than items in the idempotency table: that table
 * has a partition key only, and held failures are read oldest first by a
 * Query on a sort key.
 *
 * @example
 * ```ts
 * const state = new HealingStateTable(this, 'HealingState');
 * state.grantItems(handler, HEALING_STATE_ACTIONS.redrive, 'autoheal');
 * ```
 */
export class HealingStateTable extends Construct {
  public readonly table: dynamodb.Table;

  public constructor(scope: Construct, id: string, props: HealingStateTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: STATE_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: STATE_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: STATE_TABLE.timeToLive,
      ...autohealTableSettings(props.encryptionKey),
    });
  }

  /**
   * Lets `user` make exactly `actions` on the items of one installation (every
   * `pk` starts with `keyPrefix#`, so `dynamodb:LeadingKeys` keeps two
   * installations sharing a table apart), sets {@link ENV.stateTable} on it,
   * and grants the table key's use when the table has a customer managed key.
   */
  public grantItems(user: AutohealFunction, actions: readonly string[], keyPrefix: string): void {
    user.function.addEnvironment(ENV.stateTable, this.table.tableName);
    user.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'OwnHealingStateOnly',
        actions: [...actions],
        resources: [this.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': [`${literalInIamPattern(keyPrefix)}#*`],
          },
        },
      }),
    );
    grantTableKeyUse(this.table, user.role);
  }
}

/**
 * `value` as a literal in an IAM `StringLike` pattern: IAM writes a literal
 * `*`, `?` or `$` as `${*}`, `${?}`, `${$}`, so a key prefix holding one grants
 * no other installation's keys.
 */
export function literalInIamPattern(value: string): string {
  return value.replace(/[*?$]/g, (c) => `\${${c}}`);
}
