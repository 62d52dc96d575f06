/**
 * Which credentials call Step Functions about a state machine, when the scope
 * is too large for the function's own role (lib/constructs/scope-roles.ts):
 * Autoheal's one scope-role mechanism (lambda/shared/scope-role-clients.ts)
 * over Step Functions clients and `stateMachineArns`. The machines of a slice
 * of `stateMachineArns` are called with their scope role's credentials; every
 * other machine (the function's own slice, and every machine of a name
 * prefix) with the function's own.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { clientsByScopeRole, type ScopeRoleClientConfig } from '../shared/scope-role-clients';

/** What {@link sfnClientsByScopeRole} builds its clients from. */
export interface SfnScopeRoleClientsOptions {
  /** The configured `stateMachineArns`, as the function's config file lists them. */
  readonly stateMachineArns: readonly string[];
  /** The value of `AUTOHEAL_SCOPE_ROLES`; unset when the function's role holds the scope. */
  readonly scopeRoles: string | undefined;
  /** The client with the function's own credentials. */
  readonly own: SFNClient;
  /** The role session name of each AssumeRole (shows in CloudTrail), e.g. the service name. */
  readonly sessionName: string;
  /**
   * More options of the scope roles' Step Functions and STS clients (tests: the local endpoint).
   * @default {} (the production clients' options)
   */
  readonly clientConfig?: ScopeRoleClientConfig;
}

/**
 * The Step Functions client to call about a state machine with: `own`, or the
 * client of the scope role that covers it (see `clientsByScopeRole`).
 *
 * @throws Error naming `AUTOHEAL_SCOPE_ROLES` when it is malformed
 * @example
 * const sfnFor = sfnClientsByScopeRole({ stateMachineArns: config.stateMachineArns, scopeRoles: process.env[ENV.scopeRoles], own: sfn, sessionName: 'autoheal-redrive' });
 * await sfnFor(change.stateMachineArn).send(new RedriveExecutionCommand({ executionArn }));
 */
export function sfnClientsByScopeRole(
  options: SfnScopeRoleClientsOptions,
): (stateMachineArn: string) => SFNClient {
  return clientsByScopeRole({
    listed: options.stateMachineArns,
    scopeRoles: options.scopeRoles,
    own: options.own,
    Client: SFNClient,
    sessionName: options.sessionName,
    clientConfig: options.clientConfig,
  });
}
