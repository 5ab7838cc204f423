/**
 * Streaming frame parsers for both ends of an m1n1 proxy link (M1N1-PROXY.md §2.5, §13): feed byte
 * chunks of any size, pull items out. The link carries console text between frames, so every byte
 * comes out exactly once, as part of a frame, console text, bulk data or a discarded item.
 *
 * Sync rule (§2.5): a frame starts at `FF 55 AA t`; any other byte is console text. A candidate
 * whose checksum fails becomes a `discarded` item (STYLE.md: bad frames are data, not exceptions).
 * By default the parser then rescans the candidate's own bytes after its first byte, so a real
 * frame that began inside a corrupt or truncated one is still found: garbage never causes more
 * than a bounded delay. `afterBadFrame: 'skip'` drops the whole candidate instead, as m1n1's device
 * loop does (it reads 64 bytes blindly and answers CSUMERR once).
 *
 * Parsing is lazy (`next()` decodes one item), so a consumer can switch to bulk data right after
 * the frame that announces it: `readData()` after a REQ_MEMREAD reply (host) or a REQ_MEMWRITE
 * request (device), before pulling the next item. Memory: the parser keeps at most one incomplete
 * frame (or the announced bulk data) plus up to three bytes of a possible prefix.
 */

import { ErrorCode, RtkitError } from '../errors.js';
import { type BulkCheck, bulkWireLength, checkBulkAt } from './bulk.js';
import {
  type Decoded,
  type DiscardReason,
  decodeEvent,
  decodeReply,
  decodeRequest,
  EVENT_CHECKSUM_LENGTH,
  EVENT_HEADER_LENGTH,
  eventLength,
  FrameType,
  type M1n1Event,
  type M1n1Reply,
  type M1n1Request,
  REPLY_LENGTH,
  REQUEST_LENGTH,
} from './frames.js';

export interface ConsoleItem {
  readonly kind: 'console';
  /** Raw console bytes (m1n1 prints ASCII; decode with a streaming TextDecoder if needed). */
  readonly bytes: Uint8Array;
}

export interface DiscardedItem {
  readonly kind: 'discarded';
  readonly reason: DiscardReason;
  readonly detail: string;
  readonly bytes: Uint8Array;
}

export type DataItem = { readonly kind: 'data' } & BulkCheck;

export type ReplyItem =
  | { readonly kind: 'reply'; readonly reply: M1n1Reply; readonly bytes: Uint8Array }
  | { readonly kind: 'event'; readonly event: M1n1Event; readonly bytes: Uint8Array }
  | ConsoleItem
  | DiscardedItem
  | DataItem;

export type RequestItem =
  | { readonly kind: 'request'; readonly request: M1n1Request; readonly bytes: Uint8Array }
  | ConsoleItem
  | DiscardedItem
  | DataItem;

export interface ParserOptions {
  /** What follows a candidate frame that failed: rescan its bytes (default) or skip it whole. */
  readonly afterBadFrame?: 'rescan' | 'skip';
}

export interface ReadDataOptions {
  /** Data checksums on (default) or DISABLE_DATA_CSUMS negotiated (sentinel instead). */
  readonly checksums: boolean;
  /** The `data_checksum` field of the frame that announced the data. */
  readonly expected: number;
}

const INITIAL_CAPACITY = 256;
/** An emptied buffer larger than this is released (after a large bulk transfer). */
const RELEASE_CAPACITY = 128 * 1024;
/**
 * Announced bulk data gets its room at once, up to this much, instead of the buffer doubling as
 * the data arrives (for 1 MiB that would be a dozen allocations and 2 MiB of extra copying).
 * Beyond it the buffer grows with what actually arrives, so a size a peer merely announces (a
 * host's REQ_MEMWRITE to the server) cannot make the parser allocate more than this ahead.
 */
const RESERVE_LIMIT = 2 << 20;

type Measure = { readonly length: number } | { readonly needMore: true } | DiscardOf;
/** The measures of fixed-length frames, shared: no allocation per frame. */
const REPLY_MEASURE: Measure = { length: REPLY_LENGTH };
const REQUEST_MEASURE: Measure = { length: REQUEST_LENGTH };
type DiscardOf = {
  readonly discard: number;
  readonly reason: DiscardReason;
  readonly detail: string;
};

abstract class FrameStream<Item> {
  private buf = new Uint8Array(INITIAL_CAPACITY);
  private start = 0;
  private end = 0;
  private data: (ReadDataOptions & { readonly size: number }) | undefined;
  private readonly rescan: boolean;
  private flushing = false;

