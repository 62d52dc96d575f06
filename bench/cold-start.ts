/**
 * Cold start benchmark of the Autoheal Lambda functions: bundle size (raw and
 * gzip) and cold init time, as a ratio to each handler's SDK floor (the guard)
 * and to a bare `node` process (information), all timed in the same run.
 *
 * ```sh
 * cd /work/main && export PATH=$PWD/node_modules/.bin:$PATH
 * ts-node --transpile-only bench/cold-start.ts [--runs 20] [--warmup 3] [--only redrive,flowStarter]
 *   [--compare-cdk-out cdk.out] [--references] [--lambda-flags] [--no-invoke] [--cpu-prof 5] [--work-dir bench/tmp]
 *   [--json bench/tmp/cold-start.json]
 * ```
 *
 * What it does, per handler (every `lambda/**\/*.handler.ts`, named after its
 * file: `flow-starter.handler.ts` is `flowStarter`):
 *
 * 1. Takes its shipped bundle, `assets/handlers/<name>/index.js` (written by
 *    `npm run bundle` with {@link HANDLER_BUNDLING}), as the real
 *    {@link AutohealFunction} construct stages it in a scratch CDK app
 *    synthesised to `bench/tmp/cdk.out`, so the measured file is the deployed
 *    file (`--compare-cdk-out cdk.out` checks that against a `npm run synth`,
 *    byte for byte). Run `npm run bundle` first after changing a handler.
 * 2. Counts the bundle's bytes, and its bytes gzipped (zlib default level).
 * 3. Invokes `handler` once in a fresh process with a minimal invalid event,
 *    every AWS endpoint pointed at 127.0.0.1:9 (nothing listens there), to prove
 *    the bundle loads and runs: an error from the AWS call is expected, a
 *    `Dynamic require`, `__dirname` or `Cannot find module` error fails the
 *    benchmark.
 * 4. Times fresh processes of the Node 22 binary that load the bundle and touch
 *    `handler`, alternating with fresh processes that load an empty file of the
 *    same module format ("bare node"), with `process.hrtime` around
 *    `spawnSync`, from a small timer process of its own; the first rounds warm
 *    the file cache and are dropped. Each process gets the environment the
 *    construct sets (Powertools variables, dummy table, topic and queue
 *    names), the variables Lambda sets, dummy credentials and no network; the
 *    bare node processes get the same. Its asset holds the default config of
 *    `cdk.json` as the constructs stage it (`autoheal-config.json`).
 *
 * 5. Times, in the same rounds, each handler's SDK floor: an entry generated
 *    from the clients declared for it in `bench/sdk-floor.ts` (the same client
 *    packages, the same clients created with the same options, nothing else),
 *    bundled with the same {@link HANDLER_BUNDLING} settings.
 *
 * The guard is median(handler) / median(its SDK floor) ≤
 * {@link TARGET_RATIO_TO_SDK_FLOOR}: what Autoheal adds to the SDK it cannot
 * do without (Powertools, config parsing, its own code) stays within 10 %.
 * median(handler) / median(bare node) is reported as information. Ratios
 * depend on the machine and on what else runs on it: compare figures of one
 * run, or of runs on a quiet machine. `--references` adds what an empty
 * handler, Node's HTTP and crypto modules and one SDK client cost, bundled the
 * same way. `--lambda-flags` times everything a second time with every
 * process, bare node included, run with the flags of the Lambda bootstrap
 * ({@link lambdaBootstrapNodeFlags}).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { App, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { advanceClock, clockConfigOf, liveSinceDocument } from '../lambda/redrive/live-healing';
import { parseAutohealConfig } from '../lambda/shared/autoheal-config';
import { CONFIG_SECTION, ENV, LAMBDA_NODE_MAJOR } from '../lambda/shared/contract';
import { AUTOHEAL_DEFAULT_MEMORY_MB, AutohealFunction } from '../lib/constructs/autoheal-function';
import { bundleEntry, HANDLER_BUNDLING } from '../scripts/handler-bundling';
import {
  discoverHandlers,
  HANDLER_SDK_CLIENTS,
  HANDLER_SUFFIX,
  type HandlerEntry,
  type SdkClientName,
  sdkFloorName,
  sdkFloorSource,
  TARGET_RATIO_TO_SDK_FLOOR,
} from './sdk-floor';

export { discoverHandlers, type HandlerEntry, TARGET_RATIO_TO_SDK_FLOOR };

export interface ColdStartOptions {
  /** Measured runs per handler (each paired with a bare node run). @default 20 */
  readonly runs?: number;
  /** Rounds run first and dropped (file cache, CPU frequency). @default 3 */
  readonly warmupRuns?: number;
  /** Short names of the handlers to measure. @default every `lambda/**\/*.handler.ts` */
  readonly only?: readonly string[];
  /** The Node binary to time. @default node_modules/node/bin/node, else process.execPath */
  readonly node?: string;
  /** @default the repository root (the parent of bench/) */
  readonly projectRoot?: string;
  /** Where bundles, loaders and the scratch cloud assembly go. @default bench/tmp */
  readonly workDir?: string;
  /** Invoke each handler once before timing, to prove the bundle runs. @default true */
  readonly invoke?: boolean;
  /** A `cdk synth` output directory whose assets must hold byte-identical bundles. */
  readonly compareWithCdkOut?: string;
  /**
   * Write this many CPU profiles (`node --cpu-prof`) per handler, and as many
   * of bare node, to `<workDir>/profiles/<name>/`. @default 0
   */
  readonly cpuProfiles?: number;
  /**
   * Also measure reference entries, bundled with the same settings but never
   * deployed, to show what the floors stand on: an empty handler, Node's HTTP
   * and crypto modules, one SDK client. (Each handler's SDK floor is always
   * measured.) @default false
   */
  readonly references?: boolean;
  /**
   * Time the handlers a second time with these flags given to every process,
   * handler and bare node alike, e.g. {@link lambdaBootstrapNodeFlags}; the
   * figures go to {@link ColdStartResults.withNodeFlags}. @default no second pass
   */
  readonly alsoWithNodeFlags?: readonly string[];
  /** Progress lines. @default written to stderr */
  readonly log?: (line: string) => void;
}

