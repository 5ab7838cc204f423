// Fault injection: every fault kind, shown by its effect on the wire (the fake IopPort), plus the
// compact string grammar. Values in comments are the ROBUSTNESS.md recipes they produce.

import { describe, expect, it } from 'vitest';
import { parseCrashlog } from '../crashlog/index.js';
import { isRtkitError } from '../errors.js';
import { decode, PowerState } from '../protocol/index.js';
import {
  BOOT_STEPS,
  FaultInjector,
  type FaultSpec,
  formatFaultSpec,
  parseFaultSpec,
} from './faults.js';
import { setup } from './firmware/testing/setup.js';
import { getProfile } from './profiles/index.js';

function rig(faults: string | FaultSpec, o: Parameters<typeof setup>[1] = {}, profile = 'generic') {
  return setup(getProfile(profile as 'generic'), { faults, ...o });
}

const words = (host: { received: readonly { ep: number; msg: bigint }[] }, ep: number) =>
  host.received.filter((r) => r.ep === ep).map((r) => r.msg);

describe('fault spec grammar', () => {
  it('parses the compact string form', () => {
    const spec = parseFaultSpec(
      'seed=42; drop:ep=2,type=5,count=1; delay:ms=50; dup:ep=0x0,copies=2,dir=in; ' +
        'corrupt:bit=3,p=0.5,skip=1; withhold=iop-ack; no-iop-ack; version=13-14; crash-at=epmap; ' +
        'crash-after=250; buffer:ep=2,pages=255,iova=collide,repeat=20; ' +
        'syslog-init:repeat=2,count=4,size=0x80; syslog-reinit:count=8,size=0x40; ' +
        'syslog-index:index=0xff,after=3; hostile:ms=10,count=100,eps=any',
    );
    expect(spec).toEqual({
      seed: 42,
      messages: [
        { ep: 2, type: 5, count: 1, action: 'drop' },
        { action: 'delay', ms: 50 },
        { ep: 0, dir: 'in', action: 'duplicate', copies: 2 },
        { probability: 0.5, skip: 1, action: 'corrupt', bit: 3 },
      ],
      withhold: ['iop-ack', 'iop-ack'],
      version: { min: 13, max: 14 },
      crashAt: 'epmap',
      crashAfterMs: 250,
      buffers: [{ ep: 2, pages: 255, iova: 'collide', repeat: 20 }],
      syslogInit: { repeat: 2, entryCount: 4, messageSize: 0x80 },
      syslogReinit: { entryCount: 8, messageSize: 0x40 },
      syslogIndex: [{ index: 0xff, after: 3 }],
      hostile: { intervalMs: 10, count: 100, endpoints: 'any' },
    });
    expect(parseFaultSpec('crash-at=3').crashAt).toBe(3);
    expect(parseFaultSpec('corrupt:xor=0x10').messages).toEqual([
      { action: 'corrupt', xor: 0x10n },
    ]);
    expect(parseFaultSpec('version=12')).toEqual({ version: { min: 12, max: 12 } });
    expect(parseFaultSpec('')).toEqual({});
  });

  it('formats back to a string that parses to the same spec', () => {
    const text =
      'seed=1;drop:ep=2,type=5,count=1;delay:ms=5,dir=both;dup:copies=3;corrupt:xor=0x4,ep=0;' +
      'withhold=ap-ack;version=13-14;crash-at=iop-ack;buffer:ep=1,pages=0;buffer:ep=4,iova=0x1000;' +
      'syslog-init:repeat=2;syslog-reinit:count=8,size=0x40;syslog-index;hostile:count=5';
    const spec = parseFaultSpec(text);
    expect(parseFaultSpec(formatFaultSpec(spec))).toEqual(spec);
  });

  it('rejects malformed specs with BAD_INPUT', () => {
    for (const bad of [
      'explode',
      'drop:dir=sideways',
      'drop:colour=red',
      'crash-at=nowhere',
      'crash-at=99',
      'withhold=everything',
      'delay:ms=soon',
      'version=a-b',
      'buffer:pages=1',
      'hostile:eps=some',
      'corrupt:xor=-1',
    ]) {
      let err: unknown;
      try {
        parseFaultSpec(bad);
      } catch (e) {
        err = e;
      }
      expect(isRtkitError(err, 'BAD_INPUT'), bad).toBe(true);
    }
  });

  it('names the boot steps in boot order', () => {
    expect(BOOT_STEPS[0]).toBe('hello');
    expect(BOOT_STEPS.at(-1)).toBe('first-log');
  });
});

