import type { Output } from '@aws-sdk/client-cloudformation';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { autohealPropsFromConfig } from '../../bin/config/props-from-config';
import { installationsOf } from '../../cli/discover-deployment';
import { parseAutohealConfig } from '../../lambda/shared/autoheal-config';
import { ENV, INSTALLATION_OUTPUT } from '../../lambda/shared/contract';
import { Autoheal } from '../../lib/autoheal';
import { buildStack, defaultContextConfig, templateOnlyApp } from '../support/stack';

/** The template's outputs as DescribeStacks lists them once deployed (values resolved). */
function deployedOutputs(template: Template): Output[] {
  return Object.entries(template.toJSON().Outputs ?? {}).map(([key, output]) => {
    const { Value, Description } = output as { Value: unknown; Description?: string };
    return {
      OutputKey: key,
      OutputValue: typeof Value === 'string' ? Value : JSON.stringify(Value),
      Description,
    };
  });
}

const FULL_CONFIG = {
  redrive: { stateMachineNamePrefixes: ['orders-'] },
  appflow: {
    schedules: [{ name: 'nightly', expression: 'cron(0 2 * * ? *)', flows: ['crm-export'] }],
  },
};

describe('the installation output the operator CLI finds an installation by', () => {
  it("names each of the installation's functions by its logical id, as a plain string", () => {
    // Act
    const { template } = buildStack(FULL_CONFIG);

    // Assess
    const [installation, ...others] = installationsOf(deployedOutputs(template));
    expect(others).toEqual([]);
    expect(installation.path).toBe('Autoheal/Default');
    expect(Object.keys(installation.functions).sort()).toEqual(
      [...INSTALLATION_OUTPUT.functions].sort(),
    );
    const functions = template.findResources('AWS::Lambda::Function');
    for (const logicalId of Object.values(installation.functions)) {
      expect(functions[logicalId as string]).toBeDefined();
    }
    // The redrive function is the one with the redrive path's environment.
    const redrive = functions[installation.functions.redrive as string];
    expect(redrive.Properties.Environment.Variables[ENV.workQueueUrl]).toBeDefined();
    expect(redrive.Properties.Environment.Variables[ENV.liveSince]).toBeDefined();
  });

  it('tells two installations of one stack apart by construct path', () => {
    // Prepare
    const app = templateOnlyApp();
    const stack = new Stack(app, 'Host');
    const props = autohealPropsFromConfig(parseAutohealConfig(defaultContextConfig()));

    // Act
    new Autoheal(stack, 'Blue', props);
    new Autoheal(stack, 'Green', { ...props, scheduleGroupName: 'green' });
    const outputs = deployedOutputs(Template.fromStack(stack));

    // Assess
    const installations = installationsOf(outputs);
    expect(installations.map((i) => i.path).sort()).toEqual(['Host/Blue', 'Host/Green']);
    expect(new Set(installations.map((i) => i.functions.redrive)).size).toBe(2);
    for (const installation of installations) {
      expect(outputs.find((o) => o.OutputKey === installation.outputKey)?.Description).toBe(
        `Autoheal installation ${installation.path}: its functions, for the autoheal CLI`,
      );
    }
  });
});
