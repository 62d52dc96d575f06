/**
 * Autoheal as a host CDK app gets it: the packed tarball installed into a
 * folder of its own (test/support/consumer-app.ts), a TypeScript app that
 * defines its own state machine, places Autoheal in its own stack and
 * synthesises with plain node. Needs `npm run build` first (`npm test` runs it).
 */

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { handlerSources } from '../../scripts/handler-bundling';
import {
  type CloudFormationTemplate,
  ConsumerHost,
  hostApp,
  type PackedTarball,
  packProject,
  sha256,
  stagedAssetHashes,
} from '../support/consumer-app';

jest.setTimeout(240_000);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'autoheal-consumer-'));
let tarball: PackedTarball;
let host: ConsumerHost;

beforeAll(() => {
  // Prepare (shared): pack once, install once; every app below reuses the host
  tarball = packProject(path.join(work, 'pack'));
  host = ConsumerHost.install(path.join(work, 'host'), tarball);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function resourcesOfType(template: CloudFormationTemplate, type: string) {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/**
 * Every IAM statement of the template (policies and inline role policies),
 * of the resources whose logical id starts with `prefix` (a construct id).
 */
function statements(template: CloudFormationTemplate, prefix = ''): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (Array.isArray(record.Statement))
        found.push(...(record.Statement as Record<string, unknown>[]));
      else Object.values(record).forEach(visit);
    }
  };
  for (const [id, r] of resourcesOfType(template, 'AWS::IAM::Policy')) {
    if (id.startsWith(prefix)) visit(r.Properties);
  }
  for (const [id, r] of resourcesOfType(template, 'AWS::IAM::Role')) {
    if (id.startsWith(prefix)) visit(r.Properties?.Policies);
  }
  return found;
}

/** The resources of every statement that allows `states:RedriveExecution`, as JSON. */
function redriveResources(template: CloudFormationTemplate, prefix = ''): string[] {
  return statements(template, prefix)
    .filter((s) => actionsOf(s).includes('states:RedriveExecution'))
    .flatMap(resourcesOf)
    .map((resource) => JSON.stringify(resource));
}

function actionsOf(statement: Record<string, unknown>): string[] {
  return ([] as string[]).concat(statement.Action as string | string[]);
}

function resourcesOf(statement: Record<string, unknown>): unknown[] {
  return ([] as unknown[]).concat(statement.Resource);
}

/** The Step Functions failure rules: their `detail.stateMachineArn` filters. */
function stateMachineFilters(template: CloudFormationTemplate): unknown[] {
  return resourcesOfType(template, 'AWS::Events::Rule')
    .map(
      ([, r]) =>
        r.Properties?.EventPattern as { source?: string[]; detail?: Record<string, unknown> },
    )
    .filter((pattern) => pattern?.source?.includes('aws.states'))
    .map((pattern) => pattern.detail?.stateMachineArn);
}

function machineIds(template: CloudFormationTemplate): string[] {
  return resourcesOfType(template, 'AWS::StepFunctions::StateMachine').map(([id]) => id);
}