describe('message faults', () => {
  it('drop: the first syslog LOG never reaches the wire; the firmware stalls waiting', () => {
    const { host, fw } = rig('drop:ep=2,type=5,count=1');
    host.bootLinux();
    host.advance(3000);
    expect(host.kinds('syslogLog')).toHaveLength(0);
    expect(fw.state.syslogOutstanding).toBe(0x0050000000000000n);
    expect(fw.violations.map((v) => v.code)).toEqual(['MISSING_ECHO']);
    expect(fw.faults!.applied.map((a) => a.fault)).toEqual(['drop']);
  });

  it('drop dir=in: the firmware loses the host PING (no PONG)', () => {
    const { host } = rig('drop:ep=0,type=3,dir=in');
    host.bootLinux();
    host.send(0, 0x0030000000000001n);
    host.advance(100);
    expect(host.kinds('pong')).toHaveLength(0);
  });

  it('delay: the end-of-boot IOP ack arrives 50 ms late', () => {
    const { host } = rig('delay:ms=50,ep=0,type=7');
    host.bootLinux();
    const lastReply = host.port.hostSent.findIndex((m) => m.msg === 0x0088000100000000n);
    expect(lastReply).toBeGreaterThan(0);
    const epmapTime = host.kinds('epmap').at(-1)!.time;
    expect(host.kinds('iopPowerStateAck')[0]!.time - epmapTime).toBeCloseTo(50, 5);
  });

  it('duplicate: one PING, two PONGs', () => {
    const { host } = rig('dup:ep=0,type=4');
    host.bootLinux();
    host.send(0, 0x0030000000000005n);
    host.advance(1);
    expect(host.kinds('pong').map((r) => r.msg)).toEqual([
      0x0040000000000005n,
      0x0040000000000005n,
    ]);
  });

  it('corrupt: XOR mask, or a seeded random bit', () => {
    const a = rig('corrupt:ep=0,type=4,xor=0x1');
    a.host.bootLinux();
    a.host.send(0, 0x0030000000000004n);
    a.host.advance(1);
    expect(a.host.kinds('pong')[0]!.msg).toBe(0x0040000000000005n);

    const flips = [1, 2].map(() => {
      const r = rig('seed=9;corrupt:ep=0,type=1');
      r.host.port.setRun(true);
      r.host.advance(2);
      return r.host.received[0]!.msg;
    });
    expect(flips[0]).toBe(flips[1]);
    const diff = flips[0]! ^ 0x00100000000c000bn;
    expect(diff.toString(2).replace(/0/g, '')).toBe('1');
  });

  it('count, skip and probability select which matches are hit', () => {
    const { host } = rig('drop:ep=0,type=4,skip=1,count=2');
    host.bootLinux();
    for (let i = 1; i <= 5; i++) host.send(0, 0x0030000000000000n + BigInt(i));
    host.advance(1);
    expect(host.kinds('pong').map((r) => (r.m as { cookie: number }).cookie)).toEqual([1, 4, 5]);

    const p = rig('seed=3;drop:ep=0,type=4,p=0.5');
    p.host.bootLinux();
    for (let i = 0; i < 200; i++) p.host.send(0, 0x0030000000000000n + BigInt(i));
    p.host.advance(1);
    const n = p.host.kinds('pong').length;
    expect(n).toBeGreaterThan(60);
    expect(n).toBeLessThan(140);
  });
});

describe('withheld messages (ROBUSTNESS B19/B20)', () => {
  it('withhold=hello: no HELLO after RUN', () => {
    const { host } = rig('withhold=hello');
    host.port.setRun(true);
    host.advance(3000);
    expect(host.received).toEqual([]);
  });

  it('no-iop-ack: EPMAP completes, the IOP ack never comes', () => {
    const { host, fw } = rig('no-iop-ack');
    expect(() => host.bootLinux()).toThrow(/IOP ack ON/);
    expect(host.kinds('epmap').length).toBeGreaterThan(0);
    expect(host.kinds('iopPowerStateAck')).toHaveLength(0);
    expect(fw.state.handshake).toBe('done');
  });

  it('withhold=ap-ack: AP ON is never acked', () => {
    const { host } = rig('withhold=ap-ack');
    expect(() => host.bootLinux()).toThrow(/AP ack/);
    expect(host.kinds('iopPowerStateAck')).toHaveLength(1);
    expect(host.kinds('apPowerStateAck')).toHaveLength(0);
  });

  it('withhold=power-down-ack: the shutdown IOP ack never comes', () => {
    const { host } = rig('withhold=power-down-ack');
    host.bootLinux();
    host.setAp(PowerState.Quiesced);
    expect(() => host.setIop(PowerState.Sleep)).toThrow(/IOP ack/);
  });
});

