import { createHash } from 'node:crypto';

/**
 * What a handler must send as the client token of a call it makes at most
 * once (RedriveExecution, StartFlow), computed independently of the handler:
 * the hex SHA-256 of `parts` joined by `#`.
 */
export function expectedToken(...parts: readonly (string | number)[]): string {
  return createHash('sha256').update(parts.join('#')).digest('hex');
}
