/**
 * How a handler reads its config section: the file the construct wrote into
 * the function's asset ({@link CONFIG_FILE_NAME} beside `index.js`), as the
 * synth-time parser normalised it, without validating it again.
 *
 * Safe because (1) the construct writes nothing but the output of
 * `parseAutohealConfig` (less options the handler does not read), (2) a test
 * proves that output is a fixed point of the parser (parsing it again changes
 * nothing, for the default and for rich configs), and (3) the file carries
 * {@link CONFIG_FORMAT} and this reader refuses any other, so a file written
 * for another format, or by hand without it, fails at init with one line
 * naming the file instead of being trusted. Validating again would put zod in
 * every bundle (see `test/unit/handler-bundles.test.ts`).
 *
 * A file, not environment variables: Lambda allows 4 KB of environment in
 * all, a scope of a thousand state machines takes some 100 KB. Values only
 * known at deploy are placeholders ({@link CONFIG_PLACEHOLDER}) filled in
 * here: ARNs in the function's own partition, region and account from
 * {@link ENV.statesArnPrefix}, anything else from the short list in
 * {@link ENV.configTokens}.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CONFIG_FILE_NAME,
  CONFIG_FORMAT,
  CONFIG_PLACEHOLDER,
  type ConfigTokenReference,
  ENV,
} from './contract';
import { requireEnv } from './errors';

/** The config file as the construct writes it. */
export interface ConfigFile {
  /** {@link CONFIG_FORMAT} of the file. */
  readonly format: string;
  /** Normalised sections by {@link CONFIG_SECTION} name. */
  readonly sections: Readonly<Record<string, unknown>>;
  /** True when some string values are placeholders to fill in at init. */
  readonly placeholders?: boolean;
}

/** Where the handler's config file is: {@link ENV.configFile}, else beside the bundle. */
export function configFilePath(): string {
  return process.env[ENV.configFile] || path.join(__dirname, CONFIG_FILE_NAME);
}

/** The pseudo parameters of the function's stack, from `arn:PARTITION:states:REGION:ACCOUNT:`. */
function homeValues(env: NodeJS.ProcessEnv): Record<string, string> {
  const [, partition, , region, account] = envValue(env, ENV.statesArnPrefix).split(':');
  return { P: partition, R: region, A: account };
}

/** {@link requireEnv} for the handler's own environment, the same message for another's. */
function envValue(env: NodeJS.ProcessEnv, name: string): string {
  if (env === process.env) return requireEnv(name);
  const value = env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `The function's environment has no ${name}: deploy it with the Autoheal construct.`,
    );
  }
  return value;
}

/** `s` as it appears in JSON text: the control characters of the markers are escaped. */
const inJson = (s: string): string => JSON.stringify(s).slice(1, -1).replaceAll('\\', '\\\\');

// A marker not preceded by a backslash: `\\u0000` in the text is an escaped
// backslash followed by "u0000", not the marker (no config value holds one anyway).
const HOME_ARN = new RegExp(`(?<!\\\\)${inJson(CONFIG_PLACEHOLDER.homeArn)}`, 'g');
const PSEUDO = new RegExp(`(?<!\\\\)${inJson(CONFIG_PLACEHOLDER.pseudo)}([PRA])`, 'g');
const TOKEN = new RegExp(`"${inJson(CONFIG_PLACEHOLDER.token)}(\\d+)"`, 'g');
const ANY_MARKER = inJson(CONFIG_PLACEHOLDER.placeholder);

/**
 * The file's text with its placeholders filled in. Replacing in the text
 * rather than with a `JSON.parse` reviver: for 1,000 templated ARNs a reviver
 * costs some 3 ms of cold init, three replacements some 0.3 ms.
 */
function fillPlaceholders(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv,
  recordTokens?: readonly string[],
): string {
  let home: Record<string, string> | undefined;
  let tokens: readonly unknown[] | undefined = recordTokens;
  const filled = text
    .replace(HOME_ARN, '')
    .replace(PSEUDO, (_m, code: string) => {
      home ??= homeValues(env);
      return home[code];
    })
    .replace(TOKEN, (_m, index: string) => {
      tokens ??= JSON.parse(envValue(env, ENV.configTokens)) as unknown[];
      const value = Array.isArray(tokens) ? tokens[Number(index)] : undefined;
      if (typeof value !== 'string') {
        throw new Error(
          `${ENV.configTokens} has no value ${index} for the config file ${file}: deploy the config with the Autoheal construct.`,
        );
      }
      return JSON.stringify(value);
    });
  if (filled.includes(ANY_MARKER)) {
    throw new Error(
      `The config file ${file} holds an unknown placeholder: deploy the config with the Autoheal construct of the same version as the handler.`,
    );
  }
  return filled;
}

/** The config file, read and filled in (a handler reads it once, at init). */
function readConfigFile(recordTokens?: readonly string[]): ConfigFile {
  const file = configFilePath();
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `The config file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): deploy the function with the Autoheal construct, or set ${ENV.configFile}.`,
    );
  }
  return parseConfigFileText(text, file, process.env, recordTokens);
}

/**
 * A config file's text, filled in as the function whose environment is `env`
 * fills it in, and checked as the handler checks it. The handler reads its
 * own file with its own environment; the operator CLI reads a deployed
 * function's file (from its code zip) with that function's environment.
 *
 * @param file what to call the file in errors
 * @param env the function's environment (its ARN prefix and config tokens)
 * @param recordTokens the config tokens read from the clock's records, when the environment points there
 * @throws Error naming the file when it is not JSON or its format is not {@link CONFIG_FORMAT}
 * @example
 * ```ts
 * const content = parseConfigFileText(text, 'autoheal-config.json', configuration.Environment.Variables);
 * const redrive = configSectionOf<RedriveHandlerConfig>(content, CONFIG_SECTION.redrive, file);
 * ```
 */
