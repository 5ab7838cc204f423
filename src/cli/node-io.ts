import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { CliIO } from './io.js';

async function* chunks(stream: NodeJS.ReadableStream): AsyncIterable<Uint8Array> {
  for await (const c of stream)
    yield typeof c === 'string' ? new TextEncoder().encode(c) : (c as Uint8Array);
}

/** The real process: stdout/stderr with back-pressure ignored (outputs are line-sized). */
export function nodeIO(): CliIO {
  let stop: AbortController | undefined;
  // Installed only when a long-running command asks for it: everything else keeps Node's
  // default of dying on Ctrl-C.
  const interrupt = (): AbortSignal => {
    if (stop) return stop.signal;
    const controller = new AbortController();
    stop = controller;
    const onSignal = (signal: NodeJS.Signals): void => {
      // A second Ctrl-C while shutting down leaves at once.
      if (controller.signal.aborted) process.exit(130);
      controller.abort(new Error(`received ${signal}`));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    return controller.signal;
  };
  return {
    get interrupt() {
      return interrupt();
    },
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
