/**
 * Seeded, reproducible fault injection for the simulated firmware: behaviours placed in front of
 * the real firmware's protocol (STYLE.md), each able to produce one of the "Sim sends X" recipes
 * of ROBUSTNESS.md. A spec is a typed object or a compact string (grammar below and in
 * docs/sim-firmware.md):
 *
 *   spec    := clause (';' clause)*
 *   clause  := name [':' param (',' param)*]   |   name '=' value
 *   param   := key '=' value | key
 *   value   := decimal | 0xHEX | word | a-b (a range)
 *
 *   seed=42                              the injector's own random stream
 *   drop:ep=2,type=5,count=1             drop matching messages (dir=out by default)
 *   delay:ms=50[,filter]                 deliver matching messages later
 *   dup:copies=1[,filter]                deliver extra copies ("duplicate" is an alias)
 *   corrupt:bit=3 | xor=0x10[,filter]    flip bits (default: one random bit per message)
 *       filter keys: ep, type, dir=out|in|both, count, skip, p (probability 0..1)
 *   withhold=iop-ack                     never send: hello | iop-ack | ap-ack | power-down-ack
 *   no-iop-ack                           short for withhold=iop-ack
 *   version=13-14                        HELLO range (version=12 means 12..12)
 *   crash-at=epmap | crash-at=3          crash at a named boot step (or its index in BOOT_STEPS)
 *   crash-after=250                      crash this many virtual ms after the CPU starts
 *   buffer:ep=2,pages=0|255,iova=collide|outside|0x...,repeat=20
 *   syslog-init:repeat=2,count=4,size=0x80     INIT repeated and/or with another geometry
 *   syslog-reinit:count=8,size=0x40            a second INIT after the first (B11)
 *   syslog-index:index=0xff,after=0            a LOG with this index (default: entry count);
 *                                              repeatable
 *   hostile:ms=10,count=100,eps=any|discovered random words on random endpoints
 *   epmap:words=0x00800000ffffffff*9+0x0088000100000001   these EPMAP words instead (B16/B26/B39)
 *   send:ep=0x25,msg=0x1,at=ap-on|after=ms,count=16     raw words at a boot step or time
 *   log:file=test.c,line=1,text=hello          a syslog line at AP ON (repeatable clause)
 *   syslog-burst:count=10000                   that many LOGs back to back (B29)
 *   syslog-init:never                          no INIT at all (B23 c)
 *   crash-notify:pages=255,iova=0x...          the crash notification's SIZE/IOVA (B8)
 *   crashlog:total=0x2000,footer=0 | hex=45484c43...   the crashlog bytes written (B1–B7, B22)
 *   ack:iop=0x10,ap=0x20,count=1               ack power requests with another state (B28)
 *   stall:at=epmap-done[,ms=200] | after=50    stop reading A2I, so it fills up (B30)
 */

import type { Clock } from '../clock.js';
import { buildCrashlog, type CrashlogInput } from '../crashlog/index.js';
import { ErrorCode, RtkitError } from '../errors.js';
import { codecFor, type DecodeContext, joinWord, splitWord } from '../protocol/index.js';
import type { Rng } from './firmware/app.js';
import type { SyslogLine } from './firmware/types.js';
import { createRng } from './rng.js';

// ---------------------------------------------------------------------------------------------
// Spec

/** Named boot steps, in boot order; `crash-at=N` indexes this list. */
export const BOOT_STEPS = [
  'hello', // HELLO sent
  'hello-ack', // a valid HELLO_ACK accepted
  'epmap', // first EPMAP block sent
  'epmap-done', // reply to the LAST block received
  'startep', // first STARTEP handled
  'buffer-request', // first buffer request sent
  'buffer-reply', // first buffer reply accepted
  'syslog-init', // syslog INIT sent
  'iop-ack', // end-of-boot IOP ack sent
  'ap-on', // AP ON handled
  'first-log', // first syslog LOG sent
] as const;
export type BootStep = (typeof BOOT_STEPS)[number];

export type WithholdStep = 'hello' | 'iop-ack' | 'ap-ack' | 'power-down-ack';
const WITHHOLD_STEPS: readonly WithholdStep[] = ['hello', 'iop-ack', 'ap-ack', 'power-down-ack'];

export type FaultDirection = 'out' | 'in' | 'both';

export interface MessageFilter {
  readonly ep?: number;
  /** The endpoint codec's TYPE (selector) value, e.g. 5 for a syslog LOG. */
  readonly type?: number;
  /** `out` = IOP→AP (default), `in` = AP→IOP as the firmware receives it. */
  readonly dir?: FaultDirection;
  /** Apply to at most this many matches (default: all). */
  readonly count?: number;
  /** Let this many matches pass first. */
  readonly skip?: number;
  /** Apply to each match with this probability (seeded; default 1). */
  readonly probability?: number;
}

export type MessageFault =
  | (MessageFilter & { readonly action: 'drop' })
  | (MessageFilter & { readonly action: 'delay'; readonly ms: number })
  | (MessageFilter & { readonly action: 'duplicate'; readonly copies?: number })
  | (MessageFilter & { readonly action: 'corrupt'; readonly xor?: bigint; readonly bit?: number });

