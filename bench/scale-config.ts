/**
 * Cold init of the redrive handler with a scope of 1,000 state machines and
 * 200 overrides, as a ratio to its cold init with the default config of
 * `cdk.json`: `scale.coldInitRatio`, guarded at ≤ {@link TARGET_COLD_INIT_RATIO}.
 *
 * ```sh
 * ts-node --transpile-only bench/scale-config.ts [--runs 20]
 * ```
 *
 * Both functions are staged by the real {@link AutohealFunction} construct in
 * one scratch app: the shipped bundle plus its `autoheal-config.json`. The
 * large scope is what an environment-agnostic library user has: machines by
 * name (`StateMachine.fromStateMachineName`), so every ARN is a template the
 * handler fills in at init, the heaviest way the file is read. Its live-since
 * document is the reference the clock hands over for a scope that size (the
 * document itself is read at the first event: one GetItem, not part of init).
 * `bigInlineDocument` times the same file with the 14 KB document inline
 * (not deployable: information on what parsing it costs).
 *
 * The timing is bench/cold-start.ts's: fresh processes of the Node 22 binary
 * alternating with bare node, in the same rounds, medians compared.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { advanceClock, clockConfigOf, liveSinceDocument } from '../lambda/redrive/live-healing';
import type { RedriveConfig } from '../lambda/shared/autoheal-config';
import { CONFIG_FILE_NAME, CONFIG_SECTION, ENV } from '../lambda/shared/contract';
import { configFromProps } from '../lib/config-from-props';
import { AutohealFunction } from '../lib/constructs/autoheal-function';
import {
  type BuiltBundle,
  defaultConfigSections,
  median,
  processEnv,
  timeColdInits,
  writeLoaders,
} from './cold-start';

/** The cold-start guard of issue 13. */
export const TARGET_COLD_INIT_RATIO = 1.1;

export interface ScaleConfigResults {
  readonly machines: number;
  readonly overrides: number;
  /** Bytes of the two config files. */
  readonly configFileBytes: { readonly default: number; readonly big: number };
  /** Median cold init, ms. */
  readonly coldInitMs: {
    readonly default: number;
    readonly big: number;
    readonly bigInlineDocument: number;
  };
  /** big / default. */
  readonly coldInitRatio: number;
  readonly target: number;
  readonly met: boolean;
}

const REDRIVE_ENTRY = 'redrive/redrive.handler.ts';

