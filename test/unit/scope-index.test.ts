import { liveSinceOf } from '../../lambda/redrive/live-healing';
import {
  isNameInScope,
  isStateMachineInScope,
  scopeIndexOf,
} from '../../lambda/shared/config/redrive-config';

const HOME = 'arn:aws:states:eu-central-1:123456789012:';
const ELSEWHERE = 'arn:aws:states:us-east-1:123456789012:';

/** Prefixes that are prefixes of each other, one equal to a listed name, unicode ones. */
const SCOPE = {
  stateMachineArns: [
    `${HOME}stateMachine:billing`,
    `${ELSEWHERE}stateMachine:payments`,
    `${HOME}stateMachine:ord`,
    `${HOME}stateMachine:zähler-täglich`,
  ],
  stateMachineNamePrefixes: ['ord', 'orders-', 'orders-eu-', 'größe-', '😀-', 'x'],
};

describe('the scope index', () => {
  it.each([
    {
      name: 'ord',
      prefix: true,
      byArn: true,
      why: 'a name equal to a prefix and to a listed name',
    },
    { name: 'orders-eu-nightly', prefix: true, byArn: false, why: 'three nested prefixes' },
    { name: 'orders-us', prefix: true, byArn: false, why: 'two nested prefixes' },
    { name: 'or', prefix: false, byArn: false, why: 'shorter than every prefix it begins' },
    { name: 'Orders-eu', prefix: false, byArn: false, why: 'another case' },
    { name: 'größe-m', prefix: true, byArn: false, why: 'a unicode prefix' },
    {
      name: 'größe',
      prefix: false,
      byArn: false,
      why: 'a unicode prefix minus its last character',
    },
    { name: '😀-party', prefix: true, byArn: false, why: 'a prefix with a surrogate pair' },
    {
      name: '😁-party',
      prefix: false,
      byArn: false,
      why: 'another emoji sharing the high surrogate',
    },
    { name: 'x', prefix: true, byArn: false, why: 'a one-character prefix, whole' },
    { name: 'zähler-täglich', prefix: false, byArn: true, why: 'a unicode name listed by ARN' },
    { name: 'payments', prefix: false, byArn: true, why: 'a name listed in another region' },
    { name: 'billing-2', prefix: false, byArn: false, why: 'a listed name plus a suffix' },
    { name: 'illing', prefix: false, byArn: false, why: 'a listed name minus its first character' },
  ])('finds $name by prefix: $prefix, by ARN: $byArn ($why)', ({ name, prefix, byArn }) => {
    // Prepare
    const index = scopeIndexOf(SCOPE);

    // Act
    const found = {
      prefix: index.hasNamePrefixOf(name),
      byArn: index.hasArnNamed(name),
      inScope: isNameInScope(SCOPE, name),
    };

    // Assess
    expect(found).toEqual({ prefix, byArn, inScope: prefix || byArn });
  });

  it.each([
    { arn: `${HOME}stateMachine:orders-eu-1`, inScope: true, why: 'a prefix at home' },
    { arn: `${HOME}stateMachine:orders-eu-1/Lines`, inScope: true, why: 'a Map child at home' },
    { arn: `${ELSEWHERE}stateMachine:orders-eu-1`, inScope: false, why: 'a prefix elsewhere' },
    { arn: `${ELSEWHERE}stateMachine:payments`, inScope: true, why: 'a listed ARN elsewhere' },
    { arn: `${ELSEWHERE}stateMachine:payments/Fan`, inScope: true, why: 'its Map child' },
    { arn: `${HOME}stateMachine:payments`, inScope: false, why: 'a listed name, not its ARN' },
    { arn: `${HOME}stateMachine:größe-xl`, inScope: true, why: 'a unicode prefix at home' },
    { arn: `${HOME}stateMachine:billin`, inScope: false, why: 'a listed ARN minus a character' },
  ])('says $inScope for $why', ({ arn, inScope }) => {
    // Act
    const covered = isStateMachineInScope(SCOPE, arn, HOME);

    // Assess
    expect(covered).toBe(inScope);
  });

  it.each([
    { name: 'orders-eu-1', arns: [], prefixes: [0, 1, 2], why: 'every nested prefix' },
    { name: 'ord', arns: [2], prefixes: [0], why: 'its ARN and the prefix equal to its name' },
    { name: 'billing', arns: [0], prefixes: [], why: 'its ARN only' },
  ])('lists the entries covering $name: $why', ({ name, arns, prefixes }) => {
    // Act
    const entries = scopeIndexOf(SCOPE).coveringEntries(`${HOME}stateMachine:${name}`, name);

    // Assess
    expect({ arns: [...entries.arns], prefixes: [...entries.prefixes].sort() }).toEqual({
      arns,
      prefixes,
    });
  });

  it('answers for each config object, not for the first one it saw', () => {
    // Prepare
    const first = { stateMachineArns: [], stateMachineNamePrefixes: ['orders-'] };
    const second = { stateMachineArns: [], stateMachineNamePrefixes: ['billing-'] };

    // Act
    const answers = [first, second].map((scope) => isNameInScope(scope, 'billing-nightly'));

    // Assess
    expect(answers).toEqual([false, true]);
  });

  it('agrees with a linear scan on 1,000 ARNs and 100 prefixes', () => {
    // Prepare
    const arns = Array.from({ length: 1000 }, (_, i) => `${HOME}stateMachine:gen-${i * 7919}`);
    const prefixes = Array.from({ length: 100 }, (_, i) => `team${i}-`);
    const scope = { stateMachineArns: arns, stateMachineNamePrefixes: prefixes };
    const names = [
      ...Array.from({ length: 300 }, (_, i) => `gen-${i * 31}`),
      ...Array.from({ length: 300 }, (_, i) => `team${i}-job`),
    ];
    const linear = (name: string) =>
      prefixes.some((p) => name.startsWith(p)) ||
      arns.some((arn) => arn.endsWith(`:stateMachine:${name}`));

    // Act
    const disagreements = names.filter((name) => isNameInScope(scope, name) !== linear(name));

    // Assess
    expect(disagreements).toEqual([]);
  });

  it('gives the live-since time of the earliest covering entry', () => {
    // Prepare
    const document = {
      config: 'c',
      global: 1,
      arns: [10, 20, 30, 40],
      prefixes: [500, 300, 400, 0, 0, 0],
      machines: {},
      statuses: [1, 1, 1],
    };
    const machine = { arn: `${HOME}stateMachine:orders-eu-1`, name: 'orders-eu-1' };

    // Act
    const liveSince = liveSinceOf(document as never, SCOPE, machine, 'FAILED');

    // Assess
    expect(liveSince).toBe(300);
  });
});
