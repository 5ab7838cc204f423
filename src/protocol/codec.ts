/**
 * decode(ep, word) and encode(message): the single entry point from mailbox words to typed
 * values and back. Any 64-bit word on any endpoint decodes; what is not understood becomes an
 * `unknown` value holding the raw bits and the reason.
 */

import { ErrorCode, RtkitError } from '../errors.js';
import {
  AFK,
  AfkField,
  GPU,
  GpuField,
  IOMFB,
  IomfbField,
  PMP,
  PmpField,
  SIO,
  SioField,
  SMC,
  SmcField,
  smcReply,
} from './apps.js';
import { Endpoint, endpointName, isAppEndpoint, isValidEndpoint } from './endpoints.js';
import type { BitField } from './fields.js';
import {
  BufferField,
  CRASHLOG,
  IOREPORT,
  IOReportField,
  KDEBUG,
  KdebugField,
  MANAGEMENT,
  MgmtField,
  OSLOG,
  OSLogField,
  SYSLOG,
  SyslogField,
} from './system.js';
import type { DecodeContext, Decoded, Variant } from './variant.js';
import { hex64, joinWord, splitWord, type WordInput } from './word.js';

/** A word that no codec understood, with the raw bits and why. */
export interface UnknownMessage {
  kind: 'unknown';
  hi: number;
  lo: number;
  reason: string;
  /** The endpoint codec's selector (TYPE) value, when the endpoint has a known codec. */
  type?: number;
}

type VariantOf<T> = T extends Variant<infer K, infer F> ? Decoded<K, F> : never;
type Kinds<T extends readonly unknown[]> = VariantOf<T[number]>;

export type ManagementMessage = Kinds<typeof MANAGEMENT>;
export type CrashlogMessage = Kinds<typeof CRASHLOG>;
export type SyslogMessage = Kinds<typeof SYSLOG>;
export type KdebugMessage = Kinds<typeof KDEBUG>;
export type IOReportMessage = Kinds<typeof IOREPORT>;
export type OSLogMessage = Kinds<typeof OSLOG>;
export type SmcMessage = Kinds<typeof SMC> | VariantOf<typeof smcReply>;
export type IomfbMessage = Kinds<typeof IOMFB>;
export type AfkMessage = Kinds<typeof AFK>;
export type GpuMessage = Kinds<typeof GPU>;
export type SioMessage = Kinds<typeof SIO>;
export type PmpMessage = Kinds<typeof PMP>;

/** Every decoded message: a discriminated union on `kind`. */
export type Message =
  | ManagementMessage
  | CrashlogMessage
  | SyslogMessage
  | KdebugMessage
  | IOReportMessage
  | OSLogMessage
  | SmcMessage
  | IomfbMessage
  | AfkMessage
  | GpuMessage
  | SioMessage
  | PmpMessage
  | UnknownMessage;

export type MessageKind = Message['kind'];

/** The protocol spoken on one endpoint: a selector field and the kinds it selects. */
export interface EndpointCodec {
  readonly name: string;
  readonly selector: BitField;
  /** Context-dependent kinds with their own constant bits, tried first. */
  readonly pre: readonly Variant[];
  /** Kinds by selector value; an array indexed by the value (selectors are at most 16 bits). */
  readonly byType: readonly (readonly Variant[] | undefined)[];
  /** Matches whatever the typed kinds leave over (the SMC reply). */
  readonly fallback?: Variant;
  readonly variants: readonly Variant[];
}

function codec(
  name: string,
  selector: BitField,
  declared: readonly object[],
  fallbackDeclared?: object,
): EndpointCodec {
  // Variants are contravariant in their field types; the codec only needs the common surface.
  const variants = declared as readonly Variant[];
  const fallback = fallbackDeclared as Variant | undefined;
  const pre: Variant[] = [];
  const byType: (Variant[] | undefined)[] = new Array(2 ** selector.width).fill(undefined);
  for (const v of variants) {
    const own = v.constMaskHi !== selector.maskHi || v.constMaskLo !== selector.maskLo;
    if (v.when && own && !v.fixed) {
      pre.push(v);
      continue;
    }
    const list = byType[v.select] ?? [];
    list.push(v);
    byType[v.select] = list;
  }
  // Context-dependent kinds first: they must win over the context-free twin with the same bits.
  for (const list of byType) list?.sort((a, b) => Number(!a.when) - Number(!b.when));
  const all = fallback ? [...variants, fallback] : variants;
  return fallback
    ? { name, selector, pre, byType, fallback, variants: all }
    : { name, selector, pre, byType, variants: all };
}

