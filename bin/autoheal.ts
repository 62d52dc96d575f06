#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { AutohealStack } from '../lib/autoheal-stack';
import { loadAutohealConfig } from '../lib/config/load-config';
import { exitOnConfigError } from './config-errors';
import { addNagChecks } from './nag';
import { describeSynthTarget } from './synth-target';

// The CDK CLI sets CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION; say which, and why.
process.stderr.write(`${describeSynthTarget(process.env)}\n`);

exitOnConfigError(() => {
  const app = new App();
  new AutohealStack(app, 'Autoheal', {
    config: loadAutohealConfig(app.node),
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  addNagChecks(app);
  // Synthesise here, not on exit, so a config error raised while synthesising is caught too.
  app.synth();
});
