/**
 * `rtkit serve` in-process for tests: started through the CLI like a user would, stopped through
 * its interrupt signal (what Ctrl-C does), with its address read from what it prints.
 */

import { readFile, stat } from 'node:fs/promises';
import type { CliIO } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';

export interface RunningServe {
  readonly port: number;
  readonly device: string;
  readonly stdout: () => string;
  /** Interrupt it and wait for its exit code. */
  stop(): Promise<number>;
}

export function captureIO(interrupt?: AbortSignal): {
  io: CliIO;
  out: () => string;
  err: () => string;
} {
  let stdout = '';
  let stderr = '';
  const empty = new Uint8Array(0);
  const io: CliIO = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    drain: async () => {},
    readStdin: async () => empty,
    stdinChunks: async function* () {},
    readFile: async (p) => new Uint8Array(await readFile(p)),
    fileChunks: async function* (p) {
      yield new Uint8Array(await readFile(p));
    },
    fileSize: async (p) => (await stat(p)).size,
    stdoutIsTTY: false,
    stderrIsTTY: false,
    env: {},
    ...(interrupt ? { interrupt } : {}),
  };
  return { io, out: () => stdout, err: () => stderr };
}

export async function startServe(args: string[]): Promise<RunningServe> {
  const stop = new AbortController();
  const { io, out, err } = captureIO(stop.signal);
  const exit = runCli(['serve', '--listen', 'tcp:127.0.0.1:0', ...args], io);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const m = /listening on tcp:127\.0\.0\.1:(\d+)[\s\S]*\nready\n/.exec(out());
    if (m) {
      const port = Number(m[1]);
      return {
        port,
        device: `tcp:127.0.0.1:${port}`,
        stdout: out,
        stop: async () => {
          stop.abort();
          return exit;
        },
      };
    }
    const early = await Promise.race([exit, new Promise((r) => setTimeout(r, 10, 'wait'))]);
    if (early !== 'wait')
      throw new Error(`rtkit serve exited (${String(early)}): ${out()}${err()}`);
    if (Date.now() > deadline) throw new Error(`rtkit serve is not ready: ${out()}${err()}`);
  }
}
