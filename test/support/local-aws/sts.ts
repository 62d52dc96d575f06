/**
 * The STS side of the local AWS endpoint: AssumeRole, the one operation
 * Autoheal calls (for its scope roles), in STS's AWS Query protocol (a
 * form-encoded POST, an XML answer). Every call issues fresh temporary
 * credentials and the endpoint remembers which role each access key id
 * belongs to, so a test can tell which role signed a later request
 * (`CallRecord.signedWith`).
 */
import { createHash } from 'node:crypto';
import { AwsError, type JsonInput, LOCAL_ACCOUNT, requiredString } from './wire';

/** The `xmlns` of STS's answers. */
export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** Credentials the endpoint issued by AssumeRole. */
export interface IssuedCredentials {
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly accessKeyId: string;
  readonly sessionToken: string;
  /** Epoch ms. */
  readonly expiration: number;
}

/** `s` with the five XML special characters escaped. */
function xmlText(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );
}

export class StsRegistry {
  private readonly issued: IssuedCredentials[] = [];

  constructor(private readonly clock: () => number) {}

  /** Every AssumeRole answered, oldest first. */
  issuedCredentials(): readonly IssuedCredentials[] {
    return [...this.issued];
  }

  /** The role an access key id was issued for, or undefined (not issued here). */
  roleOf(accessKeyId: string): string | undefined {
    return this.issued.find((credentials) => credentials.accessKeyId === accessKeyId)?.roleArn;
  }

  /** The target a call is about, for the call log: the role. */
  target(input: JsonInput): string | undefined {
    return typeof input.RoleArn === 'string' ? input.RoleArn : undefined;
  }

  /**
   * Runs one operation; returns the XML inside its `<…Result>` element, or
   * throws an {@link AwsError} for the service's error answers.
   */
  invoke(operation: string, input: JsonInput): string {
    if (operation !== 'AssumeRole') {
      throw new AwsError('InvalidAction', `Could not find operation ${operation}`, 400);
    }
    const roleArn = requiredString(input, 'RoleArn');
    const roleSessionName = requiredString(input, 'RoleSessionName');
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(roleArn)) {
      throw new AwsError('ValidationError', `${roleArn} is not a role ARN`, 400);
    }
    const n = this.issued.length + 1;
    const digest = createHash('sha256').update(`${roleArn}#${n}`).digest('hex');
    const credentials: IssuedCredentials = {
      roleArn,
      roleSessionName,
      accessKeyId: `ASIA${digest.slice(0, 16).toUpperCase()}`,
      sessionToken: `local-session-${digest.slice(16, 48)}`,
      // One hour, the most a chained role session may last.
      expiration: this.clock() + 3_600_000,
    };
    this.issued.push(credentials);
    const roleName = roleArn.split('/').at(-1) ?? '';
    return (
      '<Credentials>' +
      `<AccessKeyId>${credentials.accessKeyId}</AccessKeyId>` +
      `<SecretAccessKey>local-secret-${digest.slice(48)}</SecretAccessKey>` +
      `<SessionToken>${credentials.sessionToken}</SessionToken>` +
      `<Expiration>${new Date(credentials.expiration).toISOString()}</Expiration>` +
      '</Credentials>' +
      '<AssumedRoleUser>' +
      `<AssumedRoleId>AROA${digest.slice(0, 17).toUpperCase()}:${xmlText(roleSessionName)}</AssumedRoleId>` +
      `<Arn>arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/${xmlText(roleName)}/${xmlText(roleSessionName)}</Arn>` +
      '</AssumedRoleUser>'
    );
  }
}
