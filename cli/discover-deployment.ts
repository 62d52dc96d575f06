/**
 * Finds the deployment from the stack: DescribeStacks for its outputs, then
 * each Autoheal function's configuration. Explicit flags override it.
 */
import { CliError } from './cli-error';
import type { CliClients } from './clients';
import type { GlobalOptions } from './context';
import type { Deployment } from './deployment';

/**
 * @throws {CliError} when the stack or its Autoheal outputs are missing
 */
export async function discoverDeployment(
  options: GlobalOptions,
  _clients: CliClients,
): Promise<Deployment> {
  throw new CliError(`Finding the deployment in stack ${options.stack} is not built yet`);
}
