// The SMC client against the simulator's SMC model (src/sim/profiles/smc-app.ts), joined by a
// small in-test EndpointHandle and SramAccess: no RTKit session needed.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock.js';
import { isRtkitError, RtkitError } from '../../errors.js';
import type { EndpointHandle, RequestOptions, SramAccess } from '../../host/types.js';
import { decode, encode, type Message } from '../../protocol/index.js';
import type { FirmwareServices, LocalMemory } from '../../sim/firmware/app.js';
import {
  createSmcEndpoint,
  type SmcEndpoint,
  type SmcEndpointOptions,
} from '../../sim/profiles/smc-app.js';
import { decodeKeyValue, type KeyDef, SmcKeyFlag } from '../../sim/profiles/smc-keys.js';
import { SmcClient, type SmcClientOptions, type SmcWarning } from './client.js';
import { SmcResult } from './errors.js';
import type { SmcNotification } from './notifications.js';

const SRAM_BASE = 0x2_3fe0_0000;
const SRAM_SIZE = 0x4000;

/** Faults placed between the client and the model. */
interface Faults {
  /** The model sees nothing (a firmware that never answers). */
  mute?: boolean;
  /** Rewrite an IOP→AP word. */
  mutate?: (w: bigint) => bigint;
  /** Keep an IOP→AP word back until `release()`. */
  hold?: (w: bigint) => boolean;
  /** Called with each AP→IOP word before the model handles it. */
  onCommand?: (w: bigint) => void;
}

interface Rig {
  smc: SmcEndpoint;
  handle: EndpointHandle;
  sram: SramAccess;
  mem: LocalMemory;
  clock: VirtualClock;
  faults: Faults;
  /** AP→IOP words in order. */
  commands: bigint[];
  held: bigint[];
  /** Most requests waiting at the same time. */
  maxWaiting: number;
  listeners: number;
  /** Deliver an IOP→AP word now (as if the model sent it). */
  inject(w: bigint): void;
  release(): void;
  open(opts?: Partial<SmcClientOptions>): Promise<SmcClient>;
}

interface Waiter {
  match: (w: bigint) => boolean;
  resolve: (w: bigint) => void;
  cleanup: () => void;
}

