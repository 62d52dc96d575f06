import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * Runs cdk-nag's AwsSolutions pack on the whole app at synth. A finding that is
 * not acknowledged (with a written reason, beside the resource it concerns)
 * fails synthesis. App-level: the library does not depend on cdk-nag (its
 * acknowledgements are CDK's own `Validations.acknowledge`).
 */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
