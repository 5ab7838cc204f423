// ROBUSTNESS.md recipes that concern the host session (management, boot, buffers, syslog,
// crashlog endpoint, IOReport, OSLog, transport), each driven by the simulator's fault injection
// through the register-level mailbox. Expectations are the "Expect" lines of each recipe.
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../src/clock.js';
import { buildCrashlog } from '../../src/crashlog/index.js';
import type { CrashEvent, SyslogEvent, UnhandledEvent } from '../../src/host/index.js';
import type { BufferStrategy, SharedBuffer } from '../../src/host/shmem/types.js';
import { genericProfile } from '../../src/sim/profiles/index.js';
import { strategiesFor } from '../../src/wiring/sim-host.js';
import { codes, disposeRigs, hex, sent, simRig } from './helpers.js';

afterEach(disposeRigs);

const GENERIC_NO_CRASHLOG = genericProfile({
  buffers: {
    2: { mode: 'host', bytes: 0x3000 },
    4: { mode: 'host', bytes: 0x1000 },
    8: { mode: 'host', bytes: 0x4000 },
  },
});

describe('management and boot', () => {
  it('B16: repeated EPMAP blocks are answered and deduplicated', async () => {
    const words = [...Array(9).fill(0x00800000ffffffffn), 0x0088000100000001n];
    const r = simRig({ profile: 'generic', faults: { epmap: words }, strict: false });
    await r.session.boot();
    const mgmt = sent(r, 0).map(hex);
    expect(mgmt.filter((w) => w === '0x0080000000000001')).toHaveLength(9);
    expect(mgmt).toContain('0x0088000100000000');
    const expected = [...Array(32).keys()].filter((e) => e !== 0).concat([0x20]);
    expect(r.session.discoveredEndpoints).toEqual(expected);
    for (const ep of [1, 2, 3, 4, 8, 0xa]) {
      const w = `0x0050${ep.toString(16).padStart(4, '0')}00000002`;
      expect(mgmt.filter((x) => x === w)).toHaveLength(1);
    }
    const unknown = r.warnings.filter((w) => w.code === 'UNKNOWN_SYSTEM_ENDPOINT').map((w) => w.ep);
    expect(unknown).toEqual(expected.filter((e) => e < 0x20 && ![1, 2, 3, 4, 8, 0xa].includes(e)));
  });

  for (const [step, withhold] of [
    ['hello', 'hello'],
    ['iop-power-ack', 'iop-ack'],
    ['ap-power-ack', 'ap-ack'],
  ] as const) {
    it(`B19: boot rejects TIMEOUT {step: ${step}} when the firmware withholds ${withhold}`, async () => {
      const r = simRig({ profile: 'generic', faults: { withhold: [withhold] } });
      const t0 = r.clock.now();
      const e = await r.session.boot().catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'TIMEOUT', details: { step } });
      // Within the step timeout + 10 % of the step start.
      expect(r.clock.now() - t0).toBeLessThanOrEqual(3 * 1100);
      expect(r.session.running).toBe(false);
      await r.session.reinit();
      expect(r.session.state.handshake).toBe('none');
    });
  }

  it('B20: shutdown rejects TIMEOUT {step: iop-power-ack}; buffers kept; quiesce later', async () => {
    const r = simRig({ profile: 'generic', faults: { withhold: ['power-down-ack'] } });
    await r.session.boot();
    await sleep(r.clock, 5);
    const live = r.session.buffers!.live;
    expect(live).toBeGreaterThan(0);
    const t0 = r.clock.now();
    await expect(r.session.shutdown({ timeoutMs: 300 })).rejects.toMatchObject({
      code: 'TIMEOUT',
      details: { step: 'iop-power-ack' },
    });
    expect(r.clock.now() - t0).toBeLessThanOrEqual(330);
    expect(r.session.running).toBe(false);
    expect(r.session.buffers!.live).toBe(live);
    expect(r.session.buffers!.entries().every((e) => e.retained)).toBe(true);
    await r.session.reinit();
    expect(r.session.buffers!.live).toBe(0);
  });

  it('B26: endpoints 64 and 255 are discovered and started', async () => {
    for (const [word, ep] of [
      [0x0088000200000001n, 64],
      [0x0088000780000000n, 255],
    ] as const) {
      const r = simRig({ profile: 'generic', faults: { epmap: [word] }, strict: false });
      await r.session.boot();
      expect(r.session.discoveredEndpoints).toEqual([ep]);
      const from = r.wire.length;
      await r.session.startEndpoint(ep);
      expect(sent(r, 0, from).map(hex)).toEqual([
        `0x0050${ep.toString(16).padStart(4, '0')}00000002`,
      ]);
      await r.dispose();
    }
  });

  it('B27: endpoints are validated before any state change or write', async () => {
    const r = simRig({ profile: 'generic' });
    await r.session.boot();
    const from = r.wire.length;
    const before = r.session.state;
    await expect(r.session.startEndpoint(0x40)).rejects.toMatchObject({
      code: 'ENDPOINT_NOT_DISCOVERED',
    });
    for (const ep of [256, -1, 1.5, Number.NaN]) {
      await expect(r.session.startEndpoint(ep)).rejects.toMatchObject({ code: 'ENDPOINT_INVALID' });
      await expect(r.session.send(ep, 0n)).rejects.toMatchObject({ code: 'ENDPOINT_INVALID' });
    }
    await expect(r.session.send(0x21, 0n)).rejects.toMatchObject({
      code: 'ENDPOINT_NOT_DISCOVERED',
    });
    await expect(r.session.send(0x20, -1n)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    expect(sent(r, undefined, from)).toEqual([]);
    expect(r.session.state).toEqual(before);
  });

  it('B28: an unexpected ack is POWER_STATE_MISMATCH; the session stays usable', async () => {
    const r = simRig({
      profile: 'generic',
      faults: { acks: { iop: 0x10, count: 1 } },
      strict: false,
    });
    await r.session.boot();
    await expect(r.session.shutdown()).rejects.toMatchObject({
      code: 'POWER_STATE_MISMATCH',
      details: { requested: 0x1, acked: 0x10 },
    });
    expect(sent(r, 0).map(hex).slice(-2)).toEqual(['0x00b0000000000010', '0x0060000000000001']);
    expect(r.session.iopPowerState).toBe(0x10);
    await r.session.quiesce();
    expect(r.session.state.handshake).toBe('none');
  });

  it('B30: STARTEP into a full FIFO fails the boot with TRANSPORT_TIMEOUT after one retry', async () => {
    const r = simRig({ profile: 'generic', strict: false });
    let lastReply = 0;
    // The recipe: A2I reports FULL from the moment the LAST EPMAP reply was taken.
    r.session.on('tx', (e) => {
      if (e.message.kind === 'epmapReply' && e.message.last) {
        lastReply = e.time;
        r.cp.asc.holdFull('a2i', true);
      }
    });
    await expect(r.session.boot()).rejects.toMatchObject({
      code: 'TRANSPORT_TIMEOUT',
      details: { step: 'startep' },
    });
    const took = r.clock.now() - lastReply;
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(1100);
  });

  it('B31: an unsupported HELLO rejects at once, nothing sent; with the NAK opt-in, the NAK', async () => {
    for (const nak of [false, true]) {
      const r = simRig({
        profile: 'generic',
        faults: { version: { min: 13, max: 14 } },
        strict: false,
        session: { nakUnsupportedVersion: nak },
      });
      const t0 = r.clock.now();
      await expect(r.session.boot()).rejects.toMatchObject({
        code: 'VERSION_UNSUPPORTED',
        details: { fwMin: 13, fwMax: 14, supported: [11, 12] },
      });
      expect(r.clock.now() - t0).toBeLessThan(10);
      expect(sent(r, 0).map(hex)).toEqual(nak ? ['0x002000000badffff'] : []);
      await r.dispose();
    }
  });

  it('B32: a message on an undiscovered endpoint is warned about and goes to the sink', async () => {
    const r = simRig({
      profile: 'generic',
      faults: { sends: [{ ep: 0x25, msg: 1n, at: 'ap-on' }] },
    });
    const sink: UnhandledEvent[] = [];
    r.session.on('unhandled', (e) => sink.push(e));
    await r.session.boot();
    await sleep(r.clock, 5);
    expect(r.warnings.filter((w) => w.code === 'UNDISCOVERED_ENDPOINT')).toMatchObject([
      { ep: 0x25, msg: 1n },
    ]);
    expect(sink).toEqual([{ ep: 0x25, msg: 1n, reason: 'undiscovered' }]);
  });

  it('B39: unknown system endpoints are warned about, not started; boot completes', async () => {
    const r = simRig({
      profile: 'generic',
      faults: { epmap: [0x008800000000033en] },
      strict: false,
    });
    await r.session.boot();
    const mgmt = sent(r, 0).map(hex);
    expect(mgmt).toContain('0x0088000000000000');
    expect(mgmt.filter((w) => w.startsWith('0x0050'))).toEqual(
      [1, 2, 3, 4, 8].map((ep) => `0x005000${ep.toString(16).padStart(2, '0')}00000002`),
    );
    expect(r.warnings.filter((w) => w.code === 'UNKNOWN_SYSTEM_ENDPOINT').map((w) => w.ep)).toEqual(
      [5, 9],
    );
    expect(r.session.running).toBe(true);
  });

  it('a HELLO that arrives before boot() is kept for it', async () => {
    const r = simRig({ profile: 'generic' });
    const { setAscCpuRun } = await import('../../src/mailbox/asc-cpu.js');
    await setAscCpuRun(r.soc.mmio, r.cp.ascBase, true);
    await sleep(r.clock, 50);
    await r.session.boot();
    expect(r.session.running).toBe(true);
    expect(codes(r.warnings)).toEqual([]);
  });

  it('lifecycle operations run one at a time; abort while queued rejects ABORTED', async () => {
    const r = simRig({ profile: 'generic' });
    const ac = new AbortController();
    const boot = r.session.boot();
    const idle = r.session.idle({ signal: ac.signal });
    ac.abort('changed my mind');
    await expect(idle).rejects.toMatchObject({ code: 'ABORTED' });
    await boot;
    expect(r.session.running).toBe(true);
  });

  it('ping matches the PONG on [31:0] and times out with step pong', async () => {
    const r = simRig({ profile: 'generic' });
    await r.session.boot();
    const rtt = await r.session.ping({ cookie: 5 });
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(sent(r, 0).map(hex)).toContain('0x0030000000000005');
    const d = simRig({
      profile: 'generic',
      faults: { messages: [{ action: 'drop', ep: 0, type: 4 }] },
    });
    await d.session.boot();
    await expect(d.session.ping({ timeoutMs: 50 })).rejects.toMatchObject({
      code: 'TIMEOUT',
      details: { step: 'pong' },
    });
  });
});

