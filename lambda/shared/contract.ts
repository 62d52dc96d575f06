/**
 * The contract between the CDK app (`lib/`) and the Lambda handlers (`lambda/`).
 *
 * Everything both sides must agree on lives here and only here: environment
 * variable names, idempotency table attribute names, SQS message attribute
 * names, the metric namespace and the Lambda's Node major. Infra writes these
 * names, runtime reads them, so the two cannot drift apart.
 */

/** Node.js major of the Lambda runtime; the tests assert they run on the same major. */
export const LAMBDA_NODE_MAJOR = 22;

/** Environment variables set by the constructs and read by the handlers. */
export const ENV = {
  /**
   * Path of the config file the handler reads instead of the one shipped in
   * its asset ({@link CONFIG_FILE_NAME} beside the bundle). Unset on Lambda;
   * tests and benchmarks point it at a file of their own.
   */
  configFile: 'AUTOHEAL_CONFIG_FILE',
  /**
   * JSON list of the config values only known at deploy that are not
   * home-relative ARNs (cross-stack references, `Ref`s of state machines in the
   * same stack): the config file names them by their index in this list.
   * Unset when there are none. A list too long for the environment comes as a
   * {@link ConfigTokenReference} instead: the live-healing clock wrote it at
   * deploy, in parts, and the handler reads it at its first event.
   */
  configTokens: 'AUTOHEAL_CONFIG_TOKENS',
  /** Name of the Powertools idempotency table. */
  idempotencyTable: 'AUTOHEAL_IDEMPOTENCY_TABLE',
  /** ARN of the SNS topic that receives give-up and skip notices. */
  noticeTopicArn: 'AUTOHEAL_NOTICE_TOPIC_ARN',
  /** URL of the queue the handler consumes; deferred work is re-sent to it. */
  workQueueUrl: 'AUTOHEAL_WORK_QUEUE_URL',
  /** URL of the dead-letter queue where unprocessable messages are parked with their reason. */
  deadLetterQueueUrl: 'AUTOHEAL_DEAD_LETTER_QUEUE_URL',
  /** The work queue's maxReceiveCount: on the last receive a failing message is parked, not retried. */
  maxReceiveCount: 'AUTOHEAL_MAX_RECEIVE_COUNT',
  /**
   * `arn:PARTITION:states:REGION:ACCOUNT:` of the deployment: name-prefix scope
   * covers only state machines under it.
   */
  statesArnPrefix: 'AUTOHEAL_STATES_ARN_PREFIX',
  /**
   * JSON of the live-healing clock's document (`LiveSinceDocument`): since when
   * each scoped state machine has been under live healing. Set from the clock
   * custom resource's {@link LIVE_HEALING_CLOCK} `attribute`. A document larger
   * than `LIVE_SINCE_INLINE_BYTES` comes as a `LiveSinceReference` instead: the
   * handler reads the document from the clock's record at its first event.
   */
  liveSince: 'AUTOHEAL_LIVE_SINCE',
  /**
   * Comma-separated IAM role ids (`AROA...`, CloudFormation's `RoleId`) of the
   * Autoheal roles that send to the redrive work queue (the redrive handler and
   * the sweeper): a message claiming to come from Autoheal must come from one.
   */
  senderRoleIds: 'AUTOHEAL_SENDER_ROLE_IDS',
  /**
   * JSON `[[first, roleArn], ...]`: the scope roles of a scope too large for
   * the function's role (lib/constructs/scope-roles.ts). Role k holds the
   * grants of the items of the function's list (the redrive functions'
   * `stateMachineArns`, the flow starter's `scheduledFlowsOf`, the flow
   * healer's `flowsInScope`) from index `first` up to the next role's; the
   * items before the first, and every name prefix, are the function's own.
   * Unset when the function's role holds the scope.
   */
  scopeRoles: 'AUTOHEAL_SCOPE_ROLES',
  /**
   * The installation's idempotency key prefix (see {@link idempotencyKeyPrefixes});
   * unset means {@link DEFAULT_IDEMPOTENCY_KEY_PREFIX}, the prefix of every record
   * written before installations had prefixes of their own.
   */
  idempotencyKeyPrefix: 'AUTOHEAL_IDEMPOTENCY_KEY_PREFIX',
  /**
   * Name of the healing state table ({@link STATE_TABLE}): breaker state, held
   * failures and notice digests.
   */
  stateTable: 'AUTOHEAL_STATE_TABLE',
} as const;

