/**
 * A host CDK app that uses Autoheal as a user does: from the packed tarball
 * (`npm pack`), installed with npm into a folder of its own outside this
 * repository, never from the source tree. Used by the consumer tests
 * (test/package/) and the library benchmark (bench/library.ts).
 *
 * The host installs the project's exact `aws-cdk-lib`, `constructs` and
 * `cdk-nag` with `npm ci --offline` from a lockfile cut from the project's
 * (the npm cache of this project's `npm ci` holds their tarballs), then the
 * tarball with `npm install --offline`; only on a cache miss does npm retry
 * with the registry (`--prefer-offline`).
 * Apps are type-checked and compiled with this project's TypeScript (strict,
 * `node16` resolution, so the package's `exports` map is what resolves), then
 * run with plain `node`: no ts-node, no esbuild in the host.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root (this file lives in test/support/). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** What `npm pack` made, as its `--json` output says. */
export interface PackedTarball {
  /** Absolute path of the `.tgz`. */
  readonly file: string;
  /** Bytes of the tarball. */
  readonly packedBytes: number;
  /** Bytes of its files unpacked. */
  readonly unpackedBytes: number;
  readonly fileCount: number;
  /** Paths inside the package, e.g. `dist/lib/index.js`. */
  readonly files: readonly string[];
}

/** What a built package must hold before it is packed: `npm run build` writes them. */
const BUILD_OUTPUTS = [
  '.jsii',
  path.join('dist', 'lib', 'index.js'),
  path.join('assets', 'handlers'),
];

/**
 * Packs the built project into `destination` without running `prepack` (the
 * build has run: `npm test` builds before jest). Throws a one-line error
 * naming `npm run build` when the build outputs are missing.
 */
export function packProject(destination: string, projectRoot = PROJECT_ROOT): PackedTarball {
  const missing = BUILD_OUTPUTS.filter((output) => !fs.existsSync(path.join(projectRoot, output)));
  if (missing.length > 0) {
    throw new Error(
      `cdk-autoheal is not built (no ${missing.join(', ')} in ${projectRoot}): run \`npm run build\` first`,
    );
  }
  fs.mkdirSync(destination, { recursive: true });
  const output = execFileSync(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', destination],
    { cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const [packed] = JSON.parse(output) as {
    filename: string;
    size: number;
    unpackedSize: number;
    entryCount: number;
    files: { path: string }[];
  }[];
  return {
    file: path.join(destination, packed.filename),
    packedBytes: packed.size,
    unpackedBytes: packed.unpackedSize,
    fileCount: packed.entryCount,
    files: packed.files.map((f) => f.path).sort(),
  };
}

/** The exact versions this project develops and tests with (its devDependencies). */
export function projectVersionOf(name: string, projectRoot = PROJECT_ROOT): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8'));
  const version = pkg.devDependencies?.[name] ?? pkg.dependencies?.[name];
  if (!version) throw new Error(`${name} is not a dependency of ${projectRoot}/package.json`);
  return version;
}

/** What a host app installs beside the tarball (the peer dependencies, and cdk-nag), at this project's exact versions. */
const HOST_CDK_PACKAGES = ['aws-cdk-lib', 'constructs', 'cdk-monitoring-constructs', 'cdk-nag'];

interface LockEntry {
  readonly version?: string;
  readonly dependencies?: Record<string, string>;
  readonly [field: string]: unknown;
}

/**
 * A lockfile for the host: its root, and the project's lock entries of
 * `dependencies` and everything they depend on, located as npm lays them out
 * (nested `node_modules` first, then the top level).
 */
export function hostLockfile(
  projectRoot: string,
  dependencies: Record<string, string>,
): Record<string, unknown> {
  const lock = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package-lock.json'), 'utf8'));
  const entries = lock.packages as Record<string, LockEntry>;
  const picked = new Map<string, LockEntry>();
  const locate = (from: string, name: string): string | undefined => {
    for (let dir = from; dir !== ''; dir = dir.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, '')) {
      const at = `${dir}/node_modules/${name}`;
      if (entries[at]) return at;
    }
    return entries[`node_modules/${name}`] ? `node_modules/${name}` : undefined;
  };
  const visit = (location: string): void => {
    if (picked.has(location)) return;
    const { dev, devOptional, peer, ...entry } = entries[location];
    picked.set(location, entry);
    for (const nested of Object.keys(entries).filter((k) =>
      k.startsWith(`${location}/node_modules/`),
    )) {
      visit(nested);
    }
    for (const name of Object.keys(entry.dependencies ?? {})) {
      const found = locate(location, name);
      if (found) visit(found);
    }
  };
  for (const name of Object.keys(dependencies)) visit(`node_modules/${name}`);
  return {
    name: 'autoheal-host-app',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'autoheal-host-app', dependencies },
      ...Object.fromEntries([...picked].sort(([a], [b]) => a.localeCompare(b))),
    },
  };
}

