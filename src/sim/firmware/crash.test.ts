// Crashes: the firmware writes a valid crashlog (PROTOCOL.md §7) into its crashlog buffer through
// the DmaPort, never more than the buffer, then sends the EP1 notification with the buffer's SIZE
// and IOVA (§5.1). Its Cmbx section is the firmware's real mailbox history.

import { describe, expect, it } from 'vitest';
import {
  type CmbxSection,
  type CrashlogSection,
  type CrashReport,
  parseCrashlog,
  parseRtkitVersion,
} from '../../crashlog/index.js';
import { PowerState } from '../../protocol/index.js';
import { getProfile } from '../profiles/index.js';
import type { FakeDmaPort } from './testing/fake-dma.js';
import { setup } from './testing/setup.js';
import type { CrashRecord } from './types.js';

function section<K extends CrashlogSection['kind']>(
  r: CrashReport,
  kind: K,
): Extract<CrashlogSection, { kind: K }> {
  const s = r.sections.find((x) => x.kind === kind);
  if (s === undefined) throw new Error(`no ${kind}`);
  return s as Extract<CrashlogSection, { kind: K }>;
}

function readBack(c: CrashRecord, mem: { peek(a: number, n: number): Uint8Array }): CrashReport {
  const buf = mem.peek(c.buffer!.addr, c.buffer!.bytes);
  const r = parseCrashlog(buf);
  if (!r.ok) throw r.error;
  return r.report;
}

