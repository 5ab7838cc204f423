/**
 * `rtkit ui [FILE]`: serve the web viewer on this machine, with FILE (a JSON-lines trace, a
 * kernel log, plain `ep msg` lines; `-` = stdin) opened in it. Runs until `io.interrupt` (SIGINT
 * or SIGTERM), then closes the server and exits 0 (docs/viewer.md).
 */

import { basename } from 'node:path';
import { Command } from 'commander';
import { startViewerServer, type ViewerServer } from '../../viewer/server.js';
import { CliFailure, type CliIO, CliUsageError } from '../io.js';

interface UiOptions {
  port: string;
  host: string;
  json?: boolean;
}

/** Larger files are better read with `rtkit decode`: the page keeps every record in memory. */
export const UI_MAX_FILE = 512 * 1024 * 1024;

export interface UiHooks {
  /** Resolves when the server should stop; default: `io.interrupt` (SIGINT or SIGTERM). */
  untilStopped?: (server: ViewerServer) => Promise<void>;
  /** Where the server finds the built app (tests); default dist/web. */
  webRoot?: string;
}

/** Until the user asks the process to stop; at once where nobody can (no `io.interrupt`). */
function untilInterrupt(signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined || signal.aborted) return Promise.resolve();
  return new Promise((ok) => signal.addEventListener('abort', () => ok(), { once: true }));
}

function parsePort(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isInteger(n) || n > 65535) {
    throw new CliUsageError(`--port must be a number 0..65535, got ${JSON.stringify(s)}`);
  }
  return n;
}

export function uiCommand(io: CliIO, hooks: UiHooks = {}): Command {
  return new Command('ui')
    .description(
      'serve the web viewer (sequence diagram, decoded fields, syslog, crash report) on this machine',
    )
    .argument('[file]', 'a trace, kernel log or plain "ep msg" list to open; - for stdin')
    .option('--port <n>', 'TCP port (0 = any free port)', '0')
    .option('--host <address>', 'interface to listen on', '127.0.0.1')
    .option('--json', 'JSON output: one object with the viewer address (docs/cli-json.md)')
    .addHelpText(
      'after',
      `
The viewer opens our JSON-lines traces, kernel logs with RTKit lines or crash dumps, and plain
"ep msg" lines; more files can be opened from the page (button or drag and drop). It prints its
address and runs until Ctrl-C.

Examples:
  rtkit ui                                  an empty viewer: open files from the page
  rtkit ui dmesg.txt                        a kernel log with a crash dump, opened
  rtkit ui session.jsonl --port 8080        a recorded trace on a fixed port
  journalctl -k | rtkit ui -                the kernel log from stdin

Exit codes: 0 stopped with Ctrl-C, 1 unreadable file or address unusable, 2 usage error
(e.g. a bad --port). See rtkit --help.`,
    )
    .action(async (file: string | undefined, opts: UiOptions) => {
      const port = parsePort(opts.port);
      // Reading it installs the SIGINT/SIGTERM handler: do so before the server exists.
      const interrupt = hooks.untilStopped === undefined ? io.interrupt : undefined;
      let preload: { name: string; bytes: Uint8Array } | undefined;
      if (file !== undefined) {
        if (file !== '-') {
          const size = await io.fileSize(file);
          if (size !== undefined && size > UI_MAX_FILE) {
            throw new CliFailure(
              `${file}: ${(size / 2 ** 20).toFixed(0)} MiB is more than the viewer takes (${UI_MAX_FILE / 2 ** 20} MiB); use rtkit decode`,
            );
          }
        }
        const bytes = file === '-' ? await io.readStdin() : await io.readFile(file);
        if (bytes.length > UI_MAX_FILE) {
          throw new CliFailure(
            `input is more than the viewer takes (${UI_MAX_FILE / 2 ** 20} MiB)`,
          );
        }
        preload = { name: file === '-' ? 'stdin' : basename(file), bytes };
      }
      let server: ViewerServer;
      try {
        server = await startViewerServer({
          host: opts.host,
          port,
          ...(preload !== undefined ? { file: preload } : {}),
          ...(hooks.webRoot !== undefined ? { webRoot: hooks.webRoot } : {}),
        });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const why =
          err.code === 'EADDRINUSE'
            ? 'address in use'
            : err.code === 'EACCES'
              ? 'permission denied'
              : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND'
                ? 'no such local address'
                : err.message;
        throw new CliFailure(`cannot listen on ${opts.host}:${port}: ${why}`);
      }
      io.stdout(
        opts.json ? `${JSON.stringify({ viewer: server.url })}\n` : `viewer: ${server.url}\n`,
      );
      if (io.stderrIsTTY) io.stderr('press Ctrl-C to stop\n');
      try {
        await (hooks.untilStopped ?? (() => untilInterrupt(interrupt)))(server);
      } finally {
        await server.close();
      }
    });
}