/** Runs npm offline (the cache of this project's `npm ci`); on a cache miss, again with the registry. */
function npmOfflineFirst(dir: string, args: readonly string[]): void {
  const run = (mode: string) =>
    spawnSync('npm', [...args, mode, '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8' });
  let result = run('--offline');
  if (result.status !== 0) result = run('--prefer-offline');
  if (result.status !== 0) {
    throw new Error(`npm ${args.join(' ')} failed in ${dir}:\n${result.stdout}${result.stderr}`);
  }
}

/** One run of a host app. */
export interface ConsumerSynth {
  /** The cloud assembly directory the app wrote. */
  readonly outdir: string;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time of `node <app>.js`, synth included. */
  readonly ms: number;
  /** The template of a stack in the assembly. */
  template(stackName: string): CloudFormationTemplate;
}

export interface CloudFormationTemplate {
  readonly Resources: Record<
    string,
    { readonly Type: string; readonly Properties?: Record<string, unknown> }
  >;
}

/** A host app folder with the tarball installed. */
export class ConsumerHost {
  /**
   * Creates the folder, writes its package.json and tsconfig.json and installs
   * the tarball with the project's versions of `aws-cdk-lib`, `constructs`
   * and `cdk-nag`.
   */
  public static install(
    dir: string,
    tarball: PackedTarball,
    projectRoot = PROJECT_ROOT,
  ): ConsumerHost {
    fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
    const cdkDependencies = Object.fromEntries(
      HOST_CDK_PACKAGES.map((name) => [name, projectVersionOf(name, projectRoot)]),
    );
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      `${JSON.stringify({ name: 'autoheal-host-app', private: true, dependencies: cdkDependencies }, null, 2)}\n`,
    );
    // The project's own lock pins them (and what they depend on): npm needs only the tarballs, which
    // this project's `npm ci` cached, so the host installs offline; the registry is the fallback.
    fs.writeFileSync(
      path.join(dir, 'package-lock.json'),
      `${JSON.stringify(hostLockfile(projectRoot, cdkDependencies), null, 2)}\n`,
    );
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      `${JSON.stringify(
        {
          compilerOptions: {
            target: 'ES2022',
            module: 'node16',
            moduleResolution: 'node16',
            strict: true,
            skipLibCheck: true,
            types: [],
            outDir: 'dist',
            rootDir: 'src',
          },
          include: ['src'],
        },
        null,
        2,
      )}\n`,
    );
    npmOfflineFirst(dir, ['ci']);
    npmOfflineFirst(dir, ['install', tarball.file]);
    return new ConsumerHost(dir, projectRoot);
  }

  private constructor(
    public readonly dir: string,
    private readonly projectRoot: string,
  ) {}

  /** Where npm installed the package. */
  public get packageDir(): string {
    return path.join(this.dir, 'node_modules', 'cdk-autoheal');
  }

  /**
   * Writes `src/<name>.ts`, type-checks and compiles it with the project's
   * TypeScript (a type error throws with tsc's output), and returns the
   * compiled file.
   */
  public compile(name: string, source: string): string {
    fs.writeFileSync(path.join(this.dir, 'src', `${name}.ts`), source);
    const tsconfig = path.join(this.dir, `tsconfig.${name}.json`);
    fs.writeFileSync(
      tsconfig,
      JSON.stringify({ extends: './tsconfig.json', files: [`src/${name}.ts`], include: [] }),
    );
    const tsc = path.join(this.projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', tsconfig], {
      cwd: this.dir,
      encoding: 'utf8',
    });
    if (result.status !== 0) {
      throw new Error(
        `The host app ${name}.ts does not compile:\n${result.stdout}${result.stderr}`,
      );
    }
    return path.join(this.dir, 'dist', `${name}.js`);
  }

  /** Runs a compiled app with plain node; a failed synth (e.g. a cdk-nag error) throws with its output. */
  public synth(compiled: string, outdir: string): ConsumerSynth {
    fs.rmSync(outdir, { recursive: true, force: true });
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [compiled], {
      cwd: this.dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CDK_OUTDIR: outdir },
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) {
      throw new Error(
        `The host app ${path.basename(compiled)} failed to synthesise (exit ${result.status}):\n${result.stdout}${result.stderr}`,
      );
    }
    return {
      outdir,
      stdout: result.stdout,
      stderr: result.stderr,
      ms,
      template: (stackName) =>
        JSON.parse(fs.readFileSync(path.join(outdir, `${stackName}.template.json`), 'utf8')),
    };
  }

  /** Compiles and synthesises `src/<name>.ts` into `cdk.out.<name>/`. */
  public compileAndSynth(name: string, source: string): ConsumerSynth {
    return this.synth(this.compile(name, source), path.join(this.dir, `cdk.out.${name}`));
  }
}

