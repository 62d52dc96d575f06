/**
 * parseAutohealConfig reports every independent problem of a config at once,
 * each on its own line naming its field, so a user fixes them in one go.
 */
import { parseAutohealConfig } from '../../lambda/shared/autoheal-config';
import { ConfigError, ConfigErrors, configProblemsOf } from '../../lambda/shared/errors';

const DEMO_SCOPE = { stateMachineNamePrefixes: ['autoheal-demo-'] };
const NIGHTLY = {
  name: 'nightly',
  expression: 'cron(0 3 * * ? *)',
  timeZone: 'Europe/Berlin',
  flows: ['crm-export'],
};

/** Runs the parser and returns the fields of every problem it reported. */
function problemFieldsOf(config: unknown): string[] {
  try {
    parseAutohealConfig(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return configProblemsOf(error).map((problem) => problem.field);
  }
  throw new Error('the config was accepted');
}

describe('parseAutohealConfig with several problems', () => {
  it('reports every bad option of both sections in one error, one line each', () => {
    // Prepare
    const config = {
      redrive: {
        stateMachineNamePrefixes: ['autoheal-demo-', 'bad/prefix', 'also bad'],
        maxRedrive: 5,
        maxRedrives: 'three',
        delay: { factor: 0.5, jitterRatio: 2 },
        errors: { deny: 'States.Runtime' },
        processing: { batchSize: 11 },
        sweeper: { periodMinutes: 4, enabled: 'yes' },
      },
      appflow: {
        schedules: [{ ...NIGHTLY, name: 'has space', flows: [] }],
        maxConcurrentStarts: 0,
        healing: { maxReruns: 11 },
      },
    };

    // Act
    let error: unknown;
    try {
      parseAutohealConfig(config);
    } catch (e) {
      error = e;
    }

    // Assess
    expect(error).toBeInstanceOf(ConfigErrors);
    const problems = configProblemsOf(error as ConfigError);
    expect(problems.map((p) => p.field)).toEqual([
      'redrive.maxRedrive',
      'redrive.stateMachineNamePrefixes[1]',
      'redrive.stateMachineNamePrefixes[2]',
      'redrive.maxRedrives',
      'redrive.errors.deny',
      'redrive.delay.factor',
      'redrive.delay.jitterRatio',
      'redrive.processing.batchSize',
      'redrive.sweeper.enabled',
      'redrive.sweeper.periodMinutes',
      'appflow.schedules[0].flows',
      'appflow.schedules[0].name',
      'appflow.healing.maxReruns',
      'appflow.maxConcurrentStarts',
    ]);
    const lines = (error as Error).message.split('\n');
    expect(lines).toHaveLength(problems.length);
    expect(lines).toContain(
      'Invalid Autoheal config at redrive.delay.factor: must be a number from 1 to 10, got 0.5',
    );
    for (const line of lines) expect(line).toMatch(/^Invalid Autoheal config at \S+: /);
  });

  it.each([
    {
      label: 'capSeconds against a baseSeconds that is itself bad',
      redrive: { ...DEMO_SCOPE, delay: { baseSeconds: 'soon', capSeconds: 30 } },
      fields: ['redrive.delay.baseSeconds'],
    },
    {
      label: 'an empty scope when its only entry is bad',
      redrive: { stateMachineNamePrefixes: ['bad/prefix'] },
      fields: ['redrive.stateMachineNamePrefixes[0]'],
    },
    {
      label: 'an override out of a scope that has a bad entry',
      redrive: {
        stateMachineNamePrefixes: ['bad/prefix'],
        overrides: { 'bad-orders': { maxRedrives: 101 } },
      },
      fields: ['redrive.stateMachineNamePrefixes[0]', 'redrive.overrides.bad-orders.maxRedrives'],
    },
    {
      label: 'the lookback against a period that is itself bad',
      redrive: { ...DEMO_SCOPE, sweeper: { periodMinutes: 4000, lookbackHours: 1 } },
      fields: ['redrive.sweeper.periodMinutes'],
    },
  ])('skips a dependent check: $label', ({ redrive, fields }) => {
    // Act
    const reported = problemFieldsOf({ redrive });

    // Assess
    expect(reported).toEqual(fields);
  });

  it('throws the single ConfigError itself when there is one problem', () => {
    // Act
    const act = () => parseAutohealConfig({ redrive: { ...DEMO_SCOPE, maxRedrives: -1 } });

    // Assess
    expect(act).toThrow(ConfigError);
    expect(act).not.toThrow(ConfigErrors);
  });

  it('leaves a section set to null out on purpose', () => {
    // Act
    const config = parseAutohealConfig({ redrive: DEMO_SCOPE, appflow: null });

    // Assess
    expect(config.appflow).toBeUndefined();
    expect(config.redrive?.stateMachineNamePrefixes).toEqual(['autoheal-demo-']);
  });

  it('refuses a config whose every section is null', () => {
    // Act
    const reported = problemFieldsOf({ redrive: null, appflow: null });

    // Assess
    expect(reported).toEqual(['autoheal']);
  });
});