describe('the packed package', () => {
  it('ships the compiled library, the jsii assembly, the config JSON Schema and one bundle per handler, and no sources of the app or tests', () => {
    // Assess
    expect(tarball.files).toEqual(
      expect.arrayContaining([
        '.jsii',
        'dist/lib/index.js',
        'dist/lib/index.d.ts',
        'LICENSE',
        'CHANGELOG.md',
        'schema/autoheal-config.schema.json',
        ...handlerSources().map((h) => `assets/handlers/${h.name}/index.js`),
      ]),
    );
    const own = tarball.files.filter((f) => !f.startsWith('node_modules/'));
    expect(own.filter((f) => /^(bin|test|bench|scripts|lambda|lib)\//.test(f))).toEqual([]);
    expect(own.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('gives the consumer the autoheal bin, which runs the shipped CLI bundle', () => {
    // Act: as `npx autoheal --help` in the host app runs it (the link npm made, its shebang).
    const run = spawnSync(path.join(host.dir, 'node_modules', '.bin', 'autoheal'), ['--help'], {
      cwd: host.dir,
      encoding: 'utf8',
      env: {
        PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`,
        NO_COLOR: '1',
      },
    });

    // Assess
    expect(tarball.files).toEqual(
      expect.arrayContaining(['cli/bin/autoheal.js', 'assets/cli/autoheal.js']),
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Usage: autoheal \[options\] \[command\]/);
  });

  it("runs no install script in a consumer's npm install", () => {
    // Act
    const installed = JSON.parse(
      fs.readFileSync(path.join(host.packageDir, 'package.json'), 'utf8'),
    );

    // Assess
    expect(
      ['preinstall', 'install', 'postinstall'].filter((s) => installed.scripts?.[s] !== undefined),
    ).toEqual([]);
  });

  it('asks the consumer for aws-cdk-lib, constructs and cdk-monitoring-constructs only, and loads nothing else it does not ship', () => {
    // Prepare
    const installed = JSON.parse(
      fs.readFileSync(path.join(host.packageDir, 'package.json'), 'utf8'),
    );
    const shipped = new Set([
      ...Object.keys(installed.peerDependencies ?? {}),
      ...(installed.bundledDependencies ?? []),
    ]);
    const jsFiles = fs
      .readdirSync(path.join(host.packageDir, 'dist'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.js'));

    // Act: every package a compiled file requires
    const required = new Set<string>();
    for (const file of jsFiles) {
      const text = fs.readFileSync(path.join(host.packageDir, 'dist', file), 'utf8');
      for (const [, name] of text.matchAll(/require\("([^".][^"]*)"\)/g)) {
        const pkg = name.startsWith('@')
          ? name.split('/').slice(0, 2).join('/')
          : name.split('/')[0];
        if (!pkg.startsWith('node:') && !builtinModules.includes(pkg)) required.add(pkg);
      }
    }

    // Assess
    expect(Object.keys(installed.peerDependencies).sort()).toEqual([
      'aws-cdk-lib',
      'cdk-monitoring-constructs',
      'constructs',
    ]);
    expect(Object.keys(installed.dependencies ?? {}).filter((d) => !shipped.has(d))).toEqual([]);
    expect([...required].filter((pkg) => !shipped.has(pkg))).toEqual([]);
  });
});

describe('a host app with its own state machine and Autoheal in its stack', () => {
  // Act (shared): the two lines of the README, with cdk-nag's AwsSolutions checks on
  let template: CloudFormationTemplate;
  let synth: ReturnType<ConsumerHost['compileAndSynth']>;
  beforeAll(() => {
    synth = host.compileAndSynth(
      'one',
      hostApp({
        nag: true,
        autoheal: "new Autoheal(stack, 'Heal', { redrive: { stateMachines: [orders] } });",
      }),
    );
    template = synth.template('HostStack');
  });

  it('scopes the failure rule to exactly that machine', () => {
    // Assess
    const [orders] = machineIds(template);
    expect(stateMachineFilters(template)).toEqual([[{ Ref: orders }]]);
  });

  it("may redrive only that machine's executions", () => {
    // Prepare
    const [orders] = machineIds(template);

    // Act
    const resources = redriveResources(template);

    // Assess: each names the machine (its Ref or an attribute of it) as executions, nothing wider
    expect(resources.length).toBeGreaterThan(0);
    for (const json of resources) {
      expect(json).toContain(`"${orders}"`);
      expect(json).toContain(':execution:');
      expect(json).not.toBe('"*"');
    }
  });

  it('ran no bundling: it deploys the shipped bundles, and the host has no esbuild', () => {
    // Prepare
    const shipped = fs
      .readdirSync(path.join(host.packageDir, 'assets', 'handlers'))
      .map((name) => sha256(path.join(host.packageDir, 'assets', 'handlers', name, 'index.js')));

    // Assess
    const staged = stagedAssetHashes(synth.outdir);
    expect(staged.length).toBeGreaterThan(0);
    expect(staged.filter((hash) => !shipped.includes(hash))).toEqual([]);
    expect(`${synth.stdout}${synth.stderr}`).not.toMatch(/bundling/i);
    expect(fs.existsSync(path.join(host.dir, 'node_modules', 'esbuild'))).toBe(false);
  });

  it('passes cdk-nag AwsSolutions with no unacknowledged finding (the synth ran the checks)', () => {
    // Assess: an unacknowledged error would have failed the synth
    expect(`${synth.stdout}${synth.stderr}`).not.toMatch(/AwsSolutions-/);
  });
});

describe('two Autoheal instances in one host stack', () => {
  it('synthesise side by side, each scoped to its own machine, with no shared physical names', () => {
    // Prepare
    const autoheal = [
      "const invoices = new sfn.StateMachine(stack, 'Invoices', {",
      "  definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'P2')),",
      '});',
      "for (const id of ['AwsSolutions-SF1', 'AwsSolutions-SF2']) {",
      '  Validations.of(invoices).acknowledge({ id: "AwsSolutions::" + id, reason: "host test machine" });',
      '}',
      "new Autoheal(stack, 'HealOrders', { redrive: { stateMachines: [orders] } });",
      "new Autoheal(stack, 'HealInvoices', { redrive: { stateMachines: [invoices] } });",
    ].join('\n');

    // Act
    const template = host
      .compileAndSynth('two', hostApp({ nag: true, autoheal }))
      .template('HostStack');

    // Assess
    const machines = machineIds(template);
    expect(machines).toHaveLength(2);
    expect(
      stateMachineFilters(template)
        .map((f) => JSON.stringify(f))
        .sort(),
    ).toEqual(machines.map((id) => JSON.stringify([{ Ref: id }])).sort());
    const [invoices, orders] = ['Invoices', 'Orders'].map(
      (name) => machines.find((id) => id.startsWith(name)) ?? name,
    );
    for (const [instance, own, other] of [
      ['HealOrders', orders, invoices],
      ['HealInvoices', invoices, orders],
    ]) {
      const resources = redriveResources(template, instance);
      expect(resources.length).toBeGreaterThan(0);
      expect(
        resources.filter((json) => !json.includes(`"${own}"`) || json.includes(`"${other}"`)),
      ).toEqual([]);
    }
    const physicalNames = Object.values(template.Resources)
      .flatMap((r) =>
        [
          'TableName',
          'QueueName',
          'TopicName',
          'FunctionName',
          'RoleName',
          'Name',
          'LogGroupName',
        ].map((key) => r.Properties?.[key]),
      )
      .filter((name): name is string => typeof name === 'string');
    expect(physicalNames.filter((name, i) => physicalNames.indexOf(name) !== i)).toEqual([]);
  });
});
