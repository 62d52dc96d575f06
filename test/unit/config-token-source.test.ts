/**
 * Where a handler gets its config's values only known at deploy: from
 * `AUTOHEAL_CONFIG_TOKENS` at init when they are listed there (small scopes,
 * as always), or from the live-healing clock's records at the first event
 * when the variable is a reference to them.
 */
import * as fs from 'node:fs';
import {
  CONFIG_FORMAT,
  CONFIG_PLACEHOLDER,
  CONFIG_SECTION,
  ENV,
} from '../../lambda/shared/contract';
import { normalisedConfigSource } from '../../lambda/shared/normalised-config';
import { writeConfigFile } from '../support/config-file';

const ARN = 'arn:aws:states:eu-central-1:123456789012:stateMachine:imported-7';
const REFERENCE = JSON.stringify({ record: 'clock#tokens#', parts: ['d0', 'd1'] });

/** A config file whose redrive section names its one ARN by token index `index`. */
function fileWithToken(index: number): string {
  const file = writeConfigFile({});
  fs.writeFileSync(
    file,
    JSON.stringify({
      format: CONFIG_FORMAT,
      placeholders: true,
      sections: {
        [CONFIG_SECTION.redrive]: { stateMachineArns: [`${CONFIG_PLACEHOLDER.token}${index}`] },
      },
    }),
  );
  return file;
}

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('the config source of a handler', () => {
  it.each([
    ['a list of values: read at init, no record read', JSON.stringify(['other', ARN]), 1, 'config'],
    ['a reference to the clock’s records: read at the first event', REFERENCE, 1, 'load'],
  ])('with %s', async (_, variable, index, kind) => {
    // Prepare
    process.env[ENV.configFile] = fileWithToken(index);
    process.env[ENV.configTokens] = variable;
    const readTokens = jest.fn(async () => ['other', ARN]);

    // Act
    const source = normalisedConfigSource<{ stateMachineArns: string[] }>(
      CONFIG_SECTION.redrive,
      readTokens,
    );
    const config = 'load' in source ? await source.load() : source.config;

    // Assess
    expect(kind in source).toBe(true);
    expect(config.stateMachineArns).toEqual([ARN]);
    expect(readTokens).toHaveBeenCalledTimes(kind === 'load' ? 1 : 0);
    if (kind === 'load') expect(readTokens).toHaveBeenCalledWith(JSON.parse(REFERENCE));
  });

  it.each([
    ['an object that is not a reference', '{"record":1}'],
    ['a reference whose parts are not strings', '{"record":"clock#tokens#","parts":[1]}'],
  ])('refuses %s at init, naming the variable, with no record read', (_, variable) => {
    // Prepare
    process.env[ENV.configFile] = fileWithToken(0);
    process.env[ENV.configTokens] = variable;
    const readTokens = jest.fn(async () => [ARN]);

    // Act / Assess
    expect(() => normalisedConfigSource(CONFIG_SECTION.redrive, readTokens)).toThrow(
      new Error(
        `${ENV.configTokens}: neither a list of values nor a reference to the live-healing clock's records`,
      ),
    );
    expect(readTokens).not.toHaveBeenCalled();
  });
});