export const CODECS = {
  management: codec('management', MgmtField.TYPE, MANAGEMENT),
  crashlog: codec('crashlog', BufferField.TYPE, CRASHLOG),
  syslog: codec('syslog', SyslogField.TYPE, SYSLOG),
  kdebug: codec('kdebug', KdebugField.TYPE, KDEBUG),
  ioreport: codec('ioreport', IOReportField.TYPE, IOREPORT),
  oslog: codec('oslog', OSLogField.TYPE, OSLOG),
  smc: codec('smc', SmcField.MSG, SMC, smcReply),
  iomfb: codec('iomfb', IomfbField.TYPE, IOMFB),
  afk: codec('afk', AfkField.TYPE, AFK),
  gpu: codec('gpu', GpuField.TYPE, GPU),
  sio: codec('sio', SioField.TYPE, SIO),
  pmp: codec('pmp', PmpField.TYPE, PMP),
} as const;

export type CodecName = keyof typeof CODECS;

const SYSTEM_CODECS: (EndpointCodec | undefined)[] = [];
SYSTEM_CODECS[Endpoint.Management] = CODECS.management;
SYSTEM_CODECS[Endpoint.Crashlog] = CODECS.crashlog;
SYSTEM_CODECS[Endpoint.Syslog] = CODECS.syslog;
SYSTEM_CODECS[Endpoint.Debug] = CODECS.kdebug;
SYSTEM_CODECS[Endpoint.IOReport] = CODECS.ioreport;
SYSTEM_CODECS[Endpoint.OSLog] = CODECS.oslog;

/** Application protocols per co-processor profile (PROTOCOL.md §9, §10). */
function appCodec(coproc: string | undefined, ep: number): EndpointCodec | undefined {
  switch (coproc) {
    case 'smc':
      return ep === 0x20 ? CODECS.smc : undefined;
    case 'dcp':
    case 'dcpext':
      if (ep === 0x37) return CODECS.iomfb;
      return ep >= 0x20 && ep <= 0x2d ? CODECS.afk : undefined;
    case 'aop':
      return ep >= 0x20 && ep <= 0x2e ? CODECS.afk : undefined;
    case 'gpu':
    case 'agx':
      return ep === 0x20 || ep === 0x21 ? CODECS.gpu : undefined;
    case 'sio':
      return ep === 0x20 ? CODECS.sio : undefined;
    case 'pmp':
      return ep === 0x20 ? CODECS.pmp : undefined;
    default:
      return undefined;
  }
}

/** The codec for an endpoint in a context, or undefined when no protocol is known. */
export function codecFor(ep: number, ctx?: DecodeContext): EndpointCodec | undefined {
  if (isAppEndpoint(ep, ctx?.version, ctx?.minor)) return appCodec(ctx?.coproc, ep);
  return SYSTEM_CODECS[ep];
}

const NO_CONTEXT: DecodeContext = {};

function constOk(v: Variant, hi: number, lo: number): boolean {
  return (hi & v.constMaskHi) >>> 0 === v.constHi && (lo & v.constMaskLo) >>> 0 === v.constLo;
}

function tryBuild(v: Variant, hi: number, lo: number): Message | undefined {
  const m = v.build(hi, lo);
  if (v.accept && !v.accept(m as never)) return undefined;
  return m as unknown as Message;
}

function unknown(hi: number, lo: number, reason: string, type?: number): UnknownMessage {
  return type === undefined
    ? { kind: 'unknown', hi: hi >>> 0, lo: lo >>> 0, reason }
    : { kind: 'unknown', hi: hi >>> 0, lo: lo >>> 0, reason, type };
}

