/**
 * What every command gets: where to print, the clock, the AWS clients and
 * the deployment it acts on. Tests build one around captured streams, the
 * local AWS endpoint and DynamoDB Local.
 */
import type { CliClients } from './clients';
import type { Deployment } from './deployment';
import type { Output } from './output';

/** The options every command accepts (before or after its name). */
export interface GlobalOptions {
  /** @default 'Autoheal' */
  readonly stack: string;
  readonly region?: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
  /** Show stack traces with errors. */
  readonly debug?: boolean;
  /** The construct path of the Autoheal installation, when the stack has several. */
  readonly installation?: string;
  /** The app's config JSON file: the deployment offline, without reading the stack. */
  readonly config?: string;
  /** Overrides the discovered idempotency table. */
  readonly idempotencyTable?: string;
  /** Overrides the discovered healing state table. */
  readonly stateTable?: string;
  /** Overrides the discovered redrive work queue URL. */
  readonly redriveQueueUrl?: string;
}

/** A command's view of the world. */
export interface CliContext {
  readonly out: Output;
  /** Epoch milliseconds. */
  readonly now: () => number;
  readonly clients: CliClients;
  /** The deployment the command acts on: discovered once from the stack, explicit flags win. */
  deployment(): Promise<Deployment>;
  /** True once the operator pressed Ctrl-C (SIGINT): a command stops cleanly before its next item. */
  readonly interrupted: () => boolean;
  /** Sets the exit code the command ends with (non-zero when anything failed). */
  setExitCode(code: number): void;
}
