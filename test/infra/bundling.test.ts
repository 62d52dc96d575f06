import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LAMBDA_NODE_MAJOR } from '../../lambda/shared/contract';
import { AUTOHEAL_BUNDLING, AutohealFunction } from '../../lib/constructs/autoheal-function';

/** The untree-shaken redrive bundle (esbuild's default `main` fields, the SDK's CommonJS build) was 840 KiB. */
const REDRIVE_BUNDLE_BUDGET_BYTES = 640 * 1024;

describe('bundling', () => {
  it('bundles the SDK and Powertools from their ES modules into one minified CommonJS file', () => {
    // Assess
    expect(AUTOHEAL_BUNDLING).toMatchObject({
      externalModules: [],
      mainFields: ['module', 'main'],
      format: OutputFormat.CJS,
      target: `node${LAMBDA_NODE_MAJOR}`,
      minify: true,
      sourceMap: false,
      keepNames: false,
    });
  });

  describe('the redrive bundle', () => {
    // Prepare & Act (shared): one function bundled by the construct, as `cdk synth` does
    const app = new App();
    const stack = new Stack(app, 'BundlingTest');
    const fn = new AutohealFunction(stack, 'Redrive', {
      entry: 'redrive/redrive.handler.ts',
      description: 'bundling test',
      serviceName: 'redrive',
      environment: {},
    });
    const assembly = app.synth();
    const logicalId = stack.resolve((fn.function.node.defaultChild as CfnFunction).logicalId);
    const code = assembly.getStackByName(stack.stackName).template.Resources[logicalId].Properties
      .Code as { S3Key: string };
    const assetDir = path.join(assembly.directory, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
    const bundle = fs.readFileSync(path.join(assetDir, 'index.js'), 'utf8');

    it('is a single CommonJS file, which Lambda loads with require', () => {
      // Assess
      expect(fs.readdirSync(assetDir)).toEqual(['index.js']);
      expect(bundle.startsWith('"use strict";')).toBe(true);
      expect(bundle).not.toMatch(/^(import|export)\s/m);
      expect(bundle).not.toContain('import.meta');
    });

    it('holds only the SDK commands the handler uses (tree-shaken), within its size budget', () => {
      // Assess
      expect(bundle).toContain('RedriveExecutionCommand');
      expect(bundle).not.toContain('ListActivitiesCommand');
      expect(bundle).not.toContain('CreateStateMachineCommand');
      expect(Buffer.byteLength(bundle)).toBeLessThan(REDRIVE_BUNDLE_BUDGET_BYTES);
    });
  });
});
