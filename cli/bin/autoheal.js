#!/usr/bin/env node
// The `autoheal` bin: runs the CLI bundle that `npm run bundle` builds
// (assets/cli/autoheal.js, see scripts/cli-bundling.ts). Plain JavaScript,
// committed, so the bin exists from a fresh clone; the bundle does not.
const fs = require('node:fs');
const path = require('node:path');

const bundle = path.join(__dirname, '..', '..', 'assets', 'cli', 'autoheal.js');
if (fs.existsSync(bundle)) {
  require(bundle);
} else {
  process.stderr.write(
    `autoheal: the CLI is not built (${path.relative(process.cwd(), bundle) || bundle} is missing): run \`npm run bundle\` in ${path.resolve(__dirname, '..', '..')}\n`,
  );
  process.exitCode = 1;
}