export interface BufferFault {
  readonly ep: number;
  /** Page count (OSLog: 4 KiB units too) to request instead of the profile's: 0, 255, ... */
  readonly pages?: number;
  /**
   * IOVA to put in the request: the IOVA of another endpoint's buffer (`collide`), one just past
   * the firmware window / SRAM (`outside`), or a number.
   */
  readonly iova?: 'collide' | 'outside' | number;
  /** Send the request this many times (B11: 20). */
  readonly repeat?: number;
  /** Then one more request with this page count (B11: a different geometry while live). */
  readonly nextPages?: number;
}

export interface SyslogInitFault {
  readonly repeat?: number;
  readonly entryCount?: number;
  readonly messageSize?: number;
  /** Send no INIT at all (B23 c: LOG before INIT). */
  readonly never?: boolean;
}

export interface SyslogIndexFault {
  /** LOG index to send (default: the entry count, one past the last entry, B9). */
  readonly index?: number;
  /** Send it after this many regular LOGs (default 0). */
  readonly after?: number;
}

/** Raw IOP→AP words at a boot step (`at`) or a virtual time after the CPU start (`afterMs`). */
export interface SendFault {
  readonly ep: number;
  readonly msg: bigint;
  readonly at?: BootStep;
  readonly afterMs?: number;
  /** How many copies (default 1). */
  readonly count?: number;
}

/** The crashlog bytes to write instead of the composed dump (ROBUSTNESS B1–B7, B22, B37). */
export interface CrashlogFault {
  /** These exact bytes (cut to the buffer). */
  readonly bytes?: Uint8Array;
  /** These sections instead of the composed ones. */
  readonly input?: CrashlogInput;
  /** The header's total-size field (e.g. larger than the buffer, B22). */
  readonly totalSize?: number;
  /** Write the footer (default true). */
  readonly withFooter?: boolean;
}

export interface HostileFault {
  readonly intervalMs?: number;
  readonly count?: number;
  readonly endpoints?: 'any' | 'discovered';
}

export interface FaultSpec {
  readonly seed?: number;
  readonly messages?: readonly MessageFault[];
  readonly withhold?: readonly WithholdStep[];
  readonly version?: { readonly min: number; readonly max: number };
  readonly crashAt?: BootStep | number;
  readonly crashAfterMs?: number;
  readonly buffers?: readonly BufferFault[];
  readonly syslogInit?: SyslogInitFault;
  /** A second INIT with this geometry, sent right after the first; the firmware then uses it. */
  readonly syslogReinit?: { readonly entryCount: number; readonly messageSize: number };
  readonly syslogIndex?: SyslogIndexFault | readonly SyslogIndexFault[];
  /** Syslog lines queued when AP power goes ON (B23 b: an empty message). */
  readonly syslogLines?: readonly SyslogLine[];
  /** This many LOGs back to back, each after the echo of the previous (B29). */
  readonly syslogBurst?: { readonly count: number };
  readonly hostile?: HostileFault;
  /** EPMAP words sent instead of the profile's map, in order, each after the previous reply. */
  readonly epmap?: readonly bigint[];
  readonly sends?: readonly SendFault[];
  /** SIZE / IOVA of the crash notification (B8: 255 pages). */
  readonly crashNotify?: { readonly pages?: number; readonly iova?: number };
  readonly crashlog?: CrashlogFault;
  /** Ack power requests with this state instead of the requested one (B28). */
  readonly acks?: { readonly iop?: number; readonly ap?: number; readonly count?: number };
  /** Stop reading A2I (at a step or a time) for `ms`, or for good (B30, transport checks). */
  readonly stall?: { readonly at?: BootStep; readonly afterMs?: number; readonly ms?: number };
}

// ---------------------------------------------------------------------------------------------
// String form

function bad(msg: string, details: Record<string, unknown> = {}): never {
  throw new RtkitError(ErrorCode.BAD_INPUT, `fault spec: ${msg}`, details);
}

function num(v: string | undefined, what: string): number {
  if (v === undefined || v === '') bad(`${what} needs a value`);
  const t = v.trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? Number.parseInt(t.slice(2), 16) : Number(t);
  if (!Number.isFinite(n)) bad(`${what}: ${JSON.stringify(v)} is not a number`);
  return n;
}

function big(v: string | undefined, what: string): bigint {
  if (v === undefined || v === '') bad(`${what} needs a value`);
  try {
    const b = BigInt(v.trim());
    if (b < 0n || b > 0xffff_ffff_ffff_ffffn) bad(`${what}: ${v} is not a 64-bit value`);
    return b;
  } catch (e) {
    if (e instanceof RtkitError) throw e;
    return bad(`${what}: ${JSON.stringify(v)} is not a number`);
  }
}

function params(text: string | undefined): Map<string, string | undefined> {
  const m = new Map<string, string | undefined>();
  if (text === undefined || text.trim() === '') return m;
  for (const part of text.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq < 0) m.set(p.toLowerCase(), undefined);
    else m.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
  }
  return m;
}