describe('crash on demand', () => {
  it('writes a crashlog that parses to the same sections, then notifies with SIZE and IOVA', () => {
    const { host, fw, dma } = setup(getProfile('ans'));
    host.bootLinux();
    host.advance(3000);
    host.send(0, 0x0030000000000042n);
    host.advance(1);
    fw.crash('ASSERT failed: nvme queue stuck', { kind: 'serror' });
    const c = fw.crashes[0]!;
    expect(c.written).toBe(true);
    expect(c.notified).toBe(true);
    const b = host.buffers.get(1)!;
    expect(c.buffer).toEqual({ addr: b.addr, bytes: 3 * 0x1000, mode: 'host' });
    expect(host.crash?.m).toEqual({ kind: 'crashNotification', size: 3, iova: b.addr });
    expect(c.bytes.length).toBeLessThanOrEqual(b.bytes);

    const report = readBack(c, dma);
    expect(report.warnings).toEqual([]);
    expect(report.sections.map((s) => s.kind)).toEqual([
      'Cstr',
      'Cver',
      'Ctim',
      'Crg8',
      'Cmbx',
      'Ccst',
      'Crtk',
      'CasC',
    ]);
    expect(section(report, 'Cstr').text).toBe('ASSERT failed: nvme queue stuck\n');
    const cver = section(report, 'Cver');
    expect(cver.version).toBe(getProfile('ans').crash.versionString);
    expect(parseRtkitVersion(cver.version)).toBeDefined();
    const crg8 = section(report, 'Crg8');
    expect(crg8.el).toBe('EL1h');
    expect(crg8.esrClass).toBe(0x2f);
    const crtk = section(report, 'Crtk');
    expect(crtk.tasks.filter((t) => t.faulting)).toHaveLength(1);
    expect(section(report, 'Ccst').taskId).toBe(crtk.tasks.find((t) => t.faulting)!.id);

    // Cmbx = the tail of the firmware's history: same endpoints, messages, stamps, directions.
    const cmbx = section(report, 'Cmbx');
    const tail = c.history;
    expect(tail.length).toBeGreaterThan(20);
    expect(cmbx.entries.map((e) => [e.ep, e.msg, e.timestamp, e.dir])).toEqual(
      tail.map((e) => [e.ep, e.msg, e.timestamp, e.dir]),
    );
    // The notification is sent after the dump was written: it is the one newer entry.
    expect(tail).toEqual(fw.history.slice(-tail.length - 1, -1));
    expect(fw.history.at(-1)).toMatchObject({ ep: 1, msg: host.crash!.msg, dir: 'iop->ap' });
    // The history holds both directions in order: the PING (odd stamp) then the PONG (even).
    const ping = cmbx.entries.findIndex((e) => e.msg === 0x0030000000000042n);
    expect(cmbx.entries[ping]!.dir).toBe('ap->iop');
    expect(cmbx.entries[ping]!.timestamp % 2n).toBe(1n);
    expect(cmbx.entries[ping + 1]).toMatchObject({ msg: 0x0040000000000042n, dir: 'iop->ap' });
    expect(cmbx.entries[ping + 1]!.timestamp % 2n).toBe(0n);
    for (let i = 1; i < cmbx.entries.length; i++) {
      expect(cmbx.entries[i]!.timestamp).toBeGreaterThan(cmbx.entries[i - 1]!.timestamp);
    }
    // Crash time in the same timebase, after the last mailbox entry (fixture #142).
    expect(section(report, 'Ctim').time).toBeGreaterThanOrEqual(cmbx.entries.at(-1)!.timestamp);
  });

  it('is dead after the crash until a CPU reset', () => {
    const { host, fw, port } = setup(getProfile('generic'));
    host.bootLinux();
    host.advance(10);
    fw.crash();
    const n = host.received.length;
    host.send(0, 0x0030000000000001n);
    host.advance(3000);
    expect(host.received.length).toBe(n);
    expect(fw.state.cpu).toBe('crashed');
    port.setRun(false);
    port.a2i.length = 0;
    host.reinit();
    host.bootLinux();
    expect(fw.state.cpu).toBe('running');
    expect(fw.history.length).toBeGreaterThan(0);
    expect(fw.history[0]!.msg).toBe(0x00100000000c000bn);
  });

  it('never writes more than the buffer: a 1-page generic crashlog is trimmed to fit', () => {
    const { host, fw, dma } = setup(getProfile('generic'));
    host.bootLinux();
    host.advance(20_000);
    expect(fw.history.length).toBe(128);
    fw.crash('too much history');
    const c = fw.crashes[0]!;
    expect(c.bytes.length).toBeLessThanOrEqual(0x1000);
    expect(c.history.length).toBeLessThan(128);
    const report = readBack(c, dma);
    expect(section(report, 'Cmbx').entries).toHaveLength(c.history.length);
    expect(report.warnings).toEqual([]);
  });

  it('crashes on m1n1 debug values 0x40 / 0x22 on EP1', () => {
    for (const [code, kind] of [
      [0x40n, 'panic'],
      [0x22n, 'abort'],
    ] as const) {
      const { host, fw } = setup(getProfile('generic'));
      host.bootLinux();
      host.advance(5);
      host.send(1, code);
      expect(fw.crashes[0]).toMatchObject({ cause: 'host-trigger', kind });
      expect(host.kinds('crashNotification')).toHaveLength(1);
    }
    const off = setup(getProfile('generic'), { crashTriggers: false });
    off.host.bootLinux();
    off.host.advance(5);
    off.host.send(1, 0x40n);
    expect(off.fw.crashes).toEqual([]);
    expect(off.fw.violations.map((v) => v.code)).toEqual(['UNKNOWN_MESSAGE']);
  });

  it('crash before the host answered the buffer request: notification with IOVA 0 (B13)', () => {
    const { host, fw } = setup(getProfile('generic'), { host: { serveBuffers: false } });
    host.bootLinux();
    host.advance(5);
    fw.crash('early');
    const c = fw.crashes[0]!;
    expect(c.written).toBe(false);
    expect(c.notified).toBe(true);
    expect(host.received.filter((r) => r.ep === 1).map((r) => r.msg)).toEqual([
      0x0010100000000000n,
      0x0010100000000000n,
    ]);
  });

  it('crash before EP1 was started: nothing to notify, the firmware just dies', () => {
    const { host, fw } = setup(getProfile('generic'));
    host.bootLinux({ eps: [2, 4] });
    host.advance(5);
    fw.crash('no crashlog endpoint');
    expect(fw.crashes[0]).toMatchObject({ written: false, notified: false });
    expect(host.received.filter((r) => r.ep === 1)).toEqual([]);
  });

  it('DCP writes into its firmware-owned buffer; SMC into SRAM', () => {
    const dcp = setup(getProfile('dcp'));
    dcp.host.bootLinux();
    dcp.host.advance(100);
    dcp.fw.crash('DCP panic');
    const c = dcp.fw.crashes[0]!;
    expect(c.buffer?.mode).toBe('firmware');
    const b = dcp.host.buffers.get(1)!;
    expect(b.hostAllocated).toBe(false);
    expect(dcp.host.crash?.m).toEqual({ kind: 'crashNotification', size: 3, iova: b.addr });
    expect(readBack(c, dcp.dma).sections.length).toBe(8);

    const smc = setup(getProfile('smc'));
    smc.host.bootLinux();
    smc.host.advance(100);
    smc.fw.crash('SMC panic');
    const s = smc.fw.crashes[0]!;
    expect(s.buffer?.mode).toBe('sram');
    const sram = smc.sram!;
    const mem = {
      peek: (a: number, n: number) => sram.bytes.slice(a - sram.base, a - sram.base + n),
    };
    expect(section(readBack(s, mem), 'Cver').version).toContain('smc');
  });

  it('an application can crash the firmware through its services', () => {
    let crash: ((r: string) => void) | undefined;
    const app = {
      ep: 0x20,
      name: 'crasher',
      start(fw: { crash(r: string): void }) {
        crash = (r) => fw.crash(r);
      },
      stop() {},
      message() {
        crash?.('app says no');
      },
    };
    const { host, fw } = setup(getProfile('generic'), { apps: [app] });
    host.bootLinux();
    host.advance(5);
    host.sendMsg(0, { kind: 'startEndpoint', endpoint: 0x20 });
    host.send(0x20, 1n);
    expect(fw.crashes[0]).toMatchObject({ cause: 'application', reason: 'app says no' });
    expect(fw.state.apState).toBe(PowerState.On);
  });

  it('a failing DmaPort: crash reported without a log (B12 from the firmware side)', () => {
    const { host, fw, dma } = setup(getProfile('generic'));
    host.bootLinux();
    host.advance(5);
    (dma as FakeDmaPort).failAll = true;
    fw.crash('x');
    expect(fw.crashes[0]).toMatchObject({ written: false, notified: true });
    expect(fw.violations.map((v) => v.code)).toEqual(['DMA_FAULT']);
  });

  it('the Cmbx of a parsed crash is the CmbxSection type', () => {
    const { host, fw, dma } = setup(getProfile('mtp'));
    host.bootLinux();
    host.advance(50);
    fw.crash('mtp');
    const cmbx: CmbxSection = section(readBack(fw.crashes[0]!, dma), 'Cmbx');
    expect(cmbx.mailboxError).toBe(0);
  });
});
