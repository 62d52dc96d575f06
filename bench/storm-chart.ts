/**
 * The throttled storm as an SVG: effective redrives in each second of the run
 * (bars) against what the RedriveExecution quota allows in that second (line:
 * the burst plus one second of refill at first, then the refill rate).
 * Hand-written SVG, so the benchmark needs no charting dependency.
 */
import type { TokenBucketQuota } from '../test/support/local-aws/local-aws-endpoint';

const WIDTH = 900;
const HEIGHT = 420;
const MARGIN = { top: 40, right: 20, bottom: 50, left: 60 };

/** Renders the chart; `perSecond[i]` is the redrives in second i of the storm. */
export function stormChartSvg(perSecond: readonly number[], quota: TokenBucketQuota): string {
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
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif">`,
    `<title>Redrives per second during a throttled storm of ${total} failures against the RedriveExecution quota</title>`,
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
    '</svg>',
  ].join('\n');
}