/**
 * The flags the Lambda Node.js bootstrap passes to `node` for a function of
 * `memoryMb`, as public copies of the runtime's bootstrap script show them (not
 * verified against the current nodejs22.x image). They matter to cold start:
 * with any of them set, Node 22 rejects its built-in code cache and compiles
 * the builtins it loads (http, https, crypto, stream) from source.
 */
export function lambdaBootstrapNodeFlags(memoryMb: number): string[] {
  return [
    '--expose-gc',
    '--max-http-header-size=81920',
    `--max-semi-space-size=${Math.floor((memoryMb * 5) / 100)}`,
    `--max-old-space-size=${Math.floor((memoryMb * 90) / 100)}`,
  ];
}

export interface ColdInitFigure {
  /** Median wall time of a fresh process loading the bundle and touching `handler`. */
  readonly ms: number;
  /** Median wall time of the bare node processes alternated with it. */
  readonly bareNodeMs: number;
  /** ms / bareNodeMs: information, not a target (see docs/cold-start.md). */
  readonly ratioToBareNode: number;
  /** Median CPU time (user + system, every thread) of those processes, up to the loaded handler. */
  readonly cpuMs: number;
  /** The same of the bare node processes. */
  readonly bareNodeCpuMs: number;
}

export interface BundleFigure {
  /** Bytes of the deployed bundle (every file of the asset). */
  readonly bytes: number;
  /** The same, gzipped file by file (zlib default level). */
  readonly gzipBytes: number;
}

/** A handler against its SDK floor, timed in the same run. */
export interface SdkFloorFigure {
  /** The SDK clients the handler creates at load, as declared in `bench/sdk-floor.ts`. */
  readonly clients: readonly SdkClientName[];
  /** Median cold init of the handler (the same figure as its `coldInit.ms`). */
  readonly coldInitMs: number;
  /** Median cold init of its SDK floor. */
  readonly sdkFloorMs: number;
  /** coldInitMs / sdkFloorMs. */
  readonly sdkFloorRatio: number;
  readonly target: number;
  /** sdkFloorRatio ≤ target. */
  readonly met: boolean;
  /** Median CPU time of the handler's processes, and of its floor's (steadier than wall time on a busy machine). */
  readonly coldInitCpuMs: number;
  readonly sdkFloorCpuMs: number;
  /** coldInitCpuMs / sdkFloorCpuMs: a cross-check of sdkFloorRatio. */
  readonly sdkFloorCpuRatio: number;
  /** Bytes of the floor's bundle. */
  readonly sdkFloorBundleBytes: number;
}

/** Cold init of bundles timed with flags given to every process. */
export interface FlaggedColdInit {
  readonly nodeFlags: readonly string[];
  readonly coldInit: Record<string, ColdInitFigure>;
  /** Each handler against its SDK floor, both timed with the flags. */
  readonly sdkFloor?: Record<string, SdkFloorFigure>;
}

export interface ColdStartFigures {
  readonly coldInit: Record<string, ColdInitFigure>;
  readonly bundle: Record<string, BundleFigure>;
  /** Each handler against its SDK floor (absent for references). */
  readonly sdkFloor?: Record<string, SdkFloorFigure>;
  /** Only with {@link ColdStartOptions.alsoWithNodeFlags}: the same bundles timed with those flags. */
  readonly withNodeFlags?: FlaggedColdInit;
}

export interface ColdStartResults extends ColdStartFigures {
  /** Only with {@link ColdStartOptions.references}: the same figures of the reference entries. */
  readonly references?: ColdStartFigures;
}

/** Reference entries: what the SDK floors stand on. */
const REFERENCE_ENTRIES: Record<string, string> = {
  emptyHandler: 'export const handler = async (): Promise<void> => undefined;\n',
  // What any HTTPS client with request signing needs from Node, before any SDK code.
  sdkNodeBuiltins: [
    "import { createHash } from 'node:crypto';",
    "import { Agent as HttpAgent } from 'node:http';",
    "import { Agent as HttpsAgent } from 'node:https';",
    "import { Readable } from 'node:stream';",
    'export const handler = async (): Promise<unknown> => [createHash, HttpAgent, HttpsAgent, Readable];',
    '',
  ].join('\n'),
  oneSdkClient: [
    "import { SFNClient } from '@aws-sdk/client-sfn';",
    'const sfn = new SFNClient({});',
    'export const handler = async (): Promise<unknown> => sfn.config;',
    '',
  ].join('\n'),
};

