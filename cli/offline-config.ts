/**
 * The config for working offline (`--config FILE`): one reader for every
 * command, so the file means the same to `explain --event` as to any other.
 * Accepts cdk.json itself (its `autoheal` context), the app's config
 * (`{ "redrive": …, "appflow": … }`), the redrive section alone, or the file the
 * construct writes into a function's asset (`autoheal-config.json`), and
 * validates it with the app's schema, so an error names the field.
 */
import { readFileSync } from 'node:fs';
import type { AutohealConfig } from '../lambda/shared/autoheal-config';
import { parseAutohealConfig } from '../lambda/shared/config/autoheal-schema';
import { CONFIG_FORMAT } from '../lambda/shared/contract';
import { CliError } from './cli-error';

/** Reads a text file, or fails with one line naming it. */
export function readTextFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(
      `Cannot read the ${what} ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): give a readable file`,
    );
  }
}

/** Reads a JSON file, or fails with one line naming it. */
export function readJsonFile(file: string, what: string): unknown {
  const text = readTextFile(file, what);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(
      `The ${what} ${file} is not JSON (${(error as Error).message.split('\n')[0]}): give a JSON file`,
    );
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The Autoheal config a parsed file holds, in any of the accepted shapes. */
export function autohealConfigOf(value: unknown, file: string): AutohealConfig {
  if (!isObject(value)) {
    throw new CliError(`The --config file ${file} is not a JSON object: give Autoheal's config`);
  }
  if (value.format === CONFIG_FORMAT && isObject(value.sections)) {
    return parseAutohealConfig(value.sections);
  }
  if (isObject(value.context) && isObject(value.context.autoheal)) {
    return parseAutohealConfig(value.context.autoheal);
  }
  if ('redrive' in value || 'appflow' in value) return parseAutohealConfig(value);
  return parseAutohealConfig({ redrive: value });
}

/**
 * Reads the config file of `--config`.
 *
 * @throws {CliError} when the file cannot be read or is not a JSON object
 * @throws {ConfigError} naming the field, when the config is not valid
 * @example
 * ```ts
 * const { redrive } = readOfflineConfig('cdk.json');
 * ```
 */
export function readOfflineConfig(file: string): AutohealConfig {
  return autohealConfigOf(readJsonFile(file, '--config file'), file);
}
