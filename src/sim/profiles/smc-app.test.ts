import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock.js';
import {
  decode,
  encode,
  fourccToU32,
  hex64Of,
  type Message,
  u32ToFourcc,
} from '../../protocol/index.js';
import type { FirmwareServices, LocalMemory } from '../firmware/app.js';
import { createSmcEndpoint, type SmcEndpointOptions, SmcViolation } from './smc-app.js';
import {
  decodeKeyValue,
  defaultKeyTable,
  defineKey,
  encodeSmcValue,
  GpioCmd,
  type KeyDef,
  SmcKeyFlag,
  SmcResult,
} from './smc-keys.js';

const SRAM_BASE = 0x2_3fe0_0000;
const SRAM_SIZE = 0x4000;

interface Harness {
  smc: ReturnType<typeof createSmcEndpoint>;
  sent: bigint[];
  violations: { code: string; detail: string }[];
  crashes: string[];
  sram: LocalMemory;
  clock: VirtualClock;
  /** Send a command and return the one word it produced (fails if not exactly one). */
  cmd(m: Message | bigint): bigint;
  /** A command's reply, decoded. */
  reply(m: Message | bigint): Extract<Message, { kind: 'smcReply' }>;
  shmem(): number;
}

function harness(opts: SmcEndpointOptions = {}, withSram = true): Harness {
  const sent: bigint[] = [];
  const violations: { code: string; detail: string }[] = [];
  const crashes: string[] = [];
  const clock = new VirtualClock();
  const sram: LocalMemory = { base: SRAM_BASE, size: SRAM_SIZE, bytes: new Uint8Array(SRAM_SIZE) };
  const fw: FirmwareServices = {
    clock,
    rng: { u32: () => 0, below: () => 0, float: () => 0 },
    name: 'smc',
    send: (ep, msg) => {
      expect(ep).toBe(0x20);
      sent.push(msg);
    },
    syslog: () => {},
    violation: (code, detail) => violations.push({ code, detail }),
    crash: (reason) => crashes.push(reason),
    sram: withSram ? sram : undefined,
  };
  const smc = createSmcEndpoint(opts);
  smc.start(fw);
  const h: Harness = {
    smc,
    sent,
    violations,
    crashes,
    sram,
    clock,
    cmd(m) {
      const before = sent.length;
      smc.message(typeof m === 'bigint' ? m : encode(m));
      expect(sent.length - before).toBe(1);
      return sent[sent.length - 1]!;
    },
    reply(m) {
      const r = decode(0x20, h.cmd(m), { dir: 'iop->ap', coproc: 'smc' });
      if (r.kind !== 'smcReply') throw new Error(`not a reply: ${r.kind}`);
      return r;
    },
    shmem: () => (smc.shmemAddress ?? 0) - SRAM_BASE,
  };
  return h;
}

/** A harness after INITIALIZE (the address word is consumed). */
function ready(opts: SmcEndpointOptions = {}): Harness {
  const h = harness(opts);
  h.cmd({ kind: 'smcInitialize', id: 0 });
  return h;
}

const read = (key: string, size: number, id = 1): Message => ({
  kind: 'smcReadKey',
  id,
  size,
  wsize: 0,
  key: fourccToU32(key),
});
const write = (key: string, size: number, id = 1): Message => ({
  kind: 'smcWriteKey',
  id,
  size,
  wsize: 0,
  key: fourccToU32(key),
});
const info = (key: string, id = 1): Message => ({
  kind: 'smcGetKeyInfo',
  id,
  size: 0,
  wsize: 0,
  key: fourccToU32(key),
});
const byIndex = (index: number, id = 1): Message => ({
  kind: 'smcGetKeyByIndex',
  id,
  size: 0,
  wsize: 0,
  index,
});
const rw = (key: string, size: number, wsize: number, id = 1): Message => ({
  kind: 'smcRwKey',
  id,
  size,
  wsize,
  key: fourccToU32(key),
});

