/**
 * `npm run bundle`: bundles every `lambda/**\/*.handler.ts` into
 * `assets/handlers/<name>/index.js` (see scripts/handler-bundling.ts), the
 * assets the `Autoheal` construct deploys with `Code.fromAsset`.
 */
import * as path from 'node:path';
import { bundleHandlers, HANDLER_ASSETS_DIR, PROJECT_ROOT } from './handler-bundling';

const started = Date.now();
bundleHandlers()
  .then((sources) => {
    process.stderr.write(
      `Bundled ${sources.map((s) => s.name).join(', ')} into ${path.relative(PROJECT_ROOT, HANDLER_ASSETS_DIR)}/ ` +
        `in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  })
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
