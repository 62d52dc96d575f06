/**
 * The `autoheal` CLI: the operator's toolkit for the hour after an outage.
 * Commander gives help, subcommands and typo suggestions; every command reuses
 * the runtime's pure decision code, config and contract module (lambda/).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../lambda/shared/errors';
import { CliError } from './cli-error';
import { type CliClients, createCliClients } from './clients';
import { registerBrakeCommand } from './commands/brake';
import { registerDlqCommand } from './commands/dlq';
import { registerExplainCommand } from './commands/explain';
import { registerFlowsCommand } from './commands/flows';
import { registerHistoryCommand } from './commands/history';
import { registerRedriveCommand } from './commands/redrive';
import type { CliContext, GlobalOptions } from './context';
import type { Deployment } from './deployment';
import { discoverDeployment } from './discover-deployment';
import { createOutput, type OutputStreams } from './output';

/** What {@link runCli} runs against: the process, or a test's streams and clients. */
export interface CliIo extends OutputStreams {
  /** @default Date.now */
  readonly now?: () => number;
  /** @default - clients from the global options */
  readonly clients?: CliClients;
  /** @default - discovered from the stack (see discover-deployment.ts) */
  readonly deployment?: (options: GlobalOptions, clients: CliClients) => Promise<Deployment>;
}

/** Builds the program; `contextOf` gives each command its context. */
export function buildProgram(contextOf: (command: Command) => CliContext): Command {
  const program = new Command('autoheal')
    .description(
      'Operate Autoheal: bulk redrive, explain, history, dead-letter replay, brake, flows',
    )
    .option('--stack <name>', 'the CloudFormation stack Autoheal is deployed in', 'Autoheal')
    .option('--region <region>', 'AWS region (default: AWS_REGION or the profile)')
    .option('--profile <profile>', 'AWS profile (default: AWS_PROFILE)')
    .option('--endpoint-url <url>', 'one endpoint for every AWS service (local testing)')
    .option('--installation <path>', 'the Autoheal construct path, when the stack has several')
    .option(
      '--config <file>',
      "Autoheal's config (cdk.json, the app's config JSON, or a function's autoheal-config.json): work offline, without reading the stack",
    )
    .option('--idempotency-table <name>', 'override the discovered idempotency table')
    .option('--state-table <name>', 'override the discovered healing state table')
    .option('--redrive-queue-url <url>', 'override the discovered redrive work queue')
    .option('--debug', 'print stack traces with errors')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run with --help for usage)');
  registerRedriveCommand(program, contextOf);
  registerExplainCommand(program, contextOf);
  registerHistoryCommand(program, contextOf);
  registerDlqCommand(program, contextOf);
  registerBrakeCommand(program, contextOf);
  registerFlowsCommand(program, contextOf);
  return program;
}

/**
 * Runs the CLI and returns its exit code. Errors are one line on stderr
 * (`--debug` adds the stack); an error the operator cannot act on says so.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const out = createOutput(io);
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    out.warn('Stopping after the current item (Ctrl-C again to abort at once)');
  };
  process.on('SIGINT', onSigint);
  let debug = argv.includes('--debug');
  let exitCode = 0;
  const contexts = new Map<Command, CliContext>();
  const contextOf = (command: Command): CliContext => {
    const known = contexts.get(command);
    if (known) return known;
    const options = command.optsWithGlobals<GlobalOptions>();
    debug = options.debug === true;
    const clients = io.clients ?? createCliClients(options);
    let deployment: Promise<Deployment> | undefined;
    const context: CliContext = {
      out,
      now: io.now ?? Date.now,
      clients,
      deployment: () => {
        deployment ??= (io.deployment ?? discoverDeployment)(options, clients);
        return deployment;
      },
      interrupted: () => interrupted,
      setExitCode: (code) => {
        exitCode = code;
      },
    };
    contexts.set(command, context);
    return context;
  };
  const program = buildProgram(contextOf);
  // On every command, not only the program: commander copies these settings to
  // subcommands only when they are added, and a subcommand's usage error must
  // not exit the process (nor write past the CLI's streams) either.
  const everyCommand = (command: Command): Command[] => [
    command,
    ...command.commands.flatMap(everyCommand),
  ];
  for (const command of everyCommand(program)) {
    command.exitOverride().configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
    });
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const message = error instanceof Error ? error.message : String(error);
    const known = error instanceof CliError || error instanceof ConfigError;
    out.warn(`${out.paint.bad('error:')} ${message.split('\n')[0]}`);
    if (debug && error instanceof Error && error.stack) out.warn(error.stack);
    else if (!known) out.warn('(an unexpected error: run again with --debug for its stack trace)');
    return error instanceof CliError ? error.exitCode : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
