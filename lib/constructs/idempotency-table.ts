import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { IDEMPOTENCY_TABLE } from '../../lambda/shared/contract';

/** The four item actions Powertools idempotency needs, and nothing more. */
export const IDEMPOTENCY_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
] as const;

/**
 * The Powertools idempotency table: key `id`, TTL `expiration`, on demand,
 * point-in-time recovery, encrypted. Records are short-lived, so the table is
 * destroyed with the stack rather than retained.
 */
export class IdempotencyTable extends Construct {
  public readonly table: dynamodb.Table;

  public constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: IDEMPOTENCY_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: IDEMPOTENCY_TABLE.timeToLive,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /** Grants exactly the item actions idempotency uses. */
  public grantIdempotency(grantee: iam.IGrantable): iam.Grant {
    return this.table.grant(grantee, ...IDEMPOTENCY_TABLE_ACTIONS);
  }
}
