#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import type { AutohealConfig } from '../lambda/shared/autoheal-config';
import { buildAutohealApp, type DeploymentStage, deploymentStages } from './build-app';
import { loadAutohealConfig } from './config/load-config';
import { exitOnConfigError } from './config-errors';
import { addNagChecks } from './nag';
import { describeSynthTarget, describeSynthTargets } from './synth-target';

exitOnConfigError(() => {
  const app = new App();
  let config: AutohealConfig;
  let stages: DeploymentStage[];
  try {
    config = loadAutohealConfig(app.node);
    stages = deploymentStages(config);
  } catch (error) {
    // No config to name Stages: say where the CDK CLI points, then the problem.
    process.stderr.write(`${describeSynthTarget(process.env)}\n`);
    throw error;
  }
  // Say which accounts and regions, and why, before anything can fail on them.
  for (const line of describeSynthTargets(stages, process.env)) {
    process.stderr.write(`${line}\n`);
  }
  buildAutohealApp(app, config, process.env);
  addNagChecks(app);
  // Synthesise here, not on exit, so a config error raised while synthesising is caught too.
  app.synth();
});