export async function measureScaleConfig(
  options: { runs?: number; warmupRuns?: number; log?: (line: string) => void } = {},
): Promise<ScaleConfigResults> {
  const projectRoot = path.join(__dirname, '..');
  const workDir = path.join(projectRoot, 'bench', 'tmp', 'scale-config');
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const machines = 1000;
  const overrides = 200;
  const outdir = path.join(workDir, 'cdk.out');
  fs.rmSync(workDir, { recursive: true, force: true });
  const app = new App({ outdir });
  const stack = new Stack(app, 'AutohealScaleConfigBench');

  const names = Array.from({ length: machines }, (_, i) => `generated-${i.toString(36)}-machine`);
  const { config } = configFromProps(stack, {
    redrive: {
      stateMachines: names.map((name, i) =>
        sfn.StateMachine.fromStateMachineName(stack, `M${i}`, name),
      ),
      overrides: Object.fromEntries(
        names.slice(0, overrides).map((name) => [name, { maxRedrives: 2 }]),
      ),
    },
  });
  const { processing: _p, sweeper: _s, ...bigSection } = config.redrive as RedriveConfig;
  const defaults = defaultConfigSections(projectRoot);
  const staged = {
    default: stage(stack, 'Default', {
      [CONFIG_SECTION.redrive]: defaults[CONFIG_SECTION.redrive],
    }),
    big: stage(stack, 'Big', { [CONFIG_SECTION.redrive]: bigSection }),
  };
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as {
    Resources: Record<string, { Properties: { Code: { S3Key: string } } }>;
  };
  const bundleOf = (name: string, fn: AutohealFunction): BuiltBundle => {
    const logicalId = stack.resolve((fn.function.node.defaultChild as CfnFunction).logicalId);
    const dir = path.join(
      outdir,
      `asset.${template.Resources[logicalId].Properties.Code.S3Key.replace(/\.zip$/, '')}`,
    );
    return {
      handler: { name, entry: REDRIVE_ENTRY },
      dir,
      file: path.join(dir, 'index.js'),
      esm: false,
      environment: {},
    };
  };
  const bundles = {
    default: bundleOf('redrive', staged.default),
    big: bundleOf('redriveBig', staged.big),
  };
  const bigArns = names.map((n) => `arn:aws:states:eu-west-1:123456789012:stateMachine:${n}`);
  const bigClock = clockConfigOf({
    ...(config.redrive as RedriveConfig),
    stateMachineArns: bigArns,
  });
  const envOf = (b: BuiltBundle, liveSince?: string): Record<string, string> => ({
    ...processEnv(projectRoot, b),
    [ENV.statesArnPrefix]: 'arn:aws:states:eu-west-1:123456789012:',
    ...(liveSince === undefined ? {} : { [ENV.liveSince]: liveSince }),
  });
  const reference = JSON.stringify({ config: 'bench', record: 'bench-record', version: 1 });
  const inline = JSON.stringify(liveSinceDocument(advanceClock(undefined, bigClock, 0), bigClock));
  const loaders = writeLoaders(workDir, [bundles.default, bundles.big]);
  const series = [
    { name: 'default', bundle: bundles.default, env: envOf(bundles.default) },
    { name: 'big', bundle: bundles.big, env: envOf(bundles.big, reference) },
    { name: 'bigInlineDocument', bundle: bundles.big, env: envOf(bundles.big, inline) },
  ];
  log(
    `Timing cold init of the redrive handler: default config vs ${machines} machines, ${overrides} overrides`,
  );
  const samples = timeColdInits(
    defaultNode(projectRoot),
    workDir,
    options.runs ?? 20,
    options.warmupRuns ?? 3,
    {
      nodeFlags: [],
      series: series.map((s) => ({
        name: s.name,
        handlerFile: loaders.handler.get(s.bundle.handler.name) ?? '',
        bareFile: loaders.bareCjs,
        env: s.env,
      })),
    },
  );
  const ms = (name: string) => Math.round(median(samples.get(name)?.fn ?? [Number.NaN]) * 10) / 10;
  const coldInitMs = {
    default: ms('default'),
    big: ms('big'),
    bigInlineDocument: ms('bigInlineDocument'),
  };
  const coldInitRatio = Math.round((coldInitMs.big / coldInitMs.default) * 100) / 100;
  const fileBytes = (b: BuiltBundle) => fs.statSync(path.join(b.dir, CONFIG_FILE_NAME)).size;
  return {
    machines,
    overrides,
    configFileBytes: { default: fileBytes(bundles.default), big: fileBytes(bundles.big) },
    coldInitMs,
    coldInitRatio,
    target: TARGET_COLD_INIT_RATIO,
    met: coldInitRatio <= TARGET_COLD_INIT_RATIO,
  };
}

function stage(stack: Stack, id: string, config: Record<string, unknown>): AutohealFunction {
  return new AutohealFunction(stack, id, {
    entry: REDRIVE_ENTRY,
    description: `Scale config benchmark (${id})`,
    serviceName: 'redrive',
    environment: {},
    config,
  });
}

/** The Node 22 binary npm installed into node_modules, as bench/cold-start.ts uses. */
function defaultNode(projectRoot: string): string {
  const local = path.join(projectRoot, 'node_modules', 'node', 'bin', 'node');
  return fs.existsSync(local) ? local : process.execPath;
}

if (require.main === module) {
  const runsAt = process.argv.indexOf('--runs');
  measureScaleConfig({ runs: runsAt > 0 ? Number(process.argv[runsAt + 1]) : undefined })
    .then((r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`))
    .catch((error: unknown) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exit(1);
    });
}
