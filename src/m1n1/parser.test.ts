/**
 * Framing fixtures (STYLE.md, after zigbee-herdsman): one frame, two frames in one chunk, a frame
 * split across chunks, console text and garbage between frames, a bad checksum; plus the resync
 * rule of M1N1-PROXY.md §2.5 and bulk data after MEMREAD/MEMWRITE (§3).
 */

import { describe, expect, it } from 'vitest';
import { encodeMemReadReply, encodeMemWrite } from './bulk.js';
import { encodeEvent, encodeRequest, proxyRequest } from './frames.js';
import { type ReplyItem, ReplyParser, type RequestItem, RequestParser } from './parser.js';
import {
  concatBytes as cat,
  EVENT_IRQTRACE,
  hexBytes,
  REPLY_VECTORS,
  REQUEST_VECTORS,
} from './testing/vectors.js';

/** Latin-1: one byte per character, so `\xff` is the byte FF. */
const text = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const GET_BASE = hexBytes(REPLY_VECTORS.getBase);
const BOOT = hexBytes(REPLY_VECTORS.boot);
const NOP = hexBytes(REPLY_VECTORS.nopAccepted);

/** Item kinds with a short tag, console text decoded: easy to compare. */
function summary(items: readonly (ReplyItem | RequestItem)[]): string[] {
  return items.map((i) => {
    switch (i.kind) {
      case 'console':
        return `console:${new TextDecoder('latin1').decode(i.bytes)}`;
      case 'reply':
        return `reply:${i.reply.kind}`;
      case 'event':
        return `event:${i.event.kind}`;
      case 'request':
        return `request:${i.request.kind}`;
      case 'discarded':
        return `discarded:${i.reason}:${i.bytes.length}`;
      default:
        return `data:${i.data.length}:${i.valid ? 'ok' : i.reason}`;
    }
  });
}

