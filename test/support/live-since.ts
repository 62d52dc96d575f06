/**
 * Live-since documents for the suites: by default every scoped state machine
 * has been under live healing since long before any failure a test makes, so
 * the before-live-healing rule changes nothing a suite does not ask it to.
 */
import { randomUUID } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  clockConfigOf,
  type LiveSinceDocument,
  liveSinceSince,
} from '../../lambda/redrive/live-healing';
import { clockRecordKey } from '../../lambda/redrive/live-healing-clock';
import type { RedriveConfig } from '../../lambda/shared/autoheal-config';
import { LIVE_HEALING_CLOCK } from '../../lambda/shared/contract';

/** Epoch milliseconds of "long ago": 1970-01-01. */
export const LONG_AGO = 0;

/**
 * The document the clock returns for `config` when it was first deployed at
 * `since` (by default {@link LONG_AGO}).
 */
export function liveSinceFor(
  config: Parameters<typeof clockConfigOf>[0],
  since = LONG_AGO,
): LiveSinceDocument {
  return liveSinceSince(config, since);
}

/** The CloudFormation requests the live-healing clock receives, as the Provider framework passes them. */
export function clockRequest(
  requestType: 'Create' | 'Update' | 'Delete',
  config: RedriveConfig,
  options: { readonly clockId?: string; readonly physicalResourceId?: string } = {},
): CloudFormationCustomResourceEvent {
  const clockId = options.clockId ?? 'AutohealRedriveLiveHealingClock0123ABCD';
  const properties = {
    ServiceToken: 'arn:aws:lambda:eu-central-1:123456789012:function:framework-onEvent',
    [LIVE_HEALING_CLOCK.properties.clockId]: clockId,
    [LIVE_HEALING_CLOCK.properties.config]: JSON.stringify(clockConfigOf(config)),
  };
  const common = {
    ServiceToken: properties.ServiceToken,
    ResponseURL: 'https://cloudformation-custom-resource-response.example/response',
    StackId: 'arn:aws:cloudformation:eu-central-1:123456789012:stack/Autoheal/guid',
    RequestId: randomUUID(),
    LogicalResourceId: 'RedriveLiveHealingClock',
    ResourceType: 'Custom::AutohealLiveHealingClock',
    ResourceProperties: properties,
  };
  const physicalResourceId = options.physicalResourceId ?? clockRecordKey(clockId);
  if (requestType === 'Create') return { ...common, RequestType: 'Create' };
  if (requestType === 'Delete') {
    return { ...common, RequestType: 'Delete', PhysicalResourceId: physicalResourceId };
  }
  return {
    ...common,
    RequestType: 'Update',
    PhysicalResourceId: physicalResourceId,
    OldResourceProperties: properties,
  };
}
