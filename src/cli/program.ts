/**
 * The `rtkit` command line. Exit codes: 0 success, 1 bad input or a failed operation (one line on
 * stderr), 2 usage error. Commands never print a stack trace for a user error.
 */

import { Command, CommanderError, Option } from 'commander';
import { isRtkitError } from '../errors.js';
import { crashlogCommand } from './commands/crashlog.js';
import { decodeCommand } from './commands/decode.js';
import { demoCommand } from './commands/demo.js';
import { msgCommand } from './commands/msg.js';
import { serveCommand } from './commands/serve.js';
import { simCommand } from './commands/sim.js';
import { smcCommand } from './commands/smc.js';
import { uiCommand } from './commands/ui.js';
import { CliFailure, type CliIO, CliUsageError, ExitCode } from './io.js';

export const VERSION = '0.1.0';

export function buildProgram(io: CliIO): Command {
  const program = new Command('rtkit')
    .description('Apple RTKit co-processor IPC: decode messages, traces, kernel logs and crashlogs')
    .version(VERSION)
    // `rtkit sim --version 12` is the sim command's option, not the program's version.
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
    })
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  rtkit msg 0 0x00100000000c000b            decode one management message (HELLO)
  rtkit msg 0x20 0x234b455900041010 --coproc smc --dir tx
  rtkit decode dmesg.txt                    decode RTKit lines of a kernel log
  journalctl -k | rtkit decode - --json     JSON lines, one object per message
  rtkit crashlog crash.bin                  render a binary crashlog buffer
  rtkit sim --profile smc --fault crash     boot a simulated SMC, crash it, recover
  rtkit demo                                a live session of a simulated Mac (SMC, NVMe,
                                            display), also in the web viewer
  rtkit ui dmesg.txt                        the web viewer, with a log opened in it
  rtkit serve --listen tcp:127.0.0.1:7000   a simulated Mac running m1n1 (proxy wire)
  rtkit smc --device tcp:127.0.0.1:7000 keys
                                            SMC keys over m1n1 (or --device /dev/ttyACM0)

Exit codes: 0 ok, 1 bad input or failed operation, 2 usage error.`,
    );
  for (const add of [
    msgCommand,
    decodeCommand,
    crashlogCommand,
    simCommand,
    demoCommand,
    uiCommand,
    serveCommand,
    smcCommand,
  ]) {
    const cmd = add(io);
    cmd.exitOverride().configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
    });
    program.addCommand(cmd);
  }
  return program;
}

/** Shared `--json` option. */
export function jsonOption(): Option {
  return new Option('--json', 'machine-readable output (JSON; see docs/cli-json.md)');
}

/** Run the CLI; resolves to the process exit code. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const program = buildProgram(io);
  if (argv.length === 0) {
    // No command is a usage error, not a request for help.
    io.stderr(program.helpInformation());
    return ExitCode.Usage;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.Ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      ) {
        // help({ error: true }) — a command with sub-commands given none — is a usage error.
        return e.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
      }
      // Commander has already printed its message.
      return ExitCode.Usage;
    }
    if (e instanceof CliUsageError) {
      io.stderr(`rtkit: ${e.message}\n`);
      return ExitCode.Usage;
    }
    if (e instanceof CliFailure || isRtkitError(e)) {
      io.stderr(`rtkit: ${(e as Error).message}\n`);
      return ExitCode.Failure;
    }
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string' && typeof err.message === 'string') {
      // File-system errors: one line, not a stack.
      io.stderr(`rtkit: ${describeFsError(err)}\n`);
      return ExitCode.Failure;
    }
    io.stderr(
      `rtkit: internal error: ${String(e instanceof Error ? (e.stack ?? e.message) : e)}\n`,
    );
    return ExitCode.Failure;
  }
}

function describeFsError(e: NodeJS.ErrnoException): string {
  const path = e.path ? `${e.path}: ` : '';
  switch (e.code) {
    case 'ENOENT':
      return `${path}no such file`;
    case 'EACCES':
      return `${path}permission denied`;
    case 'EISDIR':
      return `${path}is a directory`;
    default:
      return `${path}${e.message}`;
  }
}
