/**
 * The storm brake's evidence (issue 10, section 3) at full size: a downstream
 * broken for 10 simulated minutes under 2,000 failures, with and without the
 * breaker; two machines, one broken; a flapping downstream. Backlogs drain in
 * real time (so RedriveExecution's quota paces them as in AWS), trickles run
 * 4 times faster, idle spans of the simulated clock are skipped. Writes the `brake` keys of
 * bench/results.json (from bench/run.ts) and the broken-downstream timelines
 * of the storm chart.
 *
 * Alone: npx ts-node --transpile-only bench/brake.ts [--small]
 */
import {
  BRAKE_KEEPER_WIRED,
  type BreakerMode,
  type BrokenDownstreamFigures,
  brokenDownstream,
  type FlappingFigures,
  flappingDownstream,
  REDRIVE_QUOTA,
  type TimelineSecond,
  type TwoMachinesFigures,
  twoMachinesOneBroken,
} from '../test/support/resilience/brake-scenarios';
import { runStandalone } from './standalone';

/** The scenarios' sizes: `full` is the issue's, `small` checks the module in seconds. */
export const BRAKE_SIZES = {
  full: {
    broken: { failures: 2_000, brokenMinutes: 10 },
    // Half the outage and failures of the broken-downstream run: the comparison is of the healthy machine.
    twoMachines: { brokenFailures: 1_000, healthyFailures: 500, brokenMinutes: 5 },
    flapping: { failures: 300, flapMinutes: 8 },
  },
  small: {
    broken: { failures: 100, brokenMinutes: 2 },
    twoMachines: { brokenFailures: 100, healthyFailures: 50, brokenMinutes: 2 },
    flapping: { failures: 60, flapMinutes: 4 },
  },
} as const;

export type BrakeSize = keyof typeof BRAKE_SIZES;

const round = (value: number | undefined, digits = 2) =>
  value === undefined ? null : Number(value.toFixed(digits));

/** The `brake` section of bench/results.json; breaker-on figures are null until the brake is wired in. */
export interface BrakeResults {
  readonly size: BrakeSize;
  readonly failures: number;
  readonly brokenMinutes: number;
  readonly quota: typeof REDRIVE_QUOTA;
  /** False while the breaker-on runs cannot run (the brake keeper is not wired in). */
  readonly breakerWired: boolean;
  readonly wastedRedrives: number | null;
  readonly wastedRedrivesWithoutBreaker: number;
  /** wastedRedrives / wastedRedrivesWithoutBreaker; target <= 0.01. */
  readonly wastedRatio: number | null;
  readonly healedAfterRecovery: number | null;
  readonly healedAfterRecoveryWithoutBreaker: number;
  readonly gaveUpWithoutBreaker: number;
  readonly secondsToHealAfterRecovery: number | null;
  readonly secondsToHealAfterRecoveryWithoutBreaker: number | null;
  readonly optimumSecondsToHeal: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly noticesWithoutBreaker: Readonly<Record<string, number>>;
  readonly notices: Readonly<Record<string, number>> | null;
  readonly twoMachines: {
    readonly healthySeconds: number | null;
    readonly healthySecondsAlone: number | null;
    /** healthySeconds / healthySecondsAlone; target <= 1.05. */
    readonly healthyTimeRatio: number | null;
    readonly healthySecondsWithoutBreaker: number | null;
    readonly healthyTimeRatioWithoutBreaker: number | null;
  };
  readonly flapping: {
    readonly breakerOpenedNotices: number | null;
    readonly breakerClosedNotices: number | null;
    readonly notices: number | null;
    readonly noticesWithoutBreaker: number;
    readonly gaveUpWithoutBreaker: number;
  };
}

/** The broken-downstream timelines for the storm chart. */
export interface BrakeTimelines {
  readonly brokenSeconds: number;
  readonly withoutBreaker: readonly TimelineSecond[];
  /** Undefined until the brake is wired in. */
  readonly withBreaker?: readonly TimelineSecond[];
}

/** Runs `run` with the breaker on; undefined while its keeper is not wired in (nothing would heal). */
async function breakerOn<T>(run: (breaker: BreakerMode) => Promise<T>): Promise<T | undefined> {
  return BRAKE_KEEPER_WIRED ? run('on') : undefined;
}