function filterOf(p: Map<string, string | undefined>, clause: string): MessageFilter {
  const f: {
    ep?: number;
    type?: number;
    dir?: FaultDirection;
    count?: number;
    skip?: number;
    probability?: number;
  } = {};
  for (const [k, v] of p) {
    switch (k) {
      case 'ep':
        f.ep = num(v, `${clause} ep`);
        break;
      case 'type':
        f.type = num(v, `${clause} type`);
        break;
      case 'dir':
        if (v !== 'out' && v !== 'in' && v !== 'both') bad(`${clause} dir must be out, in or both`);
        f.dir = v;
        break;
      case 'count':
        f.count = num(v, `${clause} count`);
        break;
      case 'skip':
        f.skip = num(v, `${clause} skip`);
        break;
      case 'p':
      case 'probability':
        f.probability = num(v, `${clause} p`);
        break;
      case 'ms':
      case 'copies':
      case 'xor':
      case 'bit':
        break;
      default:
        bad(`${clause}: unknown key ${JSON.stringify(k)}`);
    }
  }
  return f;
}

function range(v: string | undefined, what: string): { min: number; max: number } {
  if (v === undefined) bad(`${what} needs a value`);
  const m = /^\s*(\w+)\s*(?:-\s*(\w+)\s*)?$/.exec(v);
  if (m === null) bad(`${what}: ${JSON.stringify(v)} is not N or A-B`);
  const min = num(m[1], what);
  const max = m[2] === undefined ? min : num(m[2], what);
  return { min, max };
}

function step(v: string | undefined, what: string): BootStep {
  if (v === undefined || !(BOOT_STEPS as readonly string[]).includes(v)) {
    bad(`${what}: ${JSON.stringify(v)} is not one of ${BOOT_STEPS.join(', ')}`);
  }
  return v as BootStep;
}

