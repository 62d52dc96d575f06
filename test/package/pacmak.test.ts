/**
 * The jsii bindings: `jsii-pacmak` generates the Python package (code only:
 * building wheels needs PyPI, which this project cannot reach). Needs the
 * jsii assembly `.jsii` that `npm run build` writes (`npm test` runs it).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../support/consumer-app';

/** The version the package builds: the embedded assembly is named after it. */
const packageVersion: string = require('../../package.json').version;

jest.setTimeout(120_000);

describe('jsii-pacmak', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'autoheal-pacmak-'));
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it('generates the Python module cdk_autoheal with the Autoheal construct and the handler bundles', () => {
    // Prepare
    if (!fs.existsSync(path.join(PROJECT_ROOT, '.jsii'))) {
      throw new Error('No jsii assembly (.jsii): run `npm run build` first');
    }

    // Act: npm pack inside pacmak must not run prepack (a second build): the build has run
    execFileSync(
      path.join(PROJECT_ROOT, 'node_modules', '.bin', 'jsii-pacmak'),
      [
        '--code-only',
        '--target',
        'python',
        '--outdir',
        outdir,
        '--no-npmignore',
        '--no-fingerprint',
      ],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, npm_config_ignore_scripts: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );

    // Assess
    const module = path.join(outdir, 'python', 'src', 'cdk_autoheal');
    const source = fs.readFileSync(path.join(module, '__init__.py'), 'utf8');
    expect(source).toMatch(/^class Autoheal\(/m);
    expect(source).toContain('jsii_type="cdk-autoheal.Autoheal"');
    const embedded = fs.readdirSync(path.join(module, '_jsii')).find((f) => f.endsWith('.tgz'));
    expect(embedded).toBe(`cdk-autoheal@${packageVersion}.jsii.tgz`);
    const listing = execFileSync('tar', ['tzf', path.join(module, '_jsii', embedded ?? '')], {
      encoding: 'utf8',
    });
    expect(listing).toContain('package/assets/handlers/redrive/index.js');
  });
});
