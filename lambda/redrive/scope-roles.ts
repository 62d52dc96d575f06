/**
 * Which credentials call Step Functions about a state machine, when the scope
 * is too large for the function's own role (lib/constructs/scope-roles.ts):
 * the machines of a slice of `stateMachineArns` are granted to a scope role
 * only, so their calls are signed with that role's credentials; every other
 * machine (the function's own slice, and every machine of a name prefix) with
 * the function's own.
 *
 * The routes come from {@link ENV.scopeRoles} (`[[firstMachine, roleArn],
 * ...]`). Nothing happens at init beyond reading that variable: the index of
 * the scope and each scope role's client (and its AssumeRole call) are made
 * at the first call that needs them, so a scope without scope roles starts
 * exactly as before, and one with them pays only when a scope role's machine
 * fails.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { fromEnv } from '@aws-sdk/credential-provider-env';
// The SDK's own STS client (the one its credential providers use), a declared devDependency:
// @aws-sdk/client-sts 3.1048.0 does not bundle (it imports @aws-sdk/region-config-resolver,
// which it does not depend on).
import { AssumeRoleCommand, STSClient } from '@aws-sdk/nested-clients/sts';
import { autohealClient } from '../shared/aws-call';
import { ENV } from '../shared/contract';
import type { AutohealClientConfig } from '../shared/sdk-clients';

/** Temporary credentials as the SDK's clients take them (`AwsCredentialIdentity`). */
export interface TemporaryCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** A scope role and the first machine (index into `stateMachineArns`) of its slice. */
export interface ScopeRoleRoute {
  readonly firstMachine: number;
  readonly roleArn: string;
}

/**
 * The routes of {@link ENV.scopeRoles}; none when it is unset or empty.
 *
 * @throws Error naming the variable when it is not the construct's JSON
 * @example
 * parseScopeRoles('[[577,"arn:aws:iam::123456789012:role/Autoheal-ScopeRole1"]]');
 * // [{ firstMachine: 577, roleArn: 'arn:aws:iam::123456789012:role/Autoheal-ScopeRole1' }]
 */
export function parseScopeRoles(text: string | undefined): ScopeRoleRoute[] {
  if (!text) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.every(
      (route, k) =>
        Array.isArray(route) &&
        Number.isInteger(route[0]) &&
        route[0] >= 0 &&
        (k === 0 || route[0] > (parsed as [number][])[k - 1][0]) &&
        typeof route[1] === 'string' &&
        route[1].startsWith('arn:'),
    );
  if (!valid) {
    throw new Error(
      `${ENV.scopeRoles} is not a JSON list of [firstMachine, roleArn] in increasing order: deploy the function with the Autoheal construct`,
    );
  }
  return (parsed as [number, string][]).map(([firstMachine, roleArn]) => ({
    firstMachine,
    roleArn,
  }));
}

/**
 * The scope role whose grants cover a state machine, or undefined for the
 * function's own role: a machine listed at index i belongs to the last route
 * whose `firstMachine` is at most i; a machine before the first route, or not
 * listed by ARN (a name prefix's), to the function. Pure; the index of the
 * ARNs is built at the first lookup.
 *
 * @example
 * const roleOf = scopeRoleFinder(config.stateMachineArns, routes);
 * roleOf(arnOfMachine999); // 'arn:aws:iam::123456789012:role/Autoheal-ScopeRole1'
 */
export function scopeRoleFinder(
  stateMachineArns: readonly string[],
  routes: readonly ScopeRoleRoute[],
): (stateMachineArn: string) => string | undefined {
  if (routes.length === 0) return () => undefined;
  let roleByArn: Map<string, string> | undefined;
  return (stateMachineArn) => {
    if (!roleByArn) {
      roleByArn = new Map();
      routes.forEach(({ firstMachine, roleArn }, k) => {
        const end = routes[k + 1]?.firstMachine ?? stateMachineArns.length;
        for (let i = firstMachine; i < end; i++) roleByArn?.set(stateMachineArns[i], roleArn);
      });
    }
    return roleByArn.get(stateMachineArn);
  };
}

