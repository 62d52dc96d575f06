/**
 * `autoheal brake`: the storm brake of each state machine, shown and forced
 * through the runtime's own control functions (`describeBreaker`,
 * `forceBreaker`, `releaseBreaker` in lambda/redrive/breaker/breaker-control.ts)
 * on the deployment's healing state table, with the deployed breaker options.
 */
import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import {
  type BreakerDescription,
  describeBreaker,
  forceBreaker,
  releaseBreaker,
} from '../../lambda/redrive/breaker/breaker-control';
import {
  createBreakerStore,
  type KeeperBreakerStore,
} from '../../lambda/redrive/breaker/breaker-store';
import { breakerOptionsByArn, breakerOptionsFor } from '../../lambda/shared/config/breaker-config';
import { STATE_TABLE, stateKeys } from '../../lambda/shared/contract';
import { InvalidInputError } from '../../lambda/shared/errors';
import { parseStateMachineArn } from '../../lambda/shared/state-machine-names';
import { CliError } from '../cli-error';
import type { Deployment } from '../deployment';

/** A breaker as `autoheal brake status` shows it. */
export interface BrakeStatus extends BreakerDescription {
  /** Failures the breaker holds now (all of them, not only the sample). */
  readonly heldCount: number;
}

/** The state table, store and options a brake command works on. */
export interface Brake {
  readonly store: KeeperBreakerStore;
  readonly deployment: Deployment;
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
}

/**
 * The brake of the deployment.
 *
 * @throws {CliError} when the deployment has no redrive path or no healing state table
 */
export function brakeOf(deployment: Deployment, dynamodb: DynamoDBClient): Brake {
  const { redrive } = deployment;
  if (!redrive) {
    throw new CliError(
      `The deployment in stack ${deployment.stackName || '(flags)'} has no redrive path, so no storm brake: configure redrive, or name another stack with --stack`,
    );
  }
  const tableName = deployment.stateTableName;
  if (!tableName) {
    throw new CliError(
      `The deployment in stack ${deployment.stackName || '(flags)'} has no healing state table: deploy this version of Autoheal, or name the table with --state-table NAME`,
    );
  }
  const store = createBreakerStore({
    dynamodb,
    tableName,
    keyPrefix: deployment.idempotencyKeyPrefix,
    optionsFor: breakerOptionsByArn(redrive.config),
  });
  return { store, deployment, dynamodb, tableName };
}

/**
 * The ARN of a state machine the operator named (a name, or an ARN), checked
 * to have its breaker enabled in the deployed config.
 *
 * @throws {CliError} naming `--state-machine` when it is neither, or its breaker is disabled
 */
export function breakerMachineArn(brake: Brake, nameOrArn: string): string {
  const redrive = brake.deployment.redrive as NonNullable<Deployment['redrive']>;
  const arn = nameOrArn.startsWith('arn:')
    ? nameOrArn
    : `${redrive.statesArnPrefix}stateMachine:${nameOrArn}`;
  const parts = parseStateMachineArn(arn);
  if (!parts || parts.mapRunLabel !== undefined) {
    throw new CliError(
      `--state-machine ${nameOrArn}: must be a state machine name or ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)`,
    );
  }
  if (!breakerOptionsFor(redrive.config, parts.stateMachineName).enabled) {
    throw new CliError(
      `--state-machine ${nameOrArn}: the storm brake is not enabled for ${parts.stateMachineName} in the deployed config (redrive.breaker.enabled, redrive.overrides.${parts.stateMachineName}.breaker.enabled)`,
    );
  }
  return arn;
}

/** {@link breakerMachineArn} of each name, each once. */
export function brakeMachineArns(brake: Brake, namesOrArns: readonly string[]): string[] {
  return [...new Set(namesOrArns.map((name) => breakerMachineArn(brake, name)))];
}