/**
 * The format of the config file the constructs write into each function's
 * asset ({@link CONFIG_FILE_NAME}) and the handlers read without validating it
 * again (zod stays out of the handler bundles). Bump it when an option is
 * added, removed or changes meaning, or the file's layout changes, so a
 * handler never trusts a file written for another format.
 */
export const CONFIG_FORMAT = '3';

/** The config file in a function's asset, beside `index.js`. */
export const CONFIG_FILE_NAME = 'autoheal-config.json';

/**
 * The config sections of the file: the normalised `redrive` and `appflow`
 * sections as `parseRedriveConfig` / `parseAppflowConfig` normalised them
 * (every default filled in, time zones canonical), less the options only the
 * infra reads.
 */
export const CONFIG_SECTION = {
  redrive: 'redrive',
  appflow: 'appflow',
  /** The notice digest options (`DigestOptions`); a file without it means the defaults. */
  notices: 'notices',
} as const;

/**
 * Markers of the config file: a string value that starts with
 * `placeholder` is filled in by the handler at init. `homeArn` + a template
 * whose `pseudo` + `P`, `R` or `A` stand for the function's partition, region
 * and account (taken from {@link ENV.statesArnPrefix}); `token` + an index
 * into {@link ENV.configTokens}. No config value contains a NUL or SOH character.
 */
export const CONFIG_PLACEHOLDER = {
  placeholder: '\u0000',
  homeArn: '\u0000h',
  token: '\u0000t',
  pseudo: '\u0001',
} as const;

/**
 * The live-healing clock: a custom resource that records, on every deploy,
 * since when each scope entry and policy has been live (see
 * `lambda/redrive/live-healing.ts`).
 */
export const LIVE_HEALING_CLOCK = {
  /** The data attribute that carries the document (a JSON string). */
  attribute: 'LiveSince',
  /** Resource properties (CloudFormation passes every value as a string). */
  properties: {
    /** Unique to the construct in its app: two Autoheals on one table keep two clocks. */
    clockId: 'ClockId',
    /** JSON of the `ClockConfig`. */
    config: 'ClockConfig',
    /**
     * JSON list of the digests of the config token parts, when the scope's
     * token ARNs travel in parts: `ClockConfig` then names each by its index
     * ({@link CONFIG_PLACEHOLDER}`.token`), and the clock reads the parts'
     * records. Unset otherwise.
     */
    configTokenParts: 'ConfigTokenParts',
  },
  /**
   * A part of the config values only known at deploy, written by the clock's
   * handler into a record of its own, too many for the environment (and, at
   * a thousand, for one custom resource request).
   */
  configTokenPart: {
    resourceType: 'Custom::AutohealConfigTokens',
    /** The data attribute: the digest of the part's values, as its record holds it. */
    attribute: 'Digest',
    /** Characters of the digest (hex). */
    digestChars: 32,
    properties: {
      clockId: 'ClockId',
      /** The part's number, from 0. */
      part: 'Part',
      /** JSON list of the part's values (CloudFormation resolves them). */
      values: 'Values',
    },
  },
} as const;

/**
 * What `AUTOHEAL_CONFIG_TOKENS` holds when the values are in the clock's
 * records: part `i` is the record `${record}${i}`, whose digest must be
 * `parts[i]` (a new digest changes the environment, so new values reach new
 * execution environments only).
 */
export interface ConfigTokenReference {
  readonly record: string;
  readonly parts: readonly string[];
}

/** Attribute names of the idempotency table (Powertools defaults, named once). */
export const IDEMPOTENCY_TABLE = {
  partitionKey: 'id',
  timeToLive: 'expiration',
} as const;

/**
 * Seconds an idempotency record outlives the work it guards. Step Functions
 * refuses redrives 14 days after an execution stopped, so a record kept 15 days
 * covers every redelivery, deferral and sweep of a failure; AppFlow ticks and
 * runs are redelivered for at most a day. Healing state that must be counted
 * over a longer window (re-activations, up to 30 days) sets a later expiration
 * of its own.
 */
