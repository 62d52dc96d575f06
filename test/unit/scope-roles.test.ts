/**
 * The runtime side of scope roles (lambda/shared/scope-role-clients.ts, and
 * its Step Functions use in lambda/redrive/scope-roles.ts): which role an
 * item's calls are signed with, read from `AUTOHEAL_SCOPE_ROLES`, and the
 * credentials AssumeRole gives. End to end against the local AWS endpoint:
 * test/resilience/large-scope.test.ts (state machines) and
 * test/resilience/large-flow-scope.test.ts (flows).
 */
import { AppflowClient } from '@aws-sdk/client-appflow';
import { SFNClient } from '@aws-sdk/client-sfn';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/nested-clients/sts';
import { mockClient } from 'aws-sdk-client-mock';
import { sfnClientsByScopeRole } from '../../lambda/redrive/scope-roles';
import {
  assumedRoleCredentials,
  clientsByScopeRole,
  parseScopeRoles,
  scopeRoleFinder,
} from '../../lambda/shared/scope-role-clients';

const ROLE_1 = 'arn:aws:iam::123456789012:role/Autoheal-ScopeRole1';
const ROLE_2 = 'arn:aws:iam::123456789012:role/Autoheal-ScopeRole2';
const machine = (i: number) =>
  `arn:aws:states:eu-central-1:123456789012:stateMachine:machine-${String(i).padStart(4, '0')}`;
const MACHINES = Array.from({ length: 1_000 }, (_, i) => machine(i));

describe('parseScopeRoles', () => {
  it.each([
    [undefined, []],
    ['', []],
    [`[[600,"${ROLE_1}"]]`, [{ first: 600, roleArn: ROLE_1 }]],
    [
      `[[400,"${ROLE_1}"],[800,"${ROLE_2}"]]`,
      [
        { first: 400, roleArn: ROLE_1 },
        { first: 800, roleArn: ROLE_2 },
      ],
    ],
  ])('reads %j as %j', (text, expected) => {
    // Act
    const routes = parseScopeRoles(text);

    // Assess
    expect(routes).toEqual(expected);
  });

  it.each([
    ['not JSON', 'role1'],
    ['not a list', `{"600":"${ROLE_1}"}`],
    ['a negative index', `[[-1,"${ROLE_1}"]]`],
    ['indices out of order', `[[800,"${ROLE_1}"],[400,"${ROLE_2}"]]`],
    ['no ARN', '[[600,"ScopeRole1"]]'],
  ])('refuses %s, naming the variable', (_, text) => {
    // Act
    const parse = () => parseScopeRoles(text);

    // Assess
    expect(parse).toThrow(
      'AUTOHEAL_SCOPE_ROLES is not a JSON list of [first, roleArn] in increasing order',
    );
  });
});

describe('scopeRoleFinder', () => {
  const roleOf = scopeRoleFinder(MACHINES, [
    { first: 400, roleArn: ROLE_1 },
    { first: 800, roleArn: ROLE_2 },
  ]);

  it.each([
    [machine(0), undefined],
    [machine(399), undefined],
    [machine(400), ROLE_1],
    [machine(799), ROLE_1],
    [machine(800), ROLE_2],
    [machine(999), ROLE_2],
    // A machine of a name prefix, not listed: the function's own role
    ['arn:aws:states:eu-central-1:123456789012:stateMachine:orders-nightly', undefined],
  ])('%s is called as %s (undefined: the function itself)', (arn, expected) => {
    // Act
    const role = roleOf(arn);

    // Assess
    expect(role).toBe(expected);
  });
});

describe('sfnClientsByScopeRole', () => {
  const own = new SFNClient({});
  const sts = mockClient(STSClient);

  afterEach(() => sts.reset());
  afterAll(() => {
    own.destroy();
    sts.restore();
  });

  it('gives the function its own client for every machine when there are no scope roles', () => {
    // Act
    const sfnFor = sfnClientsByScopeRole({
      stateMachineArns: MACHINES,
      scopeRoles: undefined,
      own,
      sessionName: 'autoheal-redrive',
    });

    // Assess
    expect(sfnFor(machine(0))).toBe(own);
    expect(sfnFor(machine(999))).toBe(own);
  });

  it('makes one client per scope role, at its first use, and assumes no role before a call', () => {
    // Act
    const sfnFor = sfnClientsByScopeRole({
      stateMachineArns: MACHINES,
      scopeRoles: `[[400,"${ROLE_1}"],[800,"${ROLE_2}"]]`,
      own,
      sessionName: 'autoheal-redrive',
    });
    const clients = [machine(0), machine(400), machine(799), machine(800)].map(sfnFor);

    // Assess
    expect(clients[0]).toBe(own);
    expect(clients[1]).not.toBe(own);
    expect(clients[2]).toBe(clients[1]);
    expect(clients[3]).not.toBe(clients[1]);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    for (const client of clients.slice(1)) client.destroy();
  });
});

describe('clientsByScopeRole', () => {
  const flow = (i: number) => `salesforce-account-export-${String(i).padStart(4, '0')}`;
  const FLOWS = Array.from({ length: 800 }, (_, i) => flow(i));
  const own = new AppflowClient({});
  afterAll(() => own.destroy());

  it("makes the scope role's client of the class it is given, for the flows of its slice only", () => {
    // Act
    const appflowFor = clientsByScopeRole({
      listed: FLOWS,
      scopeRoles: `[[740,"${ROLE_1}"]]`,
      own,
      Client: AppflowClient,
      sessionName: 'autoheal-flow-healer',
    });
    const [first, lastOwn, firstOnRole, last] = [0, 739, 740, 799].map((i) => appflowFor(flow(i)));

    // Assess
    expect([first, lastOwn]).toEqual([own, own]);
    expect(firstOnRole).toBeInstanceOf(AppflowClient);
    expect(firstOnRole).not.toBe(own);
    expect(last).toBe(firstOnRole);
    // A flow not listed (never in scope): the function's own client, as for a name prefix's machine
    expect(appflowFor('not-listed')).toBe(own);
    firstOnRole.destroy();
  });
});

describe('assumedRoleCredentials', () => {
  it("returns the role's temporary credentials with their expiry, from AssumeRole with the session name", async () => {
    // Prepare
    const expiration = new Date('2026-11-30T11:00:00Z');
    const sts = mockClient(STSClient)
      .on(AssumeRoleCommand)
      .resolves({
        Credentials: {
          AccessKeyId: 'ASIAEXAMPLE',
          SecretAccessKey: 'secret',
          SessionToken: 'token',
          Expiration: expiration,
        },
      });
    const client = new STSClient({});

    // Act
    const credentials = await assumedRoleCredentials(() => client, ROLE_1, 'autoheal-redrive')();

    // Assess
    expect(credentials).toEqual({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'token',
      expiration,
    });
    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input)).toEqual([
      { RoleArn: ROLE_1, RoleSessionName: 'autoheal-redrive' },
    ]);
    sts.restore();
    client.destroy();
  });

  it('fails, naming the role, when AssumeRole returns no credentials', async () => {
    // Prepare
    const sts = mockClient(STSClient).on(AssumeRoleCommand).resolves({});
    const client = new STSClient({});

    // Act
    const assume = assumedRoleCredentials(() => client, ROLE_1, 'autoheal-redrive')();

    // Assess
    await expect(assume).rejects.toThrow(`STS AssumeRole of ${ROLE_1} returned no credentials`);
    sts.restore();
    client.destroy();
  });
});