/**
 * Writes entries the benchmark generates under the work directory (inside
 * the project, so they resolve its node_modules): each handler's SDK floor
 * and, with `references`, the reference entries.
 */
function writeGeneratedEntries(
  projectRoot: string,
  workDir: string,
  handlers: readonly HandlerEntry[],
  references: boolean,
): (HandlerEntry & { floorOf?: string })[] {
  const dir = path.join(workDir, 'references');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const sdkClientsModule = path
    .relative(dir, path.join(projectRoot, 'lambda', 'shared', 'sdk-clients'))
    .split(path.sep)
    .join('/');
  const sources: [string, string, string | undefined][] = handlers.map((h) => {
    const clients = HANDLER_SDK_CLIENTS[h.name];
    if (!clients) {
      throw new Error(
        `No SDK clients declared for the handler ${h.name} (${h.entry}): add it to HANDLER_SDK_CLIENTS in bench/sdk-floor.ts`,
      );
    }
    return [sdkFloorName(h.name), sdkFloorSource(clients, sdkClientsModule), h.name];
  });
  if (references) {
    for (const [name, source] of Object.entries(REFERENCE_ENTRIES)) {
      sources.push([name, source, undefined]);
    }
  }
  return sources.map(([name, source, floorOf]) => {
    const file = path.join(dir, `${name}.ts`);
    fs.writeFileSync(file, source);
    return {
      name,
      entry: path.relative(path.join(projectRoot, 'lambda'), file),
      reference: true,
      ...(floorOf && { floorOf }),
    };
  });
}

export interface BuiltBundle {
  readonly handler: HandlerEntry & { readonly floorOf?: string };
  /** Directory holding the bundle exactly as CDK staged it. */
  readonly dir: string;
  /** The file Lambda loads (`index.js` or `index.mjs`). */
  readonly file: string;
  readonly esm: boolean;
  /** The plain values of the function's environment in the synthesised template. */
  readonly environment: Record<string, string>;
}

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
/** The discard port on loopback: connections are refused at once, nothing leaves the machine. */
const UNREACHABLE_ENDPOINT = 'http://127.0.0.1:9';