/** What a host gets back from a read: VALUE bytes (≤ 4) or the shared buffer. */
function readBytes(h: Harness, key: string, size: number): Uint8Array {
  const r = h.reply(read(key, size));
  expect(r.result, `${key} result`).toBe(0);
  if (size <= 4) {
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, r.value, true);
    return v.slice(0, r.size);
  }
  return h.sram.bytes.slice(h.shmem(), h.shmem() + r.size);
}

function putShmem(h: Harness, data: Uint8Array): void {
  h.sram.bytes.set(data, h.shmem());
}

function writeKey(h: Harness, key: string, data: Uint8Array, id = 1) {
  putShmem(h, data);
  return h.reply(write(key, data.length, id));
}

describe('INITIALIZE', () => {
  it('answers with the shared-memory address inside SRAM, as a raw word', () => {
    const h = harness({ shmemOffset: 0x800 });
    const w = h.cmd(0x17n);
    const m = decode(0x20, w, { dir: 'iop->ap', coproc: 'smc', smcShmemPending: true });
    expect(m).toEqual({ kind: 'smcShmemAddress', address: SRAM_BASE + 0x800 });
    expect(w).toBe(BigInt(SRAM_BASE + 0x800));
    expect(h.smc.initialized).toBe(true);
    expect(h.smc.shmemAddress).toBe(SRAM_BASE + 0x800);
    expect(h.violations).toEqual([]);
  });

  it('the address and ML assumed 0x1000 bytes fit in the window (the ML range check)', () => {
    const h = ready();
    const a = h.smc.shmemAddress!;
    expect(a).toBeGreaterThanOrEqual(SRAM_BASE);
    expect(a + 0x1000 - 1).toBeLessThanOrEqual(SRAM_BASE + SRAM_SIZE - 1);
  });

  it('without SRAM: a violation, address 0, and only inline reads work', () => {
    const h = harness({}, false);
    expect(h.cmd(0x17n)).toBe(0n);
    expect(h.violations.map((v) => v.code)).toEqual([SmcViolation.NoSram]);
    expect(h.reply(read('#KEY', 4)).result).toBe(0);
    expect(h.reply(read('BMDN', 32)).result).toBe(SmcResult.BadArgumentError);
    expect(h.reply(info('#KEY')).result).toBe(SmcResult.BadArgumentError);
    expect(h.reply(write('NTAP', 1)).result).toBe(SmcResult.BadArgumentError);
  });

  it('an offset outside SRAM is a violation too', () => {
    const h = harness({ shmemOffset: SRAM_SIZE });
    expect(h.cmd(0x17n)).toBe(0n);
    expect(h.violations[0]!.code).toBe(SmcViolation.NoSram);
  });

  it('commands before INITIALIZE get an error reply and a violation', () => {
    const h = harness();
    const r = h.reply(read('#KEY', 4, 7));
    expect(r).toMatchObject({ result: SmcResult.Error, id: 7, size: 0, value: 0 });
    expect(h.violations.map((v) => v.code)).toEqual([SmcViolation.NotInitialized]);
  });
});

