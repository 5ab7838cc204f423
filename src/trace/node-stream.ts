/**
 * Node-only adapter: decode files and Node readable streams with the browser-safe TraceDecoder.
 * Reading is streamed (64 KiB chunks by default), so a 1 GB log decodes in bounded memory.
 */

import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { TraceDecoder, type TraceDecoderOptions, type TraceStats } from './decoder.js';
import type { TraceOutput } from './records.js';

export interface FileDecodeOptions extends TraceDecoderOptions {
  /** Read size in bytes; default 64 KiB. */
  chunkSize?: number;
}

/**
 * Decode a readable stream (bytes or strings), calling `onRecord` for each record in order.
 * Resolves with the decoder's statistics; rejects with the stream's error or UNKNOWN_FORMAT.
 */
export async function decodeReadable(
  stream: Readable,
  onRecord: (r: TraceOutput) => void,
  options?: TraceDecoderOptions,
): Promise<TraceStats> {
  const d = new TraceDecoder(options);
  // Node's StringDecoder joins UTF-8 sequences split across reads.
  if (stream.readableEncoding === null) stream.setEncoding('utf8');
  try {
    for await (const chunk of stream) {
      for (const r of d.push(chunk as string)) onRecord(r);
    }
  } finally {
    // Stop reading early (UNKNOWN_FORMAT, a throwing callback) without leaking the descriptor.
    if (!stream.destroyed) stream.destroy();
  }
  for (const r of d.end()) onRecord(r);
  return { ...d.stats };
}

/** Decode a file by path, streaming. */
export function decodeFile(
  path: string,
  onRecord: (r: TraceOutput) => void,
  options: FileDecodeOptions = {},
): Promise<TraceStats> {
  const { chunkSize, ...rest } = options;
  const stream = createReadStream(path, {
    highWaterMark: chunkSize ?? 64 * 1024,
    encoding: 'utf8',
  });
  return decodeReadable(stream, onRecord, rest);
}

/** The same as an async iterator, for `for await (const r of iterateFile(path))`. */
export async function* iterateFile(
  path: string,
  options: FileDecodeOptions = {},
): AsyncGenerator<TraceOutput, TraceStats, undefined> {
  const { chunkSize, ...rest } = options;
  const stream = createReadStream(path, {
    highWaterMark: chunkSize ?? 64 * 1024,
    encoding: 'utf8',
  });
  const d = new TraceDecoder(rest);
  try {
    for await (const chunk of stream) yield* d.push(chunk as string);
  } finally {
    if (!stream.destroyed) stream.destroy();
  }
  yield* d.end();
  return { ...d.stats };
}
