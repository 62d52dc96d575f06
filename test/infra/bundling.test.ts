import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { parseRedriveConfig } from '../../lambda/shared/autoheal-config';
import { ENV, LAMBDA_NODE_MAJOR } from '../../lambda/shared/contract';
import {
  AUTOHEAL_BUNDLING,
  AutohealFunction,
  configEnvironment,
} from '../../lib/constructs/autoheal-function';
import {
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  LocalAwsEndpoint,
} from '../support/local-aws/local-aws-endpoint';

/**
 * The untree-shaken redrive bundle (esbuild's default `main` fields, the SDK's
 * CommonJS build) was 840 KiB; tree-shaken 498 KiB; without the unused
 * credential links and event-stream serde 357 KiB.
 */
const REDRIVE_BUNDLE_BUDGET_BYTES = 400 * 1024;

/** Text that only the credential links Lambda never uses, or the event-stream serde, would bring. */
const UNUSED_SDK_MARKERS = [
  'sso_start_url',
  'credential_process',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS',
  ':message-type',
];

/** What Lambda puts in the environment of a function whose role it assumed. */
const ROLE_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'ASIABUNDLINGTEST0001',
  AWS_SECRET_ACCESS_KEY: 'bundling-test-secret',
  AWS_SESSION_TOKEN: 'bundling-test-session-token',
};

/** Runs `script` in a fresh Node process (this Node binary) with only `env`; resolves its stdout. */
function runNode(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { env, timeout: 30_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

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
      // esbuild's per-bundle summary stays out of synth and test output.
      logLevel: LogLevel.WARNING,
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

    it('leaves out the credential links Lambda never uses and the event-stream serde', () => {
      // Assess
      expect(UNUSED_SDK_MARKERS.filter((marker) => bundle.includes(marker))).toEqual([]);
    });

    it("signs its AWS calls with the role's credentials from the environment, as Lambda passes them", async () => {
      // Prepare: an invalid message, which the handler parks in the dead-letter queue (one SQS call)
      const endpoint = await LocalAwsEndpoint.start();
      const workQueueUrl = endpoint.createQueue('autoheal-work');
      const deadLetterQueueUrl = endpoint.createQueue('autoheal-dlq');
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'autoheal-bundling-home-'));
      const event = {
        Records: [
          {
            messageId: 'bundling-test-1',
            receiptHandle: 'receipt',
            body: 'not an event',
            attributes: { ApproximateReceiveCount: '1' },
            messageAttributes: {},
            eventSource: 'aws:sqs',
          },
        ],
      };
      const context = { awsRequestId: 'bundling-test', functionName: 'redrive' };
      const script = [
        `const { handler } = require(${JSON.stringify(path.join(assetDir, 'index.js'))});`,
        `const context = { ...${JSON.stringify(context)}, getRemainingTimeInMillis: () => 30000 };`,
        `handler(${JSON.stringify(event)}, context).then((r) => console.log(JSON.stringify(r)));`,
      ].join('\n');
      const env = {
        PATH: process.env.PATH ?? '',
        HOME: home,
        AWS_REGION: LOCAL_REGION,
        AWS_ENDPOINT_URL: endpoint.url,
        ...ROLE_CREDENTIALS,
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        // What the construct writes: the normalised section and its format.
        ...configEnvironment(
          ENV.redriveConfig,
          parseRedriveConfig({ stateMachineNamePrefixes: ['orders-'] }),
        ),
        [ENV.idempotencyTable]: 'autoheal-idempotency',
        [ENV.noticeTopicArn]: `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:autoheal-notices`,
        [ENV.workQueueUrl]: workQueueUrl,
        [ENV.deadLetterQueueUrl]: deadLetterQueueUrl,
        [ENV.maxReceiveCount]: '5',
        [ENV.statesArnPrefix]: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:`,
        [ENV.liveSince]: JSON.stringify({ arns: [], prefixes: [0], global: 0, machines: {} }),
        [ENV.senderRoleIds]: 'AROAEXAMPLEREDRIVE,AROAEXAMPLESWEEPER',
      };

      // Act
      let stdout: string;
      try {
        stdout = await runNode(script, env);
      } finally {
        await endpoint.stop();
        fs.rmSync(home, { recursive: true, force: true });
      }

      // Assess
      expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')).toEqual({ batchItemFailures: [] });
      expect(endpoint.calls).toEqual([
        expect.objectContaining({
          service: 'sqs',
          operation: 'SendMessage',
          target: 'autoheal-dlq',
          outcome: 'ok',
          signedWith: {
            accessKeyId: ROLE_CREDENTIALS.AWS_ACCESS_KEY_ID,
            sessionToken: ROLE_CREDENTIALS.AWS_SESSION_TOKEN,
          },
        }),
      ]);
    });
  });
});
