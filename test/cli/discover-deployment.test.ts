import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { CliClients } from '../../cli/clients';
import type { GlobalOptions } from '../../cli/context';
import { discoverDeployment } from '../../cli/discover-deployment';
import { configTokensDigest } from '../../lambda/redrive/config-token-record';
import {
  clockRecordKey,
  configTokenPartKey,
  parseLiveSinceDocument,
} from '../../lambda/redrive/live-healing';
import { parseAutohealConfig } from '../../lambda/shared/autoheal-config';
import {
  CONFIG_PLACEHOLDER,
  ENV,
  HEALING_STATE,
  IDEMPOTENCY_TABLE,
} from '../../lambda/shared/contract';
import { runAutoheal } from '../support/cli-io';
import {
  cliClientsFor,
  configFileText,
  LOCAL_STATES_ARN_PREFIX,
  type SeededInstallation,
  seedAutohealStack,
  sharedEnvironment,
} from '../support/cli-stack';
import { createIdempotencyTable, type IdempotencyTable } from '../support/idempotency-table';
import { liveSinceFor } from '../support/live-since';
import { LocalAwsEndpoint } from '../support/local-aws/local-aws-endpoint';
import { createStateTable } from '../support/state-table';

const STACK = 'Autoheal';
const QUEUE = 'http://127.0.0.1/000000000000';
const ORDERS = `${LOCAL_STATES_ARN_PREFIX}stateMachine:orders`;
const BILLING = `${LOCAL_STATES_ARN_PREFIX}stateMachine:billing`;

/** The app config the installation was deployed with, and its normalised sections. */
const appConfig = {
  redrive: { stateMachineArns: [ORDERS, BILLING], maxRedrives: 3 },
  appflow: {
    schedules: [
      { name: 'nightly', expression: 'cron(0 2 * * ? *)', timeZone: 'UTC', flows: ['crm-export'] },
    ],
  },
};
const parsed = parseAutohealConfig(appConfig);
const redriveSection = parsed.redrive as NonNullable<typeof parsed.redrive>;
const appflowSection = parsed.appflow as NonNullable<typeof parsed.appflow>;

/**
 * The redrive section as the construct writes it when ORDERS is a home-relative
 * ARN (a template) and BILLING a token (a cross-stack reference): the handler
 * fills both in from its environment.
 */
const redriveFileSection = {
  ...redriveSection,
  stateMachineArns: [
    `${CONFIG_PLACEHOLDER.homeArn}arn:${CONFIG_PLACEHOLDER.pseudo}P:states:${CONFIG_PLACEHOLDER.pseudo}R:${CONFIG_PLACEHOLDER.pseudo}A:stateMachine:orders`,
    `${CONFIG_PLACEHOLDER.token}0`,
  ],
};