function rig(opts: { smc?: SmcEndpointOptions; sram?: boolean; faults?: Faults } = {}): Rig {
  const clock = new VirtualClock();
  const mem: LocalMemory = { base: SRAM_BASE, size: SRAM_SIZE, bytes: new Uint8Array(SRAM_SIZE) };
  const faults: Faults = opts.faults ?? {};
  const waiters: Waiter[] = [];
  const listeners = new Set<(w: bigint) => void>();
  const commands: bigint[] = [];
  const held: bigint[] = [];

  const deliver = (w: bigint): void => {
    const i = waiters.findIndex((x) => x.match(w));
    if (i >= 0) {
      const [x] = waiters.splice(i, 1);
      x!.cleanup();
      x!.resolve(w);
      return;
    }
    for (const fn of [...listeners]) fn(w);
  };

  const fw: FirmwareServices = {
    clock,
    rng: { u32: () => 0, below: () => 0, float: () => 0 },
    name: 'smc',
    send: (ep, msg) => {
      expect(ep).toBe(0x20);
      const w = faults.mutate ? faults.mutate(msg) : msg;
      if (faults.hold?.(w)) {
        held.push(w);
        return;
      }
      // Replies arrive asynchronously, as through a mailbox.
      queueMicrotask(() => deliver(w));
    },
    syslog: () => {},
    violation: () => {},
    crash: () => {},
    sram: opts.sram === false ? undefined : mem,
  };
  const smc = createSmcEndpoint(opts.smc ?? {});
  smc.start(fw);

  const r: Rig = {
    smc,
    mem,
    clock,
    faults,
    commands,
    held,
    maxWaiting: 0,
    get listeners() {
      return listeners.size;
    },
    handle: {
      ep: 0x20,
      async send(msg) {
        commands.push(msg);
        faults.onCommand?.(msg);
        if (!faults.mute) smc.message(msg);
      },
      request(msg, match, ro: RequestOptions = {}) {
        return new Promise<bigint>((resolve, reject) => {
          const signal = ro.signal;
          if (signal?.aborted) {
            reject(signal.reason);
            return;
          }
          const waiter: Waiter = {
            match,
            resolve,
            cleanup: () => {
              clock.clearTimer(timer);
              signal?.removeEventListener('abort', onAbort);
            },
          };
          const drop = (err: unknown): void => {
            const i = waiters.indexOf(waiter);
            if (i >= 0) waiters.splice(i, 1);
            waiter.cleanup();
            reject(err);
          };
          const onAbort = (): void => drop(signal?.reason);
          const timer = clock.setTimer(ro.timeoutMs ?? 1000, () =>
            drop(new RtkitError('TIMEOUT', 'request timed out', { step: 'request' })),
          );
          signal?.addEventListener('abort', onAbort, { once: true });
          waiters.push(waiter);
          r.maxWaiting = Math.max(r.maxWaiting, waiters.length);
          void r.handle.send(msg);
        });
      },
      onMessage(fn) {
        listeners.add(fn);
        return () => {
          listeners.delete(fn);
        };
      },
    },
    sram: {
      base: mem.base,
      size: mem.size,
      async read(addr, len) {
        const off = addr - mem.base;
        if (off < 0 || off + len > mem.size) throw new RtkitError('MMIO_UNMAPPED', 'read');
        return mem.bytes.slice(off, off + len);
      },
      async write(addr, data) {
        const off = addr - mem.base;
        if (off < 0 || off + data.length > mem.size) throw new RtkitError('MMIO_UNMAPPED', 'write');
        mem.bytes.set(data, off);
      },
    },
    inject: (w) => deliver(w),
    release() {
      for (const w of held.splice(0)) deliver(w);
    },
    open: (o = {}) => SmcClient.open(r.handle, { sram: r.sram, clock, ...o }),
  };
  return r;
}

type Decoded = ReturnType<typeof decode>;

function cmd(w: bigint): Decoded {
  return decode(0x20, w, { dir: 'ap->iop', coproc: 'smc' });
}

function idOf(w: bigint): number {
  return Number((w >> 12n) & 0xfn);
}

async function rejection(p: Promise<unknown>): Promise<RtkitError> {
  try {
    await p;
  } catch (e) {
    if (!isRtkitError(e)) throw new Error(`untyped rejection: ${String(e)}`);
    return e;
  }
  throw new Error('expected a rejection');
}

/** The typed value the model's own helpers give for a key, in the client's raw shape. */
function expectedValue(r: Rig, def: KeyDef): unknown {
  const stored = r.smc.keyValue(def.key)!;
  const bytes = def.read
    ? def.read({ now: r.clock.now(), value: stored, get: (k) => r.smc.keyValue(k) })
    : stored;
  if (typeof bytes === 'number') throw new Error(`${def.key} read hook failed`);
  const v = decodeKeyValue(def, bytes);
  return v instanceof Uint8Array ? { type: def.type, bytes: v } : v;
}