describe('PROTOCOL.md §9.3 worked examples', () => {
  // A table of exactly 2291 keys, as on the M2 Pro in the fixture dmesg.
  const many: KeyDef[] = [defineKey('NTAP', 'flag', false, { flags: 0xc0 })];
  for (let i = 0; many.length < 2290; i++) {
    many.push(defineKey(`Z${i.toString(36).padStart(3, '0')}`, 'ui8 ', i & 0xff));
  }

  const EXAMPLES: [string, Message][] = [
    ['0x0000000000000017', { kind: 'smcInitialize', id: 0 }],
    ['0x234b455900041010', read('#KEY', 4, 1)],
    ['0xf308000000041000', { kind: 'smcReply', result: 0, id: 1, size: 4, value: 0xf3080000 }],
    ['0x0000000000002012', byIndex(0, 2)],
    ['0x59454b2300002000', { kind: 'smcReply', result: 0, id: 2, size: 0, value: 0x59454b23 }],
    ['0x234b455900003013', info('#KEY', 3)],
    ['0x4e54415000014011', write('NTAP', 1, 4)],
    ['0x4142434402045020', rw('ABCD', 4, 2, 5)],
    ['0x7201060100000018', { kind: 'smcNotification', event: 0x7201, subcode: 6, data: 1 }],
  ];

  it('encode and decode as documented', () => {
    for (const [word, m] of EXAMPLES) {
      expect(hex64Of(encode(m))).toBe(word);
      const dir = m.kind === 'smcReply' || m.kind === 'smcNotification' ? 'iop->ap' : 'ap->iop';
      expect(decode(0x20, word, { dir, coproc: 'smc' })).toEqual(m);
    }
  });

  it('the model produces the documented replies word for word', () => {
    const h = harness({ keys: many });
    expect(h.cmd(0x17n)).toBe(BigInt(SRAM_BASE));
    expect(hex64Of(h.cmd(0x234b455900041010n))).toBe('0xf308000000041000');
    expect(hex64Of(h.cmd(0x2012n))).toBe('0x59454b2300002000');
    expect(hex64Of(h.cmd(0x234b455900003013n))).toBe('0x0000000000003000');
    expect([...h.sram.bytes.slice(0, 6)]).toEqual([4, 0x75, 0x69, 0x33, 0x32, 0x80]);
    h.sram.bytes[0] = 1;
    expect(hex64Of(h.cmd(0x4e54415000014011n))).toBe('0x0000000000004000');
    expect(h.smc.notificationsEnabled).toBe(true);
    // No key ABCD in this table: key-not-found, ID echoed.
    expect(hex64Of(h.cmd(0x4142434402045020n))).toBe('0x0000000000005084');
    expect(h.smc.notify(0x7201, 6, 1)).toBe(true);
    expect(hex64Of(h.sent.at(-1)!)).toBe('0x7201060100000018');
    expect(h.violations).toEqual([]);
  });
});

