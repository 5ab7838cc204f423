/**
 * Presenting decoded messages: one-line summaries, JSON-safe field objects, and codec-level
 * notes (things a host would warn about that the word alone shows).
 */

import { type Message, type UnknownMessage, variantOf } from './codec.js';
import { u32ToFourcc } from './fourcc.js';
import type { DecodeContext } from './variant.js';
import { hex64, hexNum } from './word.js';

/** One line for a person: "HELLO v11..12", "syslog entry 42", "unknown 0x…: reason". */
export function summarize(m: Message): string {
  if (m.kind === 'unknown') {
    const u = m as UnknownMessage;
    return `unknown ${hex64(u.hi, u.lo)} (${u.reason})`;
  }
  const v = variantOf(m.kind);
  if (v === undefined) return m.kind;
  const text = v.summary(m as never);
  return m.reserved ? `${text} [reserved bits set]` : text;
}

export type FieldValue = number | boolean | string;

/**
 * The decoded fields as a JSON-safe object: addresses, masks and words as `0x` hex strings,
 * counts and indices as numbers, flags as booleans, SMC keys as their four characters.
 */
export function fieldsOf(m: Message): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  if (m.kind === 'unknown') {
    const u = m as UnknownMessage;
    out['raw'] = hex64(u.hi, u.lo);
    out['reason'] = u.reason;
    if (u.type !== undefined) out['type'] = u.type;
    return out;
  }
  const v = variantOf(m.kind);
  if (v === undefined) return out;
  const rec = m as unknown as Record<string, number | boolean>;
  for (const name of v.fieldNames) {
    const x = rec[name]!;
    switch (v.fieldFormats[name]) {
      case 'hex':
      case 'power':
        out[name] = hexNum(x as number);
        break;
      case 'page':
        out[name] = hexNum(x as number);
        out[`${name}Address`] = hexNum((x as number) * 4096);
        break;
      case 'fourcc':
        out[name] = u32ToFourcc(x as number);
        out[`${name}Value`] = hexNum(x as number);
        break;
      default:
        out[name] = x;
    }
  }
  if (m.reserved) out['reserved'] = hex64(m.reserved.hi, m.reserved.lo);
  return out;
}

export interface CodecNote {
  code: string;
  message: string;
}

/**
 * What the word alone shows to be odd: reserved bits, syslog INIT fields that Linux would read
 * differently, the OSLog layouts disagreeing, a kind travelling the wrong way.
 */
export function notesFor(m: Message, ctx?: DecodeContext): CodecNote[] {
  const notes: CodecNote[] = [];
  if (m.kind === 'unknown') {
    notes.push({ code: 'UNKNOWN_MESSAGE', message: (m as UnknownMessage).reason });
    return notes;
  }
  const v = variantOf(m.kind);
  if (m.reserved) {
    notes.push({
      code: 'RESERVED_BITS_SET',
      message: `bits outside the ${v?.title ?? m.kind} fields are set: ${hex64(m.reserved.hi, m.reserved.lo)}`,
    });
  }
  if (v && ctx?.dir && v.dir !== 'both' && v.dir !== ctx.dir) {
    notes.push({
      code: 'UNEXPECTED_DIRECTION',
      message: `${v.title} travels ${v.dir}, seen ${ctx.dir}`,
    });
  }
  switch (m.kind) {
    case 'syslogInit': {
      // ML and OB read count [7:0] and size [31:24]; m1n1 reads [15:0] and [39:24] (§5.2).
      const narrowCount = m.entryCount & 0xff;
      const narrowSize = m.messageSize & 0xff;
      if (m.entryCount !== narrowCount || m.messageSize !== narrowSize) {
        notes.push({
          code: 'SYSLOG_INIT_WIDE_FIELDS',
          message: `wide fields give ${m.entryCount} × ${m.messageSize}; Linux would read ${narrowCount} × ${narrowSize}`,
        });
      }
      if (m.entryCount === 0 || m.messageSize === 0) {
        notes.push({
          code: 'SYSLOG_GEOMETRY_INVALID',
          message: `entry count ${m.entryCount}, message size ${m.messageSize}: nothing can be decoded`,
        });
      }
      break;
    }
    case 'oslogBufferRequest':
    case 'oslogBufferReply': {
      // m1n1-Py reads SIZE [55:48] in pages and the page number from [47:0]; both readings agree
      // only when bits [47:36] are zero (§5.5).
      const mid = m.size & 0xfff;
      if (mid !== 0) {
        notes.push({
          code: 'OSLOG_LAYOUT_AMBIGUOUS',
          message: `bits [47:36] = ${hexNum(mid)}: size is not page-aligned below 1 MiB, m1n1 would read it differently`,
        });
      }
      break;
    }
    default:
      break;
  }
  return notes;
}
