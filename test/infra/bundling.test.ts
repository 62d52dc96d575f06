import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { parseRedriveConfig } from '../../lambda/shared/autoheal-config';
import {
  CONFIG_FILE_NAME,
  CONFIG_SECTION,
  ENV,
  LAMBDA_NODE_MAJOR,
} from '../../lambda/shared/contract';
import {
  AutohealFunction,
  handlerAssetDir,
  handlerAssetsDir,
} from '../../lib/constructs/autoheal-function';
import {
  bundleEntry,
  bundleHandlers,
  HANDLER_ASSETS_DIR,
  HANDLER_BUNDLING,
  handlerSources,
  PROJECT_ROOT,
} from '../../scripts/handler-bundling';
import {
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  LocalAwsEndpoint,
} from '../support/local-aws/local-aws-endpoint';

/**
 * The untree-shaken redrive bundle (esbuild's default `main` fields, the SDK's
 * CommonJS build) was 840 KiB; tree-shaken 498 KiB; without the unused
 * credential links and event-stream serde 357 KiB. The storm brake's store,
 * the notice digests and the scope roles' STS client (loaded, never called at
 * init) took it to 426 KiB; `npm run bench` guards what that costs at cold
 * start (within 1.1× the SDK floor).
 */
const REDRIVE_BUNDLE_BUDGET_BYTES = 448 * 1024;

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

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** `<name>/index.js` → sha256 of every bundle under `dir`. */
function bundleHashes(dir: string): Record<string, string> {
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .sort()
      .map((name) => [name, sha256(path.join(dir, name, 'index.js'))]),
  );
}

describe('bundling', () => {
  it('bundles the SDK and Powertools from their ES modules into one minified CommonJS file', () => {
    // Assess
    expect(HANDLER_BUNDLING).toMatchObject({
      bundle: true,
      platform: 'node',
      external: [],
      mainFields: ['module', 'main'],
      format: 'cjs',
      target: `node${LAMBDA_NODE_MAJOR}`,
      minify: true,
      sourcemap: false,
      keepNames: false,
      // esbuild's per-bundle summary stays out of build and test output.
      logLevel: 'warning',
    });
  });

  describe('the shipped bundles (assets/handlers)', () => {
    // Prepare & Act (shared): every handler bundled afresh from today's source into a scratch directory
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'autoheal-rebundle-'));
    const rebundled = bundleHandlers(scratch);
    afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

    it('are the bundles of the current source, byte for byte (else run `npm run bundle`)', async () => {
      // Act
      await rebundled;

      // Assess
      expect({ shipped: bundleHashes(HANDLER_ASSETS_DIR) }).toEqual({
        shipped: bundleHashes(scratch),
      });
    });

    it('hold one bundle per handler under lambda/', async () => {
      // Act
      await rebundled;

      // Assess
      expect(fs.readdirSync(HANDLER_ASSETS_DIR).sort()).toEqual(
        // handlerSources() is in path order (appflow/, brake/, redrive/), the listing in name order.
        handlerSources()
          .map((h) => h.name)
          .sort(),
      );
    });

    it('are deterministic and hold no path of the machine that built them', async () => {
      // Prepare
      const again = path.join(scratch, 'again', 'index.js');

      // Act
      await rebundled;
      await bundleEntry('lambda/redrive/redrive.handler.ts', again);

      // Assess
      expect(sha256(again)).toBe(sha256(path.join(scratch, 'redrive', 'index.js')));
      const text = fs.readFileSync(again, 'utf8');
      expect([PROJECT_ROOT, os.tmpdir(), os.homedir()].filter((p) => text.includes(p))).toEqual([]);
    });
  });

  describe('where the construct finds the bundles', () => {
    // Prepare (shared): a package laid out as npm installs it, compiled code in dist/
    const pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'autoheal-package-'));
    fs.writeFileSync(path.join(pkg, 'package.json'), '{}');
    afterAll(() => fs.rmSync(pkg, { recursive: true, force: true }));

    it.each([
      ['the source tree (ts-node, jest)', path.join('lib', 'constructs')],
      ['the compiled package (node_modules/cdk-autoheal)', path.join('dist', 'lib', 'constructs')],
    ])('from %s: assets/handlers at the package root', (_where, constructsDir) => {
      // Prepare
      fs.mkdirSync(path.join(pkg, constructsDir), { recursive: true });

      // Act
      const found = handlerAssetsDir(path.join(pkg, constructsDir));

      // Assess
      expect(found).toBe(path.join(pkg, 'assets', 'handlers'));
    });

    it('says to run the bundle step when a bundle is missing', () => {
      // Act & Assess
      expect(() => handlerAssetDir('redrive/not-built.handler.ts')).toThrow(
        /^The not-built handler is not bundled \(no .*assets\/handlers\/not-built\/index\.js\): run `npm run bundle` \(or `npm run build`\)$/,
      );
    });
  });

  describe('the redrive bundle', () => {
    // Prepare & Act (shared): one function synthesised by the construct, as `cdk synth` stages it
    const app = new App();
    const stack = new Stack(app, 'BundlingTest');
    const config = parseRedriveConfig({ stateMachineNamePrefixes: ['orders-'] });
    const fn = new AutohealFunction(stack, 'Redrive', {
      entry: 'redrive/redrive.handler.ts',
      description: 'bundling test',
      serviceName: 'redrive',
      environment: {},
      config: { [CONFIG_SECTION.redrive]: config },
    });
    const assembly = app.synth();
    const logicalId = stack.resolve((fn.function.node.defaultChild as CfnFunction).logicalId);
    const code = assembly.getStackByName(stack.stackName).template.Resources[logicalId].Properties
      .Code as { S3Key: string };
    const assetDir = path.join(assembly.directory, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
    const bundle = fs.readFileSync(path.join(assetDir, 'index.js'), 'utf8');

    it('is the shipped bundle, staged as it is (no bundling at synth)', () => {
      // Assess
      expect(sha256(path.join(assetDir, 'index.js'))).toBe(
        sha256(path.join(HANDLER_ASSETS_DIR, 'redrive', 'index.js')),
      );
    });

    it('is a single CommonJS file, which Lambda loads with require, beside its config file', () => {
      // Assess
      expect(fs.readdirSync(assetDir).sort()).toEqual([CONFIG_FILE_NAME, 'index.js']);
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
        // No config variable: the bundle reads the config file staged beside it.
        [ENV.idempotencyTable]: 'autoheal-idempotency',
        [ENV.stateTable]: 'autoheal-state',
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