/** Runs the brake scenarios at `size`; needs DynamoDB Local at AWS_ENDPOINT_URL_DYNAMODB. */
export async function measureBrake(
  options: { readonly size?: BrakeSize; readonly log?: (line: string) => void } = {},
): Promise<{ readonly results: BrakeResults; readonly timelines: BrakeTimelines }> {
  const size = options.size ?? 'full';
  const log = options.log ?? (() => undefined);
  const sizes = BRAKE_SIZES[size];
  const step = async <T>(label: string, run: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const result = await run();
    log(`bench: brake: ${label} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  };
  const { failures, brokenMinutes } = sizes.broken;
  const without: BrokenDownstreamFigures = await step(
    `broken downstream without the breaker (${failures} failures, ${brokenMinutes} min)`,
    () => brokenDownstream({ ...sizes.broken, breaker: 'off' }),
  );
  const withBreaker = await step('broken downstream with the breaker', () =>
    breakerOn((breaker) => brokenDownstream({ ...sizes.broken, breaker })),
  );
  const twoWithout: TwoMachinesFigures = await step('two machines without the breaker', () =>
    twoMachinesOneBroken({ ...sizes.twoMachines, breaker: 'off' }),
  );
  const twoWith = await step('two machines with the breaker', () =>
    breakerOn((breaker) => twoMachinesOneBroken({ ...sizes.twoMachines, breaker })),
  );
  const flapWithout: FlappingFigures = await step('flapping without the breaker', () =>
    flappingDownstream({ ...sizes.flapping, breaker: 'off' }),
  );
  const flapWith = await step('flapping with the breaker', () =>
    breakerOn((breaker) => flappingDownstream({ ...sizes.flapping, breaker })),
  );
  const all = [without, withBreaker, twoWithout, twoWith, flapWithout, flapWith];
  if (all.some((figures) => figures?.abandoned)) {
    throw new Error('A brake scenario was abandoned with work left: its figures would be wrong');
  }
  const present = all.filter((figures) => figures !== undefined);
  const results: BrakeResults = {
    size,
    failures,
    brokenMinutes,
    quota: REDRIVE_QUOTA,
    breakerWired: withBreaker !== undefined,
    wastedRedrives: withBreaker?.wastedRedrives ?? null,
    wastedRedrivesWithoutBreaker: without.wastedRedrives,
    wastedRatio:
      withBreaker && without.wastedRedrives > 0
        ? round(withBreaker.wastedRedrives / without.wastedRedrives, 4)
        : null,
    healedAfterRecovery: withBreaker?.healedAfterRecovery ?? null,
    healedAfterRecoveryWithoutBreaker: without.healedAfterRecovery,
    gaveUpWithoutBreaker: without.gaveUp,
    secondsToHealAfterRecovery: round(withBreaker?.secondsToHealAfterRecovery),
    secondsToHealAfterRecoveryWithoutBreaker: round(without.secondsToHealAfterRecovery),
    optimumSecondsToHeal: without.optimumSeconds,
    lost: present.reduce((total, figures) => total + figures.lost, 0),
    duplicates: present.reduce((total, figures) => total + figures.duplicates, 0),
    noticesWithoutBreaker: without.notices,
    notices: withBreaker?.notices ?? null,
    twoMachines: {
      healthySeconds: round(twoWith?.healthySeconds),
      healthySecondsAlone: round(twoWith?.healthySecondsAlone),
      healthyTimeRatio: round(twoWith?.ratio, 3),
      healthySecondsWithoutBreaker: round(twoWithout.healthySeconds),
      healthyTimeRatioWithoutBreaker: round(twoWithout.ratio, 3),
    },
    flapping: {
      breakerOpenedNotices: flapWith?.breakerOpenedNotices ?? null,
      breakerClosedNotices: flapWith?.breakerClosedNotices ?? null,
      notices: flapWith?.notices ?? null,
      noticesWithoutBreaker: flapWithout.notices,
      gaveUpWithoutBreaker: flapWithout.gaveUp,
    },
  };
  return {
    results,
    timelines: {
      brokenSeconds: brokenMinutes * 60,
      withoutBreaker: without.timeline,
      ...(withBreaker && { withBreaker: withBreaker.timeline }),
    },
  };
}

/** The rows bench/run.ts prints: figure, value, target. */
export function brakeRows(results: BrakeResults): [string, string, string][] {
  const pending = (value: unknown) =>
    value === null ? 'pending (brake not wired)' : String(value);
  return [
    [
      `brake: wasted redrives with / without the breaker (${results.failures} failures, ${results.brokenMinutes} min broken)`,
      `${pending(results.wastedRedrives)} / ${results.wastedRedrivesWithoutBreaker}`,
      '<= 1% of the baseline',
    ],
    [
      'brake: healed after recovery with / without the breaker',
      `${pending(results.healedAfterRecovery)} / ${results.healedAfterRecoveryWithoutBreaker} (baseline gave up on ${results.gaveUpWithoutBreaker})`,
      `all ${results.failures}`,
    ],
    [
      'brake: seconds to heal after recovery vs optimum',
      `${pending(results.secondsToHealAfterRecovery)} vs ${results.optimumSecondsToHeal} s`,
      'one cool-down + 110% of optimum',
    ],
    ['brake: lost / duplicates', `${results.lost} / ${results.duplicates}`, '0 / 0'],
    [
      'brake: healthy machine beside a broken one / alone',
      `${pending(results.twoMachines.healthyTimeRatio)}x (without the breaker ${pending(results.twoMachines.healthyTimeRatioWithoutBreaker)}x)`,
      '<= 1.05x',
    ],
    [
      'brake: flapping: breaker opened / closed notices (all notices; without the breaker)',
      `${pending(results.flapping.breakerOpenedNotices)} / ${pending(results.flapping.breakerClosedNotices)} (${pending(results.flapping.notices)}; ${results.flapping.noticesWithoutBreaker})`,
      'bounded by the growing cool-down',
    ],
  ];
}

if (require.main === module) {
  runStandalone('brake', async (log) => {
    const size: BrakeSize = process.argv.includes('--small') ? 'small' : 'full';
    return (await measureBrake({ size, log })).results;
  });
}
