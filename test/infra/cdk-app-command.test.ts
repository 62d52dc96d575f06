import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as cxapi from 'aws-cdk-lib/cx-api';

const ROOT = path.join(__dirname, '..', '..');
const cdkJson = require('../../cdk.json');

/** PATH as a shell outside npm has it: no project's node_modules/.bin. */
function pathWithoutProjectBins(): string {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => !dir.split(path.sep).includes('node_modules'))
    .join(path.delimiter);
}

describe('cdk.json', () => {
  it('sets every feature flag aws-cdk-lib recommends for a new app, so synth does not ask a newcomer to act', () => {
    // Prepare
    const recommended = Object.keys(require('aws-cdk-lib/recommended-feature-flags.json'));

    // Act
    const unset = recommended.filter((flag) => !(flag in cdkJson.context));

    // Assess
    expect(unset).toEqual([]);
  });

  it('runs from the project directory with no node_modules/.bin on PATH, as a globally installed cdk starts it', () => {
    // Prepare: what the CLI hands the app (its context and output directory); no bundling, the template is enough
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-out-'));
    const env = {
      ...process.env,
      PATH: pathWithoutProjectBins(),
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJson.context, [cxapi.BUNDLING_STACKS]: [] }),
    };

    // Act
    execSync(cdkJson.app, { cwd: ROOT, env, stdio: 'pipe', shell: '/bin/sh' });

    // Assess
    const template = JSON.parse(
      fs.readFileSync(path.join(outdir, 'Autoheal.template.json'), 'utf8'),
    );
    expect(template.Resources).toEqual(
      expect.objectContaining({ IdempotencyTable48612DF4: expect.anything() }),
    );
  });
});