describe('buffers', () => {
  it('B11: 20 identical requests → 20 identical replies, one allocation; another geometry → BUFFER_BUSY', async () => {
    const r = simRig({
      profile: 'generic',
      faults: { buffers: [{ ep: 2, repeat: 20, nextPages: 2 }] },
      strict: false,
    });
    await r.session.boot();
    await sleep(r.clock, 5);
    const replies = sent(r, 2).filter((w) => w >> 52n === 1n);
    expect(replies).toHaveLength(20);
    expect(new Set(replies).size).toBe(1);
    const stats = r.session.buffers!.stats();
    expect(stats.repeats).toBe(19);
    expect(r.session.buffers!.entries().filter((e) => e.ep === 2)).toHaveLength(1);
    expect(r.warnings.filter((w) => w.code === 'BUFFER_BUSY')).toHaveLength(1);
  });

  it('B11: a second INIT replaces the syslog geometry', async () => {
    const r = simRig({
      profile: 'generic',
      faults: { syslogReinit: { entryCount: 8, messageSize: 0x40 } },
    });
    const seen: SyslogEvent[] = [];
    r.session.on('syslog', (e) => seen.push(e));
    await r.session.boot();
    await sleep(r.clock, 1000);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((e) => e.index < 8)).toBe(true);
    expect(codes(r.warnings)).toEqual([]);
  });

  it('B14: OSLog type 1 is answered with a type-1 reply in the OSLog layout', async () => {
    const r = simRig({ profile: 'generic' });
    await r.session.boot();
    await sleep(r.clock, 5);
    const reply = sent(r, 8);
    expect(reply).toHaveLength(1);
    const b = r.session.buffers!.get(8)!;
    expect(hex(reply[0]!)).toBe(hex(0x0104000000000000n | BigInt(b.device / 4096)));
    expect(reply[0]).not.toBe(0x0300000000000000n);
  });

  it('B15: an OSLog firmware address is a page number (mode B, no reply)', async () => {
    const r = simRig({
      profile: 'generic',
      faults: { buffers: [{ ep: 8, iova: 0x12345000 }] },
      strategies: { firmwareRegions: [{ base: 0x12345000, size: 0x4000 }] },
      strict: false,
    });
    await r.session.boot();
    await sleep(r.clock, 5);
    const b = r.session.buffers!.get(8)!;
    expect(b).toMatchObject({ device: 0x12345000, bytes: 0x4000, mode: 'firmware-iova' });
    expect(sent(r, 8)).toEqual([]);
  });

  it('B18: EP1 and EP4 get distinct non-zero addresses the firmware can use', async () => {
    const r = simRig({ profile: 'generic' });
    await r.session.boot();
    await sleep(r.clock, 5);
    const a = r.session.buffers!.get(1)!.device;
    const b = r.session.buffers!.get(4)!.device;
    expect(a).not.toBe(0);
    expect(b).not.toBe(0);
    expect(a).not.toBe(b);
    expect(r.soc.faults.faults).toEqual([]);
  });

  it('B25: allocation failure → no reply, BUFFER_ALLOC_FAILED', async () => {
    const r = simRig({
      profile: 'generic',
      soc: { dram: { base: 0x8_0000_0000, size: 256 << 20, maxLive: 2 } },
      strict: false,
    });
    await r.session.boot();
    await sleep(r.clock, 5);
    const replies = (ep: number) => sent(r, ep).filter((w) => w >> 52n === 1n);
    expect(replies(1)).toHaveLength(1);
    expect(replies(2)).toHaveLength(1);
    expect(replies(4)).toEqual([]);
    expect(r.warnings.filter((w) => w.code === 'BUFFER_ALLOC_FAILED').map((w) => w.ep)).toContain(
      4,
    );
  });

  it('M6: buffers are released by quiesce, shutdown, power-off and crash recovery', async () => {
    const r = simRig({ profile: 'generic' });
    const s = r.session;
    for (const down of [() => s.quiesce(), () => s.shutdown()]) {
      await s.wake();
      await sleep(r.clock, 5);
      expect(s.buffers!.live).toBe(4);
      await down();
      expect(s.buffers!.live).toBe(0);
      expect(r.soc.dram.live).toBe(0);
    }
    await s.wake();
    await sleep(r.clock, 5);
    await s.send(1, 0x40n);
    await sleep(r.clock, 5);
    expect(s.crashed).toBe(true);
    await s.recover();
    await sleep(r.clock, 5);
    expect(s.buffers!.live).toBe(4);
    expect(r.soc.dram.live).toBe(4);
    await s.powerOff();
    expect(r.soc.dram.live).toBe(0);
  });
});