function hexBytes(v: string): Uint8Array {
  const t = v.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(t)) bad('crashlog hex must be pairs of hex digits');
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Parse the compact string form. Throws `RtkitError(BAD_INPUT)` on a malformed spec. */
export function parseFaultSpec(text: string): FaultSpec {
  const spec: {
    seed?: number;
    messages?: MessageFault[];
    withhold?: WithholdStep[];
    version?: { min: number; max: number };
    crashAt?: BootStep | number;
    crashAfterMs?: number;
    buffers?: BufferFault[];
    syslogInit?: SyslogInitFault;
    syslogReinit?: { entryCount: number; messageSize: number };
    syslogIndex?: SyslogIndexFault[];
    syslogLines?: SyslogLine[];
    syslogBurst?: { count: number };
    hostile?: HostileFault;
    epmap?: bigint[];
    sends?: SendFault[];
    crashNotify?: { pages?: number; iova?: number };
    crashlog?: CrashlogFault;
    acks?: { iop?: number; ap?: number; count?: number };
    stall?: { at?: BootStep; afterMs?: number; ms?: number };
  } = {};
  const messages: MessageFault[] = [];
  const withhold: WithholdStep[] = [];
  const buffers: BufferFault[] = [];
  const indexFaults: SyslogIndexFault[] = [];
  const lines: SyslogLine[] = [];
  const sends: SendFault[] = [];
  for (const raw of text.split(';')) {
    const clause = raw.trim();
    if (clause === '') continue;
    const colon = clause.indexOf(':');
    const eq = clause.indexOf('=');
    let name: string;
    let value: string | undefined;
    let p = new Map<string, string | undefined>();
    if (colon >= 0 && (eq < 0 || colon < eq)) {
      name = clause.slice(0, colon).trim().toLowerCase();
      p = params(clause.slice(colon + 1));
    } else if (eq >= 0) {
      name = clause.slice(0, eq).trim().toLowerCase();
      value = clause.slice(eq + 1).trim();
    } else {
      name = clause.toLowerCase();
    }
    switch (name) {
      case 'seed':
        spec.seed = num(value ?? p.get('value'), 'seed');
        break;
      case 'drop':
        messages.push({ ...filterOf(p, name), action: 'drop' });
        break;
      case 'delay':
        messages.push({ ...filterOf(p, name), action: 'delay', ms: num(p.get('ms'), 'delay ms') });
        break;
      case 'dup':
      case 'duplicate': {
        const copies = p.has('copies') ? num(p.get('copies'), 'dup copies') : 1;
        messages.push({ ...filterOf(p, name), action: 'duplicate', copies });
        break;
      }
      case 'corrupt': {
        const f = filterOf(p, name);
        if (p.has('xor')) messages.push({ ...f, action: 'corrupt', xor: big(p.get('xor'), 'xor') });
        else if (p.has('bit')) {
          messages.push({ ...f, action: 'corrupt', bit: num(p.get('bit'), 'corrupt bit') });
        } else messages.push({ ...f, action: 'corrupt' });
        break;
      }
      case 'withhold': {
        const list = value !== undefined ? [value] : [...p.keys()];
        for (const s of list) {
          if (!WITHHOLD_STEPS.includes(s as WithholdStep)) {
            bad(`withhold: ${JSON.stringify(s)} is not one of ${WITHHOLD_STEPS.join(', ')}`);
          }
          withhold.push(s as WithholdStep);
        }
        break;
      }
      case 'no-iop-ack':
        withhold.push('iop-ack');
        break;
      case 'version':
        spec.version = range(value, 'version');
        break;
      case 'crash-at': {
        if (value === undefined) bad('crash-at needs a step');
        if (/^\d+$/.test(value)) {
          const i = Number(value);
          if (i >= BOOT_STEPS.length) bad(`crash-at: no boot step ${i}`);
          spec.crashAt = i;
        } else if ((BOOT_STEPS as readonly string[]).includes(value)) {
          spec.crashAt = value as BootStep;
        } else bad(`crash-at: ${JSON.stringify(value)} is not one of ${BOOT_STEPS.join(', ')}`);
        break;
      }
      case 'crash-after':
        spec.crashAfterMs = num(value ?? p.get('ms'), 'crash-after');
        break;
      case 'buffer': {
        const f: {
          ep: number;
          pages?: number;
          iova?: 'collide' | 'outside' | number;
          repeat?: number;
          nextPages?: number;
        } = { ep: num(p.get('ep'), 'buffer ep') };
        for (const [k, v] of p) {
          if (k === 'ep') continue;
          if (k === 'pages' || k === 'size') f.pages = num(v, 'buffer pages');
          else if (k === 'repeat') f.repeat = num(v, 'buffer repeat');
          else if (k === 'then') f.nextPages = num(v, 'buffer then');
          else if (k === 'iova') {
            f.iova = v === 'collide' || v === 'outside' ? v : num(v, 'buffer iova');
          } else bad(`buffer: unknown key ${JSON.stringify(k)}`);
        }
        buffers.push(f);
        break;
      }
      case 'syslog-init': {
        const f: { repeat?: number; entryCount?: number; messageSize?: number; never?: boolean } =
          {};
        for (const [k, v] of p) {
          if (k === 'never') f.never = true;
          else if (k === 'repeat') f.repeat = num(v, 'syslog-init repeat');
          else if (k === 'count') f.entryCount = num(v, 'syslog-init count');
          else if (k === 'size') f.messageSize = num(v, 'syslog-init size');
          else bad(`syslog-init: unknown key ${JSON.stringify(k)}`);
        }
        spec.syslogInit = f;
        break;
      }
      case 'syslog-reinit':
        spec.syslogReinit = {
          entryCount: num(p.get('count'), 'syslog-reinit count'),
          messageSize: num(p.get('size'), 'syslog-reinit size'),
        };
        break;
      case 'syslog-index': {
        const f: { index?: number; after?: number } = {};
        for (const [k, v] of p) {
          if (k === 'index') f.index = num(v, 'syslog-index index');
          else if (k === 'after') f.after = num(v, 'syslog-index after');
          else bad(`syslog-index: unknown key ${JSON.stringify(k)}`);
        }
        indexFaults.push(f);
        break;
      }
      case 'hostile': {
        const f: { intervalMs?: number; count?: number; endpoints?: 'any' | 'discovered' } = {};
        for (const [k, v] of p) {
          if (k === 'ms') f.intervalMs = num(v, 'hostile ms');
          else if (k === 'count') f.count = num(v, 'hostile count');
          else if (k === 'eps') {
            if (v !== 'any' && v !== 'discovered') bad('hostile eps must be any or discovered');
            f.endpoints = v;
          } else bad(`hostile: unknown key ${JSON.stringify(k)}`);
        }
        spec.hostile = f;
        break;
      }
      case 'log':
        lines.push({
          file: p.get('file') ?? 'fault.c',
          line: p.has('line') ? num(p.get('line'), 'log line') : 1,
          text: p.get('text') ?? '',
        });
        break;
      case 'syslog-burst':
        spec.syslogBurst = { count: num(p.get('count'), 'syslog-burst count') };
        break;
      case 'epmap': {
        const words: bigint[] = [];
        for (const part of (p.get('words') ?? '').split('+')) {
          const [w, times] = part.split('*');
          const word = big(w, 'epmap word');
          const n = times === undefined ? 1 : num(times, 'epmap repeat');
          for (let i = 0; i < n; i++) words.push(word);
        }
        spec.epmap = words;
        break;
      }
      case 'send': {
        const f: { ep: number; msg: bigint; at?: BootStep; afterMs?: number; count?: number } = {
          ep: num(p.get('ep'), 'send ep'),
          msg: big(p.get('msg'), 'send msg'),
        };
        for (const [k, v] of p) {
          if (k === 'ep' || k === 'msg') continue;
          if (k === 'at') f.at = step(v, 'send at');
          else if (k === 'after') f.afterMs = num(v, 'send after');
          else if (k === 'count') f.count = num(v, 'send count');
          else bad(`send: unknown key ${JSON.stringify(k)}`);
        }
        sends.push(f);
        break;
      }
      case 'crash-notify': {
        const f: { pages?: number; iova?: number } = {};
        for (const [k, v] of p) {
          if (k === 'pages') f.pages = num(v, 'crash-notify pages');
          else if (k === 'iova') f.iova = num(v, 'crash-notify iova');
          else bad(`crash-notify: unknown key ${JSON.stringify(k)}`);
        }
        spec.crashNotify = f;
        break;
      }
      case 'crashlog': {
        const f: { bytes?: Uint8Array; totalSize?: number; withFooter?: boolean } = {};
        for (const [k, v] of p) {
          if (k === 'total') f.totalSize = num(v, 'crashlog total');
          else if (k === 'footer') f.withFooter = num(v, 'crashlog footer') !== 0;
          else if (k === 'hex') f.bytes = hexBytes(v ?? '');
          else bad(`crashlog: unknown key ${JSON.stringify(k)}`);
        }
        spec.crashlog = f;
        break;
      }
      case 'ack': {
        const f: { iop?: number; ap?: number; count?: number } = {};
        for (const [k, v] of p) {
          if (k === 'iop') f.iop = num(v, 'ack iop');
          else if (k === 'ap') f.ap = num(v, 'ack ap');
          else if (k === 'count') f.count = num(v, 'ack count');
          else bad(`ack: unknown key ${JSON.stringify(k)}`);
        }
        spec.acks = f;
        break;
      }
      case 'stall': {
        const f: { at?: BootStep; afterMs?: number; ms?: number } = {};
        for (const [k, v] of p) {
          if (k === 'at') f.at = step(v, 'stall at');
          else if (k === 'after') f.afterMs = num(v, 'stall after');
          else if (k === 'ms') f.ms = num(v, 'stall ms');
          else bad(`stall: unknown key ${JSON.stringify(k)}`);
        }
        spec.stall = f;
        break;
      }
      default:
        bad(`unknown clause ${JSON.stringify(clause)}`);
    }
  }
  if (indexFaults.length > 0) spec.syslogIndex = indexFaults;
  if (lines.length > 0) spec.syslogLines = lines;
  if (sends.length > 0) spec.sends = sends;
  if (messages.length > 0) spec.messages = messages;
  if (withhold.length > 0) spec.withhold = withhold;
  if (buffers.length > 0) spec.buffers = buffers;
  return spec;
}

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/** The compact string form of a spec (parseFaultSpec(formatFaultSpec(s)) describes the same). */
export function formatFaultSpec(spec: FaultSpec): string {
  const out: string[] = [];
  if (spec.seed !== undefined) out.push(`seed=${spec.seed}`);
  for (const m of spec.messages ?? []) {
    const kv: string[] = [];
    if (m.action === 'delay') kv.push(`ms=${m.ms}`);
    if (m.action === 'duplicate' && m.copies !== undefined) kv.push(`copies=${m.copies}`);
    if (m.action === 'corrupt' && m.xor !== undefined) kv.push(`xor=${hex(m.xor)}`);
    if (m.action === 'corrupt' && m.bit !== undefined) kv.push(`bit=${m.bit}`);
    if (m.ep !== undefined) kv.push(`ep=${hex(m.ep)}`);
    if (m.type !== undefined) kv.push(`type=${hex(m.type)}`);
    if (m.dir !== undefined) kv.push(`dir=${m.dir}`);
    if (m.count !== undefined) kv.push(`count=${m.count}`);
    if (m.skip !== undefined) kv.push(`skip=${m.skip}`);
    if (m.probability !== undefined) kv.push(`p=${m.probability}`);
    const name = m.action === 'duplicate' ? 'dup' : m.action;
    out.push(kv.length ? `${name}:${kv.join(',')}` : name);
  }
  for (const w of spec.withhold ?? []) out.push(`withhold=${w}`);
  if (spec.version) out.push(`version=${spec.version.min}-${spec.version.max}`);
  if (spec.crashAt !== undefined) out.push(`crash-at=${spec.crashAt}`);
  if (spec.crashAfterMs !== undefined) out.push(`crash-after=${spec.crashAfterMs}`);
  for (const b of spec.buffers ?? []) {
    const kv = [`ep=${b.ep}`];
    if (b.pages !== undefined) kv.push(`pages=${b.pages}`);
    if (b.iova !== undefined) kv.push(`iova=${typeof b.iova === 'number' ? hex(b.iova) : b.iova}`);
    if (b.repeat !== undefined) kv.push(`repeat=${b.repeat}`);
    if (b.nextPages !== undefined) kv.push(`then=${b.nextPages}`);
    out.push(`buffer:${kv.join(',')}`);
  }
  const si = spec.syslogInit;
  if (si) {
    const kv: string[] = [];
    if (si.repeat !== undefined) kv.push(`repeat=${si.repeat}`);
    if (si.entryCount !== undefined) kv.push(`count=${si.entryCount}`);
    if (si.messageSize !== undefined) kv.push(`size=${hex(si.messageSize)}`);
    out.push(kv.length ? `syslog-init:${kv.join(',')}` : 'syslog-init');
  }
  const sr = spec.syslogReinit;
  if (sr) out.push(`syslog-reinit:count=${sr.entryCount},size=${hex(sr.messageSize)}`);
  for (const sx of indexList(spec.syslogIndex)) {
    const kv: string[] = [];
    if (sx.index !== undefined) kv.push(`index=${hex(sx.index)}`);
    if (sx.after !== undefined) kv.push(`after=${sx.after}`);
    out.push(kv.length ? `syslog-index:${kv.join(',')}` : 'syslog-index');
  }
  for (const l of spec.syslogLines ?? [])
    out.push(`log:file=${l.file},line=${l.line},text=${l.text}`);
  if (spec.syslogBurst) out.push(`syslog-burst:count=${spec.syslogBurst.count}`);
  if (spec.syslogInit?.never) out[out.findIndex((c) => c.startsWith('syslog-init'))] += ',never';
  const h = spec.hostile;
  if (h) {
    const kv: string[] = [];
    if (h.intervalMs !== undefined) kv.push(`ms=${h.intervalMs}`);
    if (h.count !== undefined) kv.push(`count=${h.count}`);
    if (h.endpoints !== undefined) kv.push(`eps=${h.endpoints}`);
    out.push(kv.length ? `hostile:${kv.join(',')}` : 'hostile');
  }
  if (spec.epmap) out.push(`epmap:words=${spec.epmap.map((w) => hex(w)).join('+')}`);
  for (const f of spec.sends ?? []) {
    const kv = [`ep=${hex(f.ep)}`, `msg=${hex(f.msg)}`];
    if (f.at !== undefined) kv.push(`at=${f.at}`);
    if (f.afterMs !== undefined) kv.push(`after=${f.afterMs}`);
    if (f.count !== undefined) kv.push(`count=${f.count}`);
    out.push(`send:${kv.join(',')}`);
  }
  const cn = spec.crashNotify;
  if (cn) {
    const kv: string[] = [];
    if (cn.pages !== undefined) kv.push(`pages=${cn.pages}`);
    if (cn.iova !== undefined) kv.push(`iova=${hex(cn.iova)}`);
    out.push(`crash-notify:${kv.join(',')}`);
  }
  const cl = spec.crashlog;
  if (cl) {
    // `input` (section values) has no string form.
    const kv: string[] = [];
    if (cl.totalSize !== undefined) kv.push(`total=${hex(cl.totalSize)}`);
    if (cl.withFooter !== undefined) kv.push(`footer=${cl.withFooter ? 1 : 0}`);
    if (cl.bytes !== undefined) {
      kv.push(`hex=${[...cl.bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`);
    }
    out.push(`crashlog:${kv.join(',')}`);
  }
  const a = spec.acks;
  if (a) {
    const kv: string[] = [];
    if (a.iop !== undefined) kv.push(`iop=${hex(a.iop)}`);
    if (a.ap !== undefined) kv.push(`ap=${hex(a.ap)}`);
    if (a.count !== undefined) kv.push(`count=${a.count}`);
    out.push(`ack:${kv.join(',')}`);
  }
  const st = spec.stall;
  if (st) {
    const kv: string[] = [];
    if (st.at !== undefined) kv.push(`at=${st.at}`);
    if (st.afterMs !== undefined) kv.push(`after=${st.afterMs}`);
    if (st.ms !== undefined) kv.push(`ms=${st.ms}`);
    out.push(`stall:${kv.join(',')}`);
  }
  return out.join(';');
}

