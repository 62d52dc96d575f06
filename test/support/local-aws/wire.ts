/**
 * What the three wire protocols of the local AWS endpoint share: the error a
 * service operation throws, readers of a JSON request body that answer with
 * the service's own validation errors, and the AWS formats (epoch seconds,
 * MD5 digests) the SDK checks.
 */
import { createHash } from 'node:crypto';

/** The service a request was addressed to. */
export type LocalAwsService = 'sfn' | 'appflow' | 'sqs' | 'sts' | 'cloudformation' | 'lambda';

/** The account in every ARN and queue URL the endpoint makes. */
export const LOCAL_ACCOUNT = '000000000000';
/** The region in every ARN the endpoint makes. */
export const LOCAL_REGION = 'eu-central-1';

/**
 * An AWS error answer. The endpoint writes it in the protocol of the service:
 * JSON 1.0 (`__type`, plus `x-amzn-query-error` for SQS) or REST-JSON
 * (`x-amzn-errortype` and the status code of the model).
 */
export class AwsError extends Error {
  constructor(
    /** The error's shape name, e.g. `ExecutionNotRedrivable`; the SDK names its error after it. */
    readonly code: string,
    message: string,
    /** HTTP status; 400 unless the model says otherwise. */
    readonly status = 400,
    /** SQS only: the legacy AWS Query code the SDK maps back to the modelled error. */
    readonly queryCode?: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** A parsed JSON request body. */
export type JsonInput = Readonly<Record<string, unknown>>;

/** A string member, or undefined when absent; a member of another type is a ValidationException. */
export function optionalString(input: JsonInput, key: string): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new AwsError('ValidationException', `${key} must be a string`);
  }
  return value;
}

/** A required string member. */
export function requiredString(input: JsonInput, key: string, errorCode = 'ValidationException') {
  const value = optionalString(input, key);
  if (value === undefined || value === '') {
    throw new AwsError(
      errorCode,
      `1 validation error detected: Value null at '${key}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/** An integer member, or undefined when absent. */
export function optionalInteger(input: JsonInput, key: string, errorCode = 'ValidationException') {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new AwsError(errorCode, `${key} must be an integer`);
  }
  return value;
}

/** An array member, or an empty array when absent. */
export function optionalArray(input: JsonInput, key: string): readonly unknown[] {
  const value = input[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new AwsError('ValidationException', `${key} must be a list`);
  return value;
}

/** An object member, or undefined when absent. */
export function optionalObject(input: JsonInput, key: string): JsonInput | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new AwsError('ValidationException', `${key} must be a structure`);
  }
  return value as JsonInput;
}

/** An epoch-milliseconds time as the JSON protocols write timestamps: epoch seconds, a number. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}

/** Lower-case hex MD5 of `data`, as SQS reports its digests. */
export function md5Hex(data: string | Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/** An opaque pagination token naming the listing it belongs to and where the next page starts. */
export function encodeNextToken(listing: string, offset: number): string {
  return Buffer.from(JSON.stringify({ l: listing, o: offset })).toString('base64url');
}

/**
 * The offset a pagination token points at; an InvalidToken error when it is
 * not one of ours or belongs to another listing (other filters).
 */
export function decodeNextToken(token: string | undefined, listing: string): number {
  if (token === undefined) return 0;
  try {
    const { l, o } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      l?: unknown;
      o?: unknown;
    };
    if (l === listing && typeof o === 'number' && Number.isInteger(o) && o >= 0) return o;
  } catch {
    // falls through to the error below
  }
  throw new AwsError('InvalidToken', `Invalid Token: '${token}'`);
}

/** A page of `items` from a token, and the token of the next page if any. */
export function page<T>(
  items: readonly T[],
  listing: string,
  nextToken: string | undefined,
  maxResults: number,
): { readonly items: readonly T[]; readonly nextToken?: string } {
  const offset = decodeNextToken(nextToken, listing);
  const end = offset + maxResults;
  return end < items.length
    ? { items: items.slice(offset, end), nextToken: encodeNextToken(listing, end) }
    : { items: items.slice(offset) };
}