  constructor(options: ParserOptions = {}) {
    this.rescan = (options.afterBadFrame ?? 'rescan') === 'rescan';
  }

  /** Bytes held but not yet returned as items. */
  get buffered(): number {
    return this.end - this.start;
  }

  /** Append a chunk; nothing is parsed until `next()`. The chunk is copied. */
  feed(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.start === this.end) {
      this.start = this.end = 0;
      if (
        this.buf.length > RELEASE_CAPACITY &&
        chunk.length <= INITIAL_CAPACITY &&
        this.data === undefined
      ) {
        this.buf = new Uint8Array(INITIAL_CAPACITY);
      }
    }
    this.room(chunk.length);
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** Make room for `n` more bytes after those held, moving or growing the buffer. */
  private room(n: number): void {
    if (this.end + n <= this.buf.length) return;
    const held = this.end - this.start;
    if (held + n <= this.buf.length) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      const next = new Uint8Array(Math.max(this.buf.length * 2, held + n));
      next.set(this.buf.subarray(this.start, this.end));
      this.buf = next;
    }
    this.start = 0;
    this.end = held;
  }

  /** Feed a chunk and return every complete item. Use `feed`/`next` when bulk data may follow. */
  push(chunk: Uint8Array): (Item | DataItem)[] {
    this.feed(chunk);
    const out: (Item | DataItem)[] = [];
    for (let item = this.next(); item !== undefined; item = this.next()) out.push(item);
    return out;
  }

  /**
   * The next complete item, or undefined until more bytes arrive. Console bytes are returned as
   * soon as they are known not to start a frame; up to three bytes that may start one are held.
   */
  next(): Item | DataItem | undefined {
    const avail = this.end - this.start;
    if (this.data !== undefined) {
      const { size, checksums, expected } = this.data;
      const need = bulkWireLength(size, checksums);
      if (avail < need) return undefined;
      const at = this.start;
      this.start += need;
      this.data = undefined;
      return { kind: 'data', ...checkBulkAt(this.buf, at, size, checksums, expected) };
    }
    if (avail === 0) return undefined;
    const p = this.findPrefix(this.start, this.end);
    if (p !== this.start) {
      return this.consoleItem(this.take((p < 0 ? this.end : p) - this.start));
    }
    if (avail < 4) return undefined;
    const m = this.measure(this.buf, this.start, avail);
    if ('needMore' in m) return undefined;
    if ('discard' in m) return this.discard(m.discard, m.reason, m.detail);
    if (avail < m.length) return undefined;
    const bytes = this.buf.slice(this.start, this.start + m.length);
    const d = this.decode(bytes);
    if (!d.ok) return this.discard(m.length, d.reason, d.detail);
    this.start += m.length;
    return d.value;
  }

  /**
   * Treat the next `size` data bytes (plus the sentinel when checksums are off) as bulk data: the
   * next item is then a `data` item. Call it right after the frame that announced the data.
   */
  readData(size: number, options: ReadDataOptions): void {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RtkitError(ErrorCode.BAD_INPUT, `bulk data size ${size} is not a byte count`, {
        size,
      });
    }
    if (this.data !== undefined) {
      throw new RtkitError(ErrorCode.BAD_INPUT, 'bulk data is already expected', { size });
    }
    this.data = { size, checksums: options.checksums, expected: options.expected };
    const need = bulkWireLength(size, options.checksums) - (this.end - this.start);
    if (need > 0) this.room(Math.min(need, RESERVE_LIMIT));
  }

  /**
   * End of input, or giving up on what is held (a client timeout before the resync REQ_NOP, §7):
   * return the remaining items and leave the parser empty, scanning for frames again. Incomplete
   * frames are reported as `truncated` discards; bytes after one are rescanned, so a complete
   * frame held behind it still comes out. A pending `readData` is abandoned: the part of the bulk
   * data that arrived (all of it held, since it is shorter than announced) is one `truncated`
   * discard, and nothing is reported when none of it arrived. Bytes that come later are frames
   * or console text again — the device that stopped sending data mid-transfer is resynchronised
   * by the caller, not by the parser.
   */
  flush(): (Item | DataItem)[] {
    const out: (Item | DataItem)[] = [];
    this.flushing = true;
    try {
      for (;;) {
        for (let item = this.next(); item !== undefined; item = this.next()) out.push(item);
        const held = this.end - this.start;
        if (this.data !== undefined) {
          const need = bulkWireLength(this.data.size, this.data.checksums);
          this.data = undefined;
          if (held > 0) {
            const detail = `bulk data ended after ${held} of ${need} bytes`;
            out.push(this.discardItem(this.take(held), 'truncated', detail));
          }
          return out;
        }
        if (held === 0) return out;
        out.push(this.discard(held, 'truncated', `frame ended after ${held} bytes`)!);
      }
    } finally {
      this.flushing = false;
    }
  }

  protected abstract measure(b: Uint8Array, at: number, avail: number): Measure;
  protected abstract decode(bytes: Uint8Array): Decoded<Item>;

  private take(n: number): Uint8Array {
    const out = this.buf.slice(this.start, this.start + n);
    this.start += n;
    return out;
  }

  private consoleItem(bytes: Uint8Array): Item {
    return { kind: 'console', bytes } as ConsoleItem as Item;
  }

  private discardItem(bytes: Uint8Array, reason: DiscardReason, detail: string): Item {
    return { kind: 'discarded', reason, detail, bytes } as DiscardedItem as Item;
  }

  /**
   * Discard a bad candidate of `length` bytes, or only up to a prefix inside it (rescan mode).
   * Until the bytes after a possible prefix arrive the cut is not known: wait for them (at most two
   * bytes), so items never depend on how the input was chunked.
   */
  private discard(length: number, reason: DiscardReason, detail: string): Item | undefined {
    let cut = length;
    if (this.rescan) {
      const q = this.findPrefix(this.start + 1, this.start + length);
      if (q >= 0) {
        if (q + 2 >= this.end && !this.flushing) return undefined;
        cut = q - this.start;
      }
    }
    return this.discardItem(this.take(cut), reason, detail);
  }

  /**
   * First index in [from, to) where `FF 55 AA` starts, or a prefix of it runs into the end of the
   * buffered bytes (so it may still become a frame), or -1.
   */
  private findPrefix(from: number, to: number): number {
    const b = this.buf;
    const end = this.end;
    for (let i = b.indexOf(0xff, from); i >= 0 && i < to; i = b.indexOf(0xff, i + 1)) {
      if (i >= end) return -1;
      if (i + 1 >= end) return i;
      if (b[i + 1] !== 0x55) continue;
      if (i + 2 >= end || b[i + 2] === 0xaa) return i;
    }
    return -1;
  }
}