/**
 * Credentials of `roleArn`, from STS AssumeRole with `sts` (called when the
 * client that holds them first needs them, and again when they near expiry).
 *
 * Hand-written in place of `fromTemporaryCredentials`
 * (`@aws-sdk/credential-providers`), which is not a dependency; the SDK
 * caches what this returns and calls it again 5 minutes before `expiration`
 * (its `memoizeIdentityProvider`), so one AssumeRole serves the whole session
 * (1 hour, the most a chained role session may last).
 *
 * @example
 * new SFNClient({ credentials: assumedRoleCredentials(() => sts, roleArn, 'autoheal-redrive') });
 */
export function assumedRoleCredentials(
  sts: () => Pick<STSClient, 'send'>,
  roleArn: string,
  sessionName: string,
): () => Promise<TemporaryCredentials> {
  return async () => {
    const { Credentials: credentials } = await sts().send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName }),
    );
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) {
      throw new Error(`STS AssumeRole of ${roleArn} returned no credentials`);
    }
    return {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      sessionToken: credentials.SessionToken,
      expiration: credentials.Expiration,
    };
  };
}

/** What {@link sfnClientsByScopeRole} builds its clients from. */
export interface ScopeRoleClientsOptions {
  /** The configured `stateMachineArns`, as the function's config file lists them. */
  readonly stateMachineArns: readonly string[];
  /** The value of {@link ENV.scopeRoles}; unset when the function's role holds the scope. */
  readonly scopeRoles: string | undefined;
  /** The client with the function's own credentials. */
  readonly own: SFNClient;
  /** The role session name of each AssumeRole (shows in CloudTrail), e.g. the service name. */
  readonly sessionName: string;
  /**
   * More options of the scope roles' Step Functions and STS clients (tests: the local endpoint).
   * @default {} (the production clients' options)
   */
  readonly clientConfig?: Partial<AutohealClientConfig> & { readonly endpoint?: string };
}

/**
 * The Step Functions client to call about a state machine with: `own`, or a
 * client signing with the credentials of the scope role that covers it,
 * created at its first use and kept for the execution environment (like
 * every Autoheal client, with the shared timeouts and the invocation's
 * deadline). One STS client serves every scope role.
 *
 * @throws Error naming {@link ENV.scopeRoles} when it is malformed
 * @example
 * const sfnFor = sfnClientsByScopeRole({ stateMachineArns: config.stateMachineArns, scopeRoles: process.env[ENV.scopeRoles], own: sfn, sessionName: 'autoheal-redrive' });
 * await sfnFor(change.stateMachineArn).send(new RedriveExecutionCommand({ executionArn }));
 */
export function sfnClientsByScopeRole(
  options: ScopeRoleClientsOptions,
): (stateMachineArn: string) => SFNClient {
  const routes = parseScopeRoles(options.scopeRoles);
  if (routes.length === 0) return () => options.own;
  const roleOf = scopeRoleFinder(options.stateMachineArns, routes);
  let sts: STSClient | undefined;
  const stsClient = () => {
    // The nested STS client has no default credential chain: the function's own, from the
    // environment, where Lambda puts them (as every Autoheal client reads them, see env-credentials.ts).
    sts ??= autohealClient(STSClient, { ...options.clientConfig, credentials: fromEnv() });
    return sts;
  };
  const clients = new Map<string, SFNClient>();
  return (stateMachineArn) => {
    const roleArn = roleOf(stateMachineArn);
    if (roleArn === undefined) return options.own;
    let client = clients.get(roleArn);
    if (!client) {
      client = autohealClient(SFNClient, {
        ...options.clientConfig,
        credentials: assumedRoleCredentials(stsClient, roleArn, options.sessionName),
      });
      clients.set(roleArn, client);
    }
    return client;
  };
}
