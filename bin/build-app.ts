import { type App, Stage } from 'aws-cdk-lib';
import type { AutohealConfig, DeploymentEnvironment } from '../lambda/shared/autoheal-config';
import { ConfigProblems } from '../lambda/shared/autoheal-config';
import { ConfigError, configProblemsOf } from '../lambda/shared/errors';
import { AutohealStack } from './autoheal-stack';

/** The id of the Autoheal stack, alone in the app or in each Stage. */
export const AUTOHEAL_STACK_ID = 'Autoheal';

/** CDK's rule for Stage names (it throws on anything else): a letter, then letters, digits, `-`, `_`, `.`. */
const STAGE_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;
/** Leaves room for `-Autoheal` within CloudFormation's 128 characters of stack name. */
const MAX_STAGE_NAME = 100;

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
 * to start with a letter). Refuses, one line per field, a name CDK would
 * refuse and two entries that would collide.
 *
 * @returns an empty list when the config has no `environments`
 * @throws {ConfigError} naming the field, e.g. `environments[1].name`
 * @example
 * ```ts
 * deploymentStages({ ...config, environments: [{ account: '111111111111', region: 'eu-west-1' }] });
 * // [{ name: 'env-111111111111-eu-west-1', account: '111111111111', region: 'eu-west-1', field: 'environments[0]' }]
 * ```
 */
export function deploymentStages(config: AutohealConfig): DeploymentStage[] {
  const environments: readonly DeploymentEnvironment[] = config.environments ?? [];
  const problems = new ConfigProblems();
  const stages: DeploymentStage[] = [];
  environments.forEach((environment, i) => {
    const field = `environments[${i}]`;
    const name = environment.name ?? `env-${environment.account}-${environment.region}`;
    if (!STAGE_NAME.test(name) || name.length > MAX_STAGE_NAME) {
      problems.record(
        new ConfigError(
          `${field}.name`,
          `must start with a letter and hold only letters, digits, "-", "_" and "." (at most ${MAX_STAGE_NAME} characters; CDK names the Stage with it), got ${JSON.stringify(name)}`,
        ),
      );
      return;
    }
    const sameName = stages.find((stage) => stage.name.toLowerCase() === name.toLowerCase());
    const samePlace = stages.find(
      (stage) => stage.account === environment.account && stage.region === environment.region,
    );
    if (samePlace) {
      problems.record(
        new ConfigError(
          field,
          `deploys to account ${environment.account}, region ${environment.region}, as ${samePlace.field} does; list each account and region once`,
        ),
      );
    } else if (sameName) {
      problems.record(
        new ConfigError(
          `${field}.name`,
          `names the Stage "${name}", as ${sameName.field} does (names differing only in case collide in stack names); give each environment its own name`,
        ),
      );
    } else {
      stages.push({ name, account: environment.account, region: environment.region, field });
    }
  });
  problems.throwIfAny();
  return stages;
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