describe('keys', () => {
  it('#KEY reads the table size, big-endian, ML style (4 bytes inline)', () => {
    const h = ready();
    const bytes = readBytes(h, '#KEY', 4);
    expect(new DataView(bytes.buffer).getUint32(0, false)).toBe(h.smc.keys.length);
  });

  it('enumerates every key by index in table order, then reads each with its typed value', () => {
    const h = ready();
    const count = new DataView(readBytes(h, '#KEY', 4).buffer).getUint32(0, false);
    const seen: string[] = [];
    for (let i = 0; i < count; i++) {
      const r = h.reply(byIndex(i, i & 15));
      expect(r).toMatchObject({ result: 0, id: i & 15, size: 0 });
      // ML applies swab32 to VALUE to get the key as a big-endian u32.
      const swapped = new DataView(new ArrayBuffer(4));
      swapped.setUint32(0, r.value, true);
      seen.push(u32ToFourcc(swapped.getUint32(0, false)));
    }
    expect(seen).toEqual(h.smc.keys.map((k) => k.key));
    expect(seen).toEqual([...seen].sort((a, b) => fourccToU32(a) - fourccToU32(b)));
    expect(h.reply(byIndex(count)).result).toBe(SmcResult.KeyIndexRangeError);

    for (const def of h.smc.keys) {
      if (!(def.flags & SmcKeyFlag.Readable)) {
        expect(h.reply(read(def.key, def.size)).result, def.key).toBe(SmcResult.KeyNotReadable);
        continue;
      }
      const bytes = readBytes(h, def.key, def.size);
      expect(bytes.length, def.key).toBe(def.size);
      if (def.read) continue; // live values (RTC, GPIO state) have their own tests
      expect(decodeKeyValue(def, bytes), def.key).toEqual(decodeKeyValue(def));
    }
  });

  it('typed values as a Linux driver would read them', () => {
    const h = ready();
    const le = (key: string, size: number) => {
      const b = readBytes(h, key, size);
      return new DataView(b.buffer, b.byteOffset, b.length);
    };
    expect(le('B0AV', 2).getUint16(0, true)).toBe(12604);
    expect(le('B0AC', 2).getInt16(0, true)).toBe(1523);
    expect(le('B0AP', 4).getInt32(0, true)).toBe(19195);
    expect(le('B0RM', 2).getUint16(0, false)).toBe(3478); // ML swab16
    expect(le('AC-W', 1).getInt8(0)).toBe(1);
    expect(le('CHLS', 2).getUint16(0, true) & 0xff).toBe(100);
    expect(le('TB0T', 4).getFloat32(0, true)).toBe(30.5);
    expect(le('CHNC', 8).getBigUint64(0, true)).toBe(0n);
    expect(le('TG0B', 8).getBigUint64(0, true)).toBe(BigInt(45.5 * 65536));
    expect(le('MSLD', 1).getUint8(0)).toBe(0);
    expect(le('bHLD', 4).getUint32(0, true) & 1).toBe(0);
  });

  it('strings: ML asks for 255 bytes and gets the key size back through SRAM', () => {
    const h = ready();
    const r = h.reply(read('BMDN', 255));
    expect(r).toMatchObject({ result: 0, size: 32, value: 0 });
    const s = h.sram.bytes.slice(h.shmem(), h.shmem() + 32);
    expect(decodeKeyValue(h.smc.keys.find((k) => k.key === 'BMDN')!, s)).toBe('SimBattery');
  });

  it('a request shorter than the key is a size mismatch', () => {
    const h = ready();
    expect(h.reply(read('B0AP', 2)).result).toBe(SmcResult.KeySizeMismatch);
  });

  it('GET_KEY_INFO puts size, type and flags in the shared buffer', () => {
    const h = ready();
    for (const def of h.smc.keys) {
      const r = h.reply(info(def.key));
      expect(r).toMatchObject({ result: 0, size: 0, value: 0 });
      const b = h.sram.bytes.slice(h.shmem(), h.shmem() + 6);
      expect(b[0], def.key).toBe(def.size);
      expect(String.fromCharCode(...b.slice(1, 5)), def.key).toBe(def.type);
      expect(b[5], def.key).toBe(def.flags);
    }
    expect(h.reply(info('XXXX')).result).toBe(SmcResult.KeyNotFound);
  });
});

