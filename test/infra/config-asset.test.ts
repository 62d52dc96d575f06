import * as fs from 'node:fs';
import * as os from 'node:os';
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
import { AutohealFunction, handlerAssetDir } from '../../lib/constructs/autoheal-function';
import {
  CONFIG_ASSET_STAGING_DIR,
  MAX_CONFIG_TOKENS_ENV_BYTES,
  stageConfigAsset,
} from '../../lib/constructs/config-asset';
import { environmentVariableBytes } from '../../lib/limits/template-limits';
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

describe('values only known at deploy, measured as the synth-time check measures the environment', () => {
  /** A redrive section of `count` cross-stack imports. */
  const imports = (count: number) => ({
    [CONFIG_SECTION.redrive]: {
      stateMachineArns: Array.from({ length: count }, (_, i) => Fn.importValue(`Machine${i}`)),
    },
  });

  it.each([
    // 7 imports at 256 characters each: 1,836 bytes of the variable, within the 2,048 budget.
    [7, true],
    // 8 imports: 2,095 bytes. The old measure (160 bytes a token) let them into the environment.
    [8, false],
  ])(
    'with %i imports, goes into the environment: %s, and only where the check counts it within budget',
    (count, inEnvironment) => {
      // Prepare
      const stack = new Stack(new App(), 'Host');
      const stage = () =>
        stageConfigAsset(stack, handlerAssetDir('redrive/redrive.handler.ts'), imports(count));

      // Act / Assess
      if (inEnvironment) {
        const variable = stage().environment[ENV.configTokens];
        expect(
          environmentVariableBytes(ENV.configTokens, stack.resolve(variable)),
        ).toBeLessThanOrEqual(MAX_CONFIG_TOKENS_ENV_BYTES);
      } else {
        expect(stage).toThrow(/stateMachineArns\[0\].*8 values only known at deploy.*2095 bytes/);
      }
    },
  );
});

describe('where the asset is staged', () => {
  const legacyRoot = path.join(os.tmpdir(), 'cdk-autoheal-assets');
  const entries = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

  it("stages under the app's output directory and leaves nothing in the OS temporary directory, synth after synth", () => {
    // Prepare: a config no synth staged before
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'autoheal-outdir-'));
    const before = entries(legacyRoot);
    const section = { [CONFIG_SECTION.redrive]: { marker: `${process.pid}-${Date.now()}` } };

    // Act: two synths of the same app
    const dirs = [1, 2].map(() => {
      const stack = new Stack(new App({ outdir }), 'Host');
      return stageConfigAsset(stack, handlerAssetDir('redrive/redrive.handler.ts'), section).dir;
    });

    // Assess
    expect(dirs[0].startsWith(path.join(outdir, CONFIG_ASSET_STAGING_DIR))).toBe(true);
    expect(dirs[1]).toBe(dirs[0]);
    expect(entries(path.join(outdir, CONFIG_ASSET_STAGING_DIR))).toEqual([path.basename(dirs[0])]);
    expect(entries(legacyRoot)).toEqual(before);
    fs.rmSync(outdir, { recursive: true, force: true });
  });
});