describe('syslog', () => {
  it('B9: index bounds against the count and the buffer; every LOG echoed', async () => {
    const r = simRig({
      profile: 'generic',
      faults: {
        syslogInit: { entryCount: 4, messageSize: 0x80 },
        syslogIndex: [{ index: 4 }],
      },
      strict: false,
    });
    await r.session.boot();
    await sleep(r.clock, 20);
    const logs = r.wire.filter((w) => w.ep === 2 && w.msg >> 52n === 5n);
    const fromIop = logs.filter((w) => w.dir === 'iop->ap').map((w) => w.msg);
    const echoes = logs.filter((w) => w.dir === 'ap->iop').map((w) => w.msg);
    expect(echoes).toEqual(fromIop);
    expect(r.warnings.filter((w) => w.code === 'SYSLOG_INDEX_OUT_OF_RANGE')).toMatchObject([
      { msg: 0x0050000000000004n },
    ]);
  });

  it('B9: a geometry larger than the buffer → SYSLOG_GEOMETRY_INVALID, the entries that fit decode', async () => {
    const r = simRig({
      profile: genericProfile({ buffers: { 2: { mode: 'host', bytes: 0x1000 } } }),
      faults: {
        syslogInit: { entryCount: 255, messageSize: 0x80 },
        syslogIndex: [{ index: 200 }, { index: 3 }],
      },
      strict: false,
    });
    const seen: SyslogEvent[] = [];
    r.session.on('syslog', (e) => seen.push(e));
    await r.session.boot();
    await sleep(r.clock, 20);
    expect(codes(r.warnings)).toContain('SYSLOG_GEOMETRY_INVALID');
    expect(r.warnings.find((w) => w.code === 'SYSLOG_INDEX_OUT_OF_RANGE')?.msg).toBe(
      0x00500000000000c8n,
    );
    expect(sent(r, 2)).toContain(0x00500000000000c8n);
    expect(sent(r, 2)).toContain(0x0050000000000003n);
    expect(seen.some((e) => e.index === 3)).toBe(true);
  });

  it('B10: message size 0 → SYSLOG_GEOMETRY_INVALID, LOGs echoed, not decoded', async () => {
    const r = simRig({
      profile: 'generic',
      faults: { syslogInit: { entryCount: 1, messageSize: 0 }, syslogIndex: [{ index: 0 }] },
      strict: false,
    });
    const seen: SyslogEvent[] = [];
    r.session.on('syslog', (e) => seen.push(e));
    await r.session.boot();
    await sleep(r.clock, 20);
    expect(codes(r.warnings)).toContain('SYSLOG_GEOMETRY_INVALID');
    expect(sent(r, 2)).toContain(0x0050000000000000n);
    expect(seen).toEqual([]);
  });

  it('B23: an all-NUL message decodes to ""; a LOG before INIT is echoed with SYSLOG_NOT_INITIALIZED', async () => {
    const r = simRig({
      profile: 'generic',
      faults: { syslogLines: [{ file: 'test.c', line: 1, text: '' }] },
    });
    const seen: SyslogEvent[] = [];
    r.session.on('syslog', (e) => seen.push(e));
    await r.session.boot();
    await sleep(r.clock, 20);
    expect(seen.find((e) => e.entry.context === 'test.c:1')?.entry.message).toBe('');

    const n = simRig({
      profile: 'generic',
      faults: { syslogInit: { never: true }, syslogIndex: [{ index: 0 }] },
      strict: false,
    });
    await n.session.boot();
    await sleep(n.clock, 20);
    expect(codes(n.warnings)).toContain('SYSLOG_NOT_INITIALIZED');
    expect(sent(n, 2)).toContain(0x0050000000000000n);
  });

  it('B24: no decode from a firmware buffer the host could not map (BUFFER_UNMAPPED)', async () => {
    const r = simRig({
      profile: 'generic',
      faults: { buffers: [{ ep: 2, iova: 0x801000000 }], syslogIndex: [{ index: 0 }] },
      strict: false,
    });
    await r.session.boot();
    await sleep(r.clock, 20);
    expect(codes(r.warnings)).toContain('BUFFER_UNMAPPED');
    expect(sent(r, 2).filter((w) => w >> 52n === 1n)).toEqual([]);
    expect(sent(r, 2)).toContain(0x0050000000000000n);
    expect(codes(r.warnings)).toContain('SYSLOG_NOT_INITIALIZED');
  });

  it('B29a: 10 000 LOGs back to back → 10 000 echoes, in order', async () => {
    const r = simRig({ profile: 'generic', faults: { syslogBurst: { count: 10_000 } } });
    let n = 0;
    r.session.on('syslog', () => n++);
    await r.session.boot();
    await sleep(r.clock, 3000);
    const logs = r.wire.filter((w) => w.ep === 2 && w.msg >> 52n === 5n);
    const posts = logs.filter((w) => w.dir === 'iop->ap').map((w) => w.msg);
    const echoes = logs.filter((w) => w.dir === 'ap->iop').map((w) => w.msg);
    expect(posts.length).toBeGreaterThanOrEqual(10_000);
    expect(echoes).toEqual(posts);
    expect(n).toBe(posts.length);
    expect(r.soc.violations()).toEqual([]);
  });
});

