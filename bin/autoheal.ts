#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { AutohealStack } from '../lib/autoheal-stack';
import { loadAutohealConfig } from '../lib/config/load-config';
import { addNagChecks } from '../lib/nag';

const app = new App();
new AutohealStack(app, 'Autoheal', {
  config: loadAutohealConfig(app.node),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
addNagChecks(app);
