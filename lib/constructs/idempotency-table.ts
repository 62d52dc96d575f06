import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  DEFAULT_IDEMPOTENCY_KEY_PREFIX,
  ENV,
  IDEMPOTENCY_TABLE,
} from '../../lambda/shared/contract';

/** The four item actions Powertools idempotency needs, and nothing more. */
export const IDEMPOTENCY_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
] as const;

/**
 * The handler environment naming an installation's idempotency key prefix.
 * The app's prefix is the handlers' default, so the app's functions carry no
 * variable for it (their environment is as it was before prefixes existed).
 */
export function keyPrefixEnvironment(prefix: string): Record<string, string> {
  return prefix === DEFAULT_IDEMPOTENCY_KEY_PREFIX ? {} : { [ENV.idempotencyKeyPrefix]: prefix };
}

export interface IdempotencyTableProps {
  /**
   * Customer managed key of the table.
   * @default - an AWS managed key
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The Powertools idempotency table: key `id`, TTL `expiration`, on demand,
 * point-in-time recovery, encrypted. Records are short-lived, so the table is
 * destroyed with the stack rather than retained.
 *
 * @example
 * ```ts
 * const idempotency = new IdempotencyTable(this, 'Idempotency');
 * idempotency.grantIdempotency(fn);
 * ```
 */
export class IdempotencyTable extends Construct {
  public readonly table: dynamodb.Table;

  public constructor(scope: Construct, id: string, props: IdempotencyTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: IDEMPOTENCY_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: IDEMPOTENCY_TABLE.timeToLive,
      ...autohealTableSettings(props.encryptionKey),
    });
  }

  /** Grants exactly the item actions idempotency uses (and the table key's use, when it has one). */
  public grantIdempotency(grantee: iam.IGrantable): iam.Grant {
    this.grantKeyUse(grantee);
    return this.table.grant(grantee, ...IDEMPOTENCY_TABLE_ACTIONS);
  }

  /**
   * Lets `grantee` read (and, unless `readOnly`, write) the items of a table
   * encrypted with a customer managed key: `Table.grant` with named actions
   * grants no key use. Named actions, not `grantEncryptDecrypt`, whose
   * `ReEncrypt*` and `GenerateDataKey*` wildcards item access never needs.
   */
  public grantKeyUse(grantee: iam.IGrantable, options: { readOnly?: boolean } = {}): void {
    grantTableKeyUse(this.table, grantee, options);
  }
}

/**
 * How Autoheal's tables are made (the idempotency table, the healing state
 * table): on demand, point-in-time recovery, encrypted with `encryptionKey` or
 * the AWS managed key, destroyed with the stack unless the installation's
 * `removalPolicy` says otherwise (their records are short-lived).
 */
export function autohealTableSettings(
  encryptionKey?: kms.IKey,
): Pick<
  dynamodb.TableProps,
  | 'billingMode'
  | 'pointInTimeRecoverySpecification'
  | 'encryption'
  | 'encryptionKey'
  | 'removalPolicy'
> {
  return {
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    ...(encryptionKey
      ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey }
      : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
    removalPolicy: RemovalPolicy.DESTROY,
  };
}

/**
 * Lets `grantee` use a table's customer managed key (nothing when the table
 * has none): named actions, not `grantEncryptDecrypt`, whose `ReEncrypt*` and
 * `GenerateDataKey*` wildcards item access never needs.
 */
export function grantTableKeyUse(
  table: dynamodb.ITable,
  grantee: iam.IGrantable,
  options: { readOnly?: boolean } = {},
): void {
  table.encryptionKey?.grant(
    grantee,
    ...(options.readOnly
      ? ['kms:Decrypt', 'kms:DescribeKey']
      : ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey']),
  );
}
