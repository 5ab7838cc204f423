/**
 * Classify the text Linux prints after `RTKit: ` (PROTOCOL.md §11), the register lines of a
 * crash dump, the macsmc key summary and m1n1's syslog rendering. Pure string functions: no
 * state, no records. Formats of the strings are facts of `drivers/soc/apple/rtkit.c`,
 * `rtkit-crashlog.c` and `drivers/mfd/macsmc.c`.
 */

import { parseHex64 } from '../protocol/word.js';

export type RtkitLine =
  | { k: 'init'; version: number }
  | { k: 'firmware-too-new' | 'firmware-too-old'; value: number }
  | { k: 'unknown-system-endpoint' | 'undiscovered-endpoint'; endpoint: number }
  | { k: 'syslog'; context: string; message: string }
  /** A word Linux did not handle and printed with `%llx`; ep is the endpoint it arrived on. */
  | { k: 'unhandled'; ep: number; hi: number; lo: number; source: string }
  | { k: 'crashed' }
  | { k: 'version'; text: string }
  | { k: 'crash-time'; value: bigint }
  | { k: 'crash-message'; id: string; text: string }
  | { k: 'mailbox-header'; type: number; index: number }
  | {
      k: 'mailbox-entry';
      index: number;
      timestamp: number;
      epHi: number;
      epLo: number;
      hi: number;
      lo: number;
    }
  | { k: 'exception-dump' }
  /** Crashlog parser complaints (`Unknown crashlog section: …`): part of the dump. */
  | { k: 'crash-note'; text: string }
  | { k: 'other'; text: string }
  | { k: 'malformed'; what: string };

const INIT_RE = /^Initializing \(protocol version (\d+)\)/;
const FW_RE = /^Firmware (min|max) version (-?\d+) is too (new|old)/;
const SYS_EP_RE = /^Unknown system endpoint: 0x([0-9a-fA-F]{1,2})\s*$/;
const UNDISCOVERED_RE = /^Message to undiscovered endpoint 0x([0-9a-fA-F]{1,2})\s*$/;
const UNHANDLED_RE = /^Unknown (oslog|ioreport|crashlog|syslog) message: ([0-9a-fA-F]{1,16})\s*$/;
const MGMT_RE = /^unknown management message: 0x([0-9a-fA-F]{1,16}) \(type: 0x[0-9a-fA-F]+\)\s*$/;
const UNKNOWN_EP_RE = /^message to unknown endpoint ([0-9a-fA-F]{1,2}): ([0-9a-fA-F]{1,16})\s*$/;
const CRASH_TIME_RE = /^Crash time: (-?\d{1,20})\s*$/;
const MESSAGE_RE = /^Message \(id=([0-9a-fA-F]{1,8})\): ?(.*)$/s;
const MBOX_RE = /^Mailbox history \(type = (-?\d{1,10}), index = (-?\d{1,10})\)\s*$/;
const ENTRY_RE = /^ ?#(\d{1,10})@([0-9a-fA-F]{1,8}): ([0-9a-fA-F]{1,16}) ([0-9a-fA-F]{1,16})\s*$/;

const UNHANDLED_EP: Readonly<Record<string, number>> = {
  crashlog: 1,
  syslog: 2,
  ioreport: 4,
  oslog: 8,
};

const CRASH_NOTES = [
  'Regs section too small',
  'Expected crashlog header',
  'Crashlog size (',
  'Unknown crashlog section',
  'End of crashlog reached',
  "Couldn't allocate crashlog shadow buffer",
];

const U64 = 1n << 64n;

/** `%d` of a u32 prints negative numbers for values ≥ 2^31. */
function u32FromPrintedInt(s: string): number {
  const n = Number(s);
  return n < 0 ? n + 0x1_0000_0000 : n;
}

