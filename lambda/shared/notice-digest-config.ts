/**
 * The notice digest options as a handler reads them: the `notices` section of
 * its config file (normalised at synth), each option the file leaves out at
 * its default. Zod-free, like every module in the handler bundles.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { CONFIG_SECTION, ENV } from './contract';
import { readOptionalNormalisedConfig } from './normalised-config';
import {
  createNoticeSender,
  DEFAULT_DIGEST_OPTIONS,
  type DigestOptions,
  type NoticeSender,
  plainNoticeSender,
} from './notice-digest';

/**
 * The options of a `notices` section, defaults filled in; the defaults when
 * there is no section (a config file written before digests existed).
 *
 * @example
 * ```ts
 * digestOptionsFrom({ digestWindowMinutes: 5 }); // { digestWindowMinutes: 5, immediateNotices: 1, digestExamples: 10 }
 * ```
 */
export function digestOptionsFrom(section: Partial<DigestOptions> | undefined): DigestOptions {
  return {
    digestWindowMinutes: section?.digestWindowMinutes ?? DEFAULT_DIGEST_OPTIONS.digestWindowMinutes,
    immediateNotices: section?.immediateNotices ?? DEFAULT_DIGEST_OPTIONS.immediateNotices,
    digestExamples: section?.digestExamples ?? DEFAULT_DIGEST_OPTIONS.digestExamples,
  };
}

/**
 * The digest options of the function's config file (`config.notices ??
 * DEFAULT_DIGEST_OPTIONS`, per option).
 *
 * @example
 * ```ts
 * const notices = createNoticeSender({ sns, topicArn, dynamodb, tableName, options: readDigestOptions() });
 * ```
 */
export function readDigestOptions(): DigestOptions {
  return digestOptionsFrom(
    readOptionalNormalisedConfig<Partial<DigestOptions>>(CONFIG_SECTION.notices),
  );
}

/** What a handler's wiring builds its notice sender from. */
export interface HandlerNoticeSenderProps {
  readonly sns: SNSClient;
  readonly topicArn: string;
  readonly dynamodb: DynamoDBClient;
  /** `AUTOHEAL_STATE_TABLE`, as the environment has it. */
  readonly tableName: string | undefined;
  readonly keyPrefix: string | undefined;
  readonly logger: Pick<Logger, 'warn'>;
  /** @default the config file's (readDigestOptions) */
  readonly options?: DigestOptions;
}

/**
 * The notice sender of a handler: digests as the config file says, on the
 * healing state table. A function deployed without the table (by a construct
 * of an older version) publishes every notice on its own and warns once at
 * init, rather than failing every notice.
 *
 * @example
 * ```ts
 * const notices = handlerNoticeSender({ sns, topicArn, dynamodb, tableName: process.env[ENV.stateTable], keyPrefix, logger });
 * ```
 */
export function handlerNoticeSender(props: HandlerNoticeSenderProps): NoticeSender {
  const options = props.options ?? readDigestOptions();
  if (options.digestWindowMinutes > 0 && !props.tableName) {
    props.logger.warn(
      `Notice digests are off: ${ENV.stateTable} is not set (deploy with the Autoheal construct); every notice is published on its own`,
    );
    return plainNoticeSender(props.sns, props.topicArn);
  }
  return createNoticeSender({ ...props, options });
}