describe('SmcClient.open', () => {
  it('sends INITIALIZE with ID 0 and takes the first word as the shared-memory address', async () => {
    const r = rig({ smc: { shmemOffset: 0x800 } });
    const c = await r.open();
    expect(r.commands).toEqual([0x17n]);
    expect(r.smc.initialized).toBe(true);
    expect(c.shmemAddress).toBe(SRAM_BASE + 0x800);
    expect(c.shmemAddress).toBe(r.smc.shmemAddress);
    expect(c.shmemSize).toBe(0x1000);
    expect(c.ep).toBe(0x20);
    expect(c.closed).toBe(false);
  });

  it('refuses an address outside the SRAM window and stops listening', async () => {
    const r = rig();
    const e = await rejection(
      SmcClient.open(r.handle, {
        clock: r.clock,
        sram: { ...r.sram, base: SRAM_BASE + 0x10_0000 },
      }),
    );
    expect(e.code).toBe('SMC_SHMEM_INVALID');
    expect(e.details['address']).toBe(SRAM_BASE);
    expect(r.listeners).toBe(0);
  });

  it('refuses a buffer that does not fit (0x1000 bytes assumed, as ML) and accepts a smaller one', async () => {
    const off = SRAM_SIZE - 0x100;
    const e = await rejection(rig({ smc: { shmemOffset: off } }).open());
    expect(e.code).toBe('SMC_SHMEM_INVALID');
    expect(e.message).toContain('outside the SRAM window');
    const c = await rig({ smc: { shmemOffset: off } }).open({ shmemSize: 0x100 });
    expect(c.shmemAddress).toBe(SRAM_BASE + off);
  });

  it('refuses address 0 (a model without SRAM)', async () => {
    const e = await rejection(rig({ sram: false }).open());
    expect(e.code).toBe('SMC_SHMEM_INVALID');
    expect(e.details['address']).toBe(0);
  });

  it('refuses a first word that is not an address (bits 63:52 set)', async () => {
    const r = rig({ faults: { mutate: (w) => w | (0xabcn << 52n) } });
    const e = await rejection(r.open());
    expect(e.code).toBe('SMC_SHMEM_INVALID');
    expect(e.message).toContain('not a shared-memory address');
  });

  it('times out when the SMC never answers INITIALIZE', async () => {
    const r = rig({ faults: { mute: true } });
    const stop = r.clock.autoAdvance();
    const e = await rejection(r.open());
    stop();
    expect(e.code).toBe('TIMEOUT');
    expect(r.clock.now()).toBe(500);
    expect(r.listeners).toBe(0);
  });

  it('rejects bad options with BAD_INPUT', async () => {
    const r = rig();
    expect((await rejection(r.open({ timeoutMs: 0 }))).code).toBe('BAD_INPUT');
    expect((await rejection(r.open({ shmemSize: 2 }))).code).toBe('BAD_INPUT');
    expect((await rejection(r.open({ bigEndianKeys: ['TOOLONG'] }))).code).toBe('BAD_INPUT');
    const noSram = { clock: r.clock } as unknown as SmcClientOptions;
    expect((await rejection(SmcClient.open(r.handle, noSram))).code).toBe('BAD_INPUT');
    expect(r.commands).toEqual([]);
  });
});

