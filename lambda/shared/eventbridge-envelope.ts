/**
 * The envelope of an EventBridge event as it arrives in an SQS message body:
 * its size, its JSON, its source and its detail-type. Checked before anything
 * in the detail is read, with an {@link InvalidInputError} naming the field.
 */
import { InvalidInputError } from './errors';
import type { JsonObject } from './fields';

/** EventBridge caps an event at 256 KiB; anything larger did not come from it. */
export const MAX_EVENT_BYTES = 256 * 1024;

export interface EventEnvelope {
  /** The whole event, checked to be a JSON object. */
  readonly event: JsonObject;
  /** One of the expected detail-types. */
  readonly detailType: string;
}

/**
 * Parses a message body as an EventBridge event from one of `sources` with one of `detailTypes`.
 *
 * @throws {InvalidInputError} for `body`, `source` or `detail-type`
 */
export function parseEventEnvelope(
  body: string,
  sources: string | readonly string[],
  detailTypes: readonly string[],
): EventEnvelope {
  if (Buffer.byteLength(body, 'utf8') > MAX_EVENT_BYTES) {
    throw new InvalidInputError(
      'body',
      `must be at most ${MAX_EVENT_BYTES} bytes (an EventBridge event)`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new InvalidInputError('body', 'must be JSON of an EventBridge event');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidInputError('body', 'must be JSON of an EventBridge event (an object)');
  }
  const event = parsed as JsonObject;
  const allowed = typeof sources === 'string' ? [sources] : sources;
  if (typeof event.source !== 'string' || !allowed.includes(event.source)) {
    throw new InvalidInputError('source', `must be ${allowed.map((s) => `"${s}"`).join(' or ')}`);
  }
  const detailType = event['detail-type'];
  if (typeof detailType !== 'string' || !detailTypes.includes(detailType)) {
    throw new InvalidInputError(
      'detail-type',
      `must be ${detailTypes.map((t) => `"${t}"`).join(' or ')}`,
    );
  }
  return { event, detailType };
}
