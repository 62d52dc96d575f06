/**
 * The config of an Autoheal function as a file in its asset: the handler's
 * pre-built bundle plus {@link CONFIG_FILE_NAME}, staged into a directory of
 * their own that `lambda.Code.fromAsset` takes.
 *
 * Why a file: Lambda allows 4 KB of environment in all, and a scope of a
 * thousand state machines with two hundred overrides takes some 100 KB of
 * JSON. A file costs nothing at deploy (it is part of the code zip), is read
 * at init with one `readFileSync` (see `scale.coldInitRatio` in
 * bench/scale-config.ts), and changes the code hash, so a new config reaches
 * new execution environments only, like a new environment variable did.
 * Parameter Store or AppConfig would add a call and an IAM grant at init for
 * values that are known at synth.
 *
 * Values only known at deploy (tokens) cannot go into a file written at synth:
 * - an ARN in the stack's own partition, region and account (what
 *   `StateMachine.fromStateMachineName` gives in an environment-agnostic
 *   stack) goes in as a template the handler fills from its
 *   `AUTOHEAL_STATES_ARN_PREFIX`, so any number of them fits;
 * - any other token (a cross-stack reference, the `Ref` of a state machine
 *   defined in the same stack) goes into the `AUTOHEAL_CONFIG_TOKENS`
 *   variable while the list fits {@link MAX_CONFIG_TOKENS_ENV_BYTES};
 *   a longer list is written at deploy into records of the live-healing
 *   clock ({@link ConfigTokenRecord}) and the variable points at them.
 *
 * Staged under the app's output directory (`cdk.out`), named after the
 * content: repeated synths reuse the directory, and nothing is left behind
 * outside the output directory the CDK already owns.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack, Stage, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  CONFIG_FILE_NAME,
  CONFIG_FORMAT,
  CONFIG_PLACEHOLDER,
  ENV,
} from '../../lambda/shared/contract';
import { environmentVariableBytes } from '../limits/template-limits';
import { resourceTypes } from './scoped-grants';
import { statesArnPrefix } from './state-machine-arns';

/**
 * Room in the Lambda environment (4 KB for all variables together) for the
 * config values only known at deploy that are not home-relative ARNs; the
 * other variables of an Autoheal function take under 1.5 KB. Measured as the
 * synth-time limit check measures the environment (each token at its longest,
 * see `TOKEN_BUDGET`): a list that fits here fits there.
 */
export const MAX_CONFIG_TOKENS_ENV_BYTES = 2 * 1024;

/** Directory under the app's output directory where function assets are staged with their config. */
export const CONFIG_ASSET_STAGING_DIR = 'autoheal-config-assets';

/**
 * Config values only known at deploy, written at deploy into records the
 * handlers read at their first event (see `LiveHealingClock.configTokenRecord`).
 */
export interface ConfigTokenRecord {
  /** The values the records hold, in order: the config file names each by its index here. */
  readonly tokens: readonly string[];
  /** The value of `AUTOHEAL_CONFIG_TOKENS` that points a handler at the records (a JSON string token). */
  readonly reference: string;
}

/** Options of {@link stageConfigAsset}. */
export interface StageConfigAssetOptions {
  /**
   * Where the tokens go when they do not fit {@link MAX_CONFIG_TOKENS_ENV_BYTES}.
   * @default - none: too many tokens fail synth
   */
  readonly tokenRecord?: ConfigTokenRecord;
}

/**
 * Bytes `AUTOHEAL_CONFIG_TOKENS` would take in the environment with `tokens`
 * (key and JSON list), each at its longest as the synth-time check counts it.
 */
export function configTokensEnvironmentBytes(scope: Construct, tokens: readonly string[]): number {
  if (tokens.length === 0) return 0;
  const stack = Stack.of(scope);
  return environmentVariableBytes(
    ENV.configTokens,
    stack.resolve(stack.toJsonString(tokens)),
    resourceTypes(stack),
  );
}

/** True when `tokens` may travel in the Lambda environment ({@link MAX_CONFIG_TOKENS_ENV_BYTES}). */
export function configTokensFitEnvironment(scope: Construct, tokens: readonly string[]): boolean {
  return configTokensEnvironmentBytes(scope, tokens) <= MAX_CONFIG_TOKENS_ENV_BYTES;
}