/**
 * The machines `brake status` shows without `--state-machine`: the deployed
 * scope's ARNs and every machine the brake keeper watches (not closed,
 * forced, or holding failures), with the breaker enabled.
 */
export async function watchedMachineArns(brake: Brake): Promise<string[]> {
  const redrive = brake.deployment.redrive as NonNullable<Deployment['redrive']>;
  const arns = new Set([
    ...redrive.config.stateMachineArns,
    ...(await brake.store.machinesToWatch()),
  ]);
  return [...arns]
    .filter((arn) => {
      const name = parseStateMachineArn(arn)?.stateMachineName;
      return name !== undefined && breakerOptionsFor(redrive.config, name).enabled;
    })
    .sort();
}

/** How many failures the machine's breaker holds (a paginated COUNT query of its partition). */
async function heldCount(brake: Brake, stateMachineArn: string): Promise<number> {
  let count = 0;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await brake.dynamodb.send(
      new QueryCommand({
        TableName: brake.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
        ExpressionAttributeValues: {
          ':pk': {
            S: stateKeys(brake.deployment.idempotencyKeyPrefix).heldPartition(stateMachineArn),
          },
        },
        Select: 'COUNT',
        ExclusiveStartKey: startKey,
      }),
    );
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return count;
}

/** The status of each machine's breaker, with the deployed breaker options. */
export async function brakeStatuses(
  brake: Brake,
  stateMachineArns: readonly string[],
  now: number,
): Promise<BrakeStatus[]> {
  const redrive = brake.deployment.redrive as NonNullable<Deployment['redrive']>;
  const optionsOf = breakerOptionsByArn(redrive.config);
  return Promise.all(
    stateMachineArns.map(async (arn) => ({
      ...(await describeBreaker(brake.store, arn, { breaker: optionsOf(arn), now, heldSample: 3 })),
      heldCount: await heldCount(brake, arn),
    })),
  );
}

/** Forces each machine's breaker open or closed (the runtime's `forceBreaker`). */
export async function forceBrakes(
  brake: Brake,
  stateMachineArns: readonly string[],
  state: 'open' | 'closed',
  request: { readonly by: string; readonly reason: string; readonly now: number },
): Promise<void> {
  for (const arn of stateMachineArns) {
    try {
      await forceBreaker(brake.store, arn, state, request);
    } catch (error) {
      // The runtime's input check, named as the operator's flag (`--reason`, `--by`).
      if (error instanceof InvalidInputError)
        throw new CliError(`--${error.field}: ${error.problem}`);
      throw error;
    }
  }
}

/** Releases each machine's forced state (the runtime's `releaseBreaker`). */
export async function releaseBrakes(
  brake: Brake,
  stateMachineArns: readonly string[],
  now: number,
): Promise<void> {
  for (const arn of stateMachineArns) await releaseBreaker(brake.store, arn, { now });
}

/** One table row of a status: machine, state, forced, held, opened at, next probe, reason. */
export function statusRow(status: BrakeStatus): string[] {
  const name =
    parseStateMachineArn(status.stateMachineArn)?.stateMachineName ?? status.stateMachineArn;
  const forced = status.forced
    ? `${status.forced.state} by ${status.forced.by ?? '?'}${status.forced.reason ? `: ${status.forced.reason}` : ''}`
    : 'no';
  const state =
    status.effectiveState === status.computedState
      ? status.effectiveState
      : `${status.effectiveState} (computed ${status.computedState})`;
  const probing = status.effectiveState === 'open' || status.effectiveState === 'half-open';
  return [
    name,
    state,
    forced,
    String(status.heldCount),
    status.openedAt ?? '-',
    probing && !status.forced ? (status.cooldownEndsAt ?? '-') : '-',
    `${status.relapses}/${status.recoveries}`,
  ];
}

/** The head of {@link statusRow}'s table. */
export const STATUS_HEAD = [
  'machine',
  'state',
  'forced',
  'held',
  'opened at',
  'next probe',
  'relapses/recoveries',
] as const;
