/**
 * Step Functions' naming rule, defined once: the config, the event parser and
 * the sweeper all check state machine and execution names with it.
 *
 * A state machine or execution name has 1-80 characters. Excluded are white
 * space, `< > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /` and control characters
 * (U+0000-001F, U+007F-009F); everything else, such as `.`, `@`, `+`, `=`, `!`
 * and non-ASCII letters, is allowed (CreateStateMachine / StartExecution `name`).
 *
 * Hand-written because no library carries this rule. Two choices, both on the
 * side of accepting what AWS created:
 * - White space is JavaScript's `\s`, every Unicode white space (AWS does not say
 *   which it means). A name with, say, a no-break space is refused; AWS would
 *   have to accept such a name for that to matter, and then the config says so
 *   at synth, naming the field.
 * - Length is counted in code points (the `u` flag), so a letter outside the
 *   Basic Multilingual Plane counts once, whichever way AWS counts it.
 */

/** One character Step Functions allows in a name, as regular-expression source (use with the `u` flag). */
export const NAME_CHARACTER = String.raw`[^\s<>{}\[\]?*"#%\\^|~\x60$&,;:/\u0000-\u001f\u007f-\u009f]`;

/** Step Functions' maximum name length, in characters. */
export const MAX_NAME_LENGTH = 80;

/** A whole state machine or execution name. */
const NAME = `${NAME_CHARACTER}{1,${MAX_NAME_LENGTH}}`;

/** `arn:PARTITION:states:REGION:ACCOUNT:` as regular-expression source, capturing the three parts. */
const STATES_ARN_HOME = String.raw`arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):`;

/**
 * A Distributed Map child run names its machine `NAME/LABEL` in the machine and
 * execution ARNs; the label is the Map Run's, kept as loose as before.
 */
const MAP_RUN_LABEL = String.raw`/[^:\s]+`;

/**
 * An anchored state machine (or execution) name: 1-80 allowed characters.
 *
 * @example
 * ```ts
 * STATE_MACHINE_NAME.test('orders-eu.v2'); // true
 * STATE_MACHINE_NAME.test('orders eu'); // false
 * ```
 */
export const STATE_MACHINE_NAME = new RegExp(`^${NAME}$`, 'u');

/**
 * The ARN of a state machine (no Map Run label), as the config names one;
 * group 1 is the name.
 *
 * @example
 * ```ts
 * STATE_MACHINE_ARN.exec('arn:aws:states:eu-central-1:123456789012:stateMachine:orders-eu.v2')?.[1]; // 'orders-eu.v2'
 * ```
 */
export const STATE_MACHINE_ARN = new RegExp(
  String.raw`^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:(${NAME})$`,
  'u',
);

/** True when `name` is a valid state machine or execution name. */
export function isStateMachineName(name: string): boolean {
  return STATE_MACHINE_NAME.test(name);
}

/** Where an ARN of the `states` service lives. */
export interface StatesArnHome {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** The parts of a state machine ARN, as an event carries it. */
export interface StateMachineArnParts extends StatesArnHome {
  readonly stateMachineName: string;
  /** The Map Run label of a Distributed Map child run's machine (`NAME/LABEL`), without the `/`. */
  readonly mapRunLabel: string | undefined;
}

/** The parts of an execution ARN. */
export interface ExecutionArnParts extends StatesArnHome {
  /** `standard` (`:execution:`) or `express` (`:express:`, which has a run id after the name). */
  readonly kind: 'standard' | 'express';
  readonly stateMachineName: string;
  /** The Map Run label of a Distributed Map child run (`NAME/LABEL`), without the `/`. */
  readonly mapRunLabel: string | undefined;
  readonly executionName: string;
}

const STATE_MACHINE_ARN_PARTS = new RegExp(
  `^${STATES_ARN_HOME}stateMachine:(${NAME})(${MAP_RUN_LABEL})?$`,
  'u',
);
const STANDARD_EXECUTION_ARN_PARTS = new RegExp(
  `^${STATES_ARN_HOME}execution:(${NAME})(${MAP_RUN_LABEL})?:(${NAME})$`,
  'u',
);
const EXPRESS_EXECUTION_ARN_PARTS = new RegExp(
  String.raw`^${STATES_ARN_HOME}express:(${NAME}):(${NAME}):[^:\s/]+$`,
  'u',
);

/**
 * Splits a state machine ARN, including a Distributed Map child's `NAME/LABEL`;
 * undefined when it is not one.
 *
 * @example
 * ```ts
 * parseStateMachineArn('arn:aws:states:eu-central-1:123456789012:stateMachine:a@b')?.stateMachineName; // 'a@b'
 * ```
 */
export function parseStateMachineArn(arn: string): StateMachineArnParts | undefined {
  const parts = STATE_MACHINE_ARN_PARTS.exec(arn);
  if (!parts) return undefined;
  return {
    partition: parts[1],
    region: parts[2],
    account: parts[3],
    stateMachineName: parts[4],
    mapRunLabel: parts[5]?.slice(1),
  };
}

/**
 * Splits a Standard (`:execution:`) or Express (`:express:`) execution ARN;
 * undefined when it is neither.
 *
 * @example
 * ```ts
 * parseExecutionArn('arn:aws:states:eu-central-1:123456789012:execution:x+y=z!:run-1')?.executionName; // 'run-1'
 * ```
 */
export function parseExecutionArn(arn: string): ExecutionArnParts | undefined {
  const standard = STANDARD_EXECUTION_ARN_PARTS.exec(arn);
  if (standard) {
    return {
      kind: 'standard',
      partition: standard[1],
      region: standard[2],
      account: standard[3],
      stateMachineName: standard[4],
      mapRunLabel: standard[5]?.slice(1),
      executionName: standard[6],
    };
  }
  const express = EXPRESS_EXECUTION_ARN_PARTS.exec(arn);
  if (!express) return undefined;
  return {
    kind: 'express',
    partition: express[1],
    region: express[2],
    account: express[3],
    stateMachineName: express[4],
    mapRunLabel: undefined,
    executionName: express[5],
  };
}
