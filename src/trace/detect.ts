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
 * Decide the format of `text`, the start of the input. `final` means no more input follows.
 * Throws RtkitError(UNKNOWN_FORMAT) for binary data.
 */
export function detectFormat(text: string, final: boolean): Detection {
  // Wait for enough text for the binary test (the decision must not depend on chunking).
  if (!final && text.length < SNIFF) return { format: undefined };
  const window = text.length > DETECT_WINDOW ? text.slice(0, DETECT_WINDOW) : text;
  let pos = 0;
  let sawComment = false;
  for (;;) {
    const nl = window.indexOf('\n', pos);
    if (nl < 0) break;
    const line = window.slice(pos, nl);
    const s = line.trim();
    if (s.length > 0) {
      if (s.charCodeAt(0) === 0x23 /* # */) sawComment = true;
      else return checked(window, nl, decideLine(line));
    }
    pos = nl + 1;
  }
  // No complete deciding line: wait, unless the window is full or the input ended.
  if (!final && text.length < DETECT_WINDOW) return { format: undefined };
  const rest = window.slice(pos).trim();
  if (rest.length > 0 && rest.charCodeAt(0) !== 0x23) {
    return checked(window, window.length, decideLine(rest));
  }
  return checked(window, window.length, sawComment ? 'plain' : 'kernel');
}

function checked(window: string, end: number, format: TraceFormat): Detection {
  if (isBinary(window.slice(0, Math.max(end, Math.min(SNIFF, window.length))))) throw binary();
  return { format };
}
function binary(): RtkitError {
  return new RtkitError(
    ErrorCode.UNKNOWN_FORMAT,
    'input is binary data, not a trace: expected JSON lines, "<ep> <msg0>" lines or a kernel log',
  );
}
