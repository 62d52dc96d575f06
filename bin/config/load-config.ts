import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Node } from 'constructs';
import {
  type AutohealConfig,
  CONFIG_SECTIONS,
  parseAutohealConfig,
} from '../../lambda/shared/autoheal-config';
import { ConfigError, ConfigErrors } from '../../lambda/shared/errors';

/** CDK context key holding the config as an object (cdk.json) or a JSON string (`-c`). */
export const CONFIG_CONTEXT_KEY = 'autoheal';
/** CDK context key naming a JSON file that holds the config instead. */
export const CONFIG_FILE_CONTEXT_KEY = 'autohealConfigFile';
/** Every context key Autoheal reads. */
export const AUTOHEAL_CONTEXT_KEYS: readonly string[] = [
  CONFIG_CONTEXT_KEY,
  CONFIG_FILE_CONTEXT_KEY,
];

/** What a deploy would remove with each section: said when a given config leaves one out. */
const SECTION_RESOURCES: Record<(typeof CONFIG_SECTIONS)[number], string> = {
  redrive: 'auto-redrive of Step Functions executions',
  appflow: 'the AppFlow schedules and flow healing',
  operators: 'the operators allowed to replay dead-letter queues',
  notices: 'the notice digest settings (they would fall back to their defaults)',
  dashboard: 'the dashboard settings (they would fall back to their defaults)',
};

/** How {@link loadAutohealConfig} finds the project's own config. */
export interface LoadAutohealConfigOptions {
  /**
   * The project's cdk.json. When the config comes from `-c autoheal=JSON` or
   * `-c autohealConfigFile=PATH`, each section configured in this file's
   * `context.autoheal` must be in the given config too, or be set to `null`
   * there to remove it on purpose. A missing file checks nothing.
   * @default 'cdk.json' in the working directory (where the CDK CLI runs the app)
   */
  readonly cdkJsonPath?: string;
}

/**
 * Reads the Autoheal config from CDK context and validates it, failing synth
 * with one line per problem, each naming its field.
 *
 * Precedence: `-c autohealConfigFile=path.json`, then `-c autoheal='{...}'`,
 * then the `autoheal` object in cdk.json. It refuses what would silently
 * deploy another config than the user meant: an empty `autoheal` or
 * `autohealConfigFile` (an unset variable in CI), a context key that looks
 * like a misspelt Autoheal key (`autoheall`, `autohealConfig`), and a given
 * config that leaves out a section cdk.json configures.
 *
 * @throws {ConfigError} naming the key or field; a {@link ConfigErrors} when there are several
 * @example
 * ```sh
 * npx cdk deploy -c autoheal='{"redrive":{"stateMachineNamePrefixes":["orders-"]},"appflow":null}'
 * ```
 */