describe('keys', () => {
  it('reads #KEY as a big-endian count; the first command is the §9.3 worked example', async () => {
    const r = rig();
    const c = await r.open();
    expect(await c.keyCount()).toBe(r.smc.keys.length);
    expect(r.smc.keys.length).toBe(60);
    expect(r.commands[1]).toBe(0x234b455900041010n);
  });

  it('enumerates every key of the default table in the SMC order', async () => {
    const r = rig();
    const c = await r.open();
    const keys = await c.listKeys();
    expect(keys).toEqual(r.smc.keys.map((k) => k.key));
    expect(await c.getKeyByIndex(0)).toBe('#KEY');
    const e = await rejection(c.getKeyByIndex(keys.length));
    expect(e.code).toBe('SMC_ERROR');
    expect(e.details['result']).toBe(SmcResult.KeyIndexRangeError);
  });

  it('refuses an implausible key count', async () => {
    const c = await rig().open();
    const e = await rejection(c.listKeys({ limit: 10 }));
    expect(e.code).toBe('SMC_BAD_REPLY');
  });

  it('reads every key of the default table with its typed value and key info', async () => {
    const r = rig();
    const c = await r.open();
    for (const key of await c.listKeys()) {
      const def = r.smc.keys.find((k) => k.key === key)!;
      const info = await c.getKeyInfo(key);
      expect(info).toEqual({
        key,
        size: def.size,
        type: def.type,
        flags: def.flags,
        readable: (def.flags & SmcKeyFlag.Readable) !== 0,
        writable: (def.flags & SmcKeyFlag.Writable) !== 0,
        functionKey: (def.flags & SmcKeyFlag.Function) !== 0,
      });
      if (!info.readable) {
        const e = await rejection(c.read(key));
        expect([key, e.code, e.details['result']]).toEqual([
          key,
          'SMC_ERROR',
          SmcResult.KeyNotReadable,
        ]);
        continue;
      }
      expect([key, await c.read(key)]).toEqual([key, expectedValue(r, def)]);
    }
  });

  it('decodes the per-key byte-order exceptions and a few values by hand', async () => {
    const c = await rig().open();
    expect(await c.read('#KEY')).toBe(60);
    expect(await c.read('B0RM')).toBe(3478);
    expect(c.byteOrder('B0RM')).toBe('be');
    expect(await c.read('B0AV')).toBe(12604);
    expect(await c.read('BAAC')).toBe(1_234_567n);
    expect(await c.read('F0Mx')).toBe(7200);
    expect(await c.read('TG0B')).toBe(45.5);
    expect(await c.read('CHCE')).toBe(true);
    expect(await c.read('RPlt')).toBe('J293');
    expect(await c.read('AC-W')).toBe(1);
  });

  it('caches key info', async () => {
    const r = rig();
    const c = await r.open();
    await c.read('B0AV');
    await c.read('B0AV');
    const infos = r.commands.filter((w) => cmd(w).kind === 'smcGetKeyInfo');
    expect(infos).toHaveLength(1);
    c.clearKeyInfoCache();
    await c.getKeyInfo('B0AV');
    expect(r.commands.filter((w) => cmd(w).kind === 'smcGetKeyInfo')).toHaveLength(2);
  });

  it('reads more than 4 bytes through shared memory; a long request gets the key size', async () => {
    const r = rig();
    const c = await r.open();
    const name = await c.readKey('BMDN');
    expect(name).toHaveLength(32);
    expect(new TextDecoder().decode(name.subarray(0, 10))).toBe('SimBattery');
    const long = await c.readKey('BMDN', 255);
    expect(long).toEqual(name);
    // ML decides inline vs shared memory by the size asked for; 4-byte data asked with 8.
    expect(await c.readKey('ACPW', 8)).toEqual(new Uint8Array([0x48, 0xee, 0, 0]));
  });

  it('writes a writable key and reads it back', async () => {
    const r = rig();
    const c = await r.open();
    await c.write('F0Tg', 3000.5);
    expect(await c.read('F0Tg')).toBe(3000.5);
    await c.write('CHLS', 80);
    expect(r.smc.keyValue('CHLS')).toEqual(new Uint8Array([80, 0]));
    expect(await c.read('CHLS')).toBe(80);
    await c.writeKey('CH0C', new Uint8Array([1]));
    expect(await c.read('CH0C')).toBe(1);
    // WRITE_KEY carries SIZE = length and the data went through shared memory first.
    const w = r.commands.find((x) => {
      const m = cmd(x);
      return m.kind === 'smcWriteKey' && m.size === 2;
    });
    expect(w).toBeDefined();
  });

  it('reports a refused write of a read-only key with the SMC result', async () => {
    const c = await (await Promise.resolve(rig())).open();
    const e = await rejection(c.write('F0Ac', 1));
    expect(e.code).toBe('SMC_ERROR');
    expect(e.details).toMatchObject({
      result: SmcResult.KeyNotWritable,
      resultName: 'kSMCKeyNotWritable',
      key: 'F0Ac',
    });
    expect(e.message).toContain('0x86');
  });

  it('reports an unknown key', async () => {
    const c = await rig().open();
    for (const p of [c.readKey('ZZZZ', 4), c.read('ZZZZ'), c.getKeyInfo('ZZZZ')]) {
      const e = await rejection(p);
      expect(e.code).toBe('SMC_ERROR');
      expect(e.details).toMatchObject({ result: 0x84, resultName: 'kSMCKeyNotFound', key: 'ZZZZ' });
    }
  });

  it('rejects misuse with BAD_INPUT before sending anything', async () => {
    const r = rig();
    const c = await r.open();
    const before = r.commands.length;
    const cases: Promise<unknown>[] = [
      c.readKey('TOOLONG', 4),
      c.readKey('ABC', 4),
      c.readKey('B0AV', 256),
      c.writeKey('F0Tg', new Uint8Array(256)),
      c.rwKey('gP01', new Uint8Array(4), -1),
      c.getKeyByIndex(-1),
      c.readKey('B0AV', 2, { timeoutMs: -5 }),
    ];
    for (const p of cases) expect((await rejection(p)).code).toBe('BAD_INPUT');
    expect(r.commands.length).toBe(before);
    // Values that do not fit the key's type (after its key info).
    expect((await rejection(c.write('F0Tg', 'fast'))).code).toBe('BAD_INPUT');
    expect((await rejection(c.write('CH0C', 256))).code).toBe('BAD_INPUT');
    expect((await rejection(c.write('RPlt', 'a string too long'))).code).toBe('BAD_INPUT');
  });

  it('runs RW_KEY on a function key (GPIO pin mode)', async () => {
    const r = rig();
    const c = await r.open();
    const out = await c.rwKey('gP01', new Uint8Array([0, 0, 0, 3]), 4);
    expect(out).toEqual(new Uint8Array([1, 0, 0, 0]));
    const m = cmd(r.commands.at(-1)!);
    expect(m).toMatchObject({ kind: 'smcRwKey', size: 4, wsize: 4 });
  });
});