describe('writes', () => {
  it('a writable key takes the new value and reads it back', () => {
    const h = ready();
    const rpm = encodeSmcValue('flt ', 3000.5);
    expect(writeKey(h, 'F0Tg', rpm)).toMatchObject({ result: 0, size: 0 });
    expect(readBytes(h, 'F0Tg', 4)).toEqual(rpm);
    expect(writeKey(h, 'CHLS', encodeSmcValue('ui16', 80)).result).toBe(0);
    expect(new DataView(readBytes(h, 'CHLS', 2).buffer).getUint16(0, true)).toBe(80);
    expect(writeKey(h, 'CH0C', new Uint8Array([1])).result).toBe(0);
    expect(h.smc.keyValue('CH0C')).toEqual(new Uint8Array([1]));
  });

  it('read-only keys, wrong sizes, unknown keys and bad flag values are refused', () => {
    const h = ready();
    const before = h.smc.keyValue('B0AV');
    expect(writeKey(h, 'B0AV', new Uint8Array([1, 2])).result).toBe(SmcResult.KeyNotWritable);
    expect(h.smc.keyValue('B0AV')).toEqual(before);
    expect(writeKey(h, 'F0Tg', new Uint8Array([1, 2])).result).toBe(SmcResult.KeySizeMismatch);
    expect(writeKey(h, 'QQQQ', new Uint8Array([1])).result).toBe(SmcResult.KeyNotFound);
    expect(writeKey(h, 'NTAP', new Uint8Array([2])).result).toBe(SmcResult.BadArgumentError);
    expect(h.smc.notificationsEnabled).toBe(false);
    expect(writeKey(h, '#KEY', new Uint8Array(4)).result).toBe(SmcResult.KeyNotWritable);
  });

  it('MBSE takes the macsmc-reboot actions (a u32 fourcc, little-endian) and nothing else', () => {
    const h = ready();
    expect(writeKey(h, 'MBSE', encodeSmcValue('ui32', fourccToU32('off1'))).result).toBe(0);
    expect(writeKey(h, 'MBSE', encodeSmcValue('ui32', fourccToU32('nope'))).result).toBe(
      SmcResult.BadFuncParameter,
    );
    expect(h.reply(read('MBSE', 4)).result).toBe(SmcResult.KeyNotReadable);
  });

  it('setKeyValue changes what the host reads (the simulated world moving)', () => {
    const h = ready();
    expect(h.smc.setKeyValue('MSLD', new Uint8Array([1]))).toBe(true);
    expect(readBytes(h, 'MSLD', 1)).toEqual(new Uint8Array([1]));
    expect(h.smc.setKeyValue('MSLD', new Uint8Array(2))).toBe(false);
    expect(h.smc.setKeyValue('nope', new Uint8Array(1))).toBe(false);
    expect(h.smc.keyValue('\u0100ABC')).toBeUndefined();
  });
});

describe('function keys and RW_KEY', () => {
  const u32 = (v: number) => encodeSmcValue('ui32', v);
  const rwU32 = (h: Harness, key: string, input: number) => {
    putShmem(h, u32(input));
    return h.reply(rw(key, 4, 4));
  };

  it('GPIO keys answer the gpio-macsmc commands', () => {
    const h = ready();
    expect(rwU32(h, 'gP01', GpioCmd.PinMode * 0x100_0000)).toMatchObject({ result: 0, value: 1 });
    expect(rwU32(h, 'gP01', GpioCmd.Output * 0x100_0000)).toMatchObject({ result: 0, value: 1 });
    expect(rwU32(h, 'gP01', GpioCmd.IrqMode * 0x100_0000).result).toBe(SmcResult.BadArgumentError);
    expect(writeKey(h, 'gP01', u32(GpioCmd.Output * 0x100_0000)).result).toBe(0);
    expect(rwU32(h, 'gP01', GpioCmd.Output * 0x100_0000)).toMatchObject({ result: 0, value: 0 });
    expect(writeKey(h, 'gP01', u32(0x1234)).result).toBe(SmcResult.BadFuncParameter);
  });

  it('RW_KEY on a plain key ignores the payload and reads', () => {
    const h = ready();
    expect(rwU32(h, 'B0AP', 0xdeadbeef)).toMatchObject({ result: 0, size: 4, value: 19195 });
  });

  it('CLKM counts at 32768 Hz on the injected clock', () => {
    const h = ready();
    const t0 = readBytes(h, 'CLKM', 6);
    h.clock.advance(1000);
    const t1 = readBytes(h, 'CLKM', 6);
    const n = (b: Uint8Array) => b.reduceRight((a, x) => a * 256 + x, 0);
    expect(n(t1) - n(t0)).toBe(32768);
  });

  it('a hook that throws crashes the firmware instead of throwing', () => {
    const boom = defineKey('BOOM', 'ui8 ', 0, {
      read: () => {
        throw new Error('bug');
      },
    });
    const h = ready({ keys: [boom] });
    h.smc.message(encode(read('BOOM', 1)));
    expect(h.crashes[0]).toMatch(/BOOM/);
    expect(h.sent.length).toBe(1); // only the address
    h.smc.message(encode(read('#KEY', 4)));
    expect(h.sent.length).toBe(1);
  });
});

