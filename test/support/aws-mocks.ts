/**
 * The SNS and SQS mocks every handler suite shares (notices go to SNS;
 * deferred and parked messages to SQS), and readers of what was sent to them.
 * Jest loads this module once per test file, so each suite has its own mocks.
 */
import { randomUUID } from 'node:crypto';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';

export const snsMock = mockClient(SNSClient);
export const sqsMock = mockClient(SQSClient);

/** Forgets every call and behaviour; then every Publish and SendMessage succeeds. */
export function resetSnsAndSqsMocks(): void {
  snsMock.reset();
  sqsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: randomUUID() });
  sqsMock.on(SendMessageCommand).resolves({ MessageId: randomUUID() });
}

/** The notices published, with their JSON body parsed. */
export function notices() {
  return snsMock.commandCalls(PublishCommand).map(({ args: [command] }) => ({
    ...command.input,
    body: JSON.parse(command.input.Message ?? '') as Record<string, unknown>,
  }));
}

/** A String message attribute, as SNS and SQS take it. */
export function stringAttribute(value: string) {
  return { DataType: 'String', StringValue: value };
}
