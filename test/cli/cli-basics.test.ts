import { runAutoheal } from '../support/cli-io';

describe('autoheal CLI basics', () => {
  it('suggests the command an operator meant when they mistype it, and exits non-zero', async () => {
    // Act
    const run = await runAutoheal(['redrivee']);

    // Assess
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain("unknown command 'redrivee'");
    expect(run.stderr).toContain('Did you mean redrive?');
  });

  it('lists every command in its help', async () => {
    // Act
    const run = await runAutoheal(['--help']);

    // Assess
    for (const command of ['redrive', 'explain', 'history', 'dlq', 'brake', 'flows']) {
      expect(run.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });
});