/** Runs the benchmark; see the file comment for what is measured and how. */
export async function measureColdStart(options: ColdStartOptions = {}): Promise<ColdStartResults> {
  const projectRoot = path.resolve(options.projectRoot ?? path.join(__dirname, '..'));
  const workDir = path.resolve(options.workDir ?? path.join(projectRoot, 'bench', 'tmp'));
  const runs = options.runs ?? 20;
  const warmupRuns = options.warmupRuns ?? 3;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const node = options.node ?? defaultNode(projectRoot);
  checkNodeMajor(node);

  let handlers = discoverHandlers(projectRoot);
  if (options.only) {
    const unknown = options.only.filter((name) => !handlers.some((h) => h.name === name));
    if (unknown.length > 0) {
      throw new Error(
        `No handler named ${unknown.join(', ')}; found ${handlers.map((h) => h.name).join(', ')}`,
      );
    }
    handlers = handlers.filter((h) => options.only?.includes(h.name));
  }
  if (handlers.length === 0) throw new Error(`No ${HANDLER_SUFFIX} under ${projectRoot}/lambda`);

  const entries = [
    ...handlers,
    ...writeGeneratedEntries(projectRoot, workDir, handlers, options.references ?? false),
  ];
  log(
    `Staging ${handlers.map((h) => h.name).join(', ')} with the AutohealFunction construct; bundling ` +
      `${entries
        .filter((e) => e.reference)
        .map((h) => h.name)
        .join(', ')} with the same settings`,
  );
  const bundles = await stageBundles(projectRoot, workDir, entries);

  if (options.compareWithCdkOut) {
    compareWithCdkOut(
      bundles.filter((b) => !b.handler.reference),
      path.resolve(projectRoot, options.compareWithCdkOut),
      log,
    );
  }

  const loaders = writeLoaders(workDir, bundles);
  const envs = new Map(bundles.map((b) => [b.handler.name, processEnv(projectRoot, b)]));

  if (options.invoke ?? true) {
    for (const b of bundles.filter((x) => !x.handler.reference)) {
      const outcome = invokeOnce(node, workDir, b, envs.get(b.handler.name) ?? {});
      log(`  ${b.handler.name}: invoked once, ${outcome}`);
    }
  }
  if (options.cpuProfiles) {
    const dir = path.join(workDir, 'profiles');
    fs.rmSync(dir, { recursive: true, force: true });
    for (let i = 0; i < options.cpuProfiles; i++) {
      for (const b of bundles) {
        const env = envs.get(b.handler.name) ?? {};
        const profile = (name: string, file: string) =>
          run(node, ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, name)}`, file], env);
        profile(b.handler.name, loaders.handler.get(b.handler.name) ?? '');
        profile(b.esm ? 'bareEsm' : 'bare', b.esm ? loaders.bareEsm : loaders.bareCjs);
      }
    }
    log(`  CPU profiles in ${dir}`);
  }

  const time = (nodeFlags: readonly string[], timed: readonly BuiltBundle[]) =>
    timeColdInits(node, workDir, runs, warmupRuns, {
      nodeFlags,
      series: timed.map((b) => ({
        name: b.handler.name,
        handlerFile: loaders.handler.get(b.handler.name) ?? '',
        bareFile: b.esm ? loaders.bareEsm : loaders.bareCjs,
        env: envs.get(b.handler.name) ?? {},
      })),
    });
  log(`Timing ${runs} cold inits per handler (+${warmupRuns} dropped), alternating with bare node`);
  const samples = time([], bundles);
  const coldInitFigure = (s: TimingSamples): ColdInitFigure => {
    const ms = median(s.fn);
    const bareNodeMs = median(s.bare);
    return {
      ms: round1(ms),
      bareNodeMs: round1(bareNodeMs),
      ratioToBareNode: ratio(ms, bareNodeMs),
      cpuMs: round1(median(s.fnCpu)),
      bareNodeCpuMs: round1(median(s.bareCpu)),
    };
  };

  const nodeFlags = options.alsoWithNodeFlags;
  let flaggedSamples: typeof samples | undefined;
  if (nodeFlags) {
    log(`Timing them again, every process run with ${nodeFlags.join(' ')}`);
    flaggedSamples = time(nodeFlags, bundles);
  }

  const floorFigures = (
    from: Map<string, TimingSamples> | undefined,
  ): Record<string, SdkFloorFigure> | undefined => {
    if (!from) return undefined;
    const floors: Record<string, SdkFloorFigure> = {};
    for (const b of bundles.filter((x) => x.handler.floorOf)) {
      const handlerName = b.handler.floorOf ?? '';
      const handlerSamples = from.get(handlerName);
      const floorSamples = from.get(b.handler.name);
      if (!handlerSamples || !floorSamples) continue;
      const coldInitMs = median(handlerSamples.fn);
      const sdkFloorMs = median(floorSamples.fn);
      const sdkFloorRatio = ratio(coldInitMs, sdkFloorMs);
      const coldInitCpuMs = median(handlerSamples.fnCpu);
      const sdkFloorCpuMs = median(floorSamples.fnCpu);
      floors[handlerName] = {
        clients: HANDLER_SDK_CLIENTS[handlerName] ?? [],
        coldInitMs: round1(coldInitMs),
        sdkFloorMs: round1(sdkFloorMs),
        sdkFloorRatio,
        target: TARGET_RATIO_TO_SDK_FLOOR,
        met: sdkFloorRatio <= TARGET_RATIO_TO_SDK_FLOOR,
        coldInitCpuMs: round1(coldInitCpuMs),
        sdkFloorCpuMs: round1(sdkFloorCpuMs),
        sdkFloorCpuRatio: ratio(coldInitCpuMs, sdkFloorCpuMs),
        sdkFloorBundleBytes: bundleFigure(b.dir).bytes,
      };
    }
    return floors;
  };

  const figures = (kind: 'handler' | 'reference'): ColdStartFigures => {
    const coldInit: Record<string, ColdInitFigure> = {};
    const flagged: Record<string, ColdInitFigure> = {};
    const bundle: Record<string, BundleFigure> = {};
    const ofKind = (x: BuiltBundle) =>
      kind === 'handler' ? !x.handler.reference : x.handler.reference && !x.handler.floorOf;
    for (const b of bundles.filter(ofKind)) {
      const s = samples.get(b.handler.name);
      if (!s) continue;
      coldInit[b.handler.name] = coldInitFigure(s);
      bundle[b.handler.name] = bundleFigure(b.dir);
      const f = flaggedSamples?.get(b.handler.name);
      if (f) flagged[b.handler.name] = coldInitFigure(f);
    }
    const sdkFloor = kind === 'handler' ? floorFigures(samples) : undefined;
    const flaggedFloor = kind === 'handler' ? floorFigures(flaggedSamples) : undefined;
    return {
      coldInit,
      bundle,
      ...(sdkFloor && { sdkFloor }),
      ...(nodeFlags && {
        withNodeFlags: {
          nodeFlags,
          coldInit: flagged,
          ...(flaggedFloor && { sdkFloor: flaggedFloor }),
        },
      }),
    };
  };
  return {
    ...figures('handler'),
    ...(options.references && { references: figures('reference') }),
  };
}

/** The Node 22 binary npm installed into node_modules, which `npm ci` provides. */
function defaultNode(projectRoot: string): string {
  const local = path.join(projectRoot, 'node_modules', 'node', 'bin', 'node');
  return fs.existsSync(local) ? local : process.execPath;
}

function checkNodeMajor(node: string): void {
  const version = run(node, ['-p', 'process.versions.node'], { PATH: process.env.PATH ?? '' });
  if (Number(version.trim().split('.')[0]) !== LAMBDA_NODE_MAJOR) {
    throw new Error(
      `${node} is Node ${version.trim()}; the Lambda runtime is Node ${LAMBDA_NODE_MAJOR}. Run with node_modules/.bin on PATH.`,
    );
  }
}

/**
 * Synthesises one AutohealFunction per handler into a scratch cloud assembly
 * and returns where CDK staged each shipped bundle, with the environment the
 * construct sets; this is the code path of `cdk synth`. The generated entries
 * (SDK floors, references) are bundled with {@link HANDLER_BUNDLING} into
 * `<workDir>/bundles/` and get the same environment.
 */
async function stageBundles(
  projectRoot: string,
  workDir: string,
  entries: readonly (HandlerEntry & { floorOf?: string })[],
): Promise<BuiltBundle[]> {
  const outdir = path.join(workDir, 'cdk.out');
  fs.rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir });
  const stack = new Stack(app, 'AutohealColdStartBench', {
    env: { account: ACCOUNT, region: REGION },
  });
  const sections = defaultConfigSections(projectRoot);
  const functions = entries
    .filter((handler) => !handler.reference)
    .map((handler) => ({
      handler,
      construct: new AutohealFunction(stack, `Bench${handler.name}`, {
        entry: handler.entry,
        description: `Cold start benchmark of ${handler.entry}`,
        serviceName: path.basename(handler.entry, HANDLER_SUFFIX),
        environment: {},
        // The config file in the asset, as the constructs stage it.
        config: configSectionsOf(handler.entry, sections),
      }),
    }));
  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<string, { Properties?: Record<string, unknown> }>;
  };
  const staged: BuiltBundle[] = functions.map(({ handler, construct }) => {
    const logicalId = stack.resolve(
      (construct.function.node.defaultChild as CfnFunction).logicalId,
    );
    const properties = template.Resources[logicalId]?.Properties ?? {};
    const code = properties.Code as { S3Key?: unknown } | undefined;
    const hash = typeof code?.S3Key === 'string' ? code.S3Key.replace(/\.zip$/, '') : undefined;
    const dir = hash ? path.join(outdir, `asset.${hash}`) : '';
    if (!hash || !fs.existsSync(dir)) throw new Error(`No staged asset for ${handler.entry}`);
    const file = ['index.mjs', 'index.js'].find((f) => fs.existsSync(path.join(dir, f)));
    if (!file) throw new Error(`No index.js or index.mjs in ${dir}`);
    const variables =
      (properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
      {};
    // Plain values only: tokens (table name, topic, queue URLs) get dummies in processEnv.
    const environment: Record<string, string> = {};
    for (const [key, value] of Object.entries(variables)) {
      if (typeof value === 'string') environment[key] = value;
    }
    return { handler, dir, file: path.join(dir, file), esm: file.endsWith('.mjs'), environment };
  });
  const generated = await Promise.all(
    entries
      .filter((handler) => handler.reference)
      .map(async (handler): Promise<BuiltBundle> => {
        const dir = path.join(workDir, 'bundles', handler.name);
        const file = path.join(dir, 'index.js');
        await bundleEntry(path.join(projectRoot, 'lambda', handler.entry), file);
        const like = staged.find((b) => b.handler.name === handler.floorOf) ?? staged[0];
        const environment = {
          ...like?.environment,
          POWERTOOLS_SERVICE_NAME: path.basename(handler.entry, '.ts'),
        };
        return { handler, dir, file, esm: false, environment };
      }),
  );
  return [...staged, ...generated];
}

/** The normalised sections of the default config of `cdk.json`, as the constructs write them. */
export function defaultConfigSections(projectRoot: string): Record<string, object> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(projectRoot, 'cdk.json'), 'utf8'));
  const config = parseAutohealConfig(cdkJson.context.autoheal);
  const withoutInfraOptions = (section: object | undefined): object => {
    const { processing: _p, ...rest } = (section ?? {}) as { processing?: unknown };
    return rest;
  };
  return {
    [CONFIG_SECTION.redrive]: withoutInfraOptions(config.redrive),
    [CONFIG_SECTION.appflow]: withoutInfraOptions(config.appflow),
    [CONFIG_SECTION.notices]: config.notices ?? {},
  };
}

/** The config sections the handler of `entry` reads (from its source), or none. */
export function configSectionsOf(
  entry: string,
  sections: Record<string, object>,
): Record<string, object> | undefined {
  const source = fs.readFileSync(path.join(__dirname, '..', 'lambda', entry), 'utf8');
  // Every section the wiring names (readNormalisedConfig, normalisedConfigSource, ...), and the
  // notices options of a handler that sends notices through the digest sender.
  const read = [
    ...new Set([
      ...[...source.matchAll(/CONFIG_SECTION\.(\w+)/g)].map((m) => m[1]),
      ...(source.includes('handlerNoticeSender(') ? [CONFIG_SECTION.notices] : []),
    ]),
  ].filter((name) => sections[name] !== undefined);
  if (read.length === 0) return undefined;
  return Object.fromEntries(read.map((name) => [name, sections[name]]));
}

function bundleFigure(dir: string): BundleFigure {
  let bytes = 0;
  let gzipBytes = 0;
  for (const file of fs.readdirSync(dir)) {
    const content = fs.readFileSync(path.join(dir, file));
    bytes += content.length;
    gzipBytes += gzipSync(content).length;
  }
  return { bytes, gzipBytes };
}

/** Fails unless every bundle has a byte-identical file among the assets of a `cdk synth`. */
function compareWithCdkOut(
  bundles: readonly BuiltBundle[],
  cdkOut: string,
  log: (line: string) => void,
): void {
  const synthesised = new Map<string, string>();
  for (const asset of fs.readdirSync(cdkOut).filter((d) => d.startsWith('asset.'))) {
    for (const file of fs.readdirSync(path.join(cdkOut, asset))) {
      const full = path.join(cdkOut, asset, file);
      if (fs.statSync(full).isFile()) synthesised.set(sha256(fs.readFileSync(full)), full);
    }
  }
  for (const b of bundles) {
    const content = fs.readFileSync(b.file);
    const twin = synthesised.get(sha256(content));
    if (!twin) {
      throw new Error(
        `${b.handler.name}: no asset in ${cdkOut} is byte-identical to the benchmark's bundle ` +
          `(${content.length} bytes). Run \`npm run synth\` on the same source first.`,
      );
    }
    log(
      `  ${b.handler.name}: ${content.length} bytes, identical to ${path.relative(cdkOut, twin)}`,
    );
  }
}

