import { App, type AppProps, type Environment, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AutohealStack } from '../../bin/autoheal-stack';
import { parseAutohealConfig } from '../../lambda/shared/autoheal-config';

/** The config in cdk.json, as a user gets it on a fresh clone. */
export function defaultContextConfig(): unknown {
  return require('../../cdk.json').context.autoheal;
}

/**
 * The feature flags set in cdk.json: an `App` built in a test does not read
 * cdk.json (the CLI hands its context to the app), so tests pass them on to
 * assert the template `cdk synth` writes.
 */
export function featureFlagsOfCdkJson(): Record<string, unknown> {
  const context: Record<string, unknown> = require('../../cdk.json').context;
  return Object.fromEntries(Object.entries(context).filter(([key]) => key.startsWith('@aws-cdk')));
}

/**
 * An app with cdk.json's feature flags, for tests that assert the template.
 * The Lambda assets are the pre-built bundles in `assets/handlers/` (jest's
 * global setup bundles them when they are missing or stale), so a synth runs
 * no esbuild.
 */
export function templateOnlyApp(props: AppProps = {}): App {
  return new App({ ...props, context: { ...featureFlagsOfCdkJson(), ...props.context } });
}

export interface BuiltStack {
  readonly app: App;
  readonly stack: AutohealStack;
  readonly template: Template;
}

/** Builds the Autoheal stack from a raw config, optionally with cdk-nag attached. */
export function buildStack(
  rawConfig: unknown,
  options: { env?: Environment; nag?: boolean } = {},
): BuiltStack {
  const app = templateOnlyApp();
  const stack = new AutohealStack(app, 'Autoheal', {
    config: parseAutohealConfig(rawConfig),
    env: options.env,
  });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, template: Template.fromStack(stack) };
}

/** A template with asset hashes replaced, so snapshots change only when the infrastructure does. */
export function normalisedTemplate(template: Template): unknown {
  const json = JSON.stringify(template.toJSON());
  return JSON.parse(json.replace(/[0-9a-f]{64}(\.zip|\.json)?/g, '[ASSET HASH]$1'));
}
