/**
 * Which credentials call AppFlow about a flow, when a flow function's flows
 * are too many for its own role (lib/constructs/flow-permissions.ts):
 * Autoheal's one scope-role mechanism (lambda/shared/scope-role-clients.ts)
 * over AppFlow clients and the function's list of flows. The flows of a
 * slice of that list are started and described with their scope role's
 * credentials; the function's own slice with its own.
 */
import { AppflowClient } from '@aws-sdk/client-appflow';
import { clientsByScopeRole, type ScopeRoleClientConfig } from '../shared/scope-role-clients';

/** What {@link appflowClientsByScopeRole} builds its clients from. */
export interface AppflowScopeRoleClientsOptions {
  /**
   * The function's flows, in the order the construct granted them: the
   * healer's `flowsInScope(config)`, the starter's `scheduledFlowsOf(config)`.
   */
  readonly flows: readonly string[];
  /** The value of `AUTOHEAL_SCOPE_ROLES`; unset when the function's role holds every flow. */
  readonly scopeRoles: string | undefined;
  /** The client with the function's own credentials. */
  readonly own: AppflowClient;
  /** The role session name of each AssumeRole (shows in CloudTrail), e.g. `autoheal-flow-healer`. */
  readonly sessionName: string;
  /**
   * More options of the scope roles' AppFlow and STS clients (tests: the local endpoint).
   * @default {} (the production clients' options)
   */
  readonly clientConfig?: ScopeRoleClientConfig;
}

/**
 * The AppFlow client to call about a flow with: `own`, or the client of the
 * scope role that holds the flow's grants (see `clientsByScopeRole`).
 *
 * @throws Error naming `AUTOHEAL_SCOPE_ROLES` when it is malformed
 * @example
 * const appflowFor = appflowClientsByScopeRole({ flows: flowsInScope(config), scopeRoles: process.env[ENV.scopeRoles], own: appflow, sessionName: 'autoheal-flow-healer' });
 * await startFlow(appflowFor(flowName), flowName, clientToken);
 */
export function appflowClientsByScopeRole(
  options: AppflowScopeRoleClientsOptions,
): (flowName: string) => AppflowClient {
  return clientsByScopeRole({
    listed: options.flows,
    scopeRoles: options.scopeRoles,
    own: options.own,
    Client: AppflowClient,
    sessionName: options.sessionName,
    clientConfig: options.clientConfig,
  });
}