export const IDEMPOTENCY_RECORD_TTL_SECONDS = 15 * 24 * 60 * 60;

/** SQS message attributes Autoheal stamps on what it re-sends or parks (provenance). */
export const MESSAGE_ATTRIBUTES = {
  /** Why a message was parked in the dead-letter queue. */
  parkedReason: 'autoheal-parked-reason',
  /** The event field that made a message invalid, when that was the reason. */
  invalidField: 'autoheal-invalid-field',
  /** How many times a failure has been deferred so far. */
  deferrals: 'autoheal-deferrals',
  /** SQS message id of the first message that carried this event. */
  originMessageId: 'autoheal-origin-message-id',
  /**
   * Who put the event on the work queue when it was not EventBridge: `sweeper`
   * ({@link SWEEPER_ORIGIN}) for the failures the sweeper found.
   */
  origin: 'autoheal-origin',
  /**
   * Set on the deferral hops of a message whose facts were stale: the body
   * still holds the old facts, so the hop is confirmed with DescribeExecution
   * again when it comes due. The value is the stale reason.
   */
  unconfirmed: 'autoheal-unconfirmed',
  /**
   * Set (value `true`) on a probe redrive the brake keeper sends while a
   * state machine's breaker is half-open: the redrive handler lets it through
   * where it would hold any other failure.
   */
  probe: 'autoheal-probe',
  /**
   * Set on a message `autoheal dlq replay` moved from a dead-letter queue back
   * to its work queue; the value is the reason it was parked. The parked
   * marks themselves are not carried, so the handler takes this one as the
   * sign of a replay: its facts are confirmed (DescribeExecution) before any
   * action, as for every message that was in a dead-letter queue.
   */
  replayed: 'autoheal-replayed',
} as const;

/** Value of the `autoheal-origin` message attribute on the messages the sweeper sends. */
export const SWEEPER_ORIGIN = 'sweeper';

/** Value of the `autoheal-origin` message attribute on the held failures and probes the brake keeper re-sends. */
export const BRAKE_KEEPER_ORIGIN = 'brake-keeper';

/** CloudWatch namespace of every Autoheal metric. */
export const METRICS_NAMESPACE = 'Autoheal';

/** Powertools service name of the redrive handler (a metric dimension and log field). */
export const REDRIVE_SERVICE_NAME = 'redrive';

/** Powertools service name of the sweeper (a metric dimension and log field). */
export const SWEEPER_SERVICE_NAME = 'redrive-sweeper';

/** Powertools service name of the brake keeper (a metric dimension and log field). */
export const BRAKE_KEEPER_SERVICE_NAME = 'brake-keeper';

/**
 * The app's idempotency key prefix, and every record's before installations
 * had prefixes of their own: the app's stack keeps it, so records written
 * before an upgrade still dedupe after it.
 */
export const DEFAULT_IDEMPOTENCY_KEY_PREFIX = 'autoheal';

/**
 * Key prefixes of one installation's records in the idempotency table
 * (`makeIdempotent`'s `keyPrefix`, and the healing state's keys), all derived
 * from its one prefix: two installations never read each other's records.
 *
 * @example
 * ```ts
 * idempotencyKeyPrefixes('autoheal').redrive; // 'autoheal-redrive'
 * idempotencyKeyPrefixes(process.env[ENV.idempotencyKeyPrefix]).flowStart;
 * ```
 */
export function idempotencyKeyPrefixes(prefix: string = DEFAULT_IDEMPOTENCY_KEY_PREFIX) {
  return {
    /** The redrive path's records: the redrive handler writes them, the sweeper reads them. */
    redrive: `${prefix}-redrive`,
    /** The flow healer's records. */
    flowHeal: `${prefix}-flow-heal`,
    /** The flow starter's records, one per flow and tick. */
    flowStart: `${prefix}-flow-start`,
    /** `id` of the record linking a re-run's execution id to the run it re-runs. */
    rerunLineage: `${prefix}-appflow-rerun-of#`,
    /** `id` of the record listing a flow's recent re-activations. */
    reactivations: `${prefix}-appflow-reactivations#`,
    /**
     * `id` of the sweeper's cursor: where the last sweep stopped, and which
     * sweep holds it now. One record per installation; only the sweeper writes it.
     */
    sweepCursor: `${prefix}-sweeper-cursor`,
  } as const;
}