function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * The last line of every timed process, bare node included: the CPU time
 * (user + system, every thread) the process has used so far, in ms. Unlike
 * wall time it hardly grows when other processes compete for the cores.
 */
const REPORT_CPU =
  'const cpu = process.cpuUsage(); process.stdout.write(String((cpu.user + cpu.system) / 1000));\n';

interface Loaders {
  readonly bareCjs: string;
  readonly bareEsm: string;
  /** Per handler: a file of the bundle's module format that loads it and touches `handler`. */
  readonly handler: Map<string, string>;
}

export function writeLoaders(workDir: string, bundles: readonly BuiltBundle[]): Loaders {
  const dir = path.join(workDir, 'loaders');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const bareCjs = path.join(dir, 'bare.cjs');
  const bareEsm = path.join(dir, 'bare.mjs');
  fs.writeFileSync(bareCjs, REPORT_CPU);
  fs.writeFileSync(bareEsm, REPORT_CPU);
  const handler = new Map<string, string>();
  const check = `if (typeof handler !== 'function') throw new Error('handler is not a function');\n${REPORT_CPU}`;
  for (const b of bundles) {
    const file = path.join(dir, `${b.handler.name}${b.esm ? '.mjs' : '.cjs'}`);
    fs.writeFileSync(
      file,
      b.esm
        ? `import { handler } from ${JSON.stringify(pathToFileURL(b.file).href)};\n${check}`
        : `const { handler } = require(${JSON.stringify(b.file)});\n${check}`,
    );
    handler.set(b.handler.name, file);
  }
  return { bareCjs, bareEsm, handler };
}