describe('notifications', () => {
  it('emits events once NTAP = 1 was written', async () => {
    const r = rig();
    const c = await r.open();
    const got: SmcNotification[] = [];
    const off = c.onNotification((n) => got.push(n));
    expect(r.smc.notify(0x7201, 0x06, 1)).toBe(false);
    await c.enableNotifications();
    expect(c.notificationsEnabled).toBe(true);
    expect(r.smc.notificationsEnabled).toBe(true);
    expect(r.smc.notify(0x7201, 0x06, 1)).toBe(true);
    expect(r.smc.notify(0x7203, 0x01, 0)).toBe(true);
    expect(r.smc.notify(0x7101, 0x01, 1)).toBe(true);
    expect(r.smc.notify(0x1234, 0x56, 0x78)).toBe(true);
    await Promise.resolve();
    expect(got).toEqual([
      {
        kind: 'button',
        event: 0x7201,
        subcode: 6,
        data: 1,
        word: 0x7201060100000018n,
        button: 'touchId',
        pressed: true,
      },
      { kind: 'lid', event: 0x7203, subcode: 1, data: 0, word: 0x7203010000000018n },
      { kind: 'power', event: 0x7101, subcode: 1, data: 1, word: 0x7101010100000018n },
      { kind: 'other', event: 0x1234, subcode: 0x56, data: 0x78, word: 0x1234567800000018n },
    ]);
    off();
    r.smc.notify(0x7201, 0x01, 0);
    await Promise.resolve();
    expect(got).toHaveLength(4);
    await c.disableNotifications();
    expect(r.smc.notificationsEnabled).toBe(false);
  });

  it('does not take a notification that arrives during a command for its reply', async () => {
    const r = rig();
    const c = await r.open();
    await c.enableNotifications();
    const got: SmcNotification[] = [];
    c.onNotification((n) => got.push(n));
    r.faults.onCommand = () => r.smc.notify(0x7201, 0x01, 1);
    expect(await c.read('BUIC')).toBe(83);
    expect(got.length).toBeGreaterThan(0);
    expect(got[0]).toMatchObject({ kind: 'button', button: 'power', pressed: true });
  });

  it('survives a listener that throws (warning)', async () => {
    const r = rig();
    const c = await r.open();
    await c.enableNotifications();
    const warnings: SmcWarning[] = [];
    c.onWarning((w) => warnings.push(w));
    c.onNotification(() => {
      throw new Error('boom');
    });
    r.smc.notify(0x7201, 0x06, 1);
    await Promise.resolve();
    expect(warnings.map((w) => w.code)).toEqual(['SMC_LISTENER_FAILED']);
    expect(await c.read('BUIC')).toBe(83);
  });
});

