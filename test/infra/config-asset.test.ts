import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Fn, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { parseRedriveConfig } from '../../lambda/shared/autoheal-config';
import {
  CONFIG_FILE_NAME,
  CONFIG_FORMAT,
  CONFIG_PLACEHOLDER,
  CONFIG_SECTION,
  ENV,
} from '../../lambda/shared/contract';
import { AutohealFunction } from '../../lib/constructs/autoheal-function';
import { fillHomeArn } from '../support/config-file';

const ACCOUNT = '123456789012';
const ARN = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:orders`;

/** Synthesises one function with `sections` as its config; its asset hash, config file and variables. */
function synthesised(sections: (stack: Stack) => Record<string, unknown>) {
  const app = new App();
  const stack = new Stack(app, 'ConfigAsset');
  const fn = new AutohealFunction(stack, 'Redrive', {
    entry: 'redrive/redrive.handler.ts',
    description: 'config asset test',
    serviceName: 'redrive',
    environment: {},
    config: sections(stack),
  });
  const assembly = app.synth();
  const logicalId = stack.resolve((fn.function.node.defaultChild as CfnFunction).logicalId);
  const properties = assembly.getStackByName(stack.stackName).template.Resources[logicalId]
    .Properties as {
    Code: { S3Key: string };
    Environment: { Variables: Record<string, unknown> };
  };
  const hash = properties.Code.S3Key.replace(/\.zip$/, '');
  const file = JSON.parse(
    fs.readFileSync(path.join(assembly.directory, `asset.${hash}`, CONFIG_FILE_NAME), 'utf8'),
  );
  return { hash, file, variables: properties.Environment.Variables };
}

describe('the config file in the asset', () => {
  const redrive = parseRedriveConfig({ stateMachineArns: [ARN], maxRedrives: 2 });

  it('is the normalised section in its format, and the same config gives the same asset hash', () => {
    // Act
    const first = synthesised(() => ({ [CONFIG_SECTION.redrive]: redrive }));
    const second = synthesised(() => ({ [CONFIG_SECTION.redrive]: redrive }));

    // Assess
    expect(first.file).toEqual({
      format: CONFIG_FORMAT,
      sections: { [CONFIG_SECTION.redrive]: JSON.parse(JSON.stringify(redrive)) },
    });
    expect(second.hash).toBe(first.hash);
    expect(Object.keys(first.variables)).not.toContain(ENV.configTokens);
  });

  it('changes the asset hash when the config changes, so new code runs the new config', () => {
    // Act
    const before = synthesised(() => ({ [CONFIG_SECTION.redrive]: redrive }));
    const after = synthesised(() => ({
      [CONFIG_SECTION.redrive]: { ...redrive, maxRedrives: 3 },
    }));

    // Assess
    expect(after.hash).not.toBe(before.hash);
  });

  it("writes an ARN of the stack's own account and region as a template the handler fills in", () => {
    // Act
    const { file, variables } = synthesised((stack) => ({
      [CONFIG_SECTION.redrive]: {
        stateMachineArns: [
          sfn.StateMachine.fromStateMachineName(stack, 'M', 'orders').stateMachineArn,
        ],
      },
    }));

    // Assess
    const [written] = file.sections.redrive.stateMachineArns;
    expect(file.placeholders).toBe(true);
    expect(written.startsWith(CONFIG_PLACEHOLDER.homeArn)).toBe(true);
    expect(
      fillHomeArn(written, { partition: 'aws-us-gov', region: 'us-gov-west-1', account: ACCOUNT }),
    ).toBe(`arn:aws-us-gov:states:us-gov-west-1:${ACCOUNT}:stateMachine:orders`);
    expect(variables[ENV.statesArnPrefix]).toBeDefined();
    expect(variables[ENV.configTokens]).toBeUndefined();
  });

  it('keeps a value only known at deploy elsewhere in the environment, named by its index', () => {
    // Act
    const { file, variables } = synthesised(() => ({
      [CONFIG_SECTION.redrive]: { stateMachineArns: [ARN, Fn.importValue('OrdersArn')] },
    }));

    // Assess
    expect(file.sections.redrive.stateMachineArns).toEqual([ARN, `${CONFIG_PLACEHOLDER.token}0`]);
    expect(variables[ENV.configTokens]).toEqual({
      'Fn::Join': ['', ['["', { 'Fn::ImportValue': 'OrdersArn' }, '"]']],
    });
  });
});
