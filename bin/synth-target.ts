/**
 * Says which account and region a synth targets, and where each came from, so
 * a user sees why an ARN "in another region" is refused before they deploy.
 *
 * The CDK CLI decides both before it runs the app and hands them over as
 * CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION, overwriting any exported value.
 * The region is the first of AWS_REGION, AMAZON_REGION, AWS_DEFAULT_REGION,
 * AMAZON_DEFAULT_REGION, the region of the profile (--profile, AWS_PROFILE,
 * AWS_DEFAULT_PROFILE or "default"), or us-east-1; the account is that of the
 * credentials found, if any. Only the environment reaches the app, so a region
 * that no variable explains came from the profile (or is the default).
 *
 * Where either is unknown, the stack is environment-agnostic in it: the
 * template names it through a CloudFormation pseudo parameter (AWS::AccountId,
 * AWS::Region), so it scopes to wherever it is deployed. With `environments`
 * in the config, each Stage names its own account and region, and the CLI's
 * matter only for the credentials a deploy uses.
 */
import type { DeploymentStage } from './build-app';

/** Region variables in the CDK CLI's order of precedence. */
const REGION_VARIABLES = [
  'AWS_REGION',
  'AMAZON_REGION',
  'AWS_DEFAULT_REGION',
  'AMAZON_DEFAULT_REGION',
] as const;

/** The CDK CLI's region when nothing names one. */
const CLI_DEFAULT_REGION = 'us-east-1';

/**
 * One line naming the target account and region and their sources.
 *
 * @example
 * ```ts
 * describeSynthTarget({ CDK_DEFAULT_REGION: 'eu-west-1', AWS_REGION: 'eu-west-1' });
 * // 'Autoheal: synthesising for account unknown (no AWS credentials found), region eu-west-1 (from AWS_REGION)'
 * ```
 */
export function describeSynthTarget(env: NodeJS.ProcessEnv): string {
  return `Autoheal: synthesising for ${describeAccount(env)}, ${describeRegion(env)}`;
}

/**
 * One line per stack the app synthesises: the CLI's target
 * ({@link describeSynthTarget}) for the single stack, or each Stage's account
 * and region, from the config's `environments`.
 *
 * @example
 * ```ts
 * describeSynthTargets([{ name: 'prod-eu', account: '111111111111', region: 'eu-west-1', field: 'environments[0]' }], process.env);
 * // ['Autoheal: synthesising Stage prod-eu (stack prod-eu-Autoheal) for account 111111111111, region eu-west-1 (from environments[0] of the config)']
 * ```
 */
export function describeSynthTargets(
  stages: readonly DeploymentStage[],
  env: NodeJS.ProcessEnv,
): string[] {
  if (stages.length === 0) return [describeSynthTarget(env)];
  return stages.map(
    (stage) =>
      `Autoheal: synthesising Stage ${stage.name} (stack ${stage.name}-Autoheal) for account ${stage.account}, region ${stage.region} (from ${stage.field} of the config)`,
  );
}

function describeAccount(env: NodeJS.ProcessEnv): string {
  const account = env.CDK_DEFAULT_ACCOUNT;
  return account
    ? `account ${account} (from your AWS credentials)`
    : 'account unknown (no AWS credentials found: the template takes the account it is deployed to, AWS::AccountId)';
}

function describeRegion(env: NodeJS.ProcessEnv): string {
  const region = env.CDK_DEFAULT_REGION;
  if (!region) {
    return 'region unknown (CDK_DEFAULT_REGION is unset: the template takes the region it is deployed to, AWS::Region; run the app with the CDK CLI, e.g. npx cdk synth, to target one)';
  }
  const variable = REGION_VARIABLES.find((name) => env[name]);
  if (variable) {
    return env[variable] === region
      ? `region ${region} (from ${variable})`
      : `region ${region} (from CDK_DEFAULT_REGION, though ${variable} is ${env[variable]}: the CDK CLI would have used ${variable})`;
  }
  const profileName = env.AWS_PROFILE
    ? `profile "${env.AWS_PROFILE}" (AWS_PROFILE)`
    : env.AWS_DEFAULT_PROFILE
      ? `profile "${env.AWS_DEFAULT_PROFILE}" (AWS_DEFAULT_PROFILE)`
      : 'your AWS profile (--profile, or "default")';
  if (region === CLI_DEFAULT_REGION) {
    return `region ${region} (the CDK CLI's default, unless ${profileName} names it: neither AWS_REGION nor AWS_DEFAULT_REGION is set; set AWS_REGION to choose)`;
  }
  return `region ${region} (from ${profileName}: neither AWS_REGION nor AWS_DEFAULT_REGION is set)`;
}
