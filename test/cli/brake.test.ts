import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CliClients } from '../../cli/clients';
import type { Deployment } from '../../cli/deployment';
import { describeBreaker } from '../../lambda/redrive/breaker/breaker-control';
import { createBreakerStore } from '../../lambda/redrive/breaker/breaker-store';
import { testDeployment } from '../support/cli-deployment';
import { runAutoheal } from '../support/cli-io';
import { LOCAL_STATES_ARN_PREFIX } from '../support/cli-stack';
import { createStateTable, type StateTable } from '../support/state-table';

const ORDERS = `${LOCAL_STATES_ARN_PREFIX}stateMachine:orders`;
const BILLING = `${LOCAL_STATES_ARN_PREFIX}stateMachine:billing`;
const NOW = Date.parse('2026-11-30T12:00:00Z');
const KEY_PREFIX = 'autoheal-brake-test';

/** Orders has the storm brake; billing has it switched off by an override. */
const APP_CONFIG = {
  redrive: {
    stateMachineArns: [ORDERS, BILLING],
    overrides: { billing: { breaker: { enabled: false } } },
  },
};

describe('autoheal brake', () => {
  let table: StateTable;
  let deployment: Deployment;
  let clients: CliClients;

  beforeEach(async () => {
    table = await createStateTable();
    deployment = testDeployment(APP_CONFIG, {
      idempotencyTableName: 'unused',
      stateTableName: table.tableName,
      keyPrefix: KEY_PREFIX,
    });
    clients = { dynamodb: new DynamoDBClient({}) } as CliClients;
  });

  afterEach(async () => {
    clients.dynamodb.destroy();
    await table.dispose();
  });

  const run = (argv: string[], options: { tty?: boolean } = {}) =>
    runAutoheal(argv, { clients, deployment: async () => deployment, now: () => NOW, ...options });

  /** The store as the redrive handler sees it (the runtime's own). */
  const runtimeStore = () =>
    createBreakerStore({
      dynamodb: table.client,
      tableName: table.tableName,
      keyPrefix: KEY_PREFIX,
    });

  it('shows each breaker of the scope with the brake enabled as a table', async () => {
    // Prepare: two held failures of orders.
    const store = runtimeStore();
    for (const i of [1, 2]) {
      await store.hold(
        {
          executionArn: `${LOCAL_STATES_ARN_PREFIX}execution:orders:run-${i}`,
          stateMachineArn: ORDERS,
          redriveCount: 0,
          stopDate: NOW - i * 60_000,
          errorName: 'States.TaskFailed',
        },
        NOW,
      );
    }

    // Act
    const result = await run(['brake', 'status']);

    // Assess
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/machine\s*│\s*state\s*│\s*forced\s*│\s*held/);
    expect(result.stdout).toMatch(/orders\s*│\s*closed\s*│\s*no\s*│\s*2\s*│/);
    expect(result.stdout).not.toContain('billing');
  });

  it('shows when an opened breaker was opened and when it next probes', async () => {
    // Prepare: the breaker opened (by the runtime's own transition) a minute ago.
    const store = runtimeStore();
    const openedAt = NOW - 60_000;
    await store.transition(
      ORDERS,
      await store.read(ORDERS, openedAt, { fresh: true }),
      'open',
      openedAt,
    );

    // Act
    const result = await run(['brake', 'status', '--state-machine', 'orders']);

    // Assess: the default cool-down is 5 minutes from the opening.
    expect(result.stdout).toMatch(
      /orders\s*│\s*open\s*│\s*no\s*│\s*0\s*│\s*2026-11-30T11:59:00\.000Z\s*│\s*2026-11-30T12:04:00\.000Z\s*│/,
    );
  });

  it('forces a breaker open with a reason, as the runtime then reads it, and prints its new status', async () => {
    // Act
    const result = await run([
      'brake',
      'open',
      '--state-machine',
      'orders',
      '--reason',
      'payments API maintenance',
      '--by',
      'alice',
      '--yes',
    ]);

    // Assess
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('Forced open: 1 breaker(s).');
    expect(result.stdout).toMatch(
      /orders\s*│\s*open \(computed closed\)\s*│\s*open by alice: payments API maintenance/,
    );
    const seen = await describeBreaker(runtimeStore(), ORDERS, { now: NOW });
    expect(seen.effectiveState).toBe('open');
    expect(seen.forced).toEqual(
      expect.objectContaining({ state: 'open', by: 'alice', reason: 'payments API maintenance' }),
    );
  });

  it('forces closed, then releases: the computed state applies again', async () => {
    // Prepare
    await run(['brake', 'open', '--state-machine', ORDERS, '--reason', 'storm', '--yes']);

    // Act
    const closed = await run([
      'brake',
      'close',
      '--state-machine',
      ORDERS,
      '--reason',
      'fixed',
      '--yes',
    ]);
    const afterClose = await describeBreaker(runtimeStore(), ORDERS, { now: NOW });
    const released = await run(['brake', 'release', '--state-machine', 'orders']);
    const afterRelease = await describeBreaker(runtimeStore(), ORDERS, { now: NOW });

    // Assess
    expect([closed.exitCode, released.exitCode]).toEqual([0, 0]);
    expect(afterClose.forced?.state).toBe('closed');
    expect(afterRelease.forced).toBeUndefined();
    expect(afterRelease.effectiveState).toBe('closed');
    expect(released.stdout).toMatch(/orders\s*│\s*closed\s*│\s*no\s*│/);
  });

  it('prints every field as JSON with --json', async () => {
    // Prepare
    await run([
      'brake',
      'open',
      '--state-machine',
      'orders',
      '--reason',
      'storm',
      '--by',
      'bob',
      '--yes',
    ]);

    // Act
    const result = await run(['brake', 'status', '--state-machine', 'orders', '--json']);

    // Assess
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({
        stateMachineArn: ORDERS,
        effectiveState: 'open',
        computedState: 'closed',
        forced: expect.objectContaining({ state: 'open', by: 'bob', reason: 'storm' }),
        heldCount: 0,
      }),
    ]);
  });

  it('forces nothing without confirmation: not on a terminal and no --yes', async () => {
    // Act
    const result = await run(['brake', 'open', '--state-machine', 'orders', '--reason', 'storm']);

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      'error: Not confirmed: nothing forced. Answer y on a terminal, or pass --yes to force without asking\n',
    );
    expect((await describeBreaker(runtimeStore(), ORDERS, { now: NOW })).forced).toBeUndefined();
  });

  it.each<[string, string[], (d: Deployment) => Deployment, string]>([
    [
      'the breaker is not enabled for the machine',
      ['brake', 'open', '--state-machine', 'billing', '--reason', 'x', '--yes'],
      (d) => d,
      'error: --state-machine billing: the storm brake is not enabled for billing in the deployed config (redrive.breaker.enabled, redrive.overrides.billing.breaker.enabled)\n',
    ],
    [
      'the deployment has no healing state table',
      ['brake', 'status'],
      (d) => ({ ...d, stateTableName: undefined }),
      'error: The deployment in stack Autoheal has no healing state table: deploy this version of Autoheal, or name the table with --state-table NAME\n',
    ],
    [
      'the machine is not a name or an ARN',
      ['brake', 'status', '--state-machine', 'arn:aws:states:eu-central-1:1:nope'],
      (d) => d,
      'error: --state-machine arn:aws:states:eu-central-1:1:nope: must be a state machine name or ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)\n',
    ],
    [
      'the reason is blank',
      ['brake', 'open', '--state-machine', 'orders', '--reason', ' ', '--yes'],
      (d) => d,
      'error: --reason: must be a non-empty string of at most 512 characters\n',
    ],
  ])('refuses in one line when %s, and changes nothing', async (_case, argv, change, stderr) => {
    // Prepare
    deployment = change(deployment);

    // Act
    const result = await run(argv);

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(stderr);
    expect(await table.items()).toEqual([]);
  });

  it('requires --reason to force a breaker', async () => {
    // Act
    const result = await run(['brake', 'open', '--state-machine', 'orders', '--yes']);

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("required option '--reason <text>' not specified");
    expect(await table.items()).toEqual([]);
  });
});