export function loadAutohealConfig(
  node: Node,
  options: LoadAutohealConfigOptions = {},
): AutohealConfig {
  refuseMisspeltKeys(node);
  const cdkJsonPath = path.resolve(options.cdkJsonPath ?? 'cdk.json');
  const file: unknown = node.tryGetContext(CONFIG_FILE_CONTEXT_KEY);
  if (file !== undefined) {
    if (typeof file !== 'string' || file.trim() === '') {
      throw new ConfigError(
        CONFIG_FILE_CONTEXT_KEY,
        `is empty (an unset variable?): name a JSON file, or leave -c ${CONFIG_FILE_CONTEXT_KEY} out to use the "autoheal" context`,
      );
    }
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(
        CONFIG_FILE_CONTEXT_KEY,
        `cannot read ${file}: ${(error as Error).message}`,
      );
    }
    const raw = parseJson(text, `${CONFIG_FILE_CONTEXT_KEY} (${file})`);
    refuseDroppedSections(raw, `-c ${CONFIG_FILE_CONTEXT_KEY}=${file}`, cdkJsonPath);
    return parseAutohealConfig(raw);
  }
  const value: unknown = node.tryGetContext(CONFIG_CONTEXT_KEY);
  if (value === undefined) {
    throw new ConfigError(
      CONFIG_CONTEXT_KEY,
      'no config: set the "autoheal" context in cdk.json, or pass -c autoheal=JSON or -c autohealConfigFile=PATH',
    );
  }
  if (typeof value !== 'string') return parseAutohealConfig(value);
  // A string is a config given on the command line (cdk.json holds an object).
  if (value.trim() === '') {
    throw new ConfigError(
      CONFIG_CONTEXT_KEY,
      'is empty (an unset variable?): pass the config as JSON, or leave -c autoheal out to use cdk.json',
    );
  }
  const raw = parseJson(value, CONFIG_CONTEXT_KEY);
  refuseDroppedSections(raw, `-c ${CONFIG_CONTEXT_KEY}`, cdkJsonPath);
  return parseAutohealConfig(raw);
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(field, `must be valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Refuses every context key that looks like an Autoheal key but is not one:
 * otherwise `-c autoheall=…` is ignored and cdk.json's config deployed.
 * A key looks like one when it starts with `autoheal` (any case) or is at
 * most two edits from a known key. The suggestion follows the value: JSON
 * was meant for `autoheal`, anything else (a path) for `autohealConfigFile`.
 * CDK's own keys (`@aws-cdk/…`, `aws:cdk:…`, `cli-telemetry`) are far from both.
 */
function refuseMisspeltKeys(node: Node): void {
  const context: Record<string, unknown> = node.getAllContext();
  const problems = Object.entries(context)
    .filter(([key]) => !AUTOHEAL_CONTEXT_KEYS.includes(key))
    .filter(
      ([key]) =>
        key.toLowerCase().startsWith(CONFIG_CONTEXT_KEY) ||
        AUTOHEAL_CONTEXT_KEYS.some((known) => editDistance(key, known) <= 2),
    )
    .map(([key, value]) => {
      // The value says which was meant: JSON is a config, anything else a file's path.
      const meant =
        typeof value === 'object' || /^\s*[{[]/.test(String(value))
          ? CONFIG_CONTEXT_KEY
          : CONFIG_FILE_CONTEXT_KEY;
      return new ConfigError(
        `context.${key}`,
        `is not a context key Autoheal reads; did you mean ${meant}? Autoheal reads ${CONFIG_CONTEXT_KEY} (the config as JSON) and ${CONFIG_FILE_CONTEXT_KEY} (a JSON file's path)`,
      );
    });
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) throw new ConfigErrors(problems);
}

/**
 * Optimal string alignment distance (insertions, deletions, substitutions and
 * adjacent swaps, case-insensitive). Hand-written: 15 lines for one synth-time
 * hint do not warrant a dependency.
 */
function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) =>
    Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[s.length][t.length];
}

/**
 * A config given with `-c` replaces cdk.json's config as a whole. Deployed over
 * a stack built from cdk.json, a section it leaves out would be deleted (its
 * schedules, queues and functions). So each section cdk.json configures must be
 * in the given config, or set to `null` there to remove it on purpose.
 */
function refuseDroppedSections(given: unknown, source: string, cdkJsonPath: string): void {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) return;
  const projectConfig = readProjectConfig(cdkJsonPath);
  if (!projectConfig) return;
  const givenSections = given as Record<string, unknown>;
  const problems = CONFIG_SECTIONS.filter(
    (section) => projectConfig[section] != null && givenSections[section] === undefined,
  ).map(
    (section) =>
      new ConfigError(
        `autoheal.${section}`,
        `is configured in ${path.basename(cdkJsonPath)} but missing from the config given with ${source}, so a deploy would remove ${SECTION_RESOURCES[section]}; add the section, or set "${section}": null to remove it on purpose`,
      ),
  );
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) throw new ConfigErrors(problems);
}

/** cdk.json's `context.autoheal` as an object, or undefined when there is none to compare with. */
function readProjectConfig(cdkJsonPath: string): Record<string, unknown> | undefined {
  let cdkJson: unknown;
  try {
    cdkJson = JSON.parse(fs.readFileSync(cdkJsonPath, 'utf8'));
  } catch {
    // No cdk.json (an app run from elsewhere) or one the CDK CLI already refuses.
    return undefined;
  }
  const config = (cdkJson as { context?: Record<string, unknown> } | null)?.context?.[
    CONFIG_CONTEXT_KEY
  ];
  return typeof config === 'object' && config !== null && !Array.isArray(config)
    ? (config as Record<string, unknown>)
    : undefined;
}
