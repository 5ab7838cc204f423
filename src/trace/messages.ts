/**
 * Mailbox words → message records, with the little protocol history a word's meaning depends on
 * (PROTOCOL.md §5.1, §9.3, §3.2): kept per co-processor, passed to the codec as DecodeContext.
 */

import {
  type DecodeContext,
  type Direction,
  decodeWords,
  Endpoint,
  endpointName,
  fieldsOf,
  hex64,
  type Message,
  notesFor,
  summarize,
} from '../protocol/index.js';
import type { MessageOrigin, MessageRecord, RecordOrigin } from './records.js';

interface Tracker {
  version?: number;
  /** EP1: the firmware's buffer request was seen; the next type-1 is a crash notification. */
  crashlogArmed: boolean;
  /**
   * EP1 in a trace without directions: a host-allocated request (IOVA 0) was seen, so the next
   * type-1 word is the host's reply (same layout), not a crash.
   */
  crashlogReplyExpected: boolean;
  /** SMC: INITIALIZE was sent; the next SMC→AP word on 0x20 is the shared-memory address. */
  smcShmemPending: boolean;
}

/** Bound on tracked co-processors: a trace naming thousands is malformed, not a reason to grow. */
const MAX_TRACKERS = 256;

const NAMES: string[] = Array.from({ length: 256 }, (_, ep) => endpointName(ep));

export interface MessageExtras {
  index?: number;
  timestamp?: string;
  source?: string;
  note?: string;
  seq?: number;
}

export class MessageDecoder {
  private readonly trackers = new Map<string, Tracker>();

  private tracker(key: string): Tracker {
    let t = this.trackers.get(key);
    if (t === undefined) {
      if (this.trackers.size >= MAX_TRACKERS) this.trackers.clear();
      t = { crashlogArmed: false, crashlogReplyExpected: false, smcShmemPending: false };
      this.trackers.set(key, t);
    }
    return t;
  }

  /** The protocol version Linux reported (`Initializing (protocol version N)`). */
  setVersion(key: string, version: number): void {
    this.tracker(key).version = version;
  }

  /**
   * Decode one word into a record. `key` names the co-processor whose history applies;
   * `stateful` false decodes with version and co-processor only (crash-history entries, which
   * are a window of the past, not the continuation of the current state).
   */
  record(
    key: string,
    stateful: boolean,
    base: RecordOrigin,
    origin: MessageOrigin,
    ep: number,
    dir: Direction | null,
    hi: number,
    lo: number,
    extras?: MessageExtras,
  ): MessageRecord {
    const t = this.tracker(key);
    const coproc = base.coproc;
    // Without a direction, the reply to a host-allocated crashlog request decodes as the reply
    // (its layout is the request's); only the word after it can be a crash.
    const replyInferred =
      stateful && dir === null && ep === Endpoint.Crashlog && t.crashlogReplyExpected;
    const ctx: DecodeContext = {
      dir: replyInferred ? 'ap->iop' : dir,
      coproc,
      version: t.version,
      crashlogArmed: stateful && t.crashlogArmed && !replyInferred,
      smcShmemPending: stateful && t.smcShmemPending && ep === 0x20,
    };
    const m = decodeWords(ep, hi, lo, ctx);
    if (stateful) this.advance(t, ep, dir, coproc, m.kind, m as unknown as Record<string, unknown>);
    return build(base, origin, ep, dir, hi, lo, m, ctx, extras);
  }

  private advance(
    t: Tracker,
    ep: number,
    dir: Direction | null,
    coproc: string | undefined,
    kind: string,
    m: Record<string, unknown>,
  ): void {
    if (ep === Endpoint.Management) {
      // A HELLO starts a new firmware run (boot, reset, wake from sleep): its history is gone.
      if (kind === 'hello') {
        t.crashlogArmed = false;
        t.crashlogReplyExpected = false;
        t.smcShmemPending = false;
        delete t.version;
      }
      // The AP's HELLO_ACK names the chosen version as MINVER = MAXVER (§3.2).
      if (kind === 'helloAck' && m['minVersion'] === m['maxVersion']) {
        const v = m['minVersion'];
        if (typeof v === 'number' && v !== 0xffff) t.version = v;
      }
      return;
    }
    if (ep === Endpoint.Crashlog) {
      // Any first type-1 from the firmware arms crash detection, valid request or not (B13).
      if (kind === 'crashlogBufferRequest') {
        t.crashlogArmed = true;
        // A SIZE-0 request gets no reply from a correct host (ROBUSTNESS B13).
        t.crashlogReplyExpected = dir === null && m['iova'] === 0 && m['size'] !== 0;
      } else if (kind === 'crashlogBufferReply') t.crashlogReplyExpected = false;
      return;
    }
    if (ep === 0x20 && coproc === 'smc') {
      if (kind === 'smcInitialize') t.smcShmemPending = true;
      else if (dir !== 'ap->iop') t.smcShmemPending = false;
    }
  }
}

function build(
  base: RecordOrigin,
  origin: MessageOrigin,
  ep: number,
  dir: Direction | null,
  hi: number,
  lo: number,
  m: Message,
  ctx: DecodeContext,
  extras?: MessageExtras,
): MessageRecord {
  // Keys copied one by one (not spread): this runs once per message of a trace.
  const rec = { type: 'message', line: base.line } as MessageRecord;
  if (base.t !== undefined) rec.t = base.t;
  if (base.time !== undefined) rec.time = base.time;
  if (base.device !== undefined) rec.device = base.device;
  if (base.driver !== undefined) rec.driver = base.driver;
  if (base.coproc !== undefined) rec.coproc = base.coproc;
  rec.origin = origin;
  rec.ep = ep;
  rec.endpoint = NAMES[ep] ?? endpointName(ep);
  rec.dir = dir;
  rec.msg = hex64(hi, lo);
  rec.kind = m.kind;
  rec.fields = fieldsOf(m);
  rec.summary = summarize(m);
  if (extras !== undefined) {
    if (extras.index !== undefined) rec.index = extras.index;
    if (extras.timestamp !== undefined) rec.timestamp = extras.timestamp;
    if (extras.source !== undefined) rec.source = extras.source;
  }
  const notes = notesFor(m, ctx);
  if (notes.length > 0) rec.notes = notes;
  if (extras !== undefined) {
    if (extras.note !== undefined) rec.note = extras.note;
    if (extras.seq !== undefined) rec.seq = extras.seq;
  }
  return rec;
}

/**
 * One word → one record, with an explicit context and no history: what `rtkit msg` prints. The
 * record is the one a one-line plain trace `<ep> <msg0>` decodes to (line 1, origin `plain`).
 * `ctx.dir` is ignored in favour of `dir`.
 */
export function messageRecord(
  ep: number,
  dir: Direction | null,
  hi: number,
  lo: number,
  ctx: DecodeContext = {},
  base: RecordOrigin = { line: 1 },
): MessageRecord {
  const c: DecodeContext = { ...ctx, dir };
  const origin: RecordOrigin = { ...base };
  if (origin.coproc === undefined && ctx.coproc !== undefined) origin.coproc = ctx.coproc;
  return build(origin, 'plain', ep, dir, hi, lo, decodeWords(ep, hi, lo, c), c);
}
