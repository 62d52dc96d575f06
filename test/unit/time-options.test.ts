import { parseDuration, parseTimeAgo } from '../../cli/time-options';

const NOW = Date.parse('2026-03-02T12:00:00Z');

describe('the CLI time options', () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['3d', 259_200_000],
    ['1w', 604_800_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
  ])('reads the duration %s as %i ms', (text, ms) => {
    expect(parseDuration(text, '--older-than')).toBe(ms);
  });

  it.each(['', '2', 'h', '2x', '1h 30m', '-5m', 'yesterday'])(
    'refuses the duration "%s" in one line naming the option',
    (text) => {
      expect(() => parseDuration(text, '--older-than')).toThrow(
        /^--older-than .*: give a duration \(90s, 30m, 6h, 2d, 1w, 1h30m\)$/,
      );
    },
  );

  it.each([
    ['6h', '2026-03-02T06:00:00.000Z'],
    ['1d12h', '2026-03-01T00:00:00.000Z'],
    ['2026-03-01T10:00:00Z', '2026-03-01T10:00:00.000Z'],
    ['2026-03-01T10:00:00+01:00', '2026-03-01T09:00:00.000Z'],
    ['2026-03-01', '2026-03-01T00:00:00.000Z'],
  ])('reads the point in time %s as %s', (text, iso) => {
    expect(new Date(parseTimeAgo(text, NOW, '--since')).toISOString()).toBe(iso);
  });

  it.each(['yesterday', '2026-03-01T10:00:00', '2026-13-45T10:00:00Z', '6 h'])(
    'refuses the point in time "%s" (a zoneless time would depend on the machine) naming the option',
    (text) => {
      expect(() => parseTimeAgo(text, NOW, '--since')).toThrow(
        /^--since .*: give a duration ago .* or an ISO time with a zone/,
      );
    },
  );
});
