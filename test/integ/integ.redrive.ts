// Entry point for `integ-runner` (npm run integ): deploys, asserts, destroys.
import { App } from 'aws-cdk-lib';
import { buildRedriveIntegApp } from './redrive-integ-app';

const app = new App();
buildRedriveIntegApp(app);
app.synth();