describe('boot faults', () => {
  it('version=13-14: HELLO 0x00100000000e000d (B31); any ack of 11/12 is a BAD_VERSION', () => {
    const { host, fw } = rig('version=13-14');
    host.port.setRun(true);
    host.advance(2);
    expect(host.received[0]!.msg).toBe(0x00100000000e000dn);
    host.send(0, 0x00200000000c000cn);
    expect(fw.violations.map((v) => v.code)).toEqual(['BAD_VERSION']);
    expect(host.kinds('epmap')).toHaveLength(0);
  });

  it('crash-at=<step>: crashes at every named boot step', () => {
    for (const step of BOOT_STEPS) {
      const { host, fw } = rig(`crash-at=${step}`);
      try {
        host.bootLinux();
      } catch {
        // Booting stops at the crash.
      }
      host.advance(5000);
      expect(fw.crashes, step).toHaveLength(1);
      expect(fw.crashes[0]!.reason).toContain(`"${step}"`);
      expect(fw.crashes[0]!.cause).toBe('fault-injection');
    }
  });

  it('crash-at=N indexes BOOT_STEPS; crash-after=ms crashes at that virtual time', () => {
    const a = rig('crash-at=2');
    a.host.port.setRun(true);
    a.host.advance(2);
    a.host.sendMsg(0, { kind: 'helloAck', minVersion: 12, maxVersion: 12 });
    expect(a.fw.crashes[0]!.reason).toContain('"epmap"');

    const b = rig('crash-after=250');
    b.host.bootLinux();
    b.host.advance(1000);
    expect(b.fw.crashes[0]!.time).toBe(250);
    expect(b.host.kinds('crashNotification')).toHaveLength(1);
  });
});

describe('buffer faults', () => {
  it('pages=0 on EP1: 0x0010000000000000 (B13), no reply from a careful host', () => {
    const { host, fw } = rig('buffer:ep=1,pages=0');
    host.bootLinux();
    host.advance(5);
    expect(words(host, 1)).toEqual([0x0010000000000000n]);
    fw.crash('after size 0');
    expect(words(host, 1)).toEqual([0x0010000000000000n, 0x0010000000000000n]);
  });

  it('pages=255: 0x001ff00000000000 (B8 setup)', () => {
    const { host } = rig('buffer:ep=1,pages=255');
    host.bootLinux();
    host.advance(5);
    expect(words(host, 1)[0]).toBe(0x001ff00000000000n);
  });

  it('repeat=20: twenty identical requests; twenty replies are all accepted (B11)', () => {
    const { host, fw } = rig('buffer:ep=2,repeat=20');
    host.bootLinux();
    host.advance(100);
    expect(host.kinds('syslogBufferRequest').map((r) => r.msg)).toEqual(
      Array(20).fill(0x0010300000000000n),
    );
    const replies = host.port.hostSent.filter(
      (m) => decode(m.ep, m.msg, { dir: 'ap->iop' }).kind === 'syslogBufferReply',
    );
    expect(replies).toHaveLength(20);
    expect(fw.violations).toEqual([]);
  });

  it('iova=collide: DCP asks for two buffers at the same IOVA', () => {
    const { host } = rig('buffer:ep=2,iova=collide', {}, 'dcp');
    host.bootLinux();
    host.advance(5);
    const crash = host.kinds('crashlogBufferRequest')[0]!.m as { iova: number };
    const sys = host.kinds('syslogBufferRequest')[0]!.m as { iova: number };
    expect(sys.iova).toBe(crash.iova);
  });

  it('iova=outside: past the firmware window (DCP) or the SRAM (SMC)', () => {
    const d = rig('buffer:ep=4,iova=outside', {}, 'dcp');
    d.host.bootLinux();
    d.host.advance(5);
    const w = getProfile('dcp').placement.firmwareIovaWindow!;
    expect((d.host.kinds('ioreportBufferRequest')[0]!.m as { iova: number }).iova).toBe(
      w.base + w.size,
    );
    const s = rig('buffer:ep=1,iova=outside', {}, 'smc');
    s.host.bootLinux();
    s.host.advance(5);
    expect((s.host.kinds('crashlogBufferRequest')[0]!.m as { iova: number }).iova).toBe(
      0x2_3fe0_0000 + 0x10_0000,
    );
    // A crash then writes outside: refused by the port, recorded, still notified.
    s.fw.crash('x');
    expect(s.fw.crashes[0]).toMatchObject({ written: false, notified: true });
    expect(s.fw.violations.map((v) => v.code)).toEqual(['DMA_FAULT']);
  });

  it('iova=<number> on a host-mode endpoint turns the request firmware-owned (B24 setup)', () => {
    const { host } = rig('buffer:ep=2,iova=0x801000000');
    host.bootLinux();
    host.advance(5);
    expect(host.kinds('syslogBufferRequest')[0]!.msg).toBe(0x0010300801000000n);
  });
});

