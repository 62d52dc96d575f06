/**
 * The malformed-event generator: deterministic, every family well represented,
 * every body one SQS would carry, and every event rejected naming the field
 * the generator derived from its mutation.
 */
import { parseExecutionStatusChange } from '../../lambda/redrive/failure-event';
import { isStateMachineInScope, parseRedriveConfig } from '../../lambda/shared/autoheal-config';
import { InvalidInputError } from '../../lambda/shared/errors';
import {
  BAD_INPUT_SCOPE,
  generateMalformedEvents,
  MALFORMED_FAMILIES,
  type MalformedEvent,
  VARIANT_COUNTS,
} from '../support/bad-input';
import { AFTER_EVERY_FIXTURE, EVENT_FIXTURES, fixtureBody } from '../support/fixtures';
import { STATES_ARN_PREFIX } from '../support/lambda-env';

const COUNT = 1000;
const events = generateMalformedEvents(COUNT);
const scope = parseRedriveConfig(BAD_INPUT_SCOPE);

/** What the parser threw for `body`, or `accepted` with the facts when it threw nothing. */
function outcomeOf(body: string) {
  try {
    return { accepted: parseExecutionStatusChange(body, AFTER_EVERY_FIXTURE) };
  } catch (error) {
    return { rejected: error };
  }
}

describe('generateMalformedEvents', () => {
  it('generates the same events for the same count and seed', () => {
    // Prepare
    const seed = 7;

    // Act
    const first = generateMalformedEvents(200, seed);
    const second = generateMalformedEvents(200, seed);

    // Assess
    expect(second).toEqual(first);
  });

  it('generates other events for another seed', () => {
    // Prepare
    const bodies = (seed: number) => generateMalformedEvents(90, seed).map((e) => e.body);

    // Act
    const [a, b] = [bodies(1), bodies(2)];

    // Assess
    expect(b).not.toEqual(a);
  });

  it('generates a prefix of the longer list for a smaller count', () => {
    // Act
    const fewer = generateMalformedEvents(50);

    // Assess
    expect(fewer).toEqual(events.slice(0, 50));
  });

  it('starts from fixtures that are valid and in scope', () => {
    // Act
    const changes = EVENT_FIXTURES.map((name) =>
      parseExecutionStatusChange(fixtureBody(name), AFTER_EVERY_FIXTURE),
    );

    // Assess
    for (const change of changes) {
      expect(isStateMachineInScope(scope, change.stateMachineArn, STATES_ARN_PREFIX)).toBe(true);
    }
  });

  it('represents every family equally at 1000, and uses every variant of every family', () => {
    // Prepare
    const perFamily = Math.floor(COUNT / MALFORMED_FAMILIES.length);

    // Act
    const counts = Object.fromEntries(
      MALFORMED_FAMILIES.map((family) => [family, events.filter((e) => e.family === family)]),
    );

    // Assess
    for (const family of MALFORMED_FAMILIES) {
      expect(counts[family].length).toBeGreaterThanOrEqual(perFamily);
      expect(counts[family].length).toBeLessThanOrEqual(perFamily + 1);
      const variants = new Set(counts[family].map((e) => e.label.replace(/ \[.*$/, '')));
      expect({ family, variants: variants.size }).toEqual({
        family,
        variants: VARIANT_COUNTS[family],
      });
    }
  });

  it('represents every family at 50', () => {
    // Act
    const families = new Set(generateMalformedEvents(50).map((e) => e.family));

    // Assess
    expect([...families].sort()).toEqual([...MALFORMED_FAMILIES].sort());
  });

  it('gives every event a unique label', () => {
    // Act
    const labels = new Set(events.map((e) => e.label));

    // Assess
    expect(labels.size).toBe(COUNT);
  });

  it('generates only bodies SQS would carry (1 character to 1 MiB, allowed characters)', () => {
    // Prepare
    const allowed = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]+$/u;

    // Act
    const unfit = events.filter(
      (e) => !allowed.test(e.body) || Buffer.byteLength(e.body, 'utf8') > 1024 * 1024,
    );

    // Assess
    expect(unfit.map((e) => e.label)).toEqual([]);
  });

  it('marks only the out-of-scope family as rejected by the scope check, all naming detail.stateMachineArn', () => {
    // Act
    const byScope = events.filter((e) => e.rejectedBy === 'scope');

    // Assess
    expect(new Set(byScope.map((e) => e.family))).toEqual(new Set(['out-of-scope']));
    expect(byScope.length).toBe(events.filter((e) => e.family === 'out-of-scope').length);
    expect(new Set(byScope.map((e) => e.expectedField))).toEqual(
      new Set(['detail.stateMachineArn']),
    );
  });
});

describe('parseExecutionStatusChange on generated malformed events', () => {
  const parserRejected = events.filter((e) => e.rejectedBy === 'parser');
  const scopeRejected = events.filter((e) => e.rejectedBy === 'scope');

  it.each(MALFORMED_FAMILIES.filter((family) => family !== 'out-of-scope'))(
    'rejects every %s event with an InvalidInputError naming the expected field',
    (family) => {
      // Prepare
      const ofFamily = parserRejected.filter((e) => e.family === family);

      // Act
      const wrong = ofFamily.flatMap((e: MalformedEvent) => {
        const outcome = outcomeOf(e.body);
        const error = outcome.rejected;
        if (
          error instanceof InvalidInputError &&
          error.field === e.expectedField &&
          error.message.startsWith(`${e.expectedField}: `)
        ) {
          return [];
        }
        return [
          {
            label: e.label,
            expected: e.expectedField,
            got: error instanceof Error ? `${error.name}: ${error.message}` : 'accepted',
          },
        ];
      });

      // Assess
      expect(ofFamily.length).toBeGreaterThan(100);
      expect(wrong).toEqual([]);
    },
  );

  it('accepts every out-of-scope event as well formed, with a state machine outside the scope', () => {
    // Act
    const wrong = scopeRejected.flatMap((e) => {
      const outcome = outcomeOf(e.body);
      const { accepted } = outcome;
      if (accepted && !isStateMachineInScope(scope, accepted.stateMachineArn, STATES_ARN_PREFIX)) {
        return [];
      }
      return [{ label: e.label, outcome: String(outcome.rejected ?? 'in scope') }];
    });

    // Assess
    expect(scopeRejected.length).toBeGreaterThan(100);
    expect(wrong).toEqual([]);
  });
});
