/**
 * Zod stays out of the Lambda bundles: handlers read the config the construct
 * normalised at synth (lambda/shared/normalised-config.ts) and import only the
 * zod-free config modules, so the schema costs the cold start nothing.
 */
import * as path from 'node:path';
import { build } from 'esbuild';
import { discoverHandlers } from '../../bench/sdk-floor';

const PROJECT_ROOT = path.join(__dirname, '..', '..');

/** Every module esbuild reads to bundle a handler (as the construct does, less the SDK aliases, which touch no config). */
async function bundledModules(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [path.join(PROJECT_ROOT, 'lambda', entry)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    mainFields: ['module', 'main'],
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: PROJECT_ROOT,
  });
  return Object.keys(result.metafile.inputs);
}

describe('handler bundles', () => {
  it.each(discoverHandlers(PROJECT_ROOT).map((h) => [h.entry]))(
    '%s imports no zod and no config schema',
    async (entry) => {
      // Act
      const modules = await bundledModules(entry);

      // Assess
      expect(modules.filter((m) => m.includes('node_modules/zod/'))).toEqual([]);
      expect(modules.filter((m) => /config\/\w+-schema\.ts$|autoheal-config\.ts$/.test(m))).toEqual(
        [],
      );
      expect(modules.some((m) => m.startsWith('lambda/'))).toBe(true);
    },
  );
});
