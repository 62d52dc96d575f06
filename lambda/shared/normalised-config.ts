/**
 * How a handler reads its config section: the JSON the construct wrote, as
 * the synth-time parser normalised it, without validating it again.
 *
 * Safe because (1) the construct writes nothing but the output of
 * `parseAutohealConfig` (less options the handler does not read), (2) a test
 * proves that output is a fixed point of the parser (parsing it again changes
 * nothing, for the default and for rich configs), and (3) the construct writes
 * {@link CONFIG_FORMAT} beside the JSON and this reader refuses any other, so
 * JSON written for another format, or by hand without it, fails at init with
 * one line naming the variable instead of being trusted. Validating again
 * would put zod in every bundle (see `test/unit/handler-bundles.test.ts`).
 */
import { CONFIG_FORMAT, ENV } from './contract';
import { requireEnv } from './errors';

/**
 * Reads the normalised config section in environment variable `name`.
 *
 * @throws Error naming the variable when its format is not {@link CONFIG_FORMAT},
 *   or it is not a JSON object
 * @example
 * ```ts
 * const config = readNormalisedConfig<RedriveHandlerConfig>(ENV.redriveConfig);
 * ```
 */
export function readNormalisedConfig<T extends object>(name: string): T {
  const format = process.env[ENV.configFormat];
  if (format !== CONFIG_FORMAT) {
    throw new Error(
      `${name} cannot be trusted: ${ENV.configFormat} is ${format === undefined ? 'not set' : JSON.stringify(format)}, this handler reads config format "${CONFIG_FORMAT}". ` +
        'Deploy the config with the Autoheal construct of the same version as the handler instead of editing the variable.',
    );
  }
  const text = requireEnv(name);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${name} is not JSON (${(error as Error).message}): deploy the config with the Autoheal construct.`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(
      `${name} must be a JSON object: deploy the config with the Autoheal construct.`,
    );
  }
  return value as T;
}
