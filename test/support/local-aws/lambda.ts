/**
 * The Lambda side of the local AWS endpoint: a registry of functions (their
 * environment and code zip, as a test seeds them) and GetFunction
 * (`GET /2015-03-31/functions/{FunctionName}`, REST-JSON), the call the
 * operator CLI makes to read a function's configuration. The code zip is
 * served by the endpoint itself at the `Code.Location` it answers, as Lambda
 * answers a pre-signed S3 URL.
 */
import { AwsError, type JsonInput, LOCAL_ACCOUNT, LOCAL_REGION, requiredString } from './wire';

/** Path prefix of the code zips the endpoint serves (not an AWS API: a download, like S3's). */
export const LAMBDA_CODE_PATH = '/local-aws/lambda-code/';

/** GetFunction's REST path; group 1 is the function name. */
export const LAMBDA_GET_FUNCTION_PATH = /^\/2015-03-31\/functions\/([^/]+)$/;

/** A function as a test seeds it. */
export interface FunctionSpec {
  readonly functionName: string;
  readonly environment?: Readonly<Record<string, string>>;
  /** The code zip's bytes. */
  readonly code: Uint8Array;
  /** @default 'nodejs22.x' */
  readonly runtime?: string;
}

export class LambdaRegistry {
  private readonly functions = new Map<string, FunctionSpec>();
  private readonly denied = new Set<string>();

  constructor(private readonly baseUrl: string) {}

  /** Registers (or replaces) a function. */
  addFunction(fn: FunctionSpec): void {
    this.functions.set(fn.functionName, fn);
  }

  /** Answers `operation` with AccessDeniedException from now on. */
  denyOperation(operation: string): void {
    this.denied.add(operation);
  }

  /** The code zip of a function, for the download path; undefined when there is none. */
  code(functionName: string): Uint8Array | undefined {
    return this.functions.get(functionName)?.code;
  }

  /** The target a call is about, for the call log: the function. */
  target(input: JsonInput): string | undefined {
    return typeof input.FunctionName === 'string' ? input.FunctionName : undefined;
  }

  /** Runs one operation; returns its JSON answer. */
  invoke(operation: string, input: JsonInput): unknown {
    if (this.denied.has(operation)) {
      throw new AwsError(
        'AccessDeniedException',
        `User: arn:aws:iam::${LOCAL_ACCOUNT}:user/operator is not authorized to perform: lambda:${operation}`,
        403,
      );
    }
    if (operation !== 'GetFunction') {
      throw new AwsError('UnknownOperationException', `Unknown operation ${operation}`, 400);
    }
    const name = requiredString(input, 'FunctionName', 'InvalidParameterValueException');
    const shortName = name.split(':').length >= 7 ? name.split(':')[6] : name;
    const fn = this.functions.get(shortName);
    if (!fn) {
      throw new AwsError(
        'ResourceNotFoundException',
        `Function not found: arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${shortName}`,
        404,
      );
    }
    return {
      Configuration: {
        FunctionName: fn.functionName,
        FunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${fn.functionName}`,
        Runtime: fn.runtime ?? 'nodejs22.x',
        Handler: 'index.handler',
        CodeSize: fn.code.byteLength,
        Environment: { Variables: { ...(fn.environment ?? {}) } },
        State: 'Active',
      },
      Code: {
        RepositoryType: 'S3',
        Location: `${this.baseUrl}${LAMBDA_CODE_PATH}${encodeURIComponent(fn.functionName)}.zip`,
      },
    };
  }
}