describe('autoheal finds the deployment in its stack', () => {
  let endpoint: LocalAwsEndpoint;
  let table: IdempotencyTable;
  let clients: CliClients;

  beforeAll(async () => {
    table = await createIdempotencyTable();
  });

  afterAll(async () => {
    await table.dispose();
  });

  beforeEach(async () => {
    endpoint = await LocalAwsEndpoint.start();
    clients = cliClientsFor(endpoint);
  });

  afterEach(async () => {
    for (const client of Object.values(clients)) client?.destroy();
    await endpoint.stop();
  });

  const options = (more: Partial<GlobalOptions> = {}): GlobalOptions => ({
    stack: STACK,
    ...more,
  });

  /** One installation with every function; the config tokens inline or in the clock's records. */
  function installation(
    path = 'Autoheal/Autoheal',
    tokens: { readonly inEnvironment: boolean } = { inEnvironment: true },
    liveSinceJson = JSON.stringify(liveSinceFor(redriveSection)),
  ): SeededInstallation {
    const shared = sharedEnvironment({
      idempotencyTable: table.tableName,
      stateTable: 'autoheal-state',
      keyPrefix: 'autoheal-1a2b3c4d',
    });
    const redriveEnv = {
      ...shared,
      [ENV.workQueueUrl]: `${QUEUE}/redrive-work`,
      [ENV.deadLetterQueueUrl]: `${QUEUE}/redrive-dlq`,
      [ENV.statesArnPrefix]: LOCAL_STATES_ARN_PREFIX,
      [ENV.liveSince]: liveSinceJson,
      [ENV.configTokens]: tokens.inEnvironment
        ? JSON.stringify([BILLING])
        : JSON.stringify({ record: `${clockRecordKey('clock-1')}#tokens#`, parts: ['d'] }),
    };
    const redriveFile = configFileText(
      { redrive: redriveFileSection, appflow: appflowSection },
      { placeholders: true },
    );
    const appflowFile = configFileText({ appflow: appflowSection });
    const suffix = path.split('/').at(-1);
    return {
      path,
      functions: [
        {
          role: 'redrive',
          functionName: `${suffix}-redrive`,
          environment: redriveEnv,
          configFile: redriveFile,
        },
        {
          role: 'sweeper',
          functionName: `${suffix}-sweeper`,
          environment: redriveEnv,
          configFile: redriveFile,
        },
        {
          role: 'flowStarter',
          functionName: `${suffix}-flow-starter`,
          environment: { ...shared, [ENV.deadLetterQueueUrl]: `${QUEUE}/starter-dlq` },
          configFile: appflowFile,
        },
        {
          role: 'flowHealer',
          functionName: `${suffix}-flow-healer`,
          environment: {
            ...shared,
            [ENV.workQueueUrl]: `${QUEUE}/healer-work`,
            [ENV.deadLetterQueueUrl]: `${QUEUE}/healer-dlq`,
          },
          configFile: appflowFile,
        },
        { role: 'brakeKeeper', functionName: `${suffix}-brake-keeper`, environment: shared },
      ],
      outputs: { DashboardUrl: 'https://console.aws.amazon.com/cloudwatch/home#dashboards:name=x' },
    };
  }

  it('reads every field from the stack output, the functions and their config files, paging through the resources', async () => {
    // Prepare: the functions are listed after 150 other resources (two pages).
    seedAutohealStack(endpoint, STACK, [installation()], { filler: 150 });

    // Act
    const deployment = await discoverDeployment(options(), clients);

    // Assess
    expect(deployment).toEqual({
      stackName: STACK,
      region: 'eu-central-1',
      idempotencyKeyPrefix: 'autoheal-1a2b3c4d',
      idempotencyTableName: table.tableName,
      stateTableName: 'autoheal-state',
      noticeTopicArn: 'arn:aws:sns:eu-central-1:000000000000:autoheal-notices',
      dashboardUrl: 'https://console.aws.amazon.com/cloudwatch/home#dashboards:name=x',
      redrive: {
        functionName: 'Autoheal-redrive',
        workQueueUrl: `${QUEUE}/redrive-work`,
        deadLetterQueueUrl: `${QUEUE}/redrive-dlq`,
        statesArnPrefix: LOCAL_STATES_ARN_PREFIX,
        // Both placeholders filled in as the handler fills them: ORDERS from the ARN prefix, BILLING from the tokens.
        config: { ...redriveSection, stateMachineArns: [ORDERS, BILLING] },
        // As the handler reads it.
        liveSince: parseLiveSinceDocument(JSON.stringify(liveSinceFor(redriveSection))),
      },
      appflow: {
        config: appflowSection,
        starterFunctionName: 'Autoheal-flow-starter',
        starterDeadLetterQueueUrl: `${QUEUE}/starter-dlq`,
        healerWorkQueueUrl: `${QUEUE}/healer-work`,
        healerDeadLetterQueueUrl: `${QUEUE}/healer-dlq`,
      },
    });
    expect(endpoint.countCalls({ operation: 'ListStackResources' })).toBe(2);
  });

  it("reads the config tokens and the live-since document from the clock's records when the environment points there", async () => {
    // Prepare
    const clockId = `clock-${Date.now()}`;
    const tokensJson = JSON.stringify([BILLING]);
    const digest = configTokensDigest(tokensJson);
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: {
          [IDEMPOTENCY_TABLE.partitionKey]: { S: configTokenPartKey(clockId, 0) },
          [HEALING_STATE.configTokens]: { S: tokensJson },
          [HEALING_STATE.configTokensDigest]: { S: digest },
        },
      }),
    );
    const liveSince = liveSinceFor(redriveSection, Date.parse('2026-11-01T00:00:00Z'));
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: {
          [IDEMPOTENCY_TABLE.partitionKey]: { S: clockRecordKey(clockId) },
          [HEALING_STATE.clockDocument]: { S: JSON.stringify(liveSince) },
        },
      }),
    );
    const seeded = installation(
      'Autoheal/Autoheal',
      { inEnvironment: false },
      JSON.stringify({ config: liveSince.config, record: clockRecordKey(clockId), version: 1 }),
    );
    const reference = JSON.stringify({
      record: configTokenPartKey(clockId, 0).slice(0, -1),
      parts: [digest],
    });
    seedAutohealStack(endpoint, STACK, [
      {
        ...seeded,
        functions: seeded.functions.map((fn) =>
          fn.role === 'redrive'
            ? { ...fn, environment: { ...fn.environment, [ENV.configTokens]: reference } }
            : fn,
        ),
      },
    ]);

    // Act
    const deployment = await discoverDeployment(options(), clients);

    // Assess
    expect(deployment.redrive?.config.stateMachineArns).toEqual([ORDERS, BILLING]);
    expect(deployment.redrive?.liveSince).toEqual(
      parseLiveSinceDocument(JSON.stringify(liveSince)),
    );
  });

  it('lets explicit flags override what it finds', async () => {
    // Prepare
    seedAutohealStack(endpoint, STACK, [installation()]);

    // Act
    const deployment = await discoverDeployment(
      options({
        idempotencyTable: 'other-idempotency',
        stateTable: 'other-state',
        redriveQueueUrl: `${QUEUE}/other-work`,
      }),
      clients,
    );

    // Assess
    expect(deployment.idempotencyTableName).toBe('other-idempotency');
    expect(deployment.stateTableName).toBe('other-state');
    expect(deployment.redrive?.workQueueUrl).toBe(`${QUEUE}/other-work`);
    expect(deployment.redrive?.deadLetterQueueUrl).toBe(`${QUEUE}/redrive-dlq`);
  });

  it('picks one of two installations of a stack by --installation', async () => {
    // Prepare
    seedAutohealStack(endpoint, STACK, [
      installation('Autoheal/Blue'),
      installation('Autoheal/Green'),
    ]);

    // Act
    const deployment = await discoverDeployment(
      options({ installation: 'Autoheal/Green' }),
      clients,
    );

    // Assess
    expect(deployment.redrive?.functionName).toBe('Green-redrive');
  });

  it('works offline from the app config with --config, without any AWS call', async () => {
    // Prepare
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autoheal-cli-config-'));
    const file = path.join(dir, 'autoheal.json');
    fs.writeFileSync(file, JSON.stringify(appConfig));

    // Act
    const deployment = await discoverDeployment(
      options({ config: file, idempotencyTable: 'my-table' }),
      clients,
    );

    // Assess
    expect(deployment.redrive?.config.stateMachineArns).toEqual([ORDERS, BILLING]);
    expect(deployment.redrive?.config.maxRedrives).toBe(3);
    expect(deployment.appflow?.config.schedules.map((s) => s.name)).toEqual(['nightly']);
    expect(deployment.idempotencyTableName).toBe('my-table');
    expect(endpoint.calls).toEqual([]);
  });

  it.each<[string, (dir: string) => Partial<GlobalOptions>, RegExp]>([
    [
      'a config that breaks the schema, naming the field',
      (dir) => {
        const file = path.join(dir, 'bad.json');
        fs.writeFileSync(
          file,
          JSON.stringify({ redrive: { stateMachineArns: [ORDERS], maxRedrives: -1 } }),
        );
        return { config: file };
      },
      /^Invalid Autoheal config at redrive\.maxRedrives: /,
    ],
    [
      'a config file that is not JSON',
      (dir) => {
        const file = path.join(dir, 'bad.json');
        fs.writeFileSync(file, '{ nope');
        return { config: file };
      },
      /^The --config file .*bad\.json is not JSON \(/,
    ],
    [
      'a config file that is not there',
      (dir) => ({ config: path.join(dir, 'missing.json') }),
      /^Cannot read the --config file .*missing\.json \(ENOENT\)/,
    ],
  ])('refuses %s in one line', async (_case, flags, message) => {
    // Prepare
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autoheal-cli-config-'));

    // Act
    const error = await discoverDeployment(options(flags(dir)), clients).catch((e: Error) => e);

    // Assess
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it.each<[string, (endpoint: LocalAwsEndpoint) => void, Partial<GlobalOptions>, RegExp]>([
    [
      'the stack does not exist',
      () => {},
      {},
      /^Stack Autoheal does not exist in eu-central-1: name the stack Autoheal is deployed in with --stack NAME/,
    ],
    [
      'the stack has no Autoheal output',
      (e) => e.addStack({ stackName: STACK, outputs: [{ key: 'Url', value: 'x' }] }),
      {},
      /^Stack Autoheal has no Autoheal installation output: name the stack .* with --stack, or redeploy/,
    ],
    [
      'the stack has two installations and no --installation',
      (e) =>
        seedAutohealStack(e, STACK, [
          installation('Autoheal/Blue'),
          installation('Autoheal/Green'),
        ]),
      {},
      /^Stack Autoheal has 2 Autoheal installations: pick one with --installation PATH \(Autoheal\/Blue, Autoheal\/Green\)$/,
    ],
    [
      '--installation names none of them',
      (e) => seedAutohealStack(e, STACK, [installation('Autoheal/Blue')]),
      { installation: 'Autoheal/Red' },
      /^--installation Autoheal\/Red: stack Autoheal has no Autoheal installation at that path; it has Autoheal\/Blue$/,
    ],
    [
      'the operator may not describe stacks',
      (e) => {
        seedAutohealStack(e, STACK, [installation()]);
        e.denyOperation('cloudformation', 'DescribeStacks');
      },
      {},
      /^Access denied reading stack Autoheal \(cloudformation:DescribeStacks\): use a profile or role that may \(--profile\), or give the deployment offline with --config FILE/,
    ],
    [
      'the operator may not read the functions',
      (e) => {
        seedAutohealStack(e, STACK, [installation()]);
        e.denyOperation('lambda', 'GetFunction');
      },
      {},
      /^Access denied reading function Autoheal-\S+ \(lambda:GetFunction\)/,
    ],
    [
      "a function's code has no config file",
      (e) => {
        const seeded = installation();
        seedAutohealStack(e, STACK, [
          {
            ...seeded,
            functions: seeded.functions.map((fn) =>
              fn.role === 'redrive' ? { ...fn, configFile: undefined } : fn,
            ),
          },
        ]);
      },
      {},
      /^The code of function Autoheal-redrive has no autoheal-config\.json: redeploy it with the Autoheal construct$/,
    ],
  ])('says what to do in one line when %s', async (_case, seed, flags, message) => {
    // Prepare
    seed(endpoint);

    // Act
    const error = await discoverDeployment(options(flags), clients).catch((e: Error) => e);

    // Assess
    expect((error as Error).name).toBe('CliError');
    expect((error as Error).message).toMatch(message);
  });

  it('gives a command the deployment it found: brake status reads the state table the functions name', async () => {
    // Prepare
    const state = await createStateTable();
    const seeded = installation();
    seedAutohealStack(endpoint, STACK, [
      {
        ...seeded,
        functions: seeded.functions.map((fn) => ({
          ...fn,
          environment: { ...fn.environment, [ENV.stateTable]: state.tableName },
        })),
      },
    ]);

    // Act
    const run = await runAutoheal(['brake', 'status', '--json', '--stack', STACK], { clients });
    await state.dispose();

    // Assess
    expect(run.stderr).toBe('');
    expect(
      (JSON.parse(run.stdout) as { stateMachineArn: string }[]).map((s) => s.stateMachineArn),
    ).toEqual([BILLING, ORDERS]);
  });

  it('prints the error as one line, without a stack trace, when a command needs the deployment', async () => {
    // Act
    const run = await runAutoheal(['brake', 'status', '--stack', 'Nope'], { clients });

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(
      'error: Stack Nope does not exist in eu-central-1: name the stack Autoheal is deployed in with --stack NAME (and --region, --profile)\n',
    );
  });
});
