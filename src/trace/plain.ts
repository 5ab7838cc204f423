/**
 * Plain hex lines, for hand-written or copied traces (docs/trace-format.md):
 *
 *   # comment
 *   > 20 0x0000000000000017     # AP→IOP, endpoint 0x20
 *   < 0x20 0000000000000000     # IOP→AP
 *   0 0x0010000c000b000c        # direction unknown
 *
 * Endpoint and word are hexadecimal with or without `0x`. Direction tokens: `>` or `ap->iop`,
 * `<` or `iop->ap` (any case).
 */

import type { Direction } from '../protocol/word.js';
import { parseHex64 } from '../protocol/word.js';

export type ParsedPlainLine =
  | { k: 'entry'; dir: Direction | null; ep: number; hi: number; lo: number; comment?: string }
  | { k: 'blank' }
  | { k: 'error'; message: string };

export const PLAIN_LINE_RE =
  /^\s*(?:(>|<|ap->iop|iop->ap)\s+)?(?:0x)?([0-9a-f]{1,2})\s+(?:0x)?([0-9a-f]{1,16})\s*(?:#\s?(.*))?$/is;

/** Parse one plain line. Never throws. */
export function parsePlainLine(line: string): ParsedPlainLine {
  const m = PLAIN_LINE_RE.exec(line);
  if (m === null) {
    const s = line.trim();
    if (s.length === 0 || s.charCodeAt(0) === 0x23 /* # */) return { k: 'blank' };
    return { k: 'error', message: 'expected "[> | <] <ep> <msg0>"' };
  }
  const tok = m[1]?.toLowerCase();
  const dir: Direction | null =
    tok === '>' || tok === 'ap->iop'
      ? 'ap->iop'
      : tok === '<' || tok === 'iop->ap'
        ? 'iop->ap'
        : null;
  const w = parseHex64(m[3]!)!;
  const out: ParsedPlainLine = {
    k: 'entry',
    dir,
    ep: Number.parseInt(m[2]!, 16),
    hi: w.hi,
    lo: w.lo,
  };
  const c = m[4]?.trimEnd();
  if (c !== undefined && c.length > 0) out.comment = c;
  return out;
}
