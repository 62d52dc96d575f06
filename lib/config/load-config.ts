import * as fs from 'node:fs';
import type { Node } from 'constructs';
import { type AutohealConfig, parseAutohealConfig } from '../../lambda/shared/autoheal-config';
import { ConfigError } from '../../lambda/shared/errors';

/** CDK context key holding the config as an object (cdk.json) or a JSON string (`-c`). */
export const CONFIG_CONTEXT_KEY = 'autoheal';
/** CDK context key naming a JSON file that holds the config instead. */
export const CONFIG_FILE_CONTEXT_KEY = 'autohealConfigFile';

/**
 * Reads the Autoheal config from CDK context and validates it, failing synth
 * with a message that names the bad field.
 *
 * Precedence: `-c autohealConfigFile=path.json`, then `-c autoheal='{...}'`,
 * then the `autoheal` object in cdk.json.
 *
 * @example
 * ```sh
 * npx cdk deploy -c autoheal='{"redrive":{"stateMachineNamePrefixes":["orders-"]}}'
 * ```
 */
export function loadAutohealConfig(node: Node): AutohealConfig {
  const file: unknown = node.tryGetContext(CONFIG_FILE_CONTEXT_KEY);
  if (typeof file === 'string' && file !== '') {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(
        CONFIG_FILE_CONTEXT_KEY,
        `cannot read ${file}: ${(error as Error).message}`,
      );
    }
    return parseAutohealConfig(parseJson(text, `${CONFIG_FILE_CONTEXT_KEY} (${file})`));
  }
  const value: unknown = node.tryGetContext(CONFIG_CONTEXT_KEY);
  if (value === undefined) {
    throw new ConfigError(
      CONFIG_CONTEXT_KEY,
      'no config: set the "autoheal" context in cdk.json, or pass -c autoheal=JSON or -c autohealConfigFile=PATH',
    );
  }
  return parseAutohealConfig(
    typeof value === 'string' ? parseJson(value, CONFIG_CONTEXT_KEY) : value,
  );
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(field, `must be valid JSON: ${(error as Error).message}`);
  }
}
