import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliContext } from '../context';
import type { Deployment } from '../deployment';
import {
  type ExplainSetup,
  type Explanation,
  explainEvent,
  explainExecution,
} from '../explain/explain';
import { offlineSetup } from '../explain/offline-setup';
import { readOfflineConfig, readTextFile } from '../offline-config';

/** The redrive section of the `--config` file, or one line saying the file has none. */
function redriveSectionOf(file: string) {
  const { redrive } = readOfflineConfig(file);
  if (!redrive)
    throw new CliError(
      `The config file ${file} has no redrive section: there is nothing to explain`,
    );
  return redrive;
}

import { withRecords } from '../explain/recorded';
import { printExplanation } from '../explain/render';
import { parseTimeAgo } from '../time-options';

/** Options of `autoheal explain`. */
interface ExplainOptions {
  readonly event?: string;
  readonly liveSince?: string;
  readonly statesArnPrefix?: string;
  readonly json?: boolean;
}

function deployedSetup(deployment: Deployment): ExplainSetup {
  if (!deployment.redrive) {
    throw new CliError(
      `Stack ${deployment.stackName || '(flags)'} has no redrive path: explain needs a deployment with a redrive section`,
    );
  }
  return {
    config: deployment.redrive.config,
    liveSince: deployment.redrive.liveSince,
    statesArnPrefix: deployment.redrive.statesArnPrefix,
  };
}

/** The event's `detail.stateMachineArn`, if the file has one (to place name-prefix scope offline). */
function eventStateMachineArn(body: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined; // the handler's parser names what is wrong with it
  }
  const arn = (value as { detail?: { stateMachineArn?: unknown } } | null)?.detail?.stateMachineArn;
  return typeof arn === 'string' ? arn : undefined;
}

/** Adds `autoheal explain` to the program. */
export function registerExplainCommand(
  program: Command,
  contextOf: (command: Command) => CliContext,
): void {
  program
    .command('explain')
    .argument('[executionArn]', 'the execution to explain (DescribeExecution, as it is now)')
    .description(
      'Why Autoheal redrives, defers, skips or gave up on one execution: the decision, the rule that made it, the effective policy, and what Autoheal recorded for each of its failures',
    )
    .option('--event <file>', 'explain an EventBridge status-change event from a file instead')
    .option(
      '--live-since <time>',
      'with --config: since when the machines have been under live healing (ISO time or duration ago, e.g. 7d)',
    )
    .option(
      '--states-arn-prefix <prefix>',
      "with --config: arn:PARTITION:states:REGION:ACCOUNT: where name prefixes apply (default: the event's)",
    )
    .option('--json', 'print the explanation as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  autoheal explain arn:aws:states:eu-west-1:123456789012:execution:orders:order-1042\n  autoheal explain --event failed.json --config cdk.json',
    )
    .action(async (executionArn: string | undefined, options: ExplainOptions, command: Command) => {
      const context = contextOf(command);
      const now = context.now();
      // The program's --config (cli/offline-config.ts): with --event, no AWS call at all.
      const configFile = command.optsWithGlobals<{ config?: string }>().config;
      if ((executionArn === undefined) === (options.event === undefined)) {
        throw new CliError('Give either an EXECUTION_ARN or --event FILE');
      }
      if (configFile !== undefined && options.event === undefined) {
        throw new CliError('--config is for offline explanations: use it with --event FILE');
      }
      let explanation: Explanation;
      if (options.event !== undefined) {
        const body = readTextFile(options.event, 'event file');
        const offline = configFile !== undefined;
        const setup = offline
          ? offlineSetup({
              config: redriveSectionOf(configFile as string),
              liveSince:
                options.liveSince === undefined
                  ? undefined
                  : parseTimeAgo(options.liveSince, now, '--live-since'),
              statesArnPrefix: options.statesArnPrefix,
              eventStateMachineArn: eventStateMachineArn(body),
            })
          : deployedSetup(await context.deployment());
        explanation = explainEvent(setup, body, now);
        if (offline) {
          explanation = {
            ...explanation,
            notes: [
              ...explanation.notes,
              `offline: live healing assumed since ${new Date(
                options.liveSince === undefined
                  ? 0
                  : parseTimeAgo(options.liveSince, now, '--live-since'),
              ).toISOString()} (--live-since); no records read (run without --config for what Autoheal recorded)`,
            ],
          };
        } else {
          const deployment = await context.deployment();
          explanation = await withRecords(explanation, deployment, context.clients.dynamodb, now);
        }
      } else {
        const deployment = await context.deployment();
        explanation = await explainExecution(
          deployedSetup(deployment),
          context.clients.sfn,
          executionArn as string,
          now,
        );
        explanation = await withRecords(explanation, deployment, context.clients.dynamodb, now);
      }
      if (options.json) context.out.json(explanation);
      else printExplanation(explanation, context.out);
    });
}
