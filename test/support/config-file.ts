import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Stack, Stage } from 'aws-cdk-lib';
import {
  CONFIG_FILE_NAME,
  CONFIG_FORMAT,
  CONFIG_PLACEHOLDER,
  ENV,
} from '../../lambda/shared/contract';

/**
 * Writes a config file as the construct does (normalised sections by
 * `CONFIG_SECTION` name, in {@link CONFIG_FORMAT}) into a fresh temporary
 * directory, and returns its path: what a test points `AUTOHEAL_CONFIG_FILE` at.
 */
export function writeConfigFile(sections: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autoheal-config-test-'));
  const file = path.join(dir, CONFIG_FILE_NAME);
  fs.writeFileSync(file, JSON.stringify({ format: CONFIG_FORMAT, sections }));
  return file;
}

/** A Lambda function resource of a synthesised template. */
interface FunctionResource {
  readonly Properties: {
    readonly Code?: { readonly S3Key?: unknown };
    readonly Environment?: { readonly Variables?: Record<string, unknown> };
  };
}

/**
 * The config file the construct staged into `fn`'s asset, as written
 * (placeholders and all), read from the cloud assembly of `stack`'s app
 * (synthesised by `Template.fromStack`).
 */
export function stagedConfigFile(
  stack: Stack,
  resource: unknown,
): { format: string; placeholders?: boolean; sections: Record<string, unknown> } {
  const key = (resource as FunctionResource).Properties.Code?.S3Key;
  if (typeof key !== 'string') throw new Error('The function has no asset S3Key');
  const outdir = Stage.of(stack)?.outdir ?? '';
  const file = path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`, CONFIG_FILE_NAME);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** A home-relative ARN template of the file, filled as a handler in `partition`/`region`/`account` does. */
export function fillHomeArn(
  value: string,
  home: { partition: string; region: string; account: string },
): string {
  const codes: Record<string, string> = { P: home.partition, R: home.region, A: home.account };
  return value
    .slice(CONFIG_PLACEHOLDER.homeArn.length)
    .replace(new RegExp(`${CONFIG_PLACEHOLDER.pseudo}([PRA])`, 'g'), (_m, c) => codes[c]);
}

/**
 * The sections of `fn`'s config file as the handler sees them once deployed:
 * home-relative ARNs filled in for `home`, tokens taken from
 * `AUTOHEAL_CONFIG_TOKENS` with each CloudFormation part resolved by `resolvePart`.
 */
export function deployedConfigSections(
  stack: Stack,
  resource: unknown,
  home: { partition: string; region: string; account: string },
  resolvePart: (part: unknown) => string = (part) => {
    throw new Error(`unexpected part ${JSON.stringify(part)}`);
  },
): Record<string, unknown> {
  const fn = resource as FunctionResource;
  const file = stagedConfigFile(stack, fn);
  const tokensValue = fn.Properties.Environment?.Variables?.[ENV.configTokens];
  const tokensJson =
    tokensValue === undefined
      ? '[]'
      : typeof tokensValue === 'string'
        ? tokensValue
        : ((tokensValue as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1] as unknown[])
            .map((part) => (typeof part === 'string' ? part : resolvePart(part)))
            .join('');
  const tokens = JSON.parse(tokensJson) as string[];
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string' && value.startsWith(CONFIG_PLACEHOLDER.homeArn)) {
      return fillHomeArn(value, home);
    }
    if (typeof value === 'string' && value.startsWith(CONFIG_PLACEHOLDER.token)) {
      return tokens[Number(value.slice(CONFIG_PLACEHOLDER.token.length))];
    }
    if (Array.isArray(value)) return value.map(fill);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    }
    return value;
  };
  return fill(file.sections) as Record<string, unknown>;
}
