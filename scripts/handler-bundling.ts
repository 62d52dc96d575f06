/**
 * How every Autoheal handler is bundled: the one place of the esbuild settings,
 * used by `npm run bundle` (scripts/bundle-handlers.ts), the stale-bundle test
 * and the cold-start benchmark (bench/cold-start.ts), so the measured and
 * tested file is the shipped file. Build time only: the library never imports
 * this module (a consumer's synth runs no esbuild; it stages
 * `assets/handlers/<name>/` as it is).
 *
 * The settings are those the app used with `NodejsFunction` before the
 * handlers were pre-bundled (issue 12), passed to esbuild's JS API instead of
 * its CLI:
 *
 * - The SDK and Powertools are bundled, not taken from the runtime: the tested
 *   version is the deployed version, Powertools needs a matching SDK, and the
 *   runtime's SDK loads its untree-shaken CommonJS build, which starts slower.
 * - `mainFields: module, main` makes esbuild read the ES modules of the SDK
 *   (`dist-es`) instead of its CommonJS build (`dist-cjs`, esbuild's default
 *   on `platform: node`). Only ES modules can be tree-shaken, so only the
 *   commands and serde code the handlers use are bundled: about 40 % fewer
 *   bytes and a third less cold init time.
 * - CommonJS output, not ESM: an ES module importing `node:http` makes Node
 *   build that builtin's ESM facade, which reads every export, including the
 *   lazy `WebSocket`/`MessageEvent` getters that load undici; that costs about
 *   20 ms per cold start, and nothing else in a single-file ESM bundle wins it
 *   back. A CommonJS `require('http')` does not touch those getters.
 * - Minified, no source map, `keepNames` off: less to read and parse. No
 *   source map and no metafile also keep absolute paths out of the output.
 * - Two SDK modules are replaced by the files in `lambda/shared/bundling/`:
 *   the default credential chain by its first link (the environment, which is
 *   where Lambda puts the role's credentials), and the event-stream serde,
 *   which none of the called operations use. Both are loaded with dynamic
 *   `import()`, which makes esbuild wrap hundreds of SDK modules in lazy
 *   initialisers: about 10-13 ms of every cold start and 140 KiB of bundle.
 * - esbuild logs warnings and errors only.
 * - Deterministic: esbuild writes no timestamps, and with `absWorkingDir` at
 *   the project root and no source map or comments, no path of this machine
 *   ends up in a bundle, so the same sources give the same bytes (and the same
 *   CDK asset hash) on any machine.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { LAMBDA_NODE_MAJOR } from '../lambda/shared/contract';

/** The repository root (this file lives in scripts/). */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** What marks a Lambda entry point under `lambda/`. */
export const HANDLER_SUFFIX = '.handler.ts';

/** Where `npm run bundle` writes `<name>/index.js`, shipped in the package (`files`). */
export const HANDLER_ASSETS_DIR = path.join(PROJECT_ROOT, 'assets', 'handlers');

/** The esbuild options of every handler bundle, apart from entry and output. */
export const HANDLER_BUNDLING = {
  bundle: true,
  platform: 'node',
  external: [],
  mainFields: ['module', 'main'],
  format: 'cjs',
  target: `node${LAMBDA_NODE_MAJOR}`,
  minify: true,
  sourcemap: false,
  keepNames: false,
  logLevel: 'warning',
  alias: {
    '@aws-sdk/credential-provider-node': './lambda/shared/bundling/env-credentials.ts',
    '@smithy/core/event-streams': './lambda/shared/bundling/no-event-streams.ts',
  },
} as const satisfies BuildOptions;

/** A handler entry: its asset name (the file name before `.handler.ts`) and its file under `lambda/`. */
export interface HandlerSource {
  /** e.g. `flow-starter`: the directory under `assets/handlers/`. */
  readonly name: string;
  /** e.g. `appflow/flow-starter.handler.ts`, as `AutohealFunction` takes it. */
  readonly entry: string;
}

/** Every `*.handler.ts` under `lambda/`, sorted; refuses two handlers with the same file name. */
export function handlerSources(projectRoot = PROJECT_ROOT): HandlerSource[] {
  const sources = fs
    .readdirSync(path.join(projectRoot, 'lambda'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith(HANDLER_SUFFIX))
    .map((file) => file.split(path.sep).join('/'))
    .sort()
    .map((entry) => ({ name: path.posix.basename(entry, HANDLER_SUFFIX), entry }));
  const seen = new Set<string>();
  for (const { name, entry } of sources) {
    if (seen.has(name)) throw new Error(`Two handlers are named ${name} (${entry}): rename one`);
    seen.add(name);
  }
  return sources;
}

/**
 * Bundles one entry file (absolute, or relative to the project root) into
 * `outFile` with {@link HANDLER_BUNDLING}.
 */
export async function bundleEntry(entryFile: string, outFile: string): Promise<void> {
  const result = await build({
    ...HANDLER_BUNDLING,
    external: [...HANDLER_BUNDLING.external],
    mainFields: [...HANDLER_BUNDLING.mainFields],
    alias: { ...HANDLER_BUNDLING.alias },
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [entryFile],
    outfile: outFile,
  });
  if (result.errors.length > 0) throw new Error(`esbuild failed on ${entryFile}`);
}

/**
 * Bundles every handler into `<outDir>/<name>/index.js`, replacing what was
 * there. Returns the handlers bundled.
 */
export async function bundleHandlers(outDir = HANDLER_ASSETS_DIR): Promise<HandlerSource[]> {
  const sources = handlerSources();
  fs.rmSync(outDir, { recursive: true, force: true });
  await Promise.all(
    sources.map(({ name, entry }) =>
      bundleEntry(path.join('lambda', entry), path.join(outDir, name, 'index.js')),
    ),
  );
  return sources;
}