/**
 * The environment of one handler process: what Lambda sets, what the
 * construct set (from the synthesised template), every variable of the
 * contract with a dummy or the default config, dummy credentials and every
 * AWS endpoint on a closed loopback port. Nothing is inherited from the shell.
 */
export function processEnv(projectRoot: string, b: BuiltBundle): Record<string, string> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(projectRoot, 'cdk.json'), 'utf8'));
  const config = parseAutohealConfig(cdkJson.context.autoheal);
  const contract: Record<keyof typeof ENV, string> = {
    // Unset: the handler reads the config file staged beside its bundle.
    configFile: '',
    configTokens: '[]',
    idempotencyTable: 'autoheal-bench-idempotency',
    stateTable: 'autoheal-bench-state',
    noticeTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:autoheal-bench-notices`,
    // SQS sends to the queue URL's host, so the queues live on the closed port too.
    workQueueUrl: `${UNREACHABLE_ENDPOINT}/${ACCOUNT}/autoheal-bench-work`,
    deadLetterQueueUrl: `${UNREACHABLE_ENDPOINT}/${ACCOUNT}/autoheal-bench-dlq`,
    maxReceiveCount: '5',
    statesArnPrefix: `arn:aws:states:${REGION}:${ACCOUNT}:`,
    // What the live-healing clock returns on a first deploy (the custom resource's attribute is a token).
    liveSince: config.redrive
      ? JSON.stringify(
          liveSinceDocument(
            advanceClock(undefined, clockConfigOf(config.redrive), 0),
            clockConfigOf(config.redrive),
          ),
        )
      : '{}',
    senderRoleIds: 'AROABENCHREDRIVEROLE,AROABENCHSWEEPERROLE',
    // Unset: the default config's scope fits the function's own role (no scope roles).
    scopeRoles: '',
    // A library installation's prefix (the app's functions leave it unset).
    idempotencyKeyPrefix: 'autoheal-bench1234',
  };
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${LAMBDA_NODE_MAJOR}.x`,
    AWS_LAMBDA_FUNCTION_NAME: `autoheal-bench-${b.handler.name}`,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    AWS_ACCESS_KEY_ID: 'ASIABENCHMARKDUMMYKEY',
    AWS_SECRET_ACCESS_KEY: 'bench-dummy-secret-access-key',
    AWS_SESSION_TOKEN: 'bench-dummy-session-token',
    AWS_ENDPOINT_URL: UNREACHABLE_ENDPOINT,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  for (const [key, name] of Object.entries(ENV) as [keyof typeof ENV, string][]) {
    env[name] = contract[key] ?? `bench-${key}`;
  }
  return { ...env, ...b.environment };
}

