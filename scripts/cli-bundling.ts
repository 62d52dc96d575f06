/**
 * How the operator CLI is bundled: `cli/main.ts` and everything it uses (the
 * SDK clients, commander, the runtime's shared code) into one CommonJS file,
 * `assets/cli/autoheal.js`, which the committed bin shim
 * (`cli/bin/autoheal.js`) runs. Written by `npm run bundle` beside the handler
 * bundles, and shipped in the package (`files`), so `npx autoheal` works for a
 * consumer without TypeScript or the CLI's dev dependencies.
 *
 * Unlike the handlers (scripts/handler-bundling.ts), the CLI keeps the SDK's
 * full credential chain (profiles, SSO, the container and instance
 * providers): an operator's machine is not a Lambda environment. Not minified:
 * `--debug` prints stack traces an operator can read, and a CLI starts once
 * per command, not once per cold start.
 */
import * as path from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { LAMBDA_NODE_MAJOR } from '../lambda/shared/contract';
import { PROJECT_ROOT } from './handler-bundling';

/** The CLI bundle the bin shim runs. */
export const CLI_BUNDLE = path.join(PROJECT_ROOT, 'assets', 'cli', 'autoheal.js');

/** The CLI's entry: runs the CLI on the process's streams. */
export const CLI_ENTRY = 'cli/main.ts';

/** The esbuild options of the CLI bundle. */
export const CLI_BUNDLING = {
  bundle: true,
  platform: 'node',
  // The SDK's ES modules, tree-shaken (see handler-bundling.ts).
  mainFields: ['module', 'main'],
  format: 'cjs',
  target: `node${LAMBDA_NODE_MAJOR}`,
  minify: false,
  sourcemap: false,
  logLevel: 'warning',
} as const satisfies BuildOptions;

/**
 * Bundles the CLI into {@link CLI_BUNDLE} (or `outFile`).
 *
 * @example
 * ```ts
 * await bundleCli();
 * ```
 */
export async function bundleCli(outFile = CLI_BUNDLE): Promise<string> {
  const result = await build({
    ...CLI_BUNDLING,
    mainFields: [...CLI_BUNDLING.mainFields],
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [CLI_ENTRY],
    outfile: outFile,
  });
  if (result.errors.length > 0) throw new Error(`esbuild failed on ${CLI_ENTRY}`);
  return outFile;
}
