/**
 * `npm run bundle`: bundles every `lambda/**\/*.handler.ts` into
 * `assets/handlers/<name>/index.js` (see scripts/handler-bundling.ts), the
 * assets the `Autoheal` construct deploys with `Code.fromAsset`, and the
 * operator CLI into `assets/cli/autoheal.js` (see scripts/cli-bundling.ts),
 * which the `autoheal` bin runs.
 */
import * as path from 'node:path';
import { bundleCli } from './cli-bundling';
import { bundleHandlers, HANDLER_ASSETS_DIR, PROJECT_ROOT } from './handler-bundling';

const started = Date.now();
Promise.all([bundleHandlers(), bundleCli()])
  .then(([sources, cli]) => {
    process.stderr.write(
      `Bundled ${sources.map((s) => s.name).join(', ')} into ${path.relative(PROJECT_ROOT, HANDLER_ASSETS_DIR)}/ ` +
        `and the CLI into ${path.relative(PROJECT_ROOT, cli)} ` +
        `in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  })
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
