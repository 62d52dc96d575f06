/**
 * The CloudFormation side of the local AWS endpoint: a registry of stacks
 * (outputs and resources, as a test seeds them) and the two operations the
 * operator CLI calls to find an Autoheal installation, DescribeStacks and
 * ListStackResources, in CloudFormation's AWS Query protocol (a form-encoded
 * POST, an XML answer). ListStackResources pages as CloudFormation does
 * (100 summaries a page by default), so a caller that ignores NextToken misses resources.
 */
import {
  AwsError,
  type JsonInput,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  page,
  requiredString,
} from './wire';

/** The `xmlns` of CloudFormation's answers. */
export const CLOUDFORMATION_XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

/** A stack output as a test seeds it. */
export interface StackOutputSpec {
  readonly key: string;
  readonly value: string;
  readonly description?: string;
}

/** A stack resource as a test seeds it. */
export interface StackResourceSpec {
  readonly logicalId: string;
  readonly physicalId: string;
  readonly type: string;
  /** @default 'CREATE_COMPLETE' */
  readonly status?: string;
}

/** A stack as a test seeds it. */
export interface StackSpec {
  readonly stackName: string;
  readonly outputs?: readonly StackOutputSpec[];
  readonly resources?: readonly StackResourceSpec[];
  /** @default 'CREATE_COMPLETE' */
  readonly status?: string;
}

/** `s` with the five XML special characters escaped. */
export function xmlText(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );
}

const element = (name: string, value: string | undefined) =>
  value === undefined ? '' : `<${name}>${xmlText(value)}</${name}>`;

export class CloudFormationRegistry {
  private readonly stacks = new Map<string, StackSpec & { readonly createdAt: number }>();
  private readonly denied = new Set<string>();

  constructor(
    private readonly clock: () => number,
    /** Summaries per ListStackResources page. */
    private readonly pageSize = 100,
  ) {}

  /** Registers (or replaces) a stack. */
  addStack(stack: StackSpec): void {
    this.stacks.set(stack.stackName, { ...stack, createdAt: this.clock() });
  }

  /** Answers `operation` with AccessDenied from now on (an operator without the permission). */
  denyOperation(operation: string): void {
    this.denied.add(operation);
  }

  /** The target a call is about, for the call log: the stack. */
  target(input: JsonInput): string | undefined {
    return typeof input.StackName === 'string' ? input.StackName : undefined;
  }

  /** Runs one operation; returns the XML inside its `<…Result>` element. */
  invoke(operation: string, input: JsonInput): string {
    if (this.denied.has(operation)) {
      throw new AwsError(
        'AccessDenied',
        `User: arn:aws:iam::${LOCAL_ACCOUNT}:user/operator is not authorized to perform: cloudformation:${operation}`,
        403,
      );
    }
    switch (operation) {
      case 'DescribeStacks':
        return this.describeStacks(input);
      case 'ListStackResources':
        return this.listStackResources(input);
      default:
        throw new AwsError('InvalidAction', `Could not find operation ${operation}`, 400);
    }
  }

  private stackOf(input: JsonInput) {
    const name = requiredString(input, 'StackName', 'ValidationError');
    const stack =
      this.stacks.get(name) ?? [...this.stacks.values()].find((s) => this.idOf(s) === name);
    if (!stack) throw new AwsError('ValidationError', `Stack with id ${name} does not exist`, 400);
    return stack;
  }

  private idOf(stack: StackSpec): string {
    return `arn:aws:cloudformation:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stack/${stack.stackName}/00000000-0000-0000-0000-000000000000`;
  }

  private describeStacks(input: JsonInput): string {
    const stack = this.stackOf(input);
    const outputs = (stack.outputs ?? [])
      .map(
        (output) =>
          `<member>${element('OutputKey', output.key)}${element('OutputValue', output.value)}${element('Description', output.description)}</member>`,
      )
      .join('');
    return (
      '<Stacks><member>' +
      element('StackId', this.idOf(stack)) +
      element('StackName', stack.stackName) +
      element('CreationTime', new Date(stack.createdAt).toISOString()) +
      element('StackStatus', stack.status ?? 'CREATE_COMPLETE') +
      `<Outputs>${outputs}</Outputs>` +
      '</member></Stacks>'
    );
  }

  private listStackResources(input: JsonInput): string {
    const stack = this.stackOf(input);
    const token = typeof input.NextToken === 'string' ? input.NextToken : undefined;
    const { items, nextToken } = page(
      stack.resources ?? [],
      `resources:${stack.stackName}`,
      token,
      this.pageSize,
    );
    const summaries = items
      .map(
        (resource) =>
          '<member>' +
          element('LogicalResourceId', resource.logicalId) +
          element('PhysicalResourceId', resource.physicalId) +
          element('ResourceType', resource.type) +
          element('LastUpdatedTimestamp', new Date(stack.createdAt).toISOString()) +
          element('ResourceStatus', resource.status ?? 'CREATE_COMPLETE') +
          '</member>',
      )
      .join('');
    return `<StackResourceSummaries>${summaries}</StackResourceSummaries>${element('NextToken', nextToken)}`;
  }
}