export function parseConfigFileText(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv,
  recordTokens?: readonly string[],
): ConfigFile {
  let content: ConfigFile;
  try {
    // The placeholders flag is near the start of the file: no filling unless needed.
    content = JSON.parse(
      text.includes('"placeholders":true') ? fillPlaceholders(text, file, env, recordTokens) : text,
    ) as ConfigFile;
  } catch (error) {
    throw new Error(
      `The config file ${file} is not JSON (${(error as Error).message.split('\n')[0]}): deploy the config with the Autoheal construct.`,
    );
  }
  if (content?.format !== CONFIG_FORMAT) {
    throw new Error(
      `The config file ${file} cannot be trusted: its format is ${content?.format === undefined ? 'not set' : JSON.stringify(content.format)}, this handler reads config format "${CONFIG_FORMAT}". ` +
        'Deploy the config with the Autoheal construct of the same version as the handler instead of editing the file.',
    );
  }
  return content;
}

/**
 * The normalised config section `section` of a parsed file, or undefined when it has none.
 *
 * @throws Error naming the file when the section is there but not a JSON object
 * @example
 * ```ts
 * const appflow = configSectionOf<AppflowHandlerConfig>(content, CONFIG_SECTION.appflow, file);
 * ```
 */
export function configSectionOf<T extends object>(
  content: ConfigFile,
  section: string,
  file: string,
): T | undefined {
  const value = content.sections?.[section];
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(
      `The config file ${file} has a ${section} section that is not a JSON object: deploy the config with the Autoheal construct.`,
    );
  }
  return value as T;
}

/**
 * Reads the normalised config section `section` ({@link CONFIG_SECTION}) from
 * the function's config file.
 *
 * @throws Error naming the file when it cannot be read, its format is not
 *   {@link CONFIG_FORMAT}, or the section is not a JSON object
 * @example
 * ```ts
 * const config = readNormalisedConfig<RedriveHandlerConfig>(CONFIG_SECTION.redrive);
 * ```
 */
export function readNormalisedConfig<T extends object>(
  section: string,
  recordTokens?: readonly string[],
): T {
  const content = readConfigFile(recordTokens);
  const value = content.sections?.[section];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(
      `The config file ${configFilePath()} has no ${section} section as a JSON object: deploy the config with the Autoheal construct.`,
    );
  }
  return value as T;
}

/**
 * Reads the normalised config section `section` like {@link readNormalisedConfig},
 * or undefined when the file has no such section (a file written before the
 * section existed: the caller's defaults apply).
 *
 * @throws Error naming the file when it cannot be read, its format is not
 *   {@link CONFIG_FORMAT}, or the section is there but not a JSON object
 * @example
 * ```ts
 * const notices = readOptionalNormalisedConfig<DigestOptions>(CONFIG_SECTION.notices) ?? DEFAULT_DIGEST_OPTIONS;
 * ```
 */
export function readOptionalNormalisedConfig<T extends object>(section: string): T | undefined {
  const value = readConfigFile().sections?.[section];
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(
      `The config file ${configFilePath()} has a ${section} section that is not a JSON object: deploy the config with the Autoheal construct.`,
    );
  }
  return value as T;
}

/**
 * Reads {@link ENV.configTokens} as a {@link ConfigTokenReference} (the values
 * are in the live-healing clock's records), or undefined when it is a list of
 * values, or unset.
 *
 * @throws Error naming the variable when it is neither
 */
export function configTokenReference(
  json: string | undefined = process.env[ENV.configTokens],
): ConfigTokenReference | undefined {
  if (!json) return undefined;
  const raw = JSON.parse(json) as Partial<ConfigTokenReference> | unknown[];
  if (Array.isArray(raw)) return undefined;
  if (
    typeof raw?.record !== 'string' ||
    !Array.isArray(raw.parts) ||
    !raw.parts.every((part) => typeof part === 'string')
  ) {
    throw new Error(
      `${ENV.configTokens}: neither a list of values nor a reference to the live-healing clock's records`,
    );
  }
  return { record: raw.record, parts: raw.parts };
}

/** A handler's config section: at once, or once its values only known at deploy are read. */
export type NormalisedConfigSource<T> =
  | { readonly config: T }
  | { readonly load: () => Promise<T> };

/**
 * The config section `section`: read at once (at init) when its values only
 * known at deploy, if any, are in the environment, as always for small
 * scopes; otherwise a loader that reads them from the clock's records with
 * `readTokens` (at the handler's first event), then the file.
 *
 * @example
 * ```ts
 * const source = normalisedConfigSource<RedriveHandlerConfig>(CONFIG_SECTION.redrive, (reference) =>
 *   readConfigTokens({ dynamodb, tableName }, reference),
 * );
 * ```
 */
export function normalisedConfigSource<T extends object>(
  section: string,
  readTokens: (reference: ConfigTokenReference) => Promise<string[]>,
): NormalisedConfigSource<T> {
  const reference = configTokenReference();
  if (!reference) return { config: readNormalisedConfig<T>(section) };
  return {
    load: async () => readNormalisedConfig<T>(section, await readTokens(reference)),
  };
}
