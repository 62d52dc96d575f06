/**
 * The library as a user gets it: the packed tarball's size, and what Autoheal
 * adds to a host app's synth time. Uses the consumer harness of the package
 * tests (test/support/consumer-app.ts): `npm pack`, a host app folder with the
 * tarball installed, apps compiled with the project's TypeScript and run with
 * plain node. Needs `npm run build` first.
 *
 * ```sh
 * npm run build && ts-node --transpile-only bench/library.ts [--runs 5]
 * ```
 *
 * The synth ratio is median(host app with Autoheal) / median(the same app
 * without it), the two run alternately in the same run, each a fresh `node`
 * process (module loading included: that is what a user waits for).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConsumerHost, hostApp, packProject } from '../test/support/consumer-app';

export interface LibraryFigures {
  /** Bytes of the tarball `npm pack` writes. */
  readonly packedBytes: number;
  /** Bytes of its files unpacked. */
  readonly unpackedBytes: number;
  readonly fileCount: number;
  /** Median wall ms of the host app's synth, with and without Autoheal. */
  readonly consumerSynthMs: { readonly withAutoheal: number; readonly without: number };
  /** consumerSynthMs.withAutoheal / consumerSynthMs.without. */
  readonly consumerSynthRatio: number;
  readonly runs: number;
}

/** The README's two lines: the planned public API. */
export const AUTOHEAL_IN_HOST =
  "new Autoheal(stack, 'Heal', { redrive: { stateMachines: [orders] } });";

export async function measureLibrary(
  options: {
    runs?: number;
    log?: (line: string) => void;
    /** The built project to pack. @default the repository root */
    projectRoot?: string;
    /** What the host app places in its stack after its state machine `orders`. @default AUTOHEAL_IN_HOST */
    autoheal?: string;
  } = {},
): Promise<LibraryFigures> {
  const runs = options.runs ?? 5;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'autoheal-bench-library-'));
  try {
    const tarball = packProject(path.join(work, 'pack'), options.projectRoot);
    log(
      `  packed ${tarball.packedBytes} bytes (${tarball.unpackedBytes} unpacked, ${tarball.fileCount} files)`,
    );
    const host = ConsumerHost.install(path.join(work, 'host'), tarball);
    const withAutoheal = host.compile(
      'withAutoheal',
      hostApp({ autoheal: options.autoheal ?? AUTOHEAL_IN_HOST }),
    );
    const without = host.compile('without', hostApp());
    const samples = { withAutoheal: [] as number[], without: [] as number[] };
    // One dropped round warms the file cache; then alternate which app runs first.
    for (let round = 0; round <= runs; round++) {
      const order: (keyof typeof samples)[] =
        round % 2 === 0 ? ['withAutoheal', 'without'] : ['without', 'withAutoheal'];
      for (const name of order) {
        const file = name === 'withAutoheal' ? withAutoheal : without;
        const { ms } = host.synth(file, path.join(work, `cdk.out.${name}`));
        if (round > 0) samples[name].push(ms);
      }
    }
    const consumerSynthMs = {
      withAutoheal: Math.round(median(samples.withAutoheal)),
      without: Math.round(median(samples.without)),
    };
    return {
      packedBytes: tarball.packedBytes,
      unpackedBytes: tarball.unpackedBytes,
      fileCount: tarball.fileCount,
      consumerSynthMs,
      consumerSynthRatio:
        Math.round((median(samples.withAutoheal) / median(samples.without)) * 100) / 100,
      runs,
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

if (require.main === module) {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : undefined;
  measureLibrary({ runs })
    .then((figures) => console.log(JSON.stringify(figures, null, 2)))
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}