describe('notifications', () => {
  it('are sent only while NTAP = 1', () => {
    const h = ready();
    expect(h.smc.notificationsEnabled).toBe(false);
    expect(h.smc.notify(0x7201, 6, 1)).toBe(false);
    expect(h.sent.length).toBe(1);
    expect(writeKey(h, 'NTAP', new Uint8Array([1])).result).toBe(0);
    expect(h.smc.notify(0x7201, 6, 1)).toBe(true);
    expect(h.sent.at(-1)).toBe(0x7201060100000018n);
    expect(h.smc.notify(0x7203, 0, 1)).toBe(true);
    expect(decode(0x20, h.sent.at(-1)!, { dir: 'iop->ap', coproc: 'smc' })).toEqual({
      kind: 'smcNotification',
      event: 0x7203,
      subcode: 0,
      data: 1,
    });
    expect(writeKey(h, 'NTAP', new Uint8Array([0])).result).toBe(0);
    expect(h.smc.notify(0x7201, 1, 0)).toBe(false);
  });

  it('are held back before INITIALIZE (they would be taken for the address)', () => {
    const h = ready();
    writeKey(h, 'NTAP', new Uint8Array([1]));
    h.smc.stop();
    const sent = h.sent.length;
    expect(h.smc.notify(0x7201, 6, 1)).toBe(false);
    const fresh = harness();
    fresh.smc.setKeyValue('NTAP', new Uint8Array([1]));
    expect(fresh.smc.notify(0x7201, 6, 1)).toBe(false);
    expect(fresh.sent.length).toBe(0);
    expect(h.sent.length).toBe(sent);
  });

  it('a table without NTAP never notifies', () => {
    const h = ready({ keys: [defineKey('AAAA', 'ui8 ', 0)] });
    expect(h.smc.notificationsEnabled).toBe(false);
    expect(h.smc.notify(0x7201, 6, 1)).toBe(false);
  });
});

// Words of every shape: random bits with the MSG byte biased towards the real commands.
const anyWord = fc
  .tuple(
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    fc.constantFrom(0x10n, 0x11n, 0x12n, 0x13n, 0x17n, 0x18n, 0x20n, 0x00n, 0xffn, -1n),
  )
  .map(([w, msg]) => (msg < 0n ? w : (w & ~0xffn) | msg));

describe('malformed words', () => {
  it('bits [11:8] set: violation, command still served', () => {
    const h = ready();
    const r = h.reply(0x234b455900041110n);
    expect(r).toMatchObject({ result: 0, id: 1, size: 4 });
    expect(h.violations.map((v) => v.code)).toEqual([SmcViolation.ReservedBits]);
  });

  it('unknown MSG: violation and BadCommand with the ID echoed', () => {
    const h = ready();
    const r = h.reply(0x0000000000009014n);
    expect(r).toMatchObject({ result: SmcResult.BadCommand, id: 9, size: 0, value: 0 });
    expect(h.violations.map((v) => v.code)).toEqual([SmcViolation.UnknownCommand]);
  });

  it('an IOP→AP kind sent by the AP is not a command', () => {
    const h = ready();
    expect(h.reply(0x7201060100003018n)).toMatchObject({ result: SmcResult.BadCommand, id: 3 });
    expect(h.violations[0]!.code).toBe(SmcViolation.UnknownCommand);
  });

  it('any word: never throws, one reply with its ID (INITIALIZE: the address) (property)', () => {
    fc.assert(
      fc.property(anyWord, (w) => {
        const h = ready();
        const before = h.sent.length;
        h.smc.message(w);
        expect(h.sent.length).toBe(before + 1);
        const out = h.sent.at(-1)!;
        if ((w & 0xffn) === 0x17n) {
          expect(out).toBe(BigInt(SRAM_BASE));
          return;
        }
        expect((out >> 12n) & 0xfn).toBe((w >> 12n) & 0xfn);
        expect(out & 0xffn).not.toBe(0x18n);
      }),
      { numRuns: 300 },
    );
  });

  it('ID echo for every command kind and every ID (property)', () => {
    const h = ready();
    const keys = h.smc.keys.map((k) => k.key);
    const cmds = fc.oneof(
      fc
        .tuple(fc.constantFrom(...keys), fc.integer({ min: 0, max: 255 }))
        .map(([k, s]) => read(k, s)),
      fc.constantFrom(...keys).map((k) => info(k)),
      fc.integer({ min: 0, max: 200 }).map((i) => byIndex(i)),
      fc
        .tuple(fc.constantFrom(...keys), fc.integer({ min: 0, max: 8 }))
        .map(([k, s]) => write(k, s)),
    );
    fc.assert(
      fc.property(cmds, fc.integer({ min: 0, max: 15 }), (m, id) => {
        const r = h.reply({ ...m, id } as Message);
        expect(r.id).toBe(id);
      }),
    );
  });
});