/** The idempotency key prefixes named by the environment a handler runs in. */
export function idempotencyKeyPrefixesOf(env: NodeJS.ProcessEnv = process.env) {
  return idempotencyKeyPrefixes(env[ENV.idempotencyKeyPrefix] || undefined);
}

/** Key prefix of the app's redrive records (see {@link idempotencyKeyPrefixes}). */
export const REDRIVE_IDEMPOTENCY_KEY_PREFIX = idempotencyKeyPrefixes().redrive;

/** The EventBridge source and detail-type of Step Functions status events. */
export const SFN_EVENT = {
  source: 'aws.states',
  /**
   * Source of the status changes the sweeper found with ListExecutions (events
   * that were never delivered). Same detail-type and detail shape, without the
   * error and redriveStatus, which ListExecutions does not return.
   */
  sweeperSource: 'autoheal.sweeper',
  detailType: 'Step Functions Execution Status Change',
} as const;

/** Step Functions refuses to redrive an execution that stopped longer ago than this. */
export const REDRIVE_WINDOW_DAYS = 14;

/** Powertools service names of the AppFlow handlers. */
export const FLOW_STARTER_SERVICE_NAME = 'flow-starter';
export const FLOW_HEALER_SERVICE_NAME = 'flow-healer';

/** AppFlow's EventBridge events (best effort; detail keys are kebab-case, counts are strings). */
export const APPFLOW_EVENT = {
  source: 'aws.appflow',
  endReport: 'AppFlow End Flow Run Report',
  deactivated: 'AppFlow Scheduled Flow Deactivated',
  /** `detail.status` of a successful run; anything else is a failure. */
  successStatus: 'Execution Successful',
} as const;

/**
 * The input EventBridge Scheduler passes to the flow starter on every tick.
 * `scheduledTime` is Scheduler's `<aws.scheduler.scheduled-time>`: the same for
 * every delivery and retry of one tick, so it keys the tick's idempotency.
 */
export interface ScheduleTickInput {
  readonly schedule: string;
  readonly scheduledTime: string;
  readonly flows: readonly string[];
}

/**
 * Healing state kept in the idempotency table beside Powertools' records,
 * under key prefixes Powertools never uses, with the same TTL attribute.
 */
export const HEALING_STATE = {
  /** The app's `id` prefix of re-run lineage records (an installation's: {@link idempotencyKeyPrefixes}). */
  rerunLineagePrefix: idempotencyKeyPrefixes().rerunLineage,
  /** The app's `id` prefix of re-activation records (an installation's: {@link idempotencyKeyPrefixes}). */
  reactivationsPrefix: idempotencyKeyPrefixes().reactivations,
  /** Attribute: execution id of the original failed run. */
  originExecutionId: 'originExecutionId',
  /** Attribute: which re-run of the original this execution is (1 for the first). */
  rerunNumber: 'rerunNumber',
  /** Attribute: epoch seconds of recent re-activations (a list of numbers). */
  reactivatedAt: 'reactivatedAt',
  /**
   * `id` of the live-healing clock's record (one per clock id); it has no
   * expiration: it lives as long as the custom resource.
   */
  liveHealingClockPrefix: 'autoheal-redrive-live-healing-clock#',
  /** Attribute: JSON of the clock's `ClockState`. */
  clockState: 'clockState',
  /** Attribute: the number of the clock's last write (optimistic locking). */
  clockVersion: 'clockVersion',
  /**
   * Attribute: JSON of the `LiveSinceDocument` of the last write, which the
   * handlers read when it is too large for their environment.
   */
  clockDocument: 'liveSince',
  /** Key infix of a config token part's record: `${clock record key}${configTokenPartInfix}${part}`. */
  configTokenPartInfix: '#tokens#',
  /** Attribute: JSON list of a config token part's values. */
  configTokens: 'configTokens',
  /** Attribute: the digest of {@link HEALING_STATE.configTokens}. */
  configTokensDigest: 'configTokensDigest',
} as const;

