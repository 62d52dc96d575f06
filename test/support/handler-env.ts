import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENV } from '../../lambda/shared/contract';

/**
 * The environment variables a handler entry point reads with `requireEnv(ENV.x)`,
 * taken from its source so the test follows the handler, not a copied list
 * (its config comes from the file in its asset, not the environment).
 */
export function envRequiredBy(handlerEntry: string): string[] {
  const source = fs.readFileSync(path.join(__dirname, '..', '..', 'lambda', handlerEntry), 'utf8');
  const keys = [...source.matchAll(/requireEnv\(ENV\.(\w+)\)/g)].map((m) => m[1]);
  if (keys.length === 0) throw new Error(`${handlerEntry} reads no ENV variable with requireEnv`);
  return keys.map((key) => ENV[key as keyof typeof ENV]);
}
