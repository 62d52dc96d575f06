import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../../lambda/shared/errors';
import { loadAutohealConfig } from '../../lib/config/load-config';

const ROOT = path.join(__dirname, '..', '..');

describe('loadAutohealConfig', () => {
  it('reads the object in cdk.json context and fills in the defaults', () => {
    // Prepare
    const app = new App({
      context: { autoheal: { redrive: { stateMachineNamePrefixes: ['etl-'] } } },
    });

    // Act
    const config = loadAutohealConfig(app.node);

    // Assess
    expect(config.redrive).toMatchObject({ stateMachineNamePrefixes: ['etl-'], maxRedrives: 3 });
  });

  it('reads a JSON string passed with -c autoheal=...', () => {
    // Prepare
    const app = new App({
      context: { autoheal: '{"redrive":{"stateMachineNamePrefixes":["etl-"],"maxRedrives":7}}' },
    });

    // Act & Assess
    expect(loadAutohealConfig(app.node).redrive?.maxRedrives).toBe(7);
  });

  it('prefers a config file named with -c autohealConfigFile=...', () => {
    // Prepare
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'autoheal-')), 'config.json');
    fs.writeFileSync(file, JSON.stringify({ redrive: { stateMachineNamePrefixes: ['file-'] } }));
    const app = new App({
      context: {
        autohealConfigFile: file,
        autoheal: { redrive: { stateMachineNamePrefixes: ['ctx-'] } },
      },
    });

    // Act & Assess
    expect(loadAutohealConfig(app.node).redrive?.stateMachineNamePrefixes).toEqual(['file-']);
  });

  it.each([
    ['no config at all', {}, 'autoheal', /set the "autoheal" context/],
    ['a string that is not JSON', { autoheal: '{redrive:' }, 'autoheal', /must be valid JSON/],
    [
      'a missing file',
      { autohealConfigFile: '/nonexistent/autoheal.json' },
      'autohealConfigFile',
      /cannot read/,
    ],
    [
      'a bad field',
      { autoheal: { redrive: { stateMachineNamePrefixes: ['etl-'], maxRedrives: 'three' } } },
      'redrive.maxRedrives',
      /must be an integer/,
    ],
  ])('fails on %s, naming the field', (_name, context, field, message) => {
    // Prepare
    const app = new App({ context });

    // Act
    let error: unknown;
    try {
      loadAutohealConfig(app.node);
    } catch (e) {
      error = e;
    }

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ field, message: expect.stringMatching(message) });
  });
});

describe('cdk synth', () => {
  it('fails with a message naming the bad field and what it allows', () => {
    // Prepare
    const badConfig = JSON.stringify({
      redrive: { stateMachineNamePrefixes: ['etl-'], delay: { factor: 0.5 } },
    });

    // Act
    let output = '';
    try {
      execFileSync(
        path.join(ROOT, 'node_modules', '.bin', 'cdk'),
        [
          'synth',
          '--no-notices',
          '-q',
          '-o',
          fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-out-')),
          '-c',
          `autoheal=${badConfig}`,
        ],
        {
          cwd: ROOT,
          encoding: 'utf8',
          stdio: 'pipe',
          env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
        },
      );
    } catch (error) {
      output = `${(error as { stderr: string }).stderr}`;
    }

    // Assess
    expect(output).toContain(
      'Invalid Autoheal config at redrive.delay.factor: must be a number from 1 to 10, got 0.5',
    );
  });
});
