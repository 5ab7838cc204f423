/**
 * Input-format detection from the start of the input (docs/trace-format.md, "Auto-detection").
 * The first line that is neither blank nor a `#` comment decides:
 *
 * 1. starts with `{`                       → `jsonl` (our trace format)
 * 2. matches the plain `[dir] <ep> <msg0>`  → `plain`
 * 3. printable text                        → `kernel` (kernel/dmesg/journald/m1n1 log)
 *
 * Binary data (NUL or other control characters, undecodable UTF-8) is refused with
 * UNKNOWN_FORMAT. Only the text up to the deciding line is looked at, so the decision does not
 * depend on how the input was split into chunks.
 */

import { ErrorCode, RtkitError } from '../errors.js';
import { PLAIN_LINE_RE } from './plain.js';

export type TraceFormat = 'jsonl' | 'plain' | 'kernel';

/** At most this much text is buffered while waiting for the deciding line. */
export const DETECT_WINDOW = 64 * 1024;

export type Detection =
  | { format: TraceFormat }
  /** Need more input (no deciding line yet, window not full). */
  | { format: undefined };

/**
 * Control characters other than TAB, LF, CR, FF and ESC (terminal captures keep colour
 * sequences); DEL; the replacement character of undecodable UTF-8.
 */
const BINARY_RE = /[\u0000-\u0008\u000b\u000e-\u001a\u001c-\u001f\u007f\ufffd]/g;

/** The binary test looks at least this far (or at the whole input when it is shorter). */
const SNIFF = 512;

function isBinary(s: string): boolean {
  if (s.indexOf('\u0000') >= 0) return true;
  const bad = s.match(BINARY_RE)?.length ?? 0;
  // A stray control character in a real log (an escape sequence) is tolerated; binary is dense.
  return bad >= 2 && bad * 20 > s.length;
}

function decideLine(line: string): TraceFormat {
  const s = line.trimStart();
  if (s.charCodeAt(0) === 0x7b /* { */) return 'jsonl';
  if (PLAIN_LINE_RE.test(line)) return 'plain';
  return 'kernel';
}

/**
 * Incremental detection for a stream: each `push` examines only the text it adds (the lines it
 * completes), so feeding any input one character at a time costs linear time. Re-scanning the
 * buffered start on every chunk was quadratic: 32,768 one-byte pushes of blank lines took ~7 s.
 * The verdict is the one `detectFormat` gives for the whole text received so far.
 */
export class FormatDetector {
  /** Everything received, kept to be replayed to the decoder once the format is known. */
  private chunks: string[] = [];
  private received = 0;
  /** Where the current (incomplete) line starts; lines before it have been examined. */
  private lineStart = 0;
  /** First non-blank character of the current line, or -1 while it is blank so far. */
  private lineFirst = -1;
  private sawComment = false;
  /** The deciding line's format and where it ends (its newline). */
  private decided: { format: TraceFormat; end: number } | undefined;
  private verdict: TraceFormat | undefined;
  private failure: RtkitError | undefined;

  /** Add `text`; `final` means no more input follows. Throws like `detectFormat`. */
  push(text: string, final = false): Detection {
    if (text.length > 0) {
      this.chunks.push(text);
      this.scan(text, this.received);
      this.received += text.length;
    }
    return this.decide(final);
  }

  /** All text received so far. */
  text(): string {
    if (this.chunks.length > 1) this.chunks = [this.chunks.join('')];
    return this.chunks[0] ?? '';
  }

  /** Examine the complete lines `text` (starting at stream offset `base`) adds to the window. */
  private scan(text: string, base: number): void {
    if (this.decided !== undefined) return;
    const lim = Math.min(text.length, DETECT_WINDOW - base);
    let pos = 0;
    while (pos < lim) {
      const nl = text.indexOf('\n', pos);
      const stop = nl < 0 || nl >= lim ? lim : nl;
      if (this.lineFirst < 0) {
        const i = text.slice(pos, stop).search(NON_BLANK);
        if (i >= 0) this.lineFirst = text.charCodeAt(pos + i);
      }
      if (stop === lim) return;
      // A complete line: stream offsets [lineStart, base + nl).
      if (this.lineFirst === 0x23 /* # */) this.sawComment = true;
      else if (this.lineFirst >= 0) {
        const end = base + nl;
        const line = this.text().slice(this.lineStart, end);
        this.decided = { format: decideLine(line), end };
        return;
      }
      this.lineFirst = -1;
      this.lineStart = base + nl + 1;
      pos = nl + 1;
    }
  }

  private decide(final: boolean): Detection {
    if (this.failure !== undefined) throw this.failure;
    if (this.verdict !== undefined) return { format: this.verdict };
    // Wait for enough text for the binary test (the decision must not depend on chunking).
    if (!final && this.received < SNIFF) return { format: undefined };
    let end: number;
    let format: TraceFormat;
    const windowEnd = Math.min(this.received, DETECT_WINDOW);
    if (this.decided !== undefined) ({ end, format } = this.decided);
    else {
      // No complete deciding line: wait, unless the window is full or the input ended.
      if (!final && this.received < DETECT_WINDOW) return { format: undefined };
      end = windowEnd;
      if (this.lineFirst >= 0 && this.lineFirst !== 0x23) {
        format = decideLine(this.text().slice(this.lineStart, windowEnd).trim());
      } else format = this.sawComment ? 'plain' : 'kernel';
    }
    const window = this.text().slice(0, windowEnd);
    if (isBinary(window.slice(0, Math.max(end, Math.min(SNIFF, window.length))))) {
      this.failure = binary();
      throw this.failure;
    }
    this.verdict = format;
    return { format };
  }
}

/** What `trim()` does not remove. */
const NON_BLANK = /\S/;

/**
 * Decide the format of `text`, the start of the input. `final` means no more input follows.
 * Throws RtkitError(UNKNOWN_FORMAT) for binary data.
 */
export function detectFormat(text: string, final: boolean): Detection {
  return new FormatDetector().push(text, final);
}

function binary(): RtkitError {
  return new RtkitError(
    ErrorCode.UNKNOWN_FORMAT,
    'input is binary data, not a trace: expected JSON lines, "<ep> <msg0>" lines or a kernel log',
  );
}
