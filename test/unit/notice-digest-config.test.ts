/**
 * What a handler's notices do as deployed: the digest options of its config
 * file (`notices`, each option at its default when left out; all defaults for
 * a file written before digests existed), and plain notices with a warning
 * when the function has no healing state table.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { CONFIG_SECTION, ENV } from '../../lambda/shared/contract';
import { DEFAULT_DIGEST_OPTIONS } from '../../lambda/shared/notice-digest';
import {
  digestOptionsFrom,
  handlerNoticeSender,
  readDigestOptions,
} from '../../lambda/shared/notice-digest-config';
import { writeConfigFile } from '../support/config-file';

const ORIGINAL_CONFIG_FILE = process.env[ENV.configFile];
afterEach(() => {
  if (ORIGINAL_CONFIG_FILE === undefined) delete process.env[ENV.configFile];
  else process.env[ENV.configFile] = ORIGINAL_CONFIG_FILE;
});

describe('notice digest options of the config file', () => {
  it.each([
    ['no notices section', undefined, DEFAULT_DIGEST_OPTIONS],
    ['an empty section', {}, DEFAULT_DIGEST_OPTIONS],
    [
      'a window only',
      { digestWindowMinutes: 5 },
      { digestWindowMinutes: 5, immediateNotices: 1, digestExamples: 10 },
    ],
    [
      'digests off',
      { digestWindowMinutes: 0, immediateNotices: 2, digestExamples: 0 },
      { digestWindowMinutes: 0, immediateNotices: 2, digestExamples: 0 },
    ],
  ])('reads %s', (_, notices, expected) => {
    // Prepare
    process.env[ENV.configFile] = writeConfigFile({
      [CONFIG_SECTION.redrive]: {},
      ...(notices !== undefined && { [CONFIG_SECTION.notices]: notices }),
    });

    // Act
    const options = readDigestOptions();

    // Assess
    expect(options).toEqual(expected);
    expect(digestOptionsFrom(notices)).toEqual(expected);
  });

  it('refuses a notices section that is not an object, naming the file', () => {
    // Prepare
    const file = writeConfigFile({ [CONFIG_SECTION.notices]: [15] });
    process.env[ENV.configFile] = file;

    // Act & Assess
    expect(() => readDigestOptions()).toThrow(
      `The config file ${file} has a notices section that is not a JSON object`,
    );
  });
});

describe('the notice sender a handler builds', () => {
  /** Clients that record their calls. */
  function clients() {
    const calls: string[] = [];
    const client = (service: string) =>
      ({
        send: async (command: object) => {
          calls.push(`${service} ${command.constructor.name}`);
          return {};
        },
      }) as unknown;
    return {
      calls,
      sns: client('sns') as SNSClient,
      dynamodb: client('dynamodb') as DynamoDBClient,
    };
  }
  const notice = {
    kind: 'redrive-gave-up',
    reason: 'max-redrives',
    subject: 'Autoheal gave up on order-1',
    facts: { stateMachineArn: 'arn:aws:states:eu-central-1:123456789012:stateMachine:orders' },
  };

  it('publishes every notice on its own and warns once when the function has no state table', async () => {
    // Prepare
    const { calls, sns, dynamodb } = clients();
    const warnings: string[] = [];

    // Act
    const sender = handlerNoticeSender({
      sns,
      topicArn: 'arn:aws:sns:eu-central-1:123456789012:notices',
      dynamodb,
      tableName: undefined,
      keyPrefix: undefined,
      logger: { warn: (message: string) => warnings.push(message) },
      options: DEFAULT_DIGEST_OPTIONS,
    });
    const results = [await sender.send(notice, 'e1', 0), await sender.send(notice, 'e2', 1)];

    // Assess
    expect(results).toEqual(['sent', 'sent']);
    expect(calls).toEqual(['sns PublishCommand', 'sns PublishCommand']);
    expect(warnings).toEqual([
      `Notice digests are off: ${ENV.stateTable} is not set (deploy with the Autoheal construct); every notice is published on its own`,
    ]);
  });

  it('counts notices in the state table when the function has one', async () => {
    // Prepare
    const { calls, sns, dynamodb } = clients();

    // Act
    const sender = handlerNoticeSender({
      sns,
      topicArn: 'arn:aws:sns:eu-central-1:123456789012:notices',
      dynamodb,
      tableName: 'autoheal-state',
      keyPrefix: undefined,
      logger: { warn: () => undefined },
      options: DEFAULT_DIGEST_OPTIONS,
    });
    await sender.send(notice, 'e1', 0);

    // Assess
    expect(calls[0]).toBe('dynamodb UpdateItemCommand');
  });
});