/** Classify the text after `RTKit: `. Never throws. */
export function classifyRtkit(body: string): RtkitLine {
  switch (body.charCodeAt(0)) {
    case 0x20 /* ' ' */:
    case 0x23 /* # */:
      {
        const m = ENTRY_RE.exec(body);
        if (m === null) {
          return body.trimStart().startsWith('#')
            ? { k: 'malformed', what: 'mailbox history entry' }
            : other(body);
        }
        const ep = parseHex64(m[3]!)!;
        const msg = parseHex64(m[4]!)!;
        return {
          k: 'mailbox-entry',
          index: Number(m[1]),
          timestamp: Number.parseInt(m[2]!, 16),
          epHi: ep.hi,
          epLo: ep.lo,
          hi: msg.hi,
          lo: msg.lo,
        };
      }
    case 0x73 /* s */:
      if (body.startsWith('syslog message: ')) {
        const text = body.slice(16);
        // Linux prints `%s: %s` (context, message): split at the first `": "`.
        const i = text.indexOf(': ');
        if (i >= 0) return { k: 'syslog', context: text.slice(0, i), message: text.slice(i + 2) };
        // An empty message leaves `<context>: ` whose trailing space log tools may strip.
        if (text.endsWith(':')) return { k: 'syslog', context: text.slice(0, -1), message: '' };
        return { k: 'malformed', what: 'syslog message without ": "' };
      }
      break;
    case 0x55 /* U */:
      {
        if (body.startsWith('Unknown system endpoint')) {
          const m = SYS_EP_RE.exec(body);
          return m === null
            ? { k: 'malformed', what: 'unknown system endpoint' }
            : { k: 'unknown-system-endpoint', endpoint: Number.parseInt(m[1]!, 16) };
        }
        const m = UNHANDLED_RE.exec(body);
        if (m !== null) {
          const w = parseHex64(m[2]!)!;
          return { k: 'unhandled', ep: UNHANDLED_EP[m[1]!]!, hi: w.hi, lo: w.lo, source: body };
        }
        if (body.startsWith('Unknown crashlog section')) return { k: 'crash-note', text: body };
        if (/^Unknown (oslog|ioreport|crashlog|syslog) message/.test(body)) {
          return { k: 'malformed', what: 'unknown message word' };
        }
        break;
      }
    case 0x75 /* u */:
      {
        const m = MGMT_RE.exec(body);
        if (m !== null) {
          const w = parseHex64(m[1]!)!;
          return { k: 'unhandled', ep: 0, hi: w.hi, lo: w.lo, source: body };
        }
        break;
      }
    case 0x6d /* m */:
      {
        const m = UNKNOWN_EP_RE.exec(body);
        if (m !== null) {
          const w = parseHex64(m[2]!)!;
          return {
            k: 'unhandled',
            ep: Number.parseInt(m[1]!, 16),
            hi: w.hi,
            lo: w.lo,
            source: body,
          };
        }
        break;
      }
    case 0x49 /* I */:
      if (body.startsWith('Initializing')) {
        const m = INIT_RE.exec(body);
        return m === null
          ? { k: 'malformed', what: 'initializing line' }
          : { k: 'init', version: Number(m[1]) };
      }
      break;
    case 0x46 /* F */:
      {
        const m = FW_RE.exec(body);
        if (m !== null) {
          return {
            k: m[1] === 'min' ? 'firmware-too-new' : 'firmware-too-old',
            value: Number(m[2]),
          };
        }
        break;
      }
    case 0x4d /* M */:
      {
        if (body.startsWith('Message to undiscovered')) {
          const m = UNDISCOVERED_RE.exec(body);
          return m === null
            ? { k: 'malformed', what: 'undiscovered endpoint' }
            : { k: 'undiscovered-endpoint', endpoint: Number.parseInt(m[1]!, 16) };
        }
        if (body.startsWith('Message (')) {
          const m = MESSAGE_RE.exec(body);
          return m === null
            ? { k: 'malformed', what: 'crash message' }
            : { k: 'crash-message', id: `0x${m[1]!.toLowerCase()}`, text: m[2]! };
        }
        if (body.startsWith('Mailbox history')) {
          const m = MBOX_RE.exec(body);
          return m === null
            ? { k: 'malformed', what: 'mailbox history header' }
            : {
                k: 'mailbox-header',
                type: u32FromPrintedInt(m[1]!),
                index: u32FromPrintedInt(m[2]!),
              };
        }
        break;
      }
    case 0x63 /* c */:
      if (body.startsWith('co-processor has crashed')) return { k: 'crashed' };
      break;
    case 0x56 /* V */:
      if (body.startsWith('Version: ')) return { k: 'version', text: body.slice(9).trimEnd() };
      break;
    case 0x43 /* C */:
      if (body.startsWith('Crash time:')) {
        const m = CRASH_TIME_RE.exec(body);
        if (m === null) return { k: 'malformed', what: 'crash time' };
        let v = BigInt(m[1]!);
        // `%lld` of a u64: values with bit 63 set print negative.
        if (v < 0n) v += U64;
        if (v < 0n || v >= U64) return { k: 'malformed', what: 'crash time' };
        return { k: 'crash-time', value: v };
      }
      break;
    case 0x45 /* E */:
      if (body.startsWith('Exception dump:')) return { k: 'exception-dump' };
      break;
  }
  for (const n of CRASH_NOTES)
    if (body.startsWith(n)) return { k: 'crash-note', text: body.trimEnd() };
  return other(body);
}