describe('crashlog endpoint', () => {
  it('B8: the notification cannot enlarge the buffer', async () => {
    const r = simRig({ profile: 'generic', faults: { crashNotify: { pages: 255 } } });
    const crashes: CrashEvent[] = [];
    r.session.on('crash', (e) => crashes.push(e));
    await r.session.boot();
    await sleep(r.clock, 5);
    await r.session.send(1, 0x40n);
    await sleep(r.clock, 5);
    expect(crashes[0]?.size).toBe(4096);
    expect(crashes[0]?.report).toBeDefined();
    expect(r.warnings.find((w) => w.code === 'CRASH_NOTIFICATION_MISMATCH')?.details).toMatchObject(
      {
        recordedPages: 1,
        notifiedPages: 255,
      },
    );
  });

  it('B12: a failed copy is reported as no log (log undefined, size 0)', async () => {
    const r0 = simRig({ profile: 'generic' });
    const base = strategiesFor(r0.soc, r0.cp);
    await r0.dispose();
    let failReads = false;
    const failing = (s: BufferStrategy): BufferStrategy => ({
      name: `${s.name}+failing`,
      get live() {
        return s.live;
      },
      release: (b) => s.release((b as SharedBuffer & { inner: SharedBuffer }).inner),
      async acquire(req) {
        const d = await s.acquire(req);
        if (!d.ok) return d;
        const inner = d.buffer;
        const buffer = {
          ep: inner.ep,
          mode: inner.mode,
          device: inner.device,
          bytes: inner.bytes,
          inner,
          read: (o: number, l: number) =>
            failReads ? Promise.reject(new Error('bus error')) : inner.read(o, l),
          write: (o: number, data: Uint8Array) => inner.write(o, data),
        };
        return { ...d, buffer };
      },
    });
    const r = simRig({ profile: 'generic' });
    const s = strategiesFor(r.soc, r.cp);
    const crashes: CrashEvent[] = [];
    const { RtkitSession } = await import('../../src/host/index.js');
    const session = new RtkitSession({
      transport: r.driver,
      clock: r.clock,
      strategies: { default: s.default, byEndpoint: { 1: failing(s.default) } },
      cpu: { mmio: r.soc.mmio, ascBase: r.cp.ascBase },
      listeners: { crash: (e) => crashes.push(e) },
    });
    expect(base.default.name).toBe(s.default.name);
    await session.boot();
    await sleep(r.clock, 5);
    failReads = true;
    r.cp.firmware.crash('copy test');
    await sleep(r.clock, 5);
    expect(crashes).toMatchObject([{ log: undefined, size: 0, problem: 'CRASHLOG_COPY_FAILED' }]);
    expect(session.crashed).toBe(true);
    await expect(session.send(0, 0n)).rejects.toMatchObject({ code: 'COPROC_CRASHED' });
    await session.close();
  });

  it('B13: a SIZE-0 request still arms crash detection', async () => {
    const r = simRig({ profile: 'generic', faults: { buffers: [{ ep: 1, pages: 0 }] } });
    const crashes: CrashEvent[] = [];
    r.session.on('crash', (e) => crashes.push(e));
    await r.session.boot();
    await sleep(r.clock, 5);
    expect(sent(r, 1)).toEqual([]);
    expect(codes(r.warnings)).toContain('BUFFER_REJECTED');
    r.cp.firmware.crash('B13');
    await sleep(r.clock, 5);
    expect(crashes).toMatchObject([{ log: undefined, size: 0, problem: 'CRASHLOG_UNAVAILABLE' }]);
    expect(r.session.crashed).toBe(true);
  });

  it('B17: nothing is sent on EP1 after the first reply; later sends COPROC_CRASHED', async () => {
    const r = simRig({ profile: 'generic' });
    await r.session.boot();
    await sleep(r.clock, 5);
    expect(sent(r, 1)).toHaveLength(1);
    r.cp.firmware.crash('B17');
    await sleep(r.clock, 50);
    expect(sent(r, 1)).toHaveLength(1);
    await expect(r.session.send(0x20, 0n)).rejects.toMatchObject({ code: 'COPROC_CRASHED' });
  });

  it('B1: a hostile crashlog is parsed from the copy; the walk error is in the report', async () => {
    const bytes = new Uint8Array(0x1000);
    const dv = new DataView(bytes.buffer);
    dv.setUint32(0, 0x434c4845, true);
    dv.setUint32(4, 0x303, true);
    dv.setUint32(8, 0x100, true);
    dv.setUint32(0x20, 0x43737472, true);
    dv.setUint32(0x28, 0x100, true);
    dv.setUint32(0x2c, 0, true);
    const r = simRig({ profile: 'generic', faults: { crashlog: { bytes } } });
    const crashes: CrashEvent[] = [];
    r.session.on('crash', (e) => crashes.push(e));
    await r.session.boot();
    await sleep(r.clock, 5);
    r.cp.firmware.crash('B1');
    await sleep(r.clock, 5);
    expect(crashes[0]?.report?.walkError).toMatchObject({
      code: 'SECTION_SIZE_INVALID',
      offset: 0x20,
    });
    expect(crashes[0]?.report?.sections).toEqual([]);
  });

  it('a crash during boot rejects the boot with COPROC_CRASHED', async () => {
    // AP ON never acked; the firmware crashes 100 ms after RUN, buffers set up.
    const r = simRig({ profile: 'generic', faults: { withhold: ['ap-ack'], crashAfterMs: 100 } });
    const crashes: CrashEvent[] = [];
    r.session.on('crash', (e) => crashes.push(e));
    await expect(r.session.boot()).rejects.toMatchObject({ code: 'COPROC_CRASHED' });
    expect(crashes).toHaveLength(1);
    expect(r.session.crashed).toBe(true);
  });

  it('waitForBuffers: [1] → a crash right after boot() is reported', async () => {
    const r = simRig({ profile: 'generic', session: { waitForBuffers: [1, 2] } });
    const crashes: CrashEvent[] = [];
    r.session.on('crash', (e) => crashes.push(e));
    await r.session.boot();
    expect(r.session.buffers!.get(1)).toBeDefined();
    expect(r.session.buffers!.get(2)).toBeDefined();
    r.cp.firmware.crash('right after boot');
    await sleep(r.clock, 1);
    expect(crashes[0]?.report).toBeDefined();
  });

  it('a composed crashlog round-trips: the event has the raw bytes and the parsed report', async () => {
    const r = simRig({ profile: 'dcp' });
    const crashes: CrashEvent[] = [];
    r.session.on('crash', (e) => crashes.push(e));
    await r.session.boot();
    await sleep(r.clock, 5);
    r.cp.firmware.crash('round trip');
    await sleep(r.clock, 5);
    const e = crashes[0]!;
    const rec = r.cp.firmware.crashes[0]!;
    expect(e.log!.subarray(0, rec.bytes.length)).toEqual(rec.bytes);
    const cstr = e.report?.sections.find((x) => x.kind === 'Cstr');
    expect(cstr && 'text' in cstr ? cstr.text : '').toContain('round trip');
    expect(buildCrashlog).toBeTypeOf('function');
  });
});

