import { sweepOrder } from '../../lambda/redrive/sweep-cursor';

const machines = ['c', 'a', 'e', 'b', 'd'].map((arn) => ({ arn }));

describe('the order a sweep visits the machines in', () => {
  it.each([
    { label: 'no cursor (first deploy)', cursor: {}, order: 'abcde', passStart: 0 },
    { label: 'a cursor after b', cursor: { after: 'b' }, order: 'cdeab', passStart: 3 },
    { label: 'a cursor after the last', cursor: { after: 'e' }, order: 'abcde', passStart: 0 },
    {
      label: 'a cursor on a machine gone from the scope',
      cursor: { after: 'bb' },
      order: 'cdeab',
      passStart: 3,
    },
    {
      label: 'a cursor before every machine',
      cursor: { after: '0' },
      order: 'abcde',
      passStart: 0,
    },
    {
      label: 'a cursor past every machine, gone',
      cursor: { after: 'z' },
      order: 'abcde',
      passStart: 0,
    },
  ])('starts after $label, each machine once', ({ cursor, order, passStart }) => {
    // Act
    const planned = sweepOrder(machines, cursor);

    // Assess
    expect(planned.machines.map((m) => m.arn).join('')).toBe(order);
    expect(planned.passStart).toBe(passStart);
  });

  it.each([
    { label: 'the first machine it visits', after: 'b', resumeArn: 'c', resumed: true },
    {
      label: 'a machine that is no longer next (one joined in between)',
      after: 'a',
      resumeArn: 'c',
      resumed: false,
    },
    { label: 'a machine gone from the scope', after: 'b', resumeArn: 'bb', resumed: false },
  ])('picks up the pages of $label: $resumed', ({ after, resumeArn, resumed }) => {
    // Prepare
    const resume = { arn: resumeArn, status: 'FAILED', nextToken: 't' };

    // Act
    const planned = sweepOrder(machines, { after, resume });

    // Assess
    expect(planned.resume).toEqual(resumed ? resume : undefined);
  });
});
