import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { CliIO } from './io.js';

async function* chunks(stream: NodeJS.ReadableStream): AsyncIterable<Uint8Array> {
  for await (const c of stream)
    yield typeof c === 'string' ? new TextEncoder().encode(c) : (c as Uint8Array);
}

/** The real process: stdout/stderr with back-pressure ignored (outputs are line-sized). */
export function nodeIO(): CliIO {
  return {
    stdout: (t) => {
      process.stdout.write(t);
    },
    stderr: (t) => {
      process.stderr.write(t);
    },
    drain: () =>
      process.stdout.writableNeedDrain
        ? new Promise((resolve) => process.stdout.once('drain', () => resolve()))
        : Promise.resolve(),
    readStdin: async () => {
      const parts: Uint8Array[] = [];
      for await (const c of chunks(process.stdin)) parts.push(c);
      return Buffer.concat(parts);
    },
    stdinChunks: () => chunks(process.stdin),
    readFile: async (p) => new Uint8Array(await readFile(p)),
    fileChunks: (p) => chunks(createReadStream(p, { highWaterMark: 1 << 16 })),
    fileSize: async (p) => {
      try {
        return (await stat(p)).size;
      } catch {
        return undefined;
      }
    },
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
  };
}
