/**
 * The config schema, declared once with zod: the JSON Schema shipped for
 * editors is generated from it and kept current, the default config obeys
 * it, and the keys beside the sections (`environments`, `$schema`) are read
 * with the same one-line, field-named problems.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { parseAutohealConfig } from '../../lambda/shared/autoheal-config';
import { ConfigError, configProblemsOf } from '../../lambda/shared/errors';
import { CONFIG_SCHEMA_FILE, configJsonSchemaText } from '../../scripts/config-schema';

const PROJECT_ROOT = path.join(__dirname, '..', '..');
const DEMO_SCOPE = { stateMachineNamePrefixes: ['autoheal-demo-'] };

function committedSchemaText(): string {
  return fs.readFileSync(path.join(PROJECT_ROOT, CONFIG_SCHEMA_FILE), 'utf8');
}

/** The problem lines of a refused config; fails the test if it was accepted. */
function problemsOf(config: unknown): string[] {
  try {
    parseAutohealConfig(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return configProblemsOf(error).map((problem) => problem.message);
  }
  throw new Error('the config was accepted');
}

describe('the JSON Schema file', () => {
  it('is what the zod schema generates (run `npm run schema` after changing the schema)', () => {
    // Act
    const generated = configJsonSchemaText();

    // Assess: compared as JSON, the file being formatted by biome
    expect(JSON.parse(committedSchemaText())).toEqual(JSON.parse(generated));
  });

  it('accepts the default config of cdk.json by its own rules', () => {
    // Prepare: a validator built from the file alone, not from the zod schema it came from.
    const fromFile = z.fromJSONSchema(JSON.parse(committedSchemaText()));
    const config = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context
      .autoheal;

    // Act
    const result = fromFile.safeParse(config);

    // Assess
    expect(result.error?.issues).toBeUndefined();
  });

  it.each([
    { label: 'an unknown option', config: { redrive: { ...DEMO_SCOPE, maxRedrive: 3 } } },
    { label: 'a value out of range', config: { redrive: { ...DEMO_SCOPE, maxRedrives: 101 } } },
    {
      label: 'a bad account id',
      config: { redrive: DEMO_SCOPE, environments: [{ account: '1', region: 'eu-west-1' }] },
    },
  ])('refuses $label by its own rules, as an editor would', ({ config }) => {
    // Prepare
    const fromFile = z.fromJSONSchema(JSON.parse(committedSchemaText()));

    // Act
    const result = fromFile.safeParse(config);

    // Assess
    expect(result.success).toBe(false);
  });

  it('shows the defaults a user gets', () => {
    // Act
    const schema = JSON.parse(committedSchemaText());

    // Assess
    const redrive = schema.properties.redrive.anyOf[0].properties;
    expect(redrive.maxRedrives.default).toBe(3);
    expect(redrive.statuses.default).toEqual(['FAILED', 'TIMED_OUT']);
    expect(redrive.sweeper.properties.lookbackHours.default).toBe(24);
    expect(redrive.maxRedrives.description).toMatch(/Redrives per execution/);
  });
});

describe('$schema in a config', () => {
  it('is accepted and dropped, so a config file can name the JSON Schema for editors', () => {
    // Act
    const config = parseAutohealConfig({
      $schema: './schema/autoheal-config.schema.json',
      redrive: DEMO_SCOPE,
    });

    // Assess
    expect(Object.keys(config)).toEqual(['redrive', 'notices', 'dashboard']);
  });
});

describe('environments', () => {
  it('reads the accounts and regions to deploy to, beside the sections', () => {
    // Prepare
    const environments = [
      { account: '123456789012', region: 'eu-west-1', name: 'Prod-EU' },
      { account: '123456789012', region: 'us-gov-west-1' },
      { account: '210987654321', region: 'eu-west-1' },
    ];

    // Act
    const config = parseAutohealConfig({ redrive: DEMO_SCOPE, environments });

    // Assess
    expect(config.environments).toEqual(environments);
  });

  it('is absent when not configured', () => {
    // Act
    const config = parseAutohealConfig({ redrive: DEMO_SCOPE });

    // Assess
    expect(config).not.toHaveProperty('environments');
  });

  it.each([
    {
      environments: [{ account: '12345678901', region: 'eu-west-1' }],
      problem: 'environments[0].account: must be a 12-digit AWS account id, got "12345678901"',
    },
    {
      environments: [{ account: '123456789012', region: 'Europe' }],
      problem: 'environments[0].region: must be an AWS region such as "eu-west-1", got "Europe"',
    },
    {
      environments: [{ account: '123456789012', region: 'eu-west-1', name: 'prod eu' }],
      problem:
        'environments[0].name: must be a CDK Stage name: a letter, then letters, digits, "-", "_" and "." (at most 100 characters), got "prod eu"',
    },
    {
      environments: [{ account: '123456789012', region: 'eu-west-1', stage: 'x' }],
      problem: 'environments[0].stage: is not a known option; known options: account, region, name',
    },
    {
      environments: [
        { account: '123456789012', region: 'eu-west-1', name: 'A' },
        { account: '123456789012', region: 'eu-west-1', name: 'B' },
      ],
      problem:
        'environments[1]: deploys to account 123456789012, region eu-west-1, as environments[0] does; list each account and region once',
    },
    {
      environments: { account: '123456789012', region: 'eu-west-1' },
      problem: 'environments: must be an array, got an object',
    },
  ])('refuses $problem', ({ environments, problem }) => {
    // Act
    const problems = problemsOf({ redrive: DEMO_SCOPE, environments });

    // Assess
    expect(problems).toEqual([`Invalid Autoheal config at ${problem}`]);
  });

  it('does not configure anything by itself', () => {
    // Act
    const problems = problemsOf({
      environments: [{ account: '123456789012', region: 'eu-west-1' }],
    });

    // Assess
    expect(problems).toEqual([
      'Invalid Autoheal config at autoheal: configures nothing: add a "redrive" section, an "appflow" section, or both',
    ]);
  });
});