function indexList(
  f: SyslogIndexFault | readonly SyslogIndexFault[] | undefined,
): readonly SyslogIndexFault[] {
  if (f === undefined) return [];
  return Array.isArray(f) ? (f as readonly SyslogIndexFault[]) : [f as SyslogIndexFault];
}

// ---------------------------------------------------------------------------------------------
// Injector

/** A message to deliver after `delayMs` (0 = now). */
export interface Delivery {
  readonly msg: bigint;
  readonly delayMs: number;
}

/** What the injector needs from the firmware it is attached to. */
export interface FaultHost {
  readonly clock: Clock;
  /** Run `fn` after `ms` while this CPU run lasts (cancelled by a CPU reset). */
  schedule(ms: number, fn: () => void): void;
  /** Send a word as is, bypassing message faults. */
  sendRaw(ep: number, msg: bigint): void;
  /** The endpoints in the current EPMAP (empty before the handshake). */
  endpoints(): readonly number[];
  crash(reason: string): void;
  /** Stop reading A2I for `ms` (undefined: for good). */
  stallInbound(ms: number | undefined): void;
}

/** One applied fault, for tests and the trace viewer. */
export interface AppliedFault {
  readonly time: number;
  readonly fault: string;
  readonly detail: string;
}

interface MessageState {
  readonly f: MessageFault;
  matched: number;
  applied: number;
}