describe('a Linux-like probe', () => {
  it('INITIALIZE, #KEY, NTAP = 1, then gpio-macsmc finds gP01 by binary search over indices', () => {
    const h = harness();
    const addr = h.cmd({ kind: 'smcInitialize', id: 0 });
    expect(Number(addr)).toBeGreaterThanOrEqual(SRAM_BASE);
    let id = 0;
    const next = () => (id = (id + 1) & 15);
    const countR = h.reply(read('#KEY', 4, next()));
    expect(countR.size).toBe(4);
    const swap = (v: number) => {
      const d = new DataView(new ArrayBuffer(4));
      d.setUint32(0, v, true);
      return d.getUint32(0, false);
    };
    const count = swap(countR.value);
    putShmem(h, new Uint8Array([1]));
    expect(h.reply(write('NTAP', 1, next())).result).toBe(0);
    const keyAt = (i: number) => swap(h.reply(byIndex(i, next())).value);
    const want = fourccToU32('gP00');
    let start = 0;
    let n = count;
    while (n > 1) {
      let pivot = start + ((n - 1) >> 1);
      const k = keyAt(pivot);
      if (k === want) {
        start = pivot;
        break;
      }
      pivot++;
      if (k < want) {
        n -= pivot - start;
        start = pivot;
      } else {
        n = pivot - start;
      }
    }
    expect(u32ToFourcc(keyAt(start))).toBe('gP01');
    expect(h.violations).toEqual([]);
  });
});

describe('options', () => {
  it('error codes can be overridden', () => {
    const h = ready({ errorCodes: { keyNotFound: 0x42 } });
    expect(h.reply(read('XXXX', 4)).result).toBe(0x42);
  });

  it('bad options throw at creation', () => {
    expect(() => createSmcEndpoint({ shmemOffset: -1 })).toThrow(RangeError);
    expect(() => createSmcEndpoint({ shmemSize: 0 })).toThrow(RangeError);
    expect(() => createSmcEndpoint({ errorCodes: { keyNotFound: 0x18 } })).toThrow(RangeError);
    expect(() => createSmcEndpoint({ errorCodes: { badCommand: 0 } })).toThrow(RangeError);
    expect(() =>
      createSmcEndpoint({ keys: [defineKey('AAAA', 'ui8 ', 0), defineKey('AAAA', 'ui8 ', 0)] }),
    ).toThrow(/duplicate/);
  });

  it('endpoints do not share key state', () => {
    const a = ready();
    const b = ready();
    writeKey(a, 'F0Md', new Uint8Array([1]));
    expect(b.smc.keyValue('F0Md')).toEqual(new Uint8Array([0]));
    expect(defaultKeyTable().find((k) => k.key === 'F0Md')!.value).toEqual(new Uint8Array([0]));
  });
});
