/**
 * A one-line progress indicator on stderr for long reads of large files (`rtkit decode`,
 * `rtkit crashlog`). It exists only where a person watches a terminal: never when stderr is
 * redirected (logs and CI would fill with carriage returns), never for small inputs, never on
 * stdout (which may be JSON for a pipe).
 */

import { isRtkitError } from '../errors.js';
import type { CliIO } from './io.js';

/** Inputs smaller than this finish before a person would wonder whether anything happens. */
export const PROGRESS_MIN_BYTES = 8 * 1024 * 1024;

/** Redraws are at least this far apart: at most 5 per second, under the 10 the CLI promises. */
export const PROGRESS_INTERVAL_MS = 200;

/** Keeps the line within an 80-column terminal, so `\r` returns to its start. */
const MAX_LINE = 72;

/** Moves to the start of the line and clears it (ECMA-48 CR, EL 0). */
const ERASE = '\r\x1b[K';

export interface Progress {
  /** Whether this input gets a progress line at all. */
  readonly active: boolean;
  /** `done` bytes of the total have been read; redraws the line when due. */
  update(done: number): void;
  /**
   * Erases the line if it is shown: at the end, before an error message, and before output to
   * the same terminal. The next `update` draws it again (throttled as usual).
   */
  clear(): void;
}

export interface ProgressOptions {
  /** What is being read, e.g. `decode big.log`; shortened from the left when long. */
  label: string;
  /** Size of the input in bytes; undefined (stdin, a pipe) means no progress line. */
  total: number | undefined;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

const INACTIVE: Progress = { active: false, update: () => {}, clear: () => {} };

/** Whether stderr is a terminal that understands the erase sequence. */
function canDraw(io: CliIO): boolean {
  return io.stderrIsTTY && io.env['TERM'] !== 'dumb';
}

export function startProgress(io: CliIO, opts: ProgressOptions): Progress {
  const total = opts.total;
  if (!canDraw(io) || total === undefined || !(total >= PROGRESS_MIN_BYTES)) return INACTIVE;
  const now = opts.now ?? Date.now;
  const totalMiB = mib(total);
  let shown = '';
  let last = Number.NEGATIVE_INFINITY;
  return {
    active: true,
    update(done: number): void {
      const t = now();
      // The first draw is immediate: a slow start is when a person most wants to see one.
      if (t - last < PROGRESS_INTERVAL_MS) return;
      const pct = Math.min(100, Math.floor((100 * Math.max(0, done)) / total));
      const tail = `: ${String(pct).padStart(3)}% (${mib(Math.min(done, total))} of ${totalMiB} MiB)`;
      const text = `${shorten(opts.label, MAX_LINE - tail.length)}${tail}`;
      last = t;
      if (text === shown) return;
      io.stderr(`${ERASE}${text}`);
      shown = text;
    },
    clear(): void {
      if (shown === '') return;
      io.stderr(ERASE);
      shown = '';
      // Redraw at the next update that is due, not at once (output and line would alternate).
      last = now();
    },
  };
}

function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

function shorten(text: string, width: number): string {
  if (text.length <= width) return text;
  return `…${text.slice(text.length - Math.max(0, width - 1))}`;
}

/**
 * The whole of `file` (or stdin for `-`), with a progress line while a large file is read.
 * File-system errors keep their code and gain the path (directories, notably, come without one),
 * so the CLI's one-line message names the file.
 */
export async function readInput(io: CliIO, file: string, label: string): Promise<Uint8Array> {
  if (file === '-') return io.readStdin();
  return withPath(file, async () => {
    const size = await io.fileSize(file);
    const progress = startProgress(io, { label, total: size });
    if (!progress.active) return io.readFile(file);
    try {
      const parts: Uint8Array[] = [];
      let read = 0;
      for await (const chunk of io.fileChunks(file)) {
        parts.push(chunk);
        read += chunk.length;
        progress.update(read);
      }
      return concat(parts, read);
    } finally {
      progress.clear();
    }
  });
}

/** Runs `body`, adding `file` as the path of a file-system error that lacks one. */
export async function withPath<T>(file: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (
      err instanceof Error &&
      !isRtkitError(err) &&
      typeof err.code === 'string' &&
      err.path === undefined
    ) {
      err.path = file;
    }
    throw e;
  }
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