/**
 * Host side: replies, REQ_BOOT notifications and REQ_EVENTs from the device, with console text.
 * `dataChecksums` follows the REQ_NOP negotiation; it decides how event trailers are checked.
 */
export class ReplyParser extends FrameStream<ReplyItem> {
  dataChecksums: boolean;
  /** Longest event data accepted; longer headers are discarded (`event-too-long`). */
  readonly maxEventLength: number;

  constructor(options: ParserOptions & { dataChecksums?: boolean; maxEventLength?: number } = {}) {
    super(options);
    this.dataChecksums = options.dataChecksums ?? true;
    this.maxEventLength = options.maxEventLength ?? 0xffff;
  }

  /** The longest frame this parser may have to hold. */
  get maxFrameLength(): number {
    return Math.max(
      REPLY_LENGTH,
      EVENT_HEADER_LENGTH + this.maxEventLength + EVENT_CHECKSUM_LENGTH,
    );
  }

  protected measure(b: Uint8Array, at: number, avail: number): Measure {
    if (b[at + 3] !== FrameType.Event) return REPLY_MEASURE;
    if (avail < EVENT_HEADER_LENGTH) return { needMore: true };
    const length = eventLength(b, at);
    const dataLength = length - EVENT_HEADER_LENGTH - EVENT_CHECKSUM_LENGTH;
    if (dataLength > this.maxEventLength) {
      return {
        discard: EVENT_HEADER_LENGTH,
        reason: 'event-too-long',
        detail: `event data length ${dataLength} exceeds ${this.maxEventLength}`,
      };
    }
    return { length };
  }

  protected decode(bytes: Uint8Array): Decoded<ReplyItem> {
    if (bytes[3] === FrameType.Event) {
      const d = decodeEvent(bytes, this.dataChecksums);
      return d.ok ? { ok: true, value: { kind: 'event', event: d.value, bytes } } : d;
    }
    const d = decodeReply(bytes);
    return d.ok ? { ok: true, value: { kind: 'reply', reply: d.value, bytes } } : d;
  }
}

/** Device side (a server): 64-byte requests of any type byte from the host, with other bytes. */
export class RequestParser extends FrameStream<RequestItem> {
  readonly maxFrameLength = REQUEST_LENGTH;

  protected measure(): Measure {
    return REQUEST_MEASURE;
  }

  protected decode(bytes: Uint8Array): Decoded<RequestItem> {
    const d = decodeRequest(bytes);
    return d.ok ? { ok: true, value: { kind: 'request', request: d.value, bytes } } : d;
  }
}
