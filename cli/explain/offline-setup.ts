/**
 * The rule `autoheal explain --event FILE --config FILE` applies with no AWS
 * at all: the config file parsed by the app's own schema, a live-since
 * document from the live-healing clock's own functions, and the home (where
 * name-prefix scope applies) of the event's account and region.
 */
import { readFileSync } from 'node:fs';
import { advanceClock, clockConfigOf, liveSinceDocument } from '../../lambda/redrive/live-healing';
import { parseRedriveConfig } from '../../lambda/shared/config/redrive-schema';
import { CONFIG_FORMAT } from '../../lambda/shared/contract';
import { parseStateMachineArn } from '../../lambda/shared/state-machine-names';
import { CliError } from '../cli-error';
import type { ExplainSetup } from './explain';

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

/**
 * The redrive section of a config file: cdk.json itself (its `autoheal`
 * context), the app's config (`{ "redrive": ... }`), the redrive section alone, or the file
 * the construct writes into the functions' assets (`autoheal-config.json`).
 * Validated by the app's schema: an error names the field.
 */
export function redriveSectionOf(value: unknown, file: string) {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(`The config file ${file} is not a JSON object: give Autoheal's config`);
  }
  const record = value as Record<string, unknown>;
  if (record.format === CONFIG_FORMAT && typeof record.sections === 'object') {
    return parseRedriveConfig((record.sections as Record<string, unknown>).redrive);
  }
  const context = record.context as Record<string, unknown> | undefined;
  if (typeof context?.autoheal === 'object' && context.autoheal !== null) {
    return redriveSectionOf(context.autoheal, file);
  }
  if ('redrive' in record) return parseRedriveConfig(record.redrive);
  return parseRedriveConfig(record);
}

/** Options of {@link offlineSetup}. */
export interface OfflineOptions {
  /** The config file. */
  readonly configFile: string;
  /**
   * Since when every scoped machine has been under live healing, epoch ms.
   * @default 0 (always: the before-live-healing rule then skips nothing)
   */
  readonly liveSince?: number;
  /**
   * Where name-prefix scope applies.
   * @default the home of the event's state machine ARN
   */
  readonly statesArnPrefix?: string;
  /** The event's `detail.stateMachineArn`, if it has one. */
  readonly eventStateMachineArn?: string;
}

/**
 * The rule to explain an event with, offline.
 *
 * @example
 * ```ts
 * const setup = offlineSetup({ configFile: 'autoheal.json', eventStateMachineArn });
 * ```
 */
export function offlineSetup(options: OfflineOptions): ExplainSetup {
  const config = redriveSectionOf(
    readJsonFile(options.configFile, 'config file'),
    options.configFile,
  );
  const clockConfig = clockConfigOf(config);
  const liveSince = liveSinceDocument(
    advanceClock(undefined, clockConfig, options.liveSince ?? 0),
    clockConfig,
  );
  const home = options.eventStateMachineArn
    ? parseStateMachineArn(options.eventStateMachineArn)
    : undefined;
  const statesArnPrefix =
    options.statesArnPrefix ??
    (home ? `arn:${home.partition}:states:${home.region}:${home.account}:` : 'arn:aws:states:::');
  return { config, liveSince, statesArnPrefix };
}