describe('IOReport and OSLog', () => {
  it('IOReport 8 and 0xc are echoed exactly; our type 4 is matched with its echo', async () => {
    const r = simRig({ profile: 'generic' });
    const events: string[] = [];
    r.session.on('ioreport', (e) => events.push(`${e.action}:${hex(e.msg)}`));
    await r.session.boot();
    await sleep(r.clock, 2500);
    const fromIop = r.wire
      .filter((w) => w.ep === 4 && w.dir === 'iop->ap' && w.msg >> 52n !== 1n)
      .map((w) => w.msg);
    expect(fromIop.length).toBeGreaterThanOrEqual(2);
    expect(sent(r, 4).filter((w) => w >> 52n !== 1n)).toEqual(fromIop);
    await r.session.send(4, 0x0040000000000000n);
    await sleep(r.clock, 10);
    expect(events).toContain('echo-received:0x0040000000000000');
    expect(codes(r.warnings)).toEqual([]);
  });

  it('an IOP type 4 with none of ours outstanding is UNKNOWN_MESSAGE', async () => {
    const r = simRig({
      profile: 'generic',
      faults: { sends: [{ ep: 4, msg: 0x0040000000000000n, at: 'ap-on' }] },
    });
    await r.session.boot();
    await sleep(r.clock, 5);
    expect(codes(r.warnings)).toEqual(['UNKNOWN_MESSAGE']);
  });

  it('B33: an OSLog counter is echoed when [55:32] = 0 and a buffer exists', async () => {
    const r = simRig({
      profile: 'generic',
      faults: {
        sends: [
          { ep: 8, msg: 0x0200000000001234n, afterMs: 50 },
          { ep: 8, msg: 0x0200000100001234n, afterMs: 60 },
        ],
      },
      strict: false,
    });
    await r.session.boot();
    await sleep(r.clock, 100);
    expect(sent(r, 8)).toContain(0x0200000000001234n);
    expect(sent(r, 8)).not.toContain(0x0200000100001234n);
    expect(codes(r.warnings)).toEqual(['UNKNOWN_MESSAGE']);
  });

  it('upper type bits: decoded by [59:52] as a buffer request, plus RESERVED_BITS_SET', async () => {
    const r = simRig({
      profile: GENERIC_NO_CRASHLOG,
      faults: { sends: [{ ep: 1, msg: 0x1010100000000000n, at: 'ap-on' }] },
      strict: false,
    });
    await r.session.boot();
    await sleep(r.clock, 5);
    expect(codes(r.warnings)).toEqual(['RESERVED_BITS_SET']);
    expect(r.session.buffers!.get(1)).toBeDefined();
  });
});

