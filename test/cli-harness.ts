import { readFile, stat } from 'node:fs/promises';
import type { CliIO } from '../src/cli/io.js';
import { runCli } from '../src/cli/program.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI in-process with captured output and an optional stdin. */
export async function cli(
  args: string[],
  stdin = '',
  opts: { tty?: boolean } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const bytes = new TextEncoder().encode(stdin);
  async function* once(b: Uint8Array): AsyncIterable<Uint8Array> {
    // Feed in small chunks to exercise the streaming paths.
    for (let i = 0; i < b.length; i += 7) yield b.subarray(i, i + 7);
  }
  async function* fileChunks(p: string): AsyncIterable<Uint8Array> {
    yield new Uint8Array(await readFile(p));
  }
  const io: CliIO = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    drain: async () => {},
    readStdin: async () => bytes,
    stdinChunks: () => once(bytes),
    readFile: async (p) => new Uint8Array(await readFile(p)),
    fileChunks,
    fileSize: async (p) => (await stat(p)).size,
    stdoutIsTTY: opts.tty === true,
    stderrIsTTY: false,
    env: {},
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

export const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
