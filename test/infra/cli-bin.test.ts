/**
 * The `autoheal` bin as an operator runs it: the package.json `bin` entry (the
 * committed shim) running the CLI bundle that `npm run bundle` builds (the
 * infra project's global setup builds it when missing), in a child process.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundleCli, CLI_BUNDLE } from '../../scripts/cli-bundling';
import { PROJECT_ROOT } from '../../scripts/handler-bundling';

const binPath = (): string => {
  const { bin } = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8'));
  return path.join(PROJECT_ROOT, bin.autoheal);
};

/** Runs the bin with `args`, without colour and without AWS settings that could reach AWS. */
function autoheal(args: string[], bin = binPath()) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: os.tmpdir(),
    encoding: 'utf8',
    env: { PATH: process.env.PATH, NO_COLOR: '1', AWS_REGION: 'eu-central-1' },
    timeout: 60_000,
  });
  return { exitCode: result.status, stdout: result.stdout, stderr: result.stderr };
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('the autoheal bin', () => {
  it('runs the bundle of the current source, byte for byte (else run `npm run bundle`)', async () => {
    // Act
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'autoheal-cli-rebundle-'));
    const rebundled = await bundleCli(path.join(scratch, 'autoheal.js'));

    // Assess
    expect({ shipped: sha256(CLI_BUNDLE) }).toEqual({ shipped: sha256(rebundled) });
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('prints its help with every command and exits 0', () => {
    // Act
    const run = autoheal(['--help']);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^Usage: autoheal \[options\] \[command\]/);
    for (const command of ['redrive', 'explain', 'history', 'dlq', 'brake', 'flows']) {
      expect(run.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it.each([
    [['brak'], "error: unknown command 'brak'\n(Did you mean brake?)"],
    [['brake', 'stauts'], "error: unknown command 'stauts'\n(Did you mean status?)"],
  ])('suggests the command meant by %j and exits 1', (args, message) => {
    // Act
    const run = autoheal(args);

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(message);
  });

  it('refuses bad input in one line with exit code 1, offline from the app config, no AWS needed', () => {
    // Prepare
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autoheal-bin-'));
    const config = path.join(dir, 'autoheal.json');
    fs.writeFileSync(
      config,
      JSON.stringify({
        appflow: {
          schedules: [{ name: 'nightly', expression: 'cron(0 2 * * ? *)', flows: ['crm-export'] }],
        },
      }),
    );

    // Act
    const run = autoheal([
      'flows',
      'start',
      'nope',
      '--tick',
      '2026-11-30T02:00:00Z',
      '--config',
      config,
    ]);

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(
      'error: FLOW nope: is in no schedule of the deployed config (appflow.schedules: nightly (crm-export))\n',
    );
  });

  it('says to run npm run bundle when the CLI bundle is missing', () => {
    // Prepare: the shim alone, as in a fresh clone before the build.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'autoheal-clone-'));
    const shim = path.join(root, 'cli', 'bin', 'autoheal.js');
    fs.mkdirSync(path.dirname(shim), { recursive: true });
    fs.copyFileSync(binPath(), shim);

    // Act
    const run = autoheal(['--help'], shim);

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(
      /^autoheal: the CLI is not built \(.*assets\/cli\/autoheal\.js is missing\): run `npm run bundle` in /,
    );
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});