describe('ReplyParser framing fixtures', () => {
  it('one frame', () => {
    const items = new ReplyParser().push(GET_BASE);
    expect(items).toEqual([
      {
        kind: 'reply',
        reply: { kind: 'proxy', status: 0, opcode: 4n, proxyStatus: 0n, retval: 0x800004000n },
        bytes: GET_BASE,
      },
    ]);
  });

  it('two frames in one chunk', () => {
    expect(summary(new ReplyParser().push(cat(BOOT, GET_BASE)))).toEqual([
      'reply:boot',
      'reply:proxy',
    ]);
  });

  it('one frame split across chunks, at every split point and byte by byte', () => {
    for (let cut = 0; cut < GET_BASE.length; cut++) {
      const p = new ReplyParser();
      const first = p.push(GET_BASE.subarray(0, cut));
      expect(first).toEqual([]);
      expect(summary(p.push(GET_BASE.subarray(cut)))).toEqual(['reply:proxy']);
      expect(p.buffered).toBe(0);
    }
    const p = new ReplyParser();
    const items = Array.from(GET_BASE).flatMap((b) => p.push(Uint8Array.of(b)));
    expect(summary(items)).toEqual(['reply:proxy']);
  });

  it('console text and garbage between frames (the SET_BAUD pattern, §7)', () => {
    const pattern = hexBytes('f0a55a00'.repeat(16));
    const stream = cat(
      text('Changing baud rate to 1500000...\n'),
      pattern,
      GET_BASE,
      text('TTY junk \xff\x55 \xff'),
      NOP,
    );
    const items = new ReplyParser().push(stream);
    const kinds = summary(items);
    expect(kinds.filter((k) => !k.startsWith('console'))).toEqual(['reply:proxy', 'reply:nop']);
    const consoleBytes = cat(...items.flatMap((i) => (i.kind === 'console' ? [i.bytes] : [])));
    expect(consoleBytes).toEqual(
      cat(text('Changing baud rate to 1500000...\n'), pattern, text('TTY junk \xff\x55 \xff')),
    );
  });

  it('garbage before the start of a frame, including prefix look-alikes (§2.5)', () => {
    const junk = hexBytes('00 ff ff 55 ff 55 41 ff 55');
    const items = new ReplyParser().push(cat(junk, GET_BASE));
    expect(summary(items).at(-1)).toBe('reply:proxy');
    expect(
      cat(...items.slice(0, -1).map((i) => (i.kind === 'console' ? i.bytes : new Uint8Array(99)))),
    ).toEqual(junk);
  });

  it('a corrupted checksum is a discarded item, and the next frame is still found', () => {
    const bad = GET_BASE.slice();
    bad[35]! ^= 1;
    const items = new ReplyParser().push(cat(bad, NOP));
    expect(summary(items)).toEqual(['discarded:checksum:36', 'reply:nop']);
    const d = items[0];
    expect(d?.kind === 'discarded' && d.detail).toMatch(/checksum 0x.*computed 0x/);
  });

  it('a truncated frame followed by a good one: rescan finds it; `skip` loses it as m1n1 does', () => {
    const stream = cat(GET_BASE.subarray(0, 10), GET_BASE, NOP);
    expect(summary(new ReplyParser().push(stream))).toEqual([
      'discarded:checksum:10',
      'reply:proxy',
      'reply:nop',
    ]);
    const skipped = new ReplyParser({ afterBadFrame: 'skip' }).push(stream);
    expect(summary(skipped).map((k) => k.split(':')[0])).toEqual(['discarded', 'console', 'reply']);
    expect(skipped[0]?.kind === 'discarded' && skipped[0].bytes.length).toBe(36);
    expect(skipped[1]?.kind === 'console' && skipped[1].bytes).toEqual(GET_BASE.subarray(26));
  });

  it('a REQ_BOOT notification and an event between replies', () => {
    const items = new ReplyParser().push(cat(BOOT, hexBytes(EVENT_IRQTRACE), GET_BASE));
    expect(summary(items)).toEqual(['reply:boot', 'event:irqtrace', 'reply:proxy']);
  });

  it('an event split inside its header waits for the length', () => {
    const ev = hexBytes(EVENT_IRQTRACE);
    const p = new ReplyParser();
    expect(p.push(ev.subarray(0, 6))).toEqual([]);
    expect(p.push(ev.subarray(6, 12))).toEqual([]);
    expect(summary(p.push(ev.subarray(12)))).toEqual(['event:irqtrace']);
  });

  it('events with data checksums off, and over-long event headers', () => {
    const off = encodeEvent({ kind: 'irqtrace', flags: 1, irqType: 0, num: 1 }, false);
    expect(summary(new ReplyParser().push(off))).toEqual(['discarded:checksum:20']);
    expect(summary(new ReplyParser({ dataChecksums: false }).push(off))).toEqual([
      'event:irqtrace',
    ]);
    const long = encodeEvent({ kind: 'unknown', eventType: 9, data: new Uint8Array(100) });
    const p = new ReplyParser({ maxEventLength: 64 });
    expect(p.maxFrameLength).toBe(76);
    const kinds = summary(p.push(cat(long, GET_BASE)));
    expect(kinds[0]).toBe('discarded:event-too-long:8');
    expect(kinds.at(-1)).toBe('reply:proxy');
  });

  it('flush reports an incomplete frame as truncated and releases what it held back', () => {
    const p = new ReplyParser();
    // An event header announcing 0xffff data bytes holds everything behind it …
    const stuck = hexBytes('ff55aa05 ffff0100');
    expect(summary(p.push(cat(stuck, GET_BASE)))).toEqual([]);
    // … until the caller gives up (end of input, or a timeout).
    expect(summary(p.flush())).toEqual(['discarded:truncated:8', 'reply:proxy']);
    expect(p.buffered).toBe(0);
    expect(summary(new ReplyParser().flush())).toEqual([]);
    const q = new ReplyParser();
    q.push(text('ok\xff\x55'));
    expect(summary(q.flush())).toEqual(['discarded:truncated:2']);
  });

  it('MEMREAD: reply then data in one chunk, checksums on and off (§3.1)', () => {
    const data = Uint8Array.from({ length: 16 }, (_, i) => i);
    for (const checksums of [true, false]) {
      const p = new ReplyParser({ dataChecksums: checksums });
      p.feed(cat(encodeMemReadReply(data, checksums), NOP));
      const r = p.next();
      expect(r?.kind === 'reply' && r.reply.kind === 'memread').toBe(true);
      if (r?.kind !== 'reply' || r.reply.kind !== 'memread') return;
      p.readData(16, { checksums, expected: r.reply.dataChecksum });
      expect(p.next()).toMatchObject({ kind: 'data', data, valid: true });
      expect(summary([p.next()!])).toEqual(['reply:nop']);
      expect(p.next()).toBeUndefined();
    }
  });

  it('MEMREAD data split across chunks, and a corrupted data checksum', () => {
    const data = hexBytes('ff55aa01 00000000'); // data may look like a frame prefix
    const wire = encodeMemReadReply(data, true);
    const p = new ReplyParser();
    p.feed(wire.subarray(0, 40));
    const r = p.next();
    if (r?.kind !== 'reply' || r.reply.kind !== 'memread') throw new Error('no reply');
    p.readData(8, { checksums: true, expected: r.reply.dataChecksum ^ 1 });
    expect(p.next()).toBeUndefined();
    p.feed(wire.subarray(40));
    expect(p.next()).toMatchObject({ kind: 'data', data, valid: false, reason: 'data-checksum' });
  });

  it('flush abandons bulk data of which nothing arrived: no item, frames are parsed again', () => {
    for (const checksums of [true, false]) {
      const p = new ReplyParser({ dataChecksums: checksums });
      p.readData(16, { checksums, expected: 0 });
      expect(p.flush()).toEqual([]);
      expect(p.buffered).toBe(0);
      // The resync reply after a timeout is a frame, not the first bytes of the lost data.
      expect(summary(p.push(cat(text('hi'), NOP)))).toEqual(['console:hi', 'reply:nop']);
      // And a new transfer can be announced.
      p.readData(2, { checksums, expected: 0 });
      expect(p.flush()).toEqual([]);
    }
  });

  it('flush reports the part of bulk data that arrived as one truncated discard', () => {
    for (const checksums of [true, false]) {
      const p = new ReplyParser({ dataChecksums: checksums });
      p.readData(16, { checksums, expected: 0 });
      // Data bytes that look like a frame prefix are still data until flush.
      expect(p.push(hexBytes('ff55aa00 0102'))).toEqual([]);
      const items = p.flush();
      expect(summary(items)).toEqual(['discarded:truncated:6']);
      expect(items[0]).toMatchObject({
        detail: `bulk data ended after 6 of ${checksums ? 16 : 20} bytes`,
        bytes: hexBytes('ff55aa00 0102'),
      });
      expect(summary(p.push(GET_BASE))).toEqual(['reply:proxy']);
    }
  });

  it('flush completes bulk data that did arrive before giving up on the rest', () => {
    const p = new ReplyParser();
    p.readData(2, { checksums: true, expected: 0 });
    p.feed(cat(Uint8Array.of(1, 2), GET_BASE.subarray(0, 10)));
    expect(summary(p.flush())).toEqual(['data:2:data-checksum', 'discarded:truncated:10']);
  });

  it('readData misuse throws BAD_INPUT', () => {
    const p = new ReplyParser();
    expect(() => p.readData(-1, { checksums: true, expected: 0 })).toThrow(/BAD_INPUT/);
    p.readData(4, { checksums: true, expected: 0 });
    expect(() => p.readData(4, { checksums: true, expected: 0 })).toThrow(/BAD_INPUT/);
    p.feed(Uint8Array.of(1, 2));
    expect(summary(p.flush())).toEqual(['discarded:truncated:2']);
  });
});