function other(body: string): RtkitLine {
  return { k: 'other', text: body.trimEnd() };
}

export type ExceptionLine =
  | { k: 'el'; el: string }
  | { k: 'reg'; name: 'psr' | 'pc' | 'esr' | 'far' | 'sp'; hex: string }
  | { k: 'xregs'; first: number; values: string[] }
  | { k: 'blank' };

const EL_RE = /^\s*== Exception taken from (\S+) ==\s*$/;
const REG_RE = /^\s*(PSR|PC|ESR|FAR|SP)\s*= 0x([0-9a-fA-F]{1,16})\s*$/;
const XREGS_RE = /^\s*x(\d\d)-x\d\d = ((?:[0-9a-fA-F]{16} ?){1,4})\s*$/;

/** The lines Linux prints after `RTKit: Exception dump:` without the `RTKit:` marker. */
export function classifyExceptionLine(rest: string): ExceptionLine | undefined {
  if (rest.trim().length === 0) return { k: 'blank' };
  let m = REG_RE.exec(rest);
  if (m !== null) {
    return { k: 'reg', name: m[1]!.toLowerCase() as 'psr', hex: m[2]!.toLowerCase() };
  }
  m = XREGS_RE.exec(rest);
  if (m !== null) {
    return {
      k: 'xregs',
      first: Number(m[1]),
      values: m[2]!
        .trim()
        .split(' ')
        .map((v) => `0x${v.toLowerCase()}`),
    };
  }
  m = EL_RE.exec(rest);
  if (m !== null) return { k: 'el', el: m[1]! };
  return undefined;
}

export interface SmcInitialized {
  keyCount: number;
  first: { fourcc: string; u32: string };
  last: { fourcc: string; u32: string };
}

// macsmc: `Initialized (%d keys %p4ch (0x%x)..%p4ch (0x%x))`.
const SMC_RE =
  /^Initialized \((\d+) keys (.{4}) \(0x([0-9a-fA-F]{1,8})\)\.\.(.{4}) \(0x([0-9a-fA-F]{1,8})\)\)/;

export function parseSmcInitialized(body: string): SmcInitialized | undefined {
  const m = SMC_RE.exec(body);
  if (m === null) return undefined;
  const hex = (s: string) => `0x${Number.parseInt(s, 16).toString(16)}`;
  return {
    keyCount: Number(m[1]),
    first: { fourcc: m[2]!, u32: hex(m[3]!) },
    last: { fourcc: m[4]!, u32: hex(m[5]!) },
  };
}

// m1n1's proxyclient: `[syslog] * [<context>]<message>`; the `*` is a level marker we do not need.
const M1N1_RE = /^\[syslog\] \S+ \[([^\]]*)\](.*)$/s;

export function parseM1n1Syslog(text: string): { context: string; message: string } | undefined {
  const m = M1N1_RE.exec(text);
  return m === null ? undefined : { context: m[1]!, message: m[2]! };
}