/** Decode a word given as its two 32-bit halves: the fast path. Never throws. */
export function decodeWords(ep: number, hi: number, lo: number, ctx?: DecodeContext): Message {
  const c = ctx ?? NO_CONTEXT;
  const codec = codecFor(ep, ctx);
  if (codec === undefined) {
    if (!isValidEndpoint(ep)) return unknown(hi, lo, `invalid endpoint ${String(ep)}`);
    return unknown(hi, lo, noCodecReason(ep, c));
  }
  for (const v of codec.pre) {
    if (v.when!(c) && constOk(v, hi, lo)) {
      const m = tryBuild(v, hi, lo);
      if (m) return m;
    }
  }
  const type = codec.selector.get(hi, lo);
  const candidates = codec.byType[type];
  const dir = c.dir;
  if (candidates !== undefined) {
    for (const v of candidates) {
      if (v.when && !v.when(c)) continue;
      if (dir && v.dir !== 'both' && v.dir !== dir) continue;
      if (!constOk(v, hi, lo)) continue;
      const m = tryBuild(v, hi, lo);
      if (m) return m;
    }
  }
  const fb = codec.fallback;
  if (fb && (!dir || fb.dir === 'both' || fb.dir === dir)) {
    const m = tryBuild(fb, hi, lo);
    if (m) return m;
  }
  // A known layout in the unexpected direction is still decoded; notesFor() flags it.
  if (dir && candidates !== undefined) {
    for (const v of candidates) {
      if (v.when) continue;
      if (!constOk(v, hi, lo)) continue;
      const m = tryBuild(v, hi, lo);
      if (m) return m;
    }
  }
  return unknown(hi, lo, `${codec.name}: no message type ${type} (0x${type.toString(16)})`, type);
}

function noCodecReason(ep: number, c: DecodeContext): string {
  if (isAppEndpoint(ep, c.version, c.minor)) {
    return c.coproc
      ? `no ${c.coproc} protocol known for ${endpointName(ep)} (0x${ep.toString(16)})`
      : `application endpoint ${endpointName(ep)}: protocol depends on the co-processor`;
  }
  if (ep === Endpoint.TraceKit) return 'tracekit: no messages are documented';
  return `system endpoint 0x${ep.toString(16)} is not known`;
}

/** Decode a word given as bigint, safe-integer number or hex string. Never throws on a word. */
export function decode(ep: number, msg0: WordInput, ctx?: DecodeContext): Message {
  const { hi, lo } = splitWord(msg0);
  return decodeWords(ep, hi, lo, ctx);
}

const VARIANT_BY_KIND = new Map<string, Variant>();
for (const c of Object.values(CODECS)) {
  for (const v of c.variants) {
    const seen = VARIANT_BY_KIND.get(v.kind);
    if (seen !== undefined && seen !== v) throw new Error(`duplicate message kind ${v.kind}`);
    VARIANT_BY_KIND.set(v.kind, v);
  }
}

/** The declaration behind a kind (fields, direction, title, doc). */
export function variantOf(kind: string): Variant | undefined {
  return VARIANT_BY_KIND.get(kind);
}

export function allVariants(): readonly Variant[] {
  return [...VARIANT_BY_KIND.values()];
}

/** The word's halves for a message value. Throws ENCODE_INVALID for a malformed value. */
export function encodeWords(m: Message): [number, number] {
  if (m.kind === 'unknown') {
    const u = m as UnknownMessage;
    if (!isU32(u.hi) || !isU32(u.lo)) {
      throw new RtkitError(ErrorCode.ENCODE_INVALID, 'unknown: hi and lo must be uint32');
    }
    return [u.hi >>> 0, u.lo >>> 0];
  }
  const v = VARIANT_BY_KIND.get(m.kind);
  if (v === undefined) {
    throw new RtkitError(ErrorCode.ENCODE_INVALID, `no message kind ${JSON.stringify(m.kind)}`);
  }
  return v.encodeWords(m as never);
}

function isU32(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffff_ffff;
}

/** msg0 for a message value. */
export function encode(m: Message): bigint {
  const [hi, lo] = encodeWords(m);
  return joinWord(hi, lo);
}

export function encodeHex(m: Message): string {
  const [hi, lo] = encodeWords(m);
  return hex64(hi, lo);
}
