import {
  ENV,
  idempotencyKeyPrefixes,
  idempotencyKeyPrefixesOf,
} from '../../lambda/shared/contract';

describe('idempotency key prefixes', () => {
  it("keep the app's keys of before the upgrade when no prefix is set, so its records still dedupe", () => {
    // Act
    const prefixes = idempotencyKeyPrefixesOf({});

    // Assess: the literal keys the handlers wrote before installations had prefixes
    expect(prefixes).toEqual({
      redrive: 'autoheal-redrive',
      flowHeal: 'autoheal-flow-heal',
      flowStart: 'autoheal-flow-start',
      rerunLineage: 'autoheal-appflow-rerun-of#',
      reactivations: 'autoheal-appflow-reactivations#',
      // New with the sweeper's cursor: no record of before to keep, the app's key all the same.
      sweepCursor: 'autoheal-sweeper-cursor',
    });
  });

  it.each([
    ['redrive', 'autoheal-1a2b3c4d-redrive'],
    ['flowHeal', 'autoheal-1a2b3c4d-flow-heal'],
    ['flowStart', 'autoheal-1a2b3c4d-flow-start'],
    ['rerunLineage', 'autoheal-1a2b3c4d-appflow-rerun-of#'],
    ['reactivations', 'autoheal-1a2b3c4d-appflow-reactivations#'],
    ['sweepCursor', 'autoheal-1a2b3c4d-sweeper-cursor'],
  ] as const)(
    'derive the %s key from the installation prefix in the environment',
    (kind, expected) => {
      // Act
      const prefixes = idempotencyKeyPrefixesOf({
        [ENV.idempotencyKeyPrefix]: 'autoheal-1a2b3c4d',
      });

      // Assess
      expect(prefixes[kind]).toBe(expected);
      expect(idempotencyKeyPrefixes('autoheal-1a2b3c4d')[kind]).toBe(expected);
    },
  );
});