/** A minimal, invalid event of the kind the handler is invoked with. */
function invalidEvent(name: string): unknown {
  if (name === 'flowStarter') return { schedule: '', scheduledTime: 'not-a-time', flows: [] };
  // A Delete of a clock that never got a record: no AWS call.
  if (name === 'liveHealingClock') {
    return { RequestType: 'Delete', PhysicalResourceId: 'bench', ResourceProperties: {} };
  }
  if (name === 'sweeper') {
    return {
      version: '0',
      id: 'bench',
      'detail-type': 'Scheduled Event',
      source: 'aws.scheduler',
      account: ACCOUNT,
      time: new Date(0).toISOString(),
      region: REGION,
      resources: [],
      detail: {},
    };
  }
  return {
    Records: [
      {
        messageId: 'bench-1',
        receiptHandle: 'bench',
        body: '{"not":"an event"}',
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: '0',
          SenderId: 'bench',
          ApproximateFirstReceiveTimestamp: '0',
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:autoheal-bench-work`,
        awsRegion: REGION,
      },
    ],
  };
}

/** Errors that mean the bundle itself is broken, as opposed to the AWS call failing. */
const BROKEN_BUNDLE =
  /Dynamic require|__dirname|__filename|import\.meta|Cannot find module|Cannot find package|is not defined|is not a constructor|ERR_REQUIRE_ESM|ERR_MODULE_NOT_FOUND/;
const RESULT_MARKER = '@@autoheal-bench-result ';

/** Invokes the handler once; returns a one-line outcome or throws when the bundle is broken. */
function invokeOnce(
  node: string,
  workDir: string,
  b: BuiltBundle,
  env: Record<string, string>,
): string {
  const script = path.join(workDir, 'loaders', `${b.handler.name}.invoke.mjs`);
  const context = {
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${env.AWS_LAMBDA_FUNCTION_NAME}`,
    memoryLimitInMB: '512',
    awsRequestId: '00000000-0000-4000-8000-000000000000',
    logGroupName: `/aws/lambda/${env.AWS_LAMBDA_FUNCTION_NAME}`,
    logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: true,
  };
  fs.writeFileSync(
    script,
    [
      `const mod = await import(${JSON.stringify(pathToFileURL(b.file).href)});`,
      'const handler = mod.handler ?? mod.default?.handler;',
      `const context = { ...${JSON.stringify(context)}, getRemainingTimeInMillis: () => 30000 };`,
      'const report = (r) => { process.stdout.write(',
      `  '\\n${RESULT_MARKER}' + JSON.stringify(r) + '\\n', () => process.exit(0)); };`,
      'try {',
      `  const value = await handler(${JSON.stringify(invalidEvent(b.handler.name))}, context);`,
      "  report({ outcome: 'returned', value });",
      '} catch (e) {',
      "  report({ outcome: 'threw', name: e?.name, message: String(e?.message ?? e) });",
      '}',
      '',
    ].join('\n'),
  );
  const result = spawnSync(node, [script], {
    env: { ...env, AWS_MAX_ATTEMPTS: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = result.stdout
    ?.split('\n')
    .find((l) => l.startsWith(RESULT_MARKER))
    ?.slice(RESULT_MARKER.length);
  const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
  if (!line) {
    throw new Error(
      `${b.handler.name}: the bundle did not run (exit ${result.status}):\n${output.slice(-3000)}`,
    );
  }
  const r = JSON.parse(line) as {
    outcome: string;
    name?: string;
    message?: string;
    value?: unknown;
  };
  const text =
    r.outcome === 'returned'
      ? `returned ${JSON.stringify(r.value)}`
      : `threw ${r.name}: ${r.message}`;
  if (BROKEN_BUNDLE.test(text) || BROKEN_BUNDLE.test(result.stderr ?? '')) {
    throw new Error(`${b.handler.name}: the bundle is broken: ${text}\n${output.slice(-3000)}`);
  }
  return text.length > 240 ? `${text.slice(0, 240)}…` : text;
}

/** Per series: wall ms and CPU ms of each handler process and of the bare node process paired with it. */
export interface TimingSamples {
  readonly fn: number[];
  readonly bare: number[];
  readonly fnCpu: number[];
  readonly bareCpu: number[];
}

export interface TimingSeries {
  readonly name: string;
  readonly handlerFile: string;
  readonly bareFile: string;
  readonly env: Record<string, string>;
}

/**
 * The timing loop. It runs in a small process of its own: spawning from this
 * one, which holds the CDK app and ts-node, would add the cost of forking a big
 * process to every sample alike and so flatten the ratio. Each round rotates
 * the series and swaps which of a pair runs first, so drift (caches, CPU
 * frequency, other load) falls on all series alike.
 */
const TIMER_SCRIPT = `'use strict';
const { spawnSync } = require('node:child_process');
const plan = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'));
const samples = {};
for (const s of plan.series) samples[s.name] = { fn: [], bare: [], fnCpu: [], bareCpu: [] };
function time(file, env) {
  const start = process.hrtime.bigint();
  const r = spawnSync(plan.node, [...plan.nodeFlags, file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const cpuMs = Number(String(r.stdout).trim().split('\\n').pop());
  if (r.status !== 0 || !Number.isFinite(cpuMs)) {
    process.stderr.write(file + ' exited ' + r.status + ': ' + String(r.stderr).slice(-2000));
    process.exit(2);
  }
  return { ms, cpuMs };
}
for (let round = 0; round < plan.warmupRuns + plan.runs; round++) {
  for (let i = 0; i < plan.series.length; i++) {
    const s = plan.series[(i + round) % plan.series.length];
    let bare;
    let fn;
    if (round % 2 === 0) {
      bare = time(s.bareFile, s.env);
      fn = time(s.handlerFile, s.env);
    } else {
      fn = time(s.handlerFile, s.env);
      bare = time(s.bareFile, s.env);
    }
    if (round >= plan.warmupRuns) {
      samples[s.name].bare.push(bare.ms);
      samples[s.name].fn.push(fn.ms);
      samples[s.name].bareCpu.push(bare.cpuMs);
      samples[s.name].fnCpu.push(fn.cpuMs);
    }
  }
}
process.stdout.write(JSON.stringify(samples));
`;

export function timeColdInits(
  node: string,
  workDir: string,
  runs: number,
  warmupRuns: number,
  plan: { readonly nodeFlags: readonly string[]; readonly series: readonly TimingSeries[] },
): Map<string, TimingSamples> {
  const timer = path.join(workDir, 'loaders', 'timer.cjs');
  const planFile = path.join(workDir, 'loaders', 'timing-plan.json');
  fs.writeFileSync(timer, TIMER_SCRIPT);
  fs.writeFileSync(planFile, JSON.stringify({ node, runs, warmupRuns, ...plan }));
  const output = run(node, [timer, planFile], { PATH: process.env.PATH ?? '' });
  return new Map(Object.entries(JSON.parse(output) as Record<string, TimingSamples>));
}

function run(node: string, args: readonly string[], env: Record<string, string>): string {
  const result = spawnSync(node, args, { env, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`${node} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return result.stdout;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function ratio(value: number, base: number): number {
  return Math.round((value / base) * 100) / 100;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/**
 * The results as a table: per function its bundle, its cold init, the ratio to
 * bare node (information) and, for handlers, its SDK floor and the guard's
 * verdict (≤ {@link TARGET_RATIO_TO_SDK_FLOOR}× the floor).
 */
export function formatResults(
  results: Pick<ColdStartResults, 'coldInit' | 'bundle' | 'sdkFloor'>,
): string {
  const rows = [
    [
      'function',
      'bundle KiB',
      'gzip KiB',
      'cold ms',
      'bare ms',
      '× bare',
      'SDK floor ms',
      '× floor',
      `≤ ${TARGET_RATIO_TO_SDK_FLOOR}×`,
      'CPU × floor',
    ],
  ];
  for (const [name, b] of Object.entries(results.bundle)) {
    const c = results.coldInit[name];
    const f = results.sdkFloor?.[name];
    rows.push([
      name,
      (b.bytes / 1024).toFixed(1),
      (b.gzipBytes / 1024).toFixed(1),
      c ? c.ms.toFixed(1) : '-',
      c ? c.bareNodeMs.toFixed(1) : '-',
      c ? `${c.ratioToBareNode.toFixed(2)}×` : '-',
      f ? f.sdkFloorMs.toFixed(1) : '-',
      f ? `${f.sdkFloorRatio.toFixed(2)}×` : '-',
      f ? (f.met ? 'met' : 'missed') : '-',
      f ? `${f.sdkFloorCpuRatio.toFixed(2)}×` : '-',
    ]);
  }
  const widths = rows[0].map((_h, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))))
    .map((r) => r.join('  '))
    .join('\n');
}

function parseArgs(argv: readonly string[]): ColdStartOptions & { json?: string } {
  const options: ColdStartOptions & { json?: string } = {};
  const mutable = options as Record<string, unknown>;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--runs') mutable.runs = Number(value());
    else if (arg === '--warmup') mutable.warmupRuns = Number(value());
    else if (arg === '--only') mutable.only = value().split(',');
    else if (arg === '--node') mutable.node = value();
    else if (arg === '--work-dir') mutable.workDir = value();
    else if (arg === '--compare-cdk-out') mutable.compareWithCdkOut = value();
    else if (arg === '--no-invoke') mutable.invoke = false;
    else if (arg === '--cpu-prof') mutable.cpuProfiles = Number(value());
    else if (arg === '--references') mutable.references = true;
    else if (arg === '--lambda-flags') {
      mutable.alsoWithNodeFlags = lambdaBootstrapNodeFlags(AUTOHEAL_DEFAULT_MEMORY_MB);
    } else if (arg === '--json') mutable.json = value();
    else throw new Error(`Unknown option ${arg}`);
  }
  return options;
}

if (require.main === module) {
  const { json, ...options } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  measureColdStart(options)
    .then((results) => {
      const node = options.node ?? defaultNode(path.join(__dirname, '..'));
      const runs = options.runs ?? 20;
      console.log(
        `\nCold init on Node ${run(node, ['-p', 'process.version'], {}).trim()}, median of ${runs} ` +
          `fresh processes each, alternating with bare node (${Math.round((Date.now() - started) / 1000)} s); ` +
          `bundles ${HANDLER_BUNDLING.format}, mainFields ${HANDLER_BUNDLING.mainFields.join(',')}\n`,
      );
      const print = (figures: ColdStartFigures) => {
        console.log(formatResults(figures));
        if (figures.withNodeFlags) {
          const flags = figures.withNodeFlags.nodeFlags.join(' ');
          console.log(`\nThe same, every process run with ${flags}:\n`);
          console.log(formatResults({ ...figures.withNodeFlags, bundle: figures.bundle }));
        }
      };
      print(results);
      if (results.references) {
        console.log(
          '\nReferences, bundled the same way, never deployed (what the SDK floors stand on):\n',
        );
        print(results.references);
      }
      // Not bench/results.json: that holds the whole benchmark, which `npm run bench` writes.
      const out = path.resolve(json ?? path.join(__dirname, 'tmp', 'cold-start.json'));
      fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
      console.log(`\nResults: ${path.relative(process.cwd(), out)}`);
    })
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}