/**
 * The healing state table: what the storm brake and the notice digests keep
 * between invocations. Items are small (a breaker item is updated at redrive
 * rate, and one DynamoDB partition takes about 1,000 writes of 1 KB a second).
 * Keys come from {@link stateKeys}.
 */
export const STATE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLive: 'expiration',
  /** `sk` of a state machine's breaker item. */
  breakerSortKey: 'state',
} as const;

/**
 * Key builders of one installation's items in the healing state table. Every
 * `pk` starts with the installation's idempotency key prefix, so two
 * installations never read each other's items, even on one table.
 *
 * @example
 * ```ts
 * stateKeys('autoheal').breaker('arn:aws:states:eu-west-1:123456789012:stateMachine:orders');
 * // { pk: 'autoheal#breaker#arn:aws:states:...:orders', sk: 'state' }
 * ```
 */
export function stateKeys(prefix: string = DEFAULT_IDEMPOTENCY_KEY_PREFIX) {
  return {
    /** A state machine's breaker item. */
    breaker: (stateMachineArn: string) => ({
      pk: `${prefix}#breaker#${stateMachineArn}`,
      sk: STATE_TABLE.breakerSortKey,
    }),
    /** The item that makes one relapse or recovery count once. */
    signal: (stateMachineArn: string, failureKey: string) => ({
      pk: `${prefix}#breaker#${stateMachineArn}`,
      sk: `signal#${failureKey}`,
    }),
    /** `pk` of a state machine's held failures; `sk` orders them oldest first. */
    heldPartition: (stateMachineArn: string) => `${prefix}#held#${stateMachineArn}`,
    /** `sk` of one held failure: its stop time first, so a Query reads the oldest first. */
    heldSortKey: (stopDate: number, executionArn: string) =>
      `${new Date(stopDate).toISOString()}#${executionArn}`,
    /** `pk` of the registry of state machines whose breaker is not closed or that hold failures. */
    watchedMachines: `${prefix}#breakers`,
    /** `pk` of the digest of one (subject, kind, reason); `sk` is the window's start (ISO). */
    digestPartition: (subject: string, kind: string, reason: string) =>
      `${prefix}#digest#${subject}#${kind}#${reason}`,
    /** `pk` of the registry of digest windows, `sk` starting with the window's end (ISO), for the flush. */
    dueDigests: `${prefix}#digests`,
  } as const;
}

/**
 * The stack output each Autoheal construct adds for the operator CLI
 * (`autoheal --stack NAME`): a small JSON document naming the installation's
 * functions by their logical ids (the CLI maps them to functions with
 * ListStackResources, and reads each function's environment and config file
 * with Lambda GetFunction). Its description starts with `descriptionPrefix`,
 * so two Autoheal constructs in one stack are told apart by construct path.
 */
export const INSTALLATION_OUTPUT = {
  /** The output's construct id, under the Autoheal construct. */
  id: 'Installation',
  /** `kind` of the value: marks the output as Autoheal's whatever its key. */
  kind: 'autoheal-installation',
  /** The value's layout; bump it when a field changes meaning. */
  version: 1,
  /** Start of the output's description, followed by the construct path. */
  descriptionPrefix: 'Autoheal installation',
  /** The roles in `functions`: the functions the CLI reads. */
  functions: ['redrive', 'sweeper', 'flowStarter', 'flowHealer', 'brakeKeeper'],
} as const;

/** A function role of {@link INSTALLATION_OUTPUT}. */
export type InstallationFunction = (typeof INSTALLATION_OUTPUT.functions)[number];

/** The value of the {@link INSTALLATION_OUTPUT} output, as JSON. */
export interface InstallationOutputValue {
  readonly kind: typeof INSTALLATION_OUTPUT.kind;
  readonly version: number;
  /** The construct path of the Autoheal construct, e.g. `Autoheal/Heal`. */
  readonly path: string;
  /** Logical id of each installed function, by role. */
  readonly functions: Readonly<Partial<Record<InstallationFunction, string>>>;
}
