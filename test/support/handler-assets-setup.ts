/**
 * Global setup of the infra project: the constructs deploy the pre-built
 * handler bundles in `assets/handlers/`, which `npm run build` writes (and
 * `npm test` runs it first). When they are missing, as after a fresh clone and
 * `npx jest`, this bundles them (about a second). It does not rebundle stale
 * ones: the bundling test fails on those and says to run `npm run bundle`,
 * which is how a forgotten rebuild is caught before a package ships. The
 * operator CLI's bundle likewise, when missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleCli, CLI_BUNDLE } from '../../scripts/cli-bundling';
import { bundleHandlers, HANDLER_ASSETS_DIR, handlerSources } from '../../scripts/handler-bundling';

export default async function handlerAssetsSetup(): Promise<void> {
  // The operator CLI's bundle, which the `autoheal` bin runs (test/infra/cli-bin.test.ts).
  if (!fs.existsSync(CLI_BUNDLE)) {
    process.stderr.write('\nBundling the operator CLI (assets/cli/autoheal.js is missing)\n');
    await bundleCli();
  }
  const missing = handlerSources().filter(
    ({ name }) => !fs.existsSync(path.join(HANDLER_ASSETS_DIR, name, 'index.js')),
  );
  if (missing.length === 0) return;
  process.stderr.write(
    `\nBundling the handlers (${missing.map((h) => h.name).join(', ')} not in assets/handlers/)\n`,
  );
  await bundleHandlers();
}