/**
 * Applies a spec to one firmware instance. The firmware calls the hooks below at the matching
 * points; every random choice comes from the injector's own seeded stream.
 */
export class FaultInjector {
  readonly spec: FaultSpec;
  readonly applied: AppliedFault[] = [];
  #rng: Rng;
  #messages: MessageState[];
  #crashedAt = false;
  #crashAfterUsed = false;
  #host: FaultHost | undefined;
  #indexUsed: boolean[];
  #burstLeft: number;
  #acksLeft: number;
  #stallUsed = false;
  #sendsDone = new Set<SendFault>();

  /** `rng` is used unless the spec has its own `seed`. */
  constructor(spec: FaultSpec | string, rng?: Rng) {
    this.spec = typeof spec === 'string' ? parseFaultSpec(spec) : spec;
    this.#rng =
      this.spec.seed !== undefined ? createRng(this.spec.seed) : (rng ?? createRng(0x5eed));
    this.#messages = (this.spec.messages ?? []).map((f) => ({ f, matched: 0, applied: 0 }));
    this.#indexUsed = indexList(this.spec.syslogIndex).map(() => false);
    this.#burstLeft = Math.max(0, Math.floor(this.spec.syslogBurst?.count ?? 0));
    this.#acksLeft = this.spec.acks?.count ?? Number.POSITIVE_INFINITY;
  }