/** sha256 of a file, hex. */
export function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** sha256 of every `index.js` staged as an asset in a cloud assembly. */
export function stagedAssetHashes(outdir: string): string[] {
  return fs
    .readdirSync(outdir)
    .filter((entry) => entry.startsWith('asset.'))
    .map((entry) => path.join(outdir, entry, 'index.js'))
    .filter((file) => fs.existsSync(file))
    .map(sha256)
    .sort();
}

/**
 * A host app: a stack `HostStack` with its own state machine `orders` and,
 * with `autoheal`, that code placed after it; with `nag`, cdk-nag's
 * AwsSolutions checks run at synth (an unacknowledged error fails it).
 */
export function hostApp(
  options: { readonly autoheal?: string; readonly nag?: boolean } = {},
): string {
  return [
    "import { App, Stack, Validations } from 'aws-cdk-lib';",
    "import * as sfn from 'aws-cdk-lib/aws-stepfunctions';",
    ...(options.autoheal ? ["import { Autoheal } from 'cdk-autoheal';"] : []),
    ...(options.nag ? ["import { AwsSolutionsChecks } from 'cdk-nag';"] : []),
    '',
    'const app = new App();',
    "const stack = new Stack(app, 'HostStack');",
    'const orders = new sfn.StateMachine(stack, "Orders", {',
    "  definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'P')),",
    '});',
    ...(options.autoheal ? [options.autoheal] : ['void orders;']),
    ...(options.nag
      ? [
          "// The host's own machine is not what is checked: its logging and tracing are the host's choice.",
          'for (const id of ["AwsSolutions-SF1", "AwsSolutions-SF2"]) {',
          '  Validations.of(orders).acknowledge({ id: "AwsSolutions::" + id, reason: "host test machine" });',
          '}',
          'Validations.of(app).addPlugins(new AwsSolutionsChecks(app));',
        ]
      : []),
    'app.synth();',
    '',
  ].join('\n');
}
