import { type App, Stage } from 'aws-cdk-lib';
import { type AutohealConfig, ConfigProblems, stageNameOf } from '../lambda/shared/autoheal-config';
import { ConfigError, configProblemsOf } from '../lambda/shared/errors';
import { AutohealStack } from './autoheal-stack';

/** The id of the Autoheal stack, alone in the app or in each Stage. */
export const AUTOHEAL_STACK_ID = 'Autoheal';

/** One entry of the config's `environments`, as the app deploys it. */
export interface DeploymentStage {
  /** The Stage's name; its stack is `<name>-Autoheal`. */
  readonly name: string;
  readonly account: string;
  readonly region: string;
  /** Where in the config it comes from, e.g. `environments[2]`. */
  readonly field: string;
}

/**
 * The Stages the config asks for, one per entry of `environments`, each named
 * by the entry's `name`, or else `env-ACCOUNT-REGION` (CDK wants a Stage name
 * to start with a letter). The config schema has refused a name CDK would
 * refuse and two entries that would collide.
 *
 * @returns an empty list when the config has no `environments`
 * @example
 * ```ts
 * deploymentStages({ ...config, environments: [{ account: '111111111111', region: 'eu-west-1' }] });
 * // [{ name: 'env-111111111111-eu-west-1', account: '111111111111', region: 'eu-west-1', field: 'environments[0]' }]
 * ```
 */
export function deploymentStages(config: AutohealConfig): DeploymentStage[] {
  // The config schema has checked the names and that each account and region is listed once.
  return (config.environments ?? []).map((environment, i) => ({
    name: stageNameOf(environment),
    account: environment.account,
    region: environment.region,
    field: `environments[${i}]`,
  }));
}

/**
 * Builds the app's stacks from the validated config. Without `environments`:
 * one stack `Autoheal` in the account and region the CDK CLI hands over
 * (CDK_DEFAULT_ACCOUNT, CDK_DEFAULT_REGION); where either is unset, the
 * template takes it from the deployment (CloudFormation pseudo parameters).
 * With `environments`: one Stage per entry, each holding a stack `Autoheal`
 * in that entry's account and region, whatever the CLI's credentials say.
 *
 * @returns the stacks, in the order of `environments`
 * @throws {ConfigError} for a bad `environments` entry, or a config the stack refuses
 * @example
 * ```ts
 * const app = new App();
 * buildAutohealApp(app, loadAutohealConfig(app.node), process.env);
 * ```
 */
export function buildAutohealApp(
  app: App,
  config: AutohealConfig,
  processEnv: NodeJS.ProcessEnv,
): AutohealStack[] {
  const stages = deploymentStages(config);
  if (stages.length === 0) {
    return [
      new AutohealStack(app, AUTOHEAL_STACK_ID, {
        config,
        env: { account: processEnv.CDK_DEFAULT_ACCOUNT, region: processEnv.CDK_DEFAULT_REGION },
      }),
    ];
  }
  const problems = new ConfigProblems();
  const stacks = stages.flatMap(({ name, account, region, field }) => {
    const stage = new Stage(app, name, { env: { account, region } });
    try {
      // The stack takes the Stage's env: its ARNs name that account and region as literals.
      return [new AutohealStack(stage, AUTOHEAL_STACK_ID, { config })];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // The same config builds every Stage: say which one refused it.
      for (const problem of configProblemsOf(error)) {
        problems.record(
          new ConfigError(problem.field, `${problem.problem} (in Stage ${name}, ${field})`),
        );
      }
      return [];
    }
  });
  problems.throwIfAny();
  return stacks;
}
