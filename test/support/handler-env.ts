import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENV } from '../../lambda/shared/contract';

/**
 * The environment variables a handler entry point reads with `requireEnv(ENV.x)`,
 * or as its normalised config with `readNormalisedConfig(ENV.x)` (which reads
 * the config format beside it), taken from its source so the test follows the
 * handler, not a copied list.
 */
export function envRequiredBy(handlerEntry: string): string[] {
  const source = fs.readFileSync(path.join(__dirname, '..', '..', 'lambda', handlerEntry), 'utf8');
  const keys = [...source.matchAll(/requireEnv\(ENV\.(\w+)\)/g)].map((m) => m[1]);
  const configs = [...source.matchAll(/readNormalisedConfig<\w+>\(ENV\.(\w+)\)/g)].map((m) => m[1]);
  if (configs.length > 0) keys.push(...configs, 'configFormat');
  if (keys.length === 0) throw new Error(`${handlerEntry} reads no ENV variable with requireEnv`);
  return keys.map((key) => ENV[key as keyof typeof ENV]);
}
