/**
 * Step Functions' naming rule, defined once in lambda/shared/state-machine-names.ts:
 * the names AWS accepts are accepted, the ones it excludes are refused.
 */
import {
  isStateMachineName,
  parseExecutionArn,
  parseStateMachineArn,
  STATE_MACHINE_ARN,
} from '../../lambda/shared/state-machine-names';
import { INVALID_NAMES, VALID_NAMES } from '../support/names';

const HOME = 'arn:aws:states:eu-central-1:123456789012:';

describe('isStateMachineName', () => {
  it.each(VALID_NAMES)('accepts $label ($name)', ({ name }) => {
    // Act
    const valid = isStateMachineName(name);

    // Assess
    expect(valid).toBe(true);
  });

  it.each(INVALID_NAMES)('refuses $label', ({ name }) => {
    // Act
    const valid = isStateMachineName(name);

    // Assess
    expect(valid).toBe(false);
  });
});

describe('STATE_MACHINE_ARN (a configured ARN)', () => {
  it.each(VALID_NAMES)('accepts a machine named with $label and captures its name', ({ name }) => {
    // Act
    const match = STATE_MACHINE_ARN.exec(`${HOME}stateMachine:${name}`);

    // Assess
    expect(match?.[1]).toBe(name);
  });

  it.each(INVALID_NAMES)('refuses a machine named with $label', ({ name }) => {
    // Act
    const match = STATE_MACHINE_ARN.exec(`${HOME}stateMachine:${name}`);

    // Assess
    expect(match).toBeNull();
  });

  it('refuses a Distributed Map child machine (NAME/LABEL): the config names whole machines', () => {
    // Act
    const match = STATE_MACHINE_ARN.exec(`${HOME}stateMachine:orders/ProcessLines`);

    // Assess
    expect(match).toBeNull();
  });
});

describe('parseStateMachineArn and parseExecutionArn', () => {
  it.each(VALID_NAMES)('split ARNs of a machine and execution named with $label', ({ name }) => {
    // Act
    const machine = parseStateMachineArn(`${HOME}stateMachine:${name}`);
    const execution = parseExecutionArn(`${HOME}execution:${name}:${name}`);

    // Assess
    expect(machine).toEqual({
      partition: 'aws',
      region: 'eu-central-1',
      account: '123456789012',
      stateMachineName: name,
      mapRunLabel: undefined,
    });
    expect(execution).toEqual({
      kind: 'standard',
      partition: 'aws',
      region: 'eu-central-1',
      account: '123456789012',
      stateMachineName: name,
      mapRunLabel: undefined,
      executionName: name,
    });
  });

  it('keeps a Distributed Map child run (NAME/LABEL) apart from its machine name', () => {
    // Act
    const machine = parseStateMachineArn(`${HOME}stateMachine:orders-eu.v2/ProcessLines`);
    const execution = parseExecutionArn(`${HOME}execution:orders-eu.v2/ProcessLines:7f3e2b1a`);

    // Assess
    expect(machine).toMatchObject({
      stateMachineName: 'orders-eu.v2',
      mapRunLabel: 'ProcessLines',
    });
    expect(execution).toMatchObject({
      kind: 'standard',
      stateMachineName: 'orders-eu.v2',
      mapRunLabel: 'ProcessLines',
      executionName: '7f3e2b1a',
    });
  });

  it('recognises an Express execution ARN', () => {
    // Act
    const execution = parseExecutionArn(`${HOME}express:orders-eu.v2:run@1:0f1e2d3c`);

    // Assess
    expect(execution).toMatchObject({
      kind: 'express',
      stateMachineName: 'orders-eu.v2',
      executionName: 'run@1',
    });
  });

  it.each(INVALID_NAMES.filter(({ name }) => name !== ''))(
    'refuse an execution name with $label',
    ({ name }) => {
      // Act
      const execution = parseExecutionArn(`${HOME}execution:orders:${name}`);

      // Assess
      expect(execution).toBeUndefined();
    },
  );
});