describe('syslog faults', () => {
  it('syslog-init:repeat=2 sends INIT twice', () => {
    const { host } = rig('syslog-init:repeat=2');
    host.bootLinux();
    host.advance(5);
    expect(host.kinds('syslogInit').map((r) => r.msg)).toEqual([
      0x0080000080000040n,
      0x0080000080000040n,
    ]);
  });

  it('syslog-init with another geometry: count 4, size 0x80 → 0x0080000080000004 (B9)', () => {
    const { host } = rig('syslog-init:count=4,size=0x80');
    host.bootLinux();
    host.advance(5);
    expect(host.kinds('syslogInit')[0]!.msg).toBe(0x0080000080000004n);
    host.advance(3000);
    const idx = host.kinds('syslogLog').map((r) => (r.m as { index: number }).index);
    expect(Math.max(...idx)).toBe(3);
  });

  it('syslog-reinit: INIT 4×0x80 then INIT 8×0x40, entries use the new stride (B11)', () => {
    const { host } = rig('syslog-init:count=4,size=0x80;syslog-reinit:count=8,size=0x40');
    host.bootLinux();
    host.advance(3000);
    expect(host.kinds('syslogInit').map((r) => r.msg)).toEqual([
      0x0080000080000004n,
      0x0080000040000008n,
    ]);
    expect(host.syslogFailures).toEqual([]);
    expect(host.syslog[1]!.offset).toBe(0x60);
  });

  it('syslog-index: one LOG with index = entry count (B9), echoed, then normal LOGs', () => {
    const { host, fw } = rig('syslog-index');
    host.bootLinux();
    host.advance(1000);
    const logs = host.kinds('syslogLog').map((r) => r.msg);
    expect(logs[0]).toBe(0x0050000000000040n);
    expect(logs[1]).toBe(0x0050000000000000n);
    expect(host.syslogFailures).toEqual(['SYSLOG_INDEX_OUT_OF_RANGE']);
    expect(fw.violations).toEqual([]);
  });
});

describe('hostile mode', () => {
  it('sends seeded random words on random endpoints', () => {
    const run = () => {
      const r = rig('seed=5;hostile:ms=5,count=40,eps=any');
      r.host.port.setRun(true);
      r.host.advance(1000);
      return r.fw.faults!.applied.filter((a) => a.fault === 'hostile').map((a) => a.detail);
    };
    const a = run();
    expect(a).toHaveLength(40);
    expect(run()).toEqual(a);
    expect(new Set(a.map((d) => d.split(' ')[1])).size).toBeGreaterThan(10);
  });

  it('eps=discovered stays on the endpoint map once there is one', () => {
    const r = rig('seed=5;hostile:ms=5,count=40');
    r.host.bootLinux();
    r.host.advance(1000);
    const eps = r.host.received.slice(8).map((m) => m.ep);
    for (const ep of eps) expect([0, 1, 2, 3, 4, 8, 0x20]).toContain(ep);
  });

  it('accepts a prepared injector', () => {
    const inj = new FaultInjector({ version: { min: 9, max: 9 } });
    const { host } = setup(getProfile('generic'), { faults: inj });
    host.port.setRun(true);
    host.advance(2);
    expect(host.received[0]!.msg).toBe(0x0010000000090009n);
    expect(inj.applied[0]!.fault).toBe('version');
  });
});

