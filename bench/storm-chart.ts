/**
 * The throttled storm as an SVG: effective redrives in each second of the run
 * (bars) against what the RedriveExecution quota allows in that second (line:
 * the burst plus one second of refill at first, then the refill rate).
 * Below it, when given, the broken-downstream run of the storm brake, without
 * and with the breaker: redrives, relapses and recoveries over simulated time,
 * the outage shaded, and the breaker's state as a band under each panel.
 * Hand-written SVG, so the benchmark needs no charting dependency.
 */
import type { TokenBucketQuota } from '../test/support/local-aws/local-aws-endpoint';
import type {
  BreakerTimelineState,
  TimelineSecond,
} from '../test/support/resilience/brake-scenarios';

const WIDTH = 900;
const HEIGHT = 420;
const MARGIN = { top: 40, right: 20, bottom: 50, left: 60 };

/** The broken-downstream runs of the storm brake, for the panels under the storm. */
export interface BrakeChartInput {
  /** How long the downstream was broken, from second 0. */
  readonly brokenSeconds: number;
  readonly withoutBreaker: readonly TimelineSecond[];
  /** Undefined until the breaker-on run exists: the panel says so. */
  readonly withBreaker?: readonly TimelineSecond[];
}

const BRAKE_PANEL_HEIGHT = 300;
const STATE_COLOURS: Readonly<Record<BreakerTimelineState, string>> = {
  off: '#bab0ac',
  closed: '#59a14f',
  'half-open': '#edc948',
  open: '#e15759',
};
/** The worse of two states, for a bin of several seconds. */
const STATE_RANK: Readonly<Record<BreakerTimelineState, number>> = {
  off: 0,
  closed: 1,
  'half-open': 2,
  open: 3,
};
/** At most this many bars per panel: longer runs are binned (per-second averages). */
const MAX_BINS = 300;

interface Bin {
  readonly from: number;
  readonly redrives: number;
  readonly relapses: number;
  readonly recoveries: number;
  readonly breaker: BreakerTimelineState;
}

function binned(timeline: readonly TimelineSecond[], width: number): Bin[] {
  const bins: Bin[] = [];
  for (let from = 0; from < timeline.length; from += width) {
    const slice = timeline.slice(from, from + width);
    const mean = (pick: (s: TimelineSecond) => number) =>
      slice.reduce((total, s) => total + pick(s), 0) / slice.length;
    bins.push({
      from,
      redrives: mean((s) => s.redrives),
      relapses: mean((s) => s.relapses),
      recoveries: mean((s) => s.recoveries),
      breaker: slice.reduce<BreakerTimelineState>(
        (worst, s) => (STATE_RANK[s.breaker] > STATE_RANK[worst] ? s.breaker : worst),
        'off',
      ),
    });
  }
  return bins;
}

