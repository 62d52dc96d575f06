/**
 * Which credentials call a service about one item of a scope too large for
 * the function's own role (lib/constructs/scope-roles.ts): the items of a
 * slice of the function's listed scope (the state machines of
 * `stateMachineArns`, the flows a flow function starts) are granted to a
 * scope role only, so their calls are signed with that role's credentials;
 * every other item (the function's own slice, and every state machine of a
 * name prefix) with the function's own.
 *
 * One mechanism for every service: the routes come from {@link ENV.scopeRoles}
 * (`[[first, roleArn], ...]`, indices into the list the construct sliced),
 * and {@link clientsByScopeRole} makes the scope roles' clients of whichever
 * SDK client class it is given. Nothing happens at init beyond reading that
 * variable: the index of the scope, the STS client and each scope role's
 * client (and its AssumeRole call) are made at the first call that needs
 * them, so a scope without scope roles starts exactly as before, and one with
 * them pays only when a scope role's item is called.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';
// The SDK's own STS client (the one its credential providers use), a declared devDependency:
// @aws-sdk/client-sts 3.1048.0 does not bundle (it imports @aws-sdk/region-config-resolver,
// which it does not depend on).
import { AssumeRoleCommand, STSClient } from '@aws-sdk/nested-clients/sts';
import { autohealClient } from './aws-call';
import { ENV } from './contract';
import type { AutohealClientConfig } from './sdk-clients';

/** Temporary credentials as the SDK's clients take them (`AwsCredentialIdentity`). */
export interface TemporaryCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** A scope role and the first item (index into the function's listed scope) of its slice. */
export interface ScopeRoleRoute {
  readonly first: number;
  readonly roleArn: string;
}

/**
 * The routes of {@link ENV.scopeRoles}; none when it is unset or empty.
 *
 * @throws Error naming the variable when it is not the construct's JSON
 * @example
 * parseScopeRoles('[[577,"arn:aws:iam::123456789012:role/Autoheal-ScopeRole1"]]');
 * // [{ first: 577, roleArn: 'arn:aws:iam::123456789012:role/Autoheal-ScopeRole1' }]
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
      `${ENV.scopeRoles} is not a JSON list of [first, roleArn] in increasing order: deploy the function with the Autoheal construct`,
    );
  }
  return (parsed as [number, string][]).map(([first, roleArn]) => ({ first, roleArn }));
}

/**
 * The scope role whose grants cover an item, or undefined for the function's
 * own role: the item listed at index i belongs to the last route whose
 * `first` is at most i; an item before the first route, or not listed (a
 * name prefix's state machine), to the function. Pure; the index of the list
 * is built at the first lookup.
 *
 * @example
 * const roleOf = scopeRoleFinder(config.stateMachineArns, routes);
 * roleOf(arnOfMachine999); // 'arn:aws:iam::123456789012:role/Autoheal-ScopeRole1'
 */
export function scopeRoleFinder(
  listed: readonly string[],
  routes: readonly ScopeRoleRoute[],
): (item: string) => string | undefined {
  if (routes.length === 0) return () => undefined;
  let roleByItem: Map<string, string> | undefined;
  return (item) => {
    if (!roleByItem) {
      roleByItem = new Map();
      routes.forEach(({ first, roleArn }, k) => {
        const end = routes[k + 1]?.first ?? listed.length;
        for (let i = first; i < end; i++) roleByItem?.set(listed[i], roleArn);
      });
    }
    return roleByItem.get(item);
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

/** More options of the scope roles' service and STS clients (tests: the local endpoint). */
export type ScopeRoleClientConfig = Partial<AutohealClientConfig> & { readonly endpoint?: string };

/** What a scope role's client is made with: the shared options, its credentials and any extra. */
type ScopeRoleClientOptions = AutohealClientConfig &
  ScopeRoleClientConfig & { readonly credentials: () => Promise<TemporaryCredentials> };

/** What {@link clientsByScopeRole} builds its clients from. */
export interface ScopeRoleClientsOptions<C> {
  /**
   * The function's listed scope, in the order the construct sliced it (the
   * indices of {@link ENV.scopeRoles}): `stateMachineArns`, or the flows.
   */
  readonly listed: readonly string[];
  /** The value of {@link ENV.scopeRoles}; unset when the function's role holds the scope. */
  readonly scopeRoles: string | undefined;
  /** The client with the function's own credentials. */
  readonly own: C;
  /** The SDK client class of the scope roles' clients (that of `own`). */
  readonly Client: new (
    config: ScopeRoleClientOptions,
  ) => C;
  /** The role session name of each AssumeRole (shows in CloudTrail), e.g. the service name. */
  readonly sessionName: string;
  /**
   * More options of the scope roles' clients and of the STS client (tests: the local endpoint).
   * @default {} (the production clients' options)
   */
  readonly clientConfig?: ScopeRoleClientConfig;
}

/**
 * The client to call about an item with: `own`, or a client of the same
 * class signing with the credentials of the scope role that covers the item,
 * created at its first use and kept for the execution environment (like
 * every Autoheal client, with the shared timeouts and the invocation's
 * deadline). One STS client, created with the first scope role's client,
 * serves every scope role.
 *
 * @throws Error naming {@link ENV.scopeRoles} when it is malformed
 * @example
 * const appflowFor = clientsByScopeRole({ listed: flowsInScope(config), scopeRoles: process.env[ENV.scopeRoles], own: appflow, Client: AppflowClient, sessionName: 'autoheal-flow-healer' });
 * await appflowFor(flowName).send(new StartFlowCommand({ flowName }));
 */
// biome-ignore lint/suspicious/noExplicitAny: the SDK's send is overloaded per client; only its shape matters here.
export function clientsByScopeRole<C extends { send(...args: any[]): any }>(
  options: ScopeRoleClientsOptions<C>,
): (item: string) => C {
  const routes = parseScopeRoles(options.scopeRoles);
  if (routes.length === 0) return () => options.own;
  const roleOf = scopeRoleFinder(options.listed, routes);
  let sts: STSClient | undefined;
  const stsClient = () => {
    // The nested STS client has no default credential chain: the function's own, from the
    // environment, where Lambda puts them (as every Autoheal client reads them, see env-credentials.ts).
    sts ??= autohealClient(STSClient, { ...options.clientConfig, credentials: fromEnv() });
    return sts;
  };
  const clients = new Map<string, C>();
  return (item) => {
    const roleArn = roleOf(item);
    if (roleArn === undefined) return options.own;
    let client = clients.get(roleArn);
    if (!client) {
      client = autohealClient(options.Client, {
        ...options.clientConfig,
        credentials: assumedRoleCredentials(stsClient, roleArn, options.sessionName),
      });
      clients.set(roleArn, client);
    }
    return client;
  };
}