describe('transport', () => {
  it('send space: a FIFO held full for 200 ms delays a request, no error', async () => {
    const r = simRig({ profile: 'generic', faults: { stall: { afterMs: 100, ms: 200 } } });
    await r.session.boot();
    const h = await r.session.openEndpoint(0x20);
    await sleep(r.clock, 100 - r.clock.now() + 2);
    const t0 = r.clock.now();
    expect(await h.request(7n, (w) => w === 7n)).toBe(7n);
    expect(r.clock.now() - t0).toBeGreaterThan(100);
  });

  it('B29b: a throwing handler → HANDLER_FAILED once, all messages delivered', async () => {
    const r = simRig({ profile: 'generic' });
    await r.session.boot();
    const h = await r.session.openEndpoint(0x20);
    const got: bigint[] = [];
    h.onMessage((w) => {
      got.push(w);
      if (got.length === 1) throw new Error('first call fails');
    });
    for (const w of [1n, 2n, 3n]) await h.send(w);
    await sleep(r.clock, 5);
    expect(got).toEqual([1n, 2n, 3n]);
    expect(codes(r.warnings)).toEqual(['HANDLER_FAILED']);
    expect(await h.request(9n, (w) => w === 9n)).toBe(9n);
  });

  it('a slow async handler delays later messages, never loses them', async () => {
    const r = simRig({ profile: 'generic' });
    await r.session.boot();
    const h = await r.session.openEndpoint(0x20);
    const log: string[] = [];
    h.onMessage(async (w) => {
      log.push(`start ${w}`);
      await sleep(r.clock, 50);
      log.push(`end ${w}`);
    });
    for (const w of [1n, 2n, 3n]) await h.send(w);
    await sleep(r.clock, 500);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });

  it('app send before boot → NOT_RUNNING, nothing written', async () => {
    const r = simRig({ profile: 'generic' });
    await expect(r.session.send(0x20, 1n)).rejects.toMatchObject({ code: 'NOT_RUNNING' });
    expect(sent(r)).toEqual([]);
  });
});