describe('ROBUSTNESS recipes the simulator can produce', () => {
  const hexOf = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

  it('B1: a crafted crashlog (zero-size section) written instead of the dump', () => {
    const buf = new Uint8Array(0x40);
    buf.set([0x45, 0x48, 0x4c, 0x43, 3, 3, 0, 0, 0x00, 0x01, 0, 0], 0); // HDR(0x100)
    buf.set([0x72, 0x74, 0x73, 0x43, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], 0x20); // SEC(Cstr, 0)
    const { host, fw, dma } = rig(`crashlog:hex=${hexOf(buf)}`);
    host.bootLinux();
    host.advance(5);
    fw.crash('B1');
    const b = host.buffers.get(1)!;
    expect(dma.peek(b.addr, 0x40)).toEqual(buf);
    const r = parseCrashlog(dma.peek(b.addr, b.bytes));
    expect(r.ok && r.report.walkError?.code).toBe('SECTION_SIZE_INVALID');
  });

  it('B22 variant: total size larger than the buffer; typed section values', () => {
    const a = rig('crashlog:total=0x2000');
    a.host.bootLinux();
    a.host.advance(5);
    a.fw.crash('B22');
    const b = a.host.buffers.get(1)!;
    const r = parseCrashlog(a.dma.peek(b.addr, b.bytes));
    expect(r.ok && r.report.warnings.map((w) => w.code)).toContain('CRASHLOG_SIZE_CLAMPED');

    const t = rig({ crashlog: { input: { sections: [{ kind: 'Cstr', id: 0, text: 'boom\n' }] } } });
    t.host.bootLinux();
    t.host.advance(5);
    t.fw.crash('typed');
    const tb = t.host.buffers.get(1)!;
    const tr = parseCrashlog(t.dma.peek(tb.addr, tb.bytes));
    expect(tr.ok && tr.report.sections.map((s) => s.kind)).toEqual(['Cstr']);
  });

  it('B8: crash notification claiming 255 pages for a 1-page buffer', () => {
    const { host, fw } = rig('crash-notify:pages=255');
    host.bootLinux();
    host.advance(5);
    fw.crash('B8');
    const a = host.buffers.get(1)!.addr;
    expect(host.crash!.msg).toBe(0x001ff00000000000n | BigInt(a));
  });

  it('B9: INIT count 4, then LOG 4, LOG 200 and LOG 3', () => {
    const { host } = rig(
      'syslog-init:count=4,size=0x80;syslog-index:index=4;syslog-index:index=200;syslog-index:index=3',
      { background: false },
    );
    host.bootLinux();
    host.advance(5);
    expect(host.kinds('syslogInit').map((r) => r.msg)).toEqual([0x0080000080000004n]);
    expect(host.kinds('syslogLog').map((r) => r.msg)).toEqual([
      0x0050000000000004n,
      0x00500000000000c8n,
      0x0050000000000003n,
    ]);
  });

  it('B10: INIT count 1, size 0, then LOG 0', () => {
    const { host } = rig('syslog-init:count=1,size=0;syslog-index:index=0', { background: false });
    host.bootLinux();
    host.advance(5);
    expect(host.kinds('syslogInit')[0]!.msg).toBe(0x0080000000000001n);
    expect(host.kinds('syslogLog').map((r) => r.msg)).toEqual([0x0050000000000000n]);
  });

  it('B11: 20 identical requests, then a 2-page request', () => {
    const { host } = rig('buffer:ep=2,pages=1,repeat=20,then=2');
    host.bootLinux();
    host.advance(5);
    expect(host.kinds('syslogBufferRequest').map((r) => r.msg)).toEqual([
      ...Array(20).fill(0x0010100000000000n),
      0x0010200000000000n,
    ]);
  });

  it('B16: nine repeated EPMAP blocks, then EP 0x20 last', () => {
    const { host, fw } = rig('epmap:words=0x00800000ffffffff*9+0x0088000100000001');
    host.bootLinux();
    expect(host.kinds('epmap').map((r) => r.msg)).toEqual([
      ...Array(9).fill(0x00800000ffffffffn),
      0x0088000100000001n,
    ]);
    // The host saw 0–31 (bit 0 included) and 0x20; the firmware does not count management.
    expect(new Set(host.endpoints).size).toBe(33);
    expect(fw.state.endpoints).toEqual([...Array.from({ length: 31 }, (_, i) => i + 1), 0x20]);
    expect(fw.violations).toEqual([]);
  });

  it('B26 / B39: EPMAP with endpoint 64, 255, or unknown system endpoints 5 and 9', () => {
    for (const [word, eps] of [
      [0x0088000200000001n, [64]],
      [0x0088000780000000n, [255]],
      [0x008800000000033en, [1, 2, 3, 4, 5, 8, 9]],
    ] as const) {
      const { host, fw } = rig(`epmap:words=0x${word.toString(16)}`);
      host.bootLinux();
      expect(fw.state.endpoints).toEqual(eps);
      if (eps[0]! >= 64) {
        host.sendMsg(0, { kind: 'startEndpoint', endpoint: eps[0]! });
        expect(fw.state.started).toEqual([eps[0]]);
      }
      expect(fw.violations).toEqual([]);
    }
  });

  it('B23 b/c: an empty message from test.c:1; a LOG before any INIT', () => {
    const b = rig('log:file=test.c,line=1,text=', { background: false });
    b.host.bootLinux();
    b.host.advance(5);
    expect(b.host.syslog.at(-1)).toMatchObject({ context: 'test.c:1', message: '' });

    const c = rig('syslog-init:never;syslog-index:index=0', { background: false });
    c.host.bootLinux();
    c.host.advance(5);
    expect(c.host.kinds('syslogInit')).toHaveLength(0);
    expect(c.host.kinds('syslogLog').map((r) => r.msg)).toEqual([0x0050000000000000n]);
    expect(c.fw.violations).toEqual([]);
  });

  it('B24: firmware-owned syslog at 0x801000000, INIT 4 × 0x80, LOG 0', () => {
    const { host } = rig(
      'buffer:ep=2,pages=1,iova=0x801000000;syslog-init:count=4,size=0x80;syslog-index:index=0',
      { background: false },
    );
    host.bootLinux();
    host.advance(5);
    const ep2 = host.received.filter((r) => r.ep === 2).map((r) => r.msg);
    expect(ep2).toEqual([0x0010100801000000n, 0x0080000080000004n, 0x0050000000000000n]);
  });

  it('B28: IOP SLEEP acked as 0x10', () => {
    const { host } = rig('ack:iop=0x10,count=1');
    host.bootLinux();
    host.setAp(PowerState.Quiesced);
    expect(host.setIop(PowerState.Sleep).msg).toBe(0x0070000000000010n);
  });

  it('B29 a: 10 000 LOGs back to back', () => {
    const { host, fw } = rig('syslog-burst:count=10000', { background: false });
    host.bootLinux();
    host.advance(5);
    expect(host.syslog).toHaveLength(10_000);
    expect(host.syslog.at(-1)!.message).toBe('burst entry 9999');
    expect(fw.violations).toEqual([]);
  });

  it('B30 / send space: A2I stays FULL after the LAST EPMAP reply, or for 200 ms', () => {
    const a = rig('stall:at=epmap-done');
    expect(() => a.host.bootLinux()).toThrow(/AP ack/);
    for (let i = 0; i < 20; i++) a.host.send(0, 0x0030000000000000n + BigInt(i));
    a.host.advance(1000);
    expect(a.port.a2i).toHaveLength(16);
    expect(a.host.pendingSends).toBeGreaterThan(0);

    const b = rig('stall:at=ap-on,ms=200');
    b.host.bootLinux();
    const t = b.clock.now();
    b.host.send(0, 0x0030000000000001n);
    const pong = b.host.waitKind('pong');
    expect(pong.time - t).toBeCloseTo(200, 5);
  });

  it('B32 / B33 / drain: raw words at a boot step', () => {
    const a = rig('send:ep=0x25,msg=0x1,at=ap-on');
    a.host.bootLinux();
    expect(a.host.received.filter((r) => r.ep === 0x25).map((r) => r.msg)).toEqual([1n]);

    const b = rig(
      'send:ep=8,msg=0x0200000000001234,at=buffer-reply;send:ep=8,msg=0x0200000100001234,after=50',
    );
    b.host.bootLinux();
    b.host.advance(100);
    expect(b.host.received.filter((r) => r.ep === 8).map((r) => r.msg)).toContain(
      0x0200000100001234n,
    );

    const c = rig('send:ep=0x20,msg=0x1,count=16,at=ap-on', { host: { irq: false } });
    c.host.port.setRun(true);
    c.host.advance(2);
    c.host.sendMsg(0, { kind: 'helloAck', minVersion: 12, maxVersion: 12 });
    c.host.pump();
    c.host.sendMsg(0, { kind: 'epmapReply', base: 0, last: false, more: true });
    c.host.pump();
    c.host.sendMsg(0, { kind: 'epmapReply', base: 1, last: true, more: false });
    c.host.pump();
    c.host.sendMsg(0, { kind: 'setApPowerState', state: PowerState.On });
    expect(c.port.i2a.filter((m) => m.ep === 0x20)).toHaveLength(15);
    c.host.pump();
    expect(c.host.received.filter((r) => r.ep === 0x20)).toHaveLength(16);
  });
});