/** One broken-downstream panel, `top` px down the picture, over `seconds` of simulated time. */
function brakePanel(
  title: string,
  timeline: readonly TimelineSecond[] | undefined,
  top: number,
  seconds: number,
  brokenSeconds: number,
): string {
  const plotTop = top + 36;
  const plotH = BRAKE_PANEL_HEIGHT - 36 - 60;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const x = (second: number) => MARGIN.left + (second / seconds) * plotW;
  const parts = [`<text x="${MARGIN.left}" y="${top + 22}" font-size="14">${title}</text>`];
  if (!timeline) {
    parts.push(
      `<text x="${(MARGIN.left + plotW / 2).toFixed(0)}" y="${(plotTop + plotH / 2).toFixed(0)}" text-anchor="middle" font-size="13" fill="#666">no run yet: the storm brake is not wired into the benchmark</text>`,
    );
    return parts.join('');
  }
  const width = Math.max(1, Math.ceil(seconds / MAX_BINS));
  const bins = binned(timeline, width);
  const yMax =
    Math.max(1, ...bins.map((b) => Math.max(b.redrives, b.relapses, b.recoveries))) * 1.1;
  const y = (v: number) => plotTop + plotH - (v / yMax) * plotH;
  const barW = Math.max(0.5, (width / seconds) * plotW - 0.5);
  parts.push(
    `<rect x="${x(0).toFixed(1)}" y="${plotTop}" width="${(x(Math.min(brokenSeconds, seconds)) - x(0)).toFixed(1)}" height="${plotH}" fill="#fbe3e3"/>`,
    `<text x="${(x(0) + 4).toFixed(1)}" y="${plotTop + 14}" font-size="11" fill="#b03030">downstream broken</text>`,
  );
  for (const f of [0, 0.5, 1]) {
    const v = f * yMax;
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${v.toFixed(v < 10 ? 1 : 0)}</text>`,
    );
  }
  for (const b of bins) {
    if (b.redrives > 0) {
      parts.push(
        `<rect x="${x(b.from).toFixed(1)}" y="${y(b.redrives).toFixed(1)}" width="${barW.toFixed(1)}" height="${(y(0) - y(b.redrives)).toFixed(1)}" fill="#4e79a7"/>`,
      );
    }
  }
  const line = (pick: (b: Bin) => number, colour: string) =>
    `<polyline points="${bins.map((b) => `${x(b.from + width / 2).toFixed(1)},${y(pick(b)).toFixed(1)}`).join(' ')}" fill="none" stroke="${colour}" stroke-width="1.5"/>`;
  parts.push(
    line((b) => b.relapses, '#e15759'),
    line((b) => b.recoveries, '#59a14f'),
  );
  const bandY = plotTop + plotH + 6;
  for (const b of bins) {
    parts.push(
      `<rect x="${x(b.from).toFixed(1)}" y="${bandY}" width="${(x(b.from + width) - x(b.from)).toFixed(1)}" height="10" fill="${STATE_COLOURS[b.breaker]}"/>`,
    );
  }
  const step = Math.max(1, Math.ceil(seconds / 10 / 60)) * 60;
  for (let s = 0; s <= seconds; s += step) {
    parts.push(
      `<text x="${x(s).toFixed(1)}" y="${bandY + 26}" text-anchor="middle" font-size="11">${s / 60}</text>`,
    );
  }
  parts.push(
    `<text x="${(MARGIN.left + plotW / 2).toFixed(0)}" y="${bandY + 44}" text-anchor="middle" font-size="12">simulated minutes since the downstream broke (band: breaker state)</text>`,
  );
  return parts.join('');
}

function brakeLegend(top: number): string {
  const items: [string, string][] = [
    ['#4e79a7', 'redrives / s'],
    ['#e15759', 'relapses / s'],
    ['#59a14f', 'recoveries / s'],
  ];
  const states = (Object.keys(STATE_COLOURS) as BreakerTimelineState[]).map(
    (state): [string, string] => [STATE_COLOURS[state], `breaker ${state}`],
  );
  return [...items, ...states]
    .map(
      ([colour, label], i) =>
        `<rect x="${MARGIN.left + i * 110}" y="${top}" width="12" height="12" fill="${colour}"/><text x="${MARGIN.left + i * 110 + 16}" y="${top + 10}" font-size="11">${label}</text>`,
    )
    .join('');
}

/**
 * Renders the chart; `perSecond[i]` is the redrives in second i of the storm;
 * `brake`, when given, adds the broken-downstream panels under it.
 */
export function stormChartSvg(
  perSecond: readonly number[],
  quota: TokenBucketQuota,
  brake?: BrakeChartInput,
): string {
  const seconds = Math.max(perSecond.length, 1);
  const allowed = (i: number) => (i === 0 ? quota.burst + quota.perSecond : quota.perSecond);
  const yMax = Math.max(...perSecond, quota.burst + quota.perSecond) * 1.05;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (i: number) => MARGIN.left + (i / seconds) * plotW;
  const y = (v: number) => MARGIN.top + plotH - (v / yMax) * plotH;
  const barW = Math.max(1, plotW / seconds - 1);

  const bars = perSecond
    .map(
      (v, i) =>
        `<rect x="${x(i).toFixed(1)}" y="${y(v).toFixed(1)}" width="${barW.toFixed(1)}" height="${(y(0) - y(v)).toFixed(1)}" fill="#4e79a7"/>`,
    )
    .join('');
  const quotaPoints = Array.from({ length: seconds }, (_, i) => [
    `${x(i).toFixed(1)},${y(allowed(i)).toFixed(1)}`,
    `${x(i + 1).toFixed(1)},${y(allowed(i)).toFixed(1)}`,
  ])
    .flat()
    .join(' ');
  const yTicks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => Math.round(f * yMax))
    .map(
      (v) =>
        `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>` +
        `<text x="${MARGIN.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${v}</text>`,
    )
    .join('');
  const step = Math.max(1, Math.ceil(seconds / 10));
  const xTicks = Array.from({ length: Math.floor(seconds / step) + 1 }, (_, k) => k * step)
    .map(
      (s) =>
        `<text x="${x(s).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle" font-size="11">${s}</text>`,
    )
    .join('');
  const total = perSecond.reduce((a, b) => a + b, 0);
  const brakeSeconds = brake
    ? Math.max(brake.withoutBreaker.length, brake.withBreaker?.length ?? 0, 1)
    : 0;
  const height = brake ? HEIGHT + 30 + 2 * BRAKE_PANEL_HEIGHT : HEIGHT;
  const brakePanels = brake
    ? [
        brakeLegend(HEIGHT + 8),
        brakePanel(
          'Broken downstream, without the breaker: redrives, relapses, give-ups',
          brake.withoutBreaker,
          HEIGHT + 30,
          brakeSeconds,
          brake.brokenSeconds,
        ),
        brakePanel(
          'Broken downstream, with the breaker',
          brake.withBreaker,
          HEIGHT + 30 + BRAKE_PANEL_HEIGHT,
          brakeSeconds,
          brake.brokenSeconds,
        ),
      ]
    : [];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif">`,
    `<title>Redrives per second during a throttled storm of ${total} failures against the RedriveExecution quota${brake ? ', and a broken downstream with and without the storm brake' : ''}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="14">Throttled storm: ${total} redrives, counted per second, against the RedriveExecution quota (${quota.burst} burst, ${quota.perSecond}/s)</text>`,
    yTicks,
    bars,
    `<polyline points="${quotaPoints}" fill="none" stroke="#e15759" stroke-width="2" stroke-dasharray="6 3"/>`,
    xTicks,
    `<text x="${(MARGIN.left + plotW / 2).toFixed(0)}" y="${HEIGHT - 12}" text-anchor="middle" font-size="12">seconds since the storm began</text>`,
    `<text x="16" y="${(MARGIN.top + plotH / 2).toFixed(0)}" font-size="12" transform="rotate(-90 16 ${(MARGIN.top + plotH / 2).toFixed(0)})" text-anchor="middle">redrives in that second</text>`,
    `<rect x="${WIDTH - 250}" y="${MARGIN.top}" width="12" height="12" fill="#4e79a7"/><text x="${WIDTH - 232}" y="${MARGIN.top + 10}" font-size="11">redrives (effective, per second)</text>`,
    `<line x1="${WIDTH - 250}" x2="${WIDTH - 238}" y1="${MARGIN.top + 26}" y2="${MARGIN.top + 26}" stroke="#e15759" stroke-width="2" stroke-dasharray="6 3"/><text x="${WIDTH - 232}" y="${MARGIN.top + 30}" font-size="11">quota allows</text>`,
    ...brakePanels,
    '</svg>',
  ].join('\n');
}