  #note(fault: string, detail: string): void {
    this.applied.push({ time: this.#host?.clock.now() ?? 0, fault, detail });
  }

  /** Called by the firmware at every CPU start (RUN 0→1): arms the time-based faults. */
  attach(host: FaultHost): void {
    this.#host = host;
    const after = this.spec.crashAfterMs;
    if (after !== undefined && !this.#crashAfterUsed) {
      host.schedule(after, () => {
        if (this.#crashAfterUsed) return;
        this.#crashAfterUsed = true;
        this.#note('crash-after', `${after} ms`);
        host.crash(`fault injection: crash ${after} ms after start`);
      });
    }
    for (const f of this.spec.sends ?? []) {
      if (f.afterMs !== undefined && f.at === undefined) {
        host.schedule(f.afterMs, () => this.#send(f));
      }
    }
    const st = this.spec.stall;
    if (st?.afterMs !== undefined && st.at === undefined) {
      host.schedule(st.afterMs, () => this.#stall());
    }
    const h = this.spec.hostile;
    if (h !== undefined) {
      const every = Math.max(0.001, h.intervalMs ?? 10);
      let left = Math.max(0, Math.floor(h.count ?? 100));
      const tick = (): void => {
        if (left <= 0) return;
        left--;
        const discovered = host.endpoints();
        const eps = h.endpoints === 'any' || discovered.length === 0 ? undefined : discovered;
        const ep = eps ? eps[this.#rng.below(eps.length)]! : this.#rng.below(256);
        const msg = joinWord(this.#rng.u32(), this.#rng.u32());
        this.#note('hostile', `ep ${hex(ep)} ${hex(msg)}`);
        host.sendRaw(ep, msg);
        if (left > 0) host.schedule(every * (0.5 + this.#rng.float()), tick);
      };
      host.schedule(every, tick);
    }
  }

  #send(f: SendFault): void {
    if (this.#sendsDone.has(f)) return;
    this.#sendsDone.add(f);
    const n = Math.max(1, Math.floor(f.count ?? 1));
    this.#note('send', `${n} × ep ${hex(f.ep)} ${hex(f.msg)}`);
    for (let i = 0; i < n; i++) this.#host?.sendRaw(f.ep, f.msg);
  }

  #stall(): void {
    if (this.#stallUsed) return;
    this.#stallUsed = true;
    const ms = this.spec.stall?.ms;
    this.#note('stall', ms === undefined ? 'A2I no longer read' : `A2I not read for ${ms} ms`);
    this.#host?.stallInbound(ms);
  }

  /** The firmware reached a boot step: step-triggered sends and stalls happen now. */
  reached(step: BootStep): void {
    for (const f of this.spec.sends ?? []) if (f.at === step) this.#send(f);
    if (this.spec.stall?.at === step) this.#stall();
  }

  /**
   * The deliveries for one message through the message faults: `[]` when dropped, several when
   * duplicated, a changed word when corrupted, a delay when delayed. Faults apply in spec order.
   */
  filter(dir: 'in' | 'out', ep: number, msg: bigint, ctx?: DecodeContext): Delivery[] {
    if (this.#messages.length === 0) return [{ msg, delayMs: 0 }];
    let out: Delivery[] = [{ msg, delayMs: 0 }];
    let type: number | undefined | null = null;
    for (const s of this.#messages) {
      const f = s.f;
      const fdir = f.dir ?? 'out';
      if (fdir !== 'both' && fdir !== dir) continue;
      if (f.ep !== undefined && f.ep !== ep) continue;
      if (f.type !== undefined) {
        if (type === null) type = typeOf(ep, msg, ctx);
        if (type !== f.type) continue;
      }
      s.matched++;
      if (s.matched <= (f.skip ?? 0)) continue;
      if (f.count !== undefined && s.applied >= f.count) continue;
      if (f.probability !== undefined && !(this.#rng.float() < f.probability)) continue;
      s.applied++;
      const what = `${dir} ep ${hex(ep)} ${hex(msg)}`;
      switch (f.action) {
        case 'drop':
          this.#note('drop', what);
          return [];
        case 'delay':
          this.#note('delay', `${what} by ${f.ms} ms`);
          out = out.map((d) => ({ msg: d.msg, delayMs: d.delayMs + Math.max(0, f.ms) }));
          break;
        case 'duplicate': {
          const n = Math.max(1, Math.floor(f.copies ?? 1));
          this.#note('duplicate', `${what} ×${n + 1}`);
          const extra: Delivery[] = [];
          for (const d of out) for (let i = 0; i < n; i++) extra.push(d);
          out = [...out, ...extra];
          break;
        }
        case 'corrupt': {
          const mask = f.xor ?? 1n << BigInt(f.bit ?? this.#rng.below(64));
          this.#note('corrupt', `${what} xor ${hex(mask)}`);
          out = out.map((d) => ({ msg: d.msg ^ mask, delayMs: d.delayMs }));
          break;
        }
      }
    }
    return out;
  }

  withholds(step: WithholdStep): boolean {
    const yes = this.spec.withhold?.includes(step) === true;
    if (yes) this.#note('withhold', step);
    return yes;
  }

  /** The HELLO range to announce. */
  helloVersions(min: number, max: number): { min: number; max: number } {
    const v = this.spec.version;
    if (v === undefined) return { min, max };
    this.#note('version', `HELLO ${v.min}..${v.max} instead of ${min}..${max}`);
    return { min: v.min, max: v.max };
  }

  /** EPMAP words to send instead of the profile's map, or undefined. */
  epmapWords(): readonly bigint[] | undefined {
    const w = this.spec.epmap;
    if (w !== undefined && w.length > 0) this.#note('epmap', `${w.length} words`);
    return w !== undefined && w.length > 0 ? w : undefined;
  }

  /** True once, at the configured boot step. */
  crashAt(step: BootStep): boolean {
    const at = this.spec.crashAt;
    if (at === undefined || this.#crashedAt) return false;
    const name = typeof at === 'number' ? BOOT_STEPS[at] : at;
    if (name !== step) return false;
    this.#crashedAt = true;
    this.#note('crash-at', step);
    return true;
  }

  bufferFault(ep: number): BufferFault | undefined {
    const f = this.spec.buffers?.find((b) => b.ep === ep);
    if (f) this.#note('buffer', `ep ${hex(ep)} ${JSON.stringify({ ...f, iova: String(f.iova) })}`);
    return f;
  }

  /** Geometry and repeat count for the syslog INIT (repeat 0: no INIT). */
  syslogInit(
    entryCount: number,
    messageSize: number,
  ): {
    entryCount: number;
    messageSize: number;
    repeat: number;
    reinit?: { entryCount: number; messageSize: number };
  } {
    const f = this.spec.syslogInit;
    const r = this.spec.syslogReinit;
    const out = {
      entryCount: f?.entryCount ?? entryCount,
      messageSize: f?.messageSize ?? messageSize,
      repeat: f?.never === true ? 0 : Math.max(1, Math.floor(f?.repeat ?? 1)),
    };
    if (f) this.#note('syslog-init', JSON.stringify(out));
    if (r) this.#note('syslog-reinit', JSON.stringify(r));
    return r ? { ...out, reinit: { ...r } } : out;
  }

  /**
   * Before each LOG: an index to send instead of a regular entry (B9/B23: out of range, or any
   * index before INIT), once per `syslog-index` clause, after `after` regular LOGs.
   */
  syslogIndex(entryCount: number | undefined, regularSent: number): number | undefined {
    const list = indexList(this.spec.syslogIndex);
    for (let i = 0; i < list.length; i++) {
      const f = list[i]!;
      if (this.#indexUsed[i] || regularSent < (f.after ?? 0)) continue;
      // The default index (the entry count) needs the INIT geometry first.
      if (f.index === undefined && entryCount === undefined) continue;
      this.#indexUsed[i] = true;
      const index = f.index ?? entryCount ?? 0;
      this.#note('syslog-index', `LOG index ${hex(index)}`);
      return index;
    }
    return undefined;
  }

  /** Lines to log when AP power goes ON. */
  syslogLines(): readonly SyslogLine[] {
    return this.spec.syslogLines ?? [];
  }

  /** The next line of a LOG burst, while it lasts. */
  burstLine(): SyslogLine | undefined {
    if (this.#burstLeft <= 0) return undefined;
    const n = (this.spec.syslogBurst?.count ?? 0) - this.#burstLeft--;
    return { file: 'burst.c', line: n, text: `burst entry ${n}` };
  }

  /** SIZE / IOVA overrides for the crash notification. */
  crashNotify(): { pages?: number; iova?: number } | undefined {
    const f = this.spec.crashNotify;
    if (f) this.#note('crash-notify', JSON.stringify(f));
    return f;
  }

  /** The crashlog bytes to write instead of `composed`, or undefined. */
  crashlogBytes(composed: CrashlogInput): Uint8Array | undefined {
    const f = this.spec.crashlog;
    if (f === undefined) return undefined;
    this.#note('crashlog', f.bytes ? `${f.bytes.length} given bytes` : 'rebuilt');
    if (f.bytes !== undefined) return f.bytes;
    const input = f.input ?? composed;
    return buildCrashlog({
      ...input,
      ...(f.totalSize !== undefined ? { totalSize: f.totalSize } : {}),
      ...(f.withFooter !== undefined ? { withFooter: f.withFooter } : {}),
    });
  }

  /** The state to ack a power request with. */
  ackState(which: 'iop' | 'ap', requested: number): number {
    const a = this.spec.acks;
    const v = a?.[which];
    if (v === undefined || this.#acksLeft <= 0) return requested;
    this.#acksLeft--;
    this.#note('ack', `${which} ${hex(requested)} acked as ${hex(v)}`);
    return v;
  }
}

function typeOf(ep: number, msg: bigint, ctx?: DecodeContext): number | undefined {
  const codec = codecFor(ep, ctx);
  if (codec === undefined) return undefined;
  const { hi, lo } = splitWord(msg);
  return codec.selector.get(hi, lo);
}

/** A spec, its string form or an injector, as an injector. */
export function toFaultInjector(
  faults: FaultSpec | string | FaultInjector,
  rng?: Rng,
): FaultInjector {
  return faults instanceof FaultInjector ? faults : new FaultInjector(faults, rng);
}