describe('command sequencing', () => {
  it('increments the 4-bit ID before each command and wraps after 15', async () => {
    const r = rig();
    const c = await r.open();
    for (let i = 0; i < 17; i++) await c.readKey('BUIC', 1);
    expect(r.commands.map(idOf)).toEqual([0, ...Array.from({ length: 15 }, (_, i) => i + 1), 0, 1]);
    expect(await c.read('BUIC')).toBe(83);
  });

  it('refuses a reply with the wrong ID (ML "Command sequence mismatch") and goes on', async () => {
    const r = rig();
    const c = await r.open();
    const warnings: SmcWarning[] = [];
    c.onWarning((w) => warnings.push(w));
    let armed = true;
    r.faults.mutate = (w) => {
      if (!armed) return w;
      armed = false;
      return (w & ~0xf000n) | (0x9n << 12n);
    };
    const e = await rejection(c.readKey('BUIC', 1));
    expect(e.code).toBe('SMC_ID_MISMATCH');
    expect(e.details).toMatchObject({ expected: 1, got: 9, key: 'BUIC' });
    expect(await c.readKey('BUIC', 1)).toEqual(new Uint8Array([83]));
    expect(warnings).toEqual([]);
  });

  it('times out a command the SMC never answers, then carries on', async () => {
    const r = rig();
    const c = await r.open({ timeoutMs: 250 });
    r.faults.mute = true;
    const stop = r.clock.autoAdvance();
    const t0 = r.clock.now();
    const e = await rejection(c.readKey('BUIC', 1));
    expect(e.code).toBe('TIMEOUT');
    expect(e.details).toMatchObject({ step: 'smc', id: 1, key: 'BUIC', timeoutMs: 250 });
    expect(r.clock.now() - t0).toBe(250);
    const e2 = await rejection(c.readKey('BUIC', 1, { timeoutMs: 40 }));
    expect(e2.details['timeoutMs']).toBe(40);
    stop();
    r.faults.mute = false;
    expect(await c.read('BUIC')).toBe(83);
  });

  it('defaults to 500 ms per command (ML)', async () => {
    const r = rig();
    const c = await r.open();
    r.faults.mute = true;
    const stop = r.clock.autoAdvance();
    const t0 = r.clock.now();
    expect((await rejection(c.keyCount())).code).toBe('TIMEOUT');
    stop();
    expect(r.clock.now() - t0).toBe(500);
  });

  it('reports a late reply to a timed-out command instead of taking it for the next one', async () => {
    const r = rig();
    const c = await r.open();
    const warnings: SmcWarning[] = [];
    c.onWarning((w) => warnings.push(w));
    // Hold back the reply to the first READ (ID 1).
    r.faults.hold = (w) => idOf(w) === 1 && r.held.length === 0;
    const stop = r.clock.autoAdvance();
    expect((await rejection(c.readKey('BUIC', 1))).code).toBe('TIMEOUT');
    stop();
    delete r.faults.hold;
    // The late reply arrives while the next command waits.
    r.faults.onCommand = () => r.release();
    expect(await c.readKey('MSLD', 1)).toEqual(new Uint8Array([0]));
    expect(warnings.map((w) => w.code)).toEqual(['SMC_LATE_REPLY']);
    expect(warnings[0]!.word).toBeDefined();
  });

  it('reports a stray reply', async () => {
    const r = rig();
    const c = await r.open();
    const warnings: SmcWarning[] = [];
    c.onWarning((w) => warnings.push(w));
    r.inject(encode({ kind: 'smcReply', result: 0, id: 7, size: 0, value: 0 }));
    expect(warnings.map((w) => w.code)).toEqual(['SMC_STRAY_REPLY']);
  });

  it('queues concurrent calls and runs them one at a time, in call order', async () => {
    const r = rig();
    const c = await r.open();
    const keys = ['BUIC', 'MSLD', 'FNum', 'CH0B', 'B0CT'];
    const results = await Promise.all(keys.map((k) => c.readKey(k, k === 'B0CT' ? 2 : 1)));
    expect(results).toEqual([
      new Uint8Array([83]),
      new Uint8Array([0]),
      new Uint8Array([1]),
      new Uint8Array([0]),
      new Uint8Array([123, 0]),
    ]);
    expect(r.maxWaiting).toBe(1);
    const sent = r.commands.slice(1).map((w) => {
      const m = cmd(w) as Extract<Message, { kind: 'smcReadKey' }>;
      return String.fromCharCode(
        m.key >>> 24,
        (m.key >>> 16) & 0xff,
        (m.key >>> 8) & 0xff,
        m.key & 0xff,
      );
    });
    expect(sent).toEqual(keys);
  });

  it('keeps shared-memory traffic with its command when calls overlap', async () => {
    const r = rig();
    const c = await r.open();
    const [name, , info, plat] = await Promise.all([
      c.readKey('BMDN'),
      c.write('F0Tg', 1234),
      c.getKeyInfo('CHLS'),
      c.readKey('RPlt'),
    ]);
    expect(new TextDecoder().decode(name!.subarray(0, 10))).toBe('SimBattery');
    expect(info).toMatchObject({ size: 2, type: 'ui16' });
    expect(new TextDecoder().decode(plat!.subarray(0, 4))).toBe('J293');
    expect(await c.read('F0Tg')).toBe(1234);
    expect(r.maxWaiting).toBe(1);
  });

  it('drops a queued call whose signal aborts; the others run', async () => {
    const r = rig();
    const c = await r.open();
    const ac = new AbortController();
    const a = c.readKey('BUIC', 1);
    const b = c.readKey('MSLD', 1, { signal: ac.signal });
    ac.abort(new Error('changed my mind'));
    const d = c.readKey('FNum', 1);
    expect(await a).toEqual(new Uint8Array([83]));
    const e = await rejection(b);
    expect(e.code).toBe('ABORTED');
    expect(await d).toEqual(new Uint8Array([1]));
    expect(r.commands.slice(1).map(idOf)).toEqual([1, 2]);
  });

  it('keeps call order between typed and raw calls (key info already cached)', async () => {
    const r = rig();
    const c = await r.open();
    await c.getKeyInfo('F0Tg');
    const [, before, , after] = await Promise.all([
      c.write('F0Tg', 1000),
      c.readKey('F0Tg', 4),
      c.write('F0Tg', 4000),
      c.read('F0Tg'),
    ]);
    expect(new DataView(before!.buffer).getFloat32(0, true)).toBe(1000);
    expect(after).toBe(4000);
  });

  it('never hangs on an endpoint that ignores the abort signal', async () => {
    const r = rig();
    const c = await r.open();
    const real = r.handle.request;
    r.handle.request = () => new Promise<bigint>(() => {});
    const stop = r.clock.autoAdvance();
    const e = await rejection(c.readKey('BUIC', 1));
    stop();
    expect(e.code).toBe('TIMEOUT');
    r.handle.request = real;
    expect(await c.readKey('BUIC', 1)).toEqual(new Uint8Array([83]));
  });

  it('never hangs on an SRAM window that never answers', async () => {
    const r = rig();
    const c = await r.open();
    r.sram.read = () => new Promise<Uint8Array>(() => {});
    const stop = r.clock.autoAdvance();
    const e = await rejection(c.readKey('BMDN', 32));
    stop();
    expect(e.code).toBe('TIMEOUT');
    expect(await c.readKey('BUIC', 1)).toEqual(new Uint8Array([83]));
  });

  it('wraps an untyped SRAM failure and a short SRAM read', async () => {
    const r = rig();
    const c = await r.open();
    const real = r.sram.read;
    r.sram.read = () => Promise.reject(new TypeError('bus error'));
    expect((await rejection(c.readKey('BMDN', 32))).code).toBe('SMC_SHMEM_ACCESS');
    r.sram.read = async (a, n) => (await real(a, n)).subarray(1);
    expect((await rejection(c.getKeyInfo('B0AV'))).code).toBe('SMC_SHMEM_ACCESS');
  });

  it('aborts a running command through its signal', async () => {
    const r = rig();
    const c = await r.open();
    r.faults.mute = true;
    const ac = new AbortController();
    const p = c.readKey('BUIC', 1, { signal: ac.signal });
    await Promise.resolve();
    ac.abort();
    expect((await rejection(p)).code).toBe('ABORTED');
    r.faults.mute = false;
    expect(await c.readKey('BUIC', 1)).toEqual(new Uint8Array([83]));
  });

  it('refuses a reply whose SIZE is larger than asked for', async () => {
    const r = rig();
    const c = await r.open();
    r.faults.mutate = (w) => (w & ~0xffff_0000n) | (3n << 16n);
    const e = await rejection(c.readKey('BUIC', 1));
    expect(e.code).toBe('SMC_BAD_REPLY');
    expect(e.details).toMatchObject({ size: 3, requested: 1 });
  });

  it('wraps an untyped endpoint failure', async () => {
    const r = rig();
    const c = await r.open();
    r.handle.request = () => Promise.reject(new Error('wire cut'));
    const e = await rejection(c.readKey('BUIC', 1));
    expect(e.code).toBe('SMC_ENDPOINT_FAILED');
    expect((e.cause as Error).message).toBe('wire cut');
  });

  it('passes typed endpoint errors through', async () => {
    const r = rig();
    const c = await r.open();
    r.handle.request = () => Promise.reject(new RtkitError('COPROC_CRASHED', 'crashed'));
    expect((await rejection(c.readKey('BUIC', 1))).code).toBe('COPROC_CRASHED');
  });
});

describe('close', () => {
  it('writes NTAP = 0 when it enabled notifications, then refuses calls and stops listening', async () => {
    const r = rig();
    const c = await r.open();
    await c.enableNotifications();
    const pending = c.read('BUIC');
    const closing = c.close();
    expect(c.closed).toBe(true);
    expect((await rejection(c.readKey('BUIC', 1))).code).toBe('SMC_CLOSED');
    expect(await pending).toBe(83);
    await closing;
    await c.close();
    expect(r.smc.notificationsEnabled).toBe(false);
    expect(r.listeners).toBe(0);
  });

  it('does not touch NTAP when notifications were never enabled, and never rejects', async () => {
    const r = rig();
    const c = await r.open();
    await c.close();
    expect(r.commands).toEqual([0x17n]);
    const r2 = rig();
    const c2 = await r2.open();
    await c2.enableNotifications();
    r2.faults.mute = true;
    const warnings: SmcWarning[] = [];
    c2.onWarning((w) => warnings.push(w));
    const stop = r2.clock.autoAdvance();
    await c2.close();
    stop();
    expect(warnings.map((w) => w.code)).toEqual(['SMC_CLOSE_FAILED']);
  });
});
