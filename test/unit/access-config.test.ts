/**
 * The config options that widen or narrow access: `operators.principalArns`
 * (who may send to the work queues by hand) and `redrive.kmsKeyArns` (which
 * state machine keys the redrive handler may decrypt with). Each bad value is
 * refused with one line naming the field.
 */
import { parseAutohealConfig } from '../../lambda/shared/autoheal-config';

const redrive = { stateMachineNamePrefixes: ['orders-'] };
const KEY = 'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('operators.principalArns', () => {
  it('defaults to nobody, when the section is absent', () => {
    // Prepare & Act
    const config = parseAutohealConfig({ redrive });

    // Assess
    expect(config.operators).toBeUndefined();
  });

  it.each([
    ['a role', 'arn:aws:iam::123456789012:role/ops'],
    ['a role with a path', 'arn:aws:iam::123456789012:role/teams/ops/dlq-replayer'],
    [
      'an IAM Identity Center role',
      'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Ops_0123456789abcdef',
    ],
    ['a user', 'arn:aws:iam::123456789012:user/alice'],
    ['a role in aws-cn', 'arn:aws-cn:iam::123456789012:role/ops'],
  ])('accepts %s', (_name, arn) => {
    // Prepare & Act
    const config = parseAutohealConfig({ redrive, operators: { principalArns: [arn] } });

    // Assess
    expect(config.operators).toEqual({ principalArns: [arn] });
  });

  it.each([
    ['a wildcard', 'arn:aws:iam::123456789012:role/ops-*'],
    ['a group', 'arn:aws:iam::123456789012:group/ops'],
    ['an assumed-role session', 'arn:aws:sts::123456789012:assumed-role/ops/alice'],
    ['an account root', 'arn:aws:iam::123456789012:root'],
    ['a bare name', 'ops'],
  ])('refuses %s, naming the field', (_name, arn) => {
    // Prepare
    const raw = {
      redrive,
      operators: { principalArns: ['arn:aws:iam::123456789012:role/ok', arn] },
    };

    // Act & Assess
    expect(() => parseAutohealConfig(raw)).toThrow(
      /^Invalid Autoheal config at operators\.principalArns\[1\]: must be an IAM role or user ARN without wildcards/,
    );
  });

  it('refuses an unknown option of the section', () => {
    // Prepare
    const raw = { redrive, operators: { principals: [] } };

    // Act & Assess
    expect(() => parseAutohealConfig(raw)).toThrow(
      'Invalid Autoheal config at operators.principals: is not a known option; known options: principalArns',
    );
  });
});

describe('redrive.kmsKeyArns', () => {
  it('defaults to no key', () => {
    // Prepare & Act
    const config = parseAutohealConfig({ redrive });

    // Assess
    expect(config.redrive?.kmsKeyArns).toEqual([]);
  });

  it.each([
    ['a key', KEY],
    [
      'a multi-Region key',
      'arn:aws:kms:eu-central-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab',
    ],
  ])('accepts %s', (_name, arn) => {
    // Prepare & Act
    const config = parseAutohealConfig({ redrive: { ...redrive, kmsKeyArns: [arn] } });

    // Assess
    expect(config.redrive?.kmsKeyArns).toEqual([arn]);
  });

  it.each([
    ['an alias', 'arn:aws:kms:eu-central-1:123456789012:alias/orders'],
    ['a bare key id', '1234abcd-12ab-34cd-56ef-1234567890ab'],
    ['a wildcard', 'arn:aws:kms:eu-central-1:123456789012:key/*'],
  ])('refuses %s, naming the field', (_name, arn) => {
    // Prepare
    const raw = { redrive: { ...redrive, kmsKeyArns: [KEY, arn] } };

    // Act & Assess
    expect(() => parseAutohealConfig(raw)).toThrow(
      /^Invalid Autoheal config at redrive\.kmsKeyArns\[1\]: must be a KMS key ARN \(arn:aws:kms:REGION:ACCOUNT:key\/KEY-ID\), not an alias/,
    );
  });
});