/** What {@link stageConfigAsset} returns. */
export interface StagedConfigAsset {
  /** The directory to give `lambda.Code.fromAsset`: the bundle and its config file. */
  readonly dir: string;
  /** Variables the function needs beside the file (the tokens, the states ARN prefix). */
  readonly environment: Record<string, string>;
  /** The file as written (placeholders and all). */
  readonly file: object;
}

const PSEUDO_CODES: Readonly<Record<string, string>> = {
  'AWS::Partition': 'P',
  'AWS::Region': 'R',
  'AWS::AccountId': 'A',
};

/**
 * The template of `value` when it resolves to a string built only of literals
 * and the stack's partition, region and account: `arn:\u0001P:states:…`.
 */
function homeRelativeTemplate(resolved: unknown): string | undefined {
  if (typeof resolved === 'string') return resolved;
  const join = (resolved as { 'Fn::Join'?: unknown } | null)?.['Fn::Join'];
  if (!Array.isArray(join) || join[0] !== '' || !Array.isArray(join[1])) return undefined;
  let template = '';
  for (const part of join[1] as unknown[]) {
    if (typeof part === 'string') {
      template += part;
      continue;
    }
    const ref = (part as { Ref?: unknown } | null)?.Ref;
    const code = typeof ref === 'string' ? PSEUDO_CODES[ref] : undefined;
    if (!code) return undefined;
    template += `${CONFIG_PLACEHOLDER.pseudo}${code}`;
  }
  return template;
}

/**
 * The sections with their tokens replaced by placeholders, and the tokens
 * that must go into the environment.
 */