describe('RequestParser (device side)', () => {
  const whoami = hexBytes(REQUEST_VECTORS.whoami);
  const nop = hexBytes(REQUEST_VECTORS.nopFeature0);

  it('one, two, split; console bytes around them', () => {
    expect(summary(new RequestParser().push(whoami))).toEqual(['request:proxy']);
    expect(summary(new RequestParser().push(cat(whoami, nop)))).toEqual([
      'request:proxy',
      'request:nop',
    ]);
    const p = new RequestParser();
    expect(p.push(whoami.subarray(0, 63))).toEqual([]);
    expect(summary(p.push(cat(whoami.subarray(63), text('x'))))).toEqual([
      'request:proxy',
      'console:x',
    ]);
  });

  it('a bad checksum is discarded (the server answers CSUMERR) and the next request is found', () => {
    const bad = whoami.slice();
    bad[40] = 7;
    expect(summary(new RequestParser().push(cat(bad, nop)))).toEqual([
      'discarded:checksum:64',
      'request:nop',
    ]);
  });

  it('a half-sent request followed by a REQ_NOP: rescan resynchronises (§7, §13)', () => {
    const stream = cat(whoami.subarray(0, 20), nop);
    expect(summary(new RequestParser().push(stream))).toEqual([
      'discarded:checksum:20',
      'request:nop',
    ]);
  });

  it('MEMWRITE data is read when the server accepts it, in both modes (§3.2)', () => {
    const data = hexBytes(REQUEST_VECTORS.getBase); // a whole frame as data: must not be parsed
    for (const checksums of [true, false]) {
      const p = new RequestParser();
      p.feed(cat(encodeMemWrite(0x801000000n, data, checksums), nop));
      const r = p.next();
      if (r?.kind !== 'request' || r.request.kind !== 'memwrite') throw new Error('no request');
      p.readData(Number(r.request.size), { checksums, expected: r.request.dataChecksum });
      expect(p.next()).toMatchObject({ kind: 'data', data, valid: true });
      expect(summary([p.next()!])).toEqual(['request:nop']);
    }
  });

  it('MEMWRITE rejected (XFRERR): the data is scanned for frames, as m1n1 does (§3.2)', () => {
    const inner = encodeRequest(proxyRequest(0x008));
    const p = new RequestParser();
    const items = p.push(encodeMemWrite(0x10n, cat(text('abc'), inner), true));
    expect(summary(items)).toEqual(['request:memwrite', 'console:abc', 'request:proxy']);
  });
});