function withPlaceholders(
  scope: Construct,
  sections: Readonly<Record<string, unknown>>,
): { sections: unknown; tokens: string[]; homeRelative: boolean } {
  const stack = Stack.of(scope);
  const tokens: string[] = [];
  let homeRelative = false;
  const walk = (value: unknown, at: string): unknown => {
    if (typeof value === 'string') {
      if (!Token.isUnresolved(value)) return value;
      const template = homeRelativeTemplate(stack.resolve(value));
      if (template !== undefined) {
        if (!template.includes(CONFIG_PLACEHOLDER.pseudo)) return template;
        homeRelative = true;
        return `${CONFIG_PLACEHOLDER.homeArn}${template}`;
      }
      tokens.push(value);
      return `${CONFIG_PLACEHOLDER.token}${tokens.length - 1}`;
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${at}[${i}]`));
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(
        Object.entries(value).map(([key, v]) => {
          if (Token.isUnresolved(key)) {
            throw new Error(
              `${at}: a key only known at deploy cannot be written to the config file; name the state machine literally`,
            );
          }
          return [key, walk(v, at === '' ? key : `${at}.${key}`)];
        }),
      );
    }
    return value;
  };
  return { sections: walk(sections, ''), tokens, homeRelative };
}

/** The paths of the config fields holding deploy-time tokens, for the error message. */
function tokenFields(sections: Readonly<Record<string, unknown>>): string[] {
  const found: string[] = [];
  const walk = (value: unknown, at: string) => {
    if (typeof value === 'string' && Token.isUnresolved(value)) found.push(at);
    else if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, `${at}[${i}]`);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, v] of Object.entries(value)) walk(v, at === '' ? key : `${at}.${key}`);
    }
  };
  walk(sections, '');
  return found;
}

/**
 * Stages `bundleDir` plus the config file of `sections` into a directory named
 * after their content, under the app's output directory
 * ({@link CONFIG_ASSET_STAGING_DIR}): the same bundle and config give the same
 * directory, files and asset hash, synth after synth.
 *
 * @param sections normalised config sections by `CONFIG_SECTION` name
 * @throws Error naming the fields when the tokens that are not home-relative
 *   ARNs fit neither the Lambda environment nor `options.tokenRecord`
 * @example
 * ```ts
 * const staged = stageConfigAsset(this, handlerAssetDir('redrive/redrive.handler.ts'), { redrive: config });
 * new lambda.Function(this, 'Fn', { code: lambda.Code.fromAsset(staged.dir), environment: staged.environment, ... });
 * ```
 */
export function stageConfigAsset(
  scope: Construct,
  bundleDir: string,
  sections: Readonly<Record<string, unknown>>,
  options: StageConfigAssetOptions = {},
): StagedConfigAsset {
  const { sections: placed, tokens, homeRelative } = withPlaceholders(scope, sections);
  let written = placed;
  let tokensVariable: string | undefined;
  if (tokens.length > 0) {
    if (configTokensFitEnvironment(scope, tokens)) {
      tokensVariable = Stack.of(scope).toJsonString(tokens);
    } else {
      const record = options.tokenRecord;
      const recordIndex = new Map(record?.tokens.map((token, i) => [token, i]));
      const missing = tokens.filter((token) => !recordIndex.has(token));
      if (!record || missing.length > 0) {
        const fields = tokenFields(sections);
        const shown =
          fields.slice(0, 3).join(', ') + (fields.length > 3 ? `, … (${fields.length})` : '');
        throw new Error(
          `${shown}: ${tokens.length} values only known at deploy (state machines of this stack, or of another stack) ` +
            `take up to ${configTokensEnvironmentBytes(scope, tokens)} bytes of the Lambda environment, which leaves ${MAX_CONFIG_TOKENS_ENV_BYTES}` +
            (record
              ? `, and ${missing.length} of them are not in the scope the live-healing clock records`
              : '') +
            '. Scope such state machines by name (StateMachine.fromStateMachineName) or by name prefix instead.',
        );
      }
      // The file names each token by its index in the records instead.
      written = renumberTokens(placed, (i) => recordIndex.get(tokens[i]) as number);
      tokensVariable = record.reference;
    }
  }
  const file = {
    format: CONFIG_FORMAT,
    ...(tokens.length > 0 || homeRelative ? { placeholders: true } : {}),
    sections: written,
  };
  const json = JSON.stringify(file);

  const bundleFiles = fs.readdirSync(bundleDir).sort();
  const digest = createHash('sha256');
  for (const name of bundleFiles) {
    digest
      .update(name)
      .update('\0')
      .update(fs.readFileSync(path.join(bundleDir, name)));
  }
  digest.update(CONFIG_FILE_NAME).update('\0').update(json);
  // Under the output directory the CDK owns (cdk.out, or the temporary one of an App without
  // outdir): repeated synths of one config reuse the directory, and none leaks into the OS temp dir.
  const root = path.join(stagingOutdir(scope), CONFIG_ASSET_STAGING_DIR);
  const dir = path.join(root, digest.digest('hex').slice(0, 32));
  if (!fs.existsSync(path.join(dir, CONFIG_FILE_NAME))) {
    // Written beside and renamed into place: two synths at once never see half a directory.
    fs.mkdirSync(root, { recursive: true });
    const scratch = fs.mkdtempSync(path.join(root, 'staging-'));
    for (const name of bundleFiles) {
      fs.copyFileSync(path.join(bundleDir, name), path.join(scratch, name));
    }
    fs.writeFileSync(path.join(scratch, CONFIG_FILE_NAME), json);
    try {
      fs.renameSync(scratch, dir);
    } catch {
      // Another synth staged the same content first.
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }

  const environment: Record<string, string> = {};
  if (tokensVariable !== undefined) environment[ENV.configTokens] = tokensVariable;
  if (homeRelative) environment[ENV.statesArnPrefix] = statesArnPrefix(scope);
  return { dir, environment, file };
}

/** The output directory of the scope's stage (the app's, or a nested stage's inside it). */
function stagingOutdir(scope: Construct): string {
  const stage = Stage.of(scope);
  if (!stage) throw new Error(`${scope.node.path}: an Autoheal function must be inside an App`);
  return stage.outdir;
}

/** `sections` with each token placeholder's index mapped by `to`. */
function renumberTokens(sections: unknown, to: (index: number) => number): unknown {
  const marker = CONFIG_PLACEHOLDER.token;
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return value.startsWith(marker)
        ? `${marker}${to(Number(value.slice(marker.length)))}`
        : value;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, walk(v)]));
    }
    return value;
  };
  return walk(sections);
}
