/**
 * A minimal hand-written RTKit host for the simulator's acceptance tests and benchmarks. It touches the
 * simulated SoC only through registers (`soc.mmio`, the register-level mailbox driver, the
 * interrupt lines) and through the memory units a real host driver programs (DART, SART, DRAM),
 * and follows the orderings of PROTOCOL.md §4.2 (Linux) and §4.3 (m1n1). It is deliberately
 * small; the real host library is issue 4.
 */

import { sleep } from '../../clock.js';
import { setAscCpuRun } from '../../mailbox/asc-cpu.js';
import { AscMailboxDriver } from '../../mailbox/asc-driver.js';
import type { MailboxMessage } from '../../mailbox/types.js';
import { type Direction, decode, encode, type Message } from '../../protocol/index.js';
import type { SimCoprocessor, SimSoc } from '../soc.js';

export type Ordering = 'linux' | 'm1n1';

interface Received {
  ep: number;
  msg: bigint;
  m: Message;
}

/** A host buffer served to the firmware. */
export interface HostBuffer {
  ep: number;
  /** Device address replied to (or announced by) the firmware. */
  device: number;
  /** Physical address when the host allocated it. */
  paddr?: number;
  bytes: number;
  mode: 'dart' | 'sart' | 'identity' | 'firmware' | 'sram';
  sartSlot?: number;
}

const IOVA_BASE = 0x8000_0000;

export class MiniHost {
  readonly driver: AscMailboxDriver;
  readonly inbox: Received[] = [];
  readonly buffers = new Map<number, HostBuffer>();
  readonly endpoints = new Set<number>();
  private waiters: { pred: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  private nextIova = IOVA_BASE;
  private crashArmed = false;
  crashed = false;
  version = 0;
  syslogEchoes = 0;
  /** Tests of the strict mode turn the echo off. */
  echoSyslog = true;

  constructor(
    readonly soc: SimSoc,
    readonly cp: SimCoprocessor,
  ) {
    this.driver = new AscMailboxDriver({
      mmio: soc.mmio,
      base: cp.mailboxBase,
      clock: soc.clock,
      interrupts: cp.asc.interrupts,
    });
    this.driver.setReceiver((m) => this.receive(m));
  }

  private dirCtx(ep: number, dir: Direction) {
    return { dir, coproc: this.cp.profile.coproc, crashlogArmed: ep === 1 && this.crashArmed };
  }

  private receive({ ep, msg }: MailboxMessage): void {
    const m = decode(ep, msg, this.dirCtx(ep, 'iop->ap'));
    const r = { ep, msg, m };
    this.inbox.push(r);
    this.service(r);
    const w = this.waiters.findIndex((x) => x.pred(r));
    if (w >= 0) {
      const [hit] = this.waiters.splice(w, 1);
      hit!.resolve(r);
    }
  }

  /** Wait (virtual time) for a received message matching `pred`, including ones already here. */
  async expect(
    pred: (r: Received) => boolean,
    timeoutMs = 1000,
    what = 'message',
  ): Promise<Received> {
    const seen = this.inbox.find(pred);
    if (seen) {
      this.inbox.splice(this.inbox.indexOf(seen), 1);
      return seen;
    }
    return new Promise((resolve, reject) => {
      const h = this.soc.clock.setTimer(timeoutMs, () => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timeout waiting for ${what}`));
      });
      const done = (r: Received): void => {
        this.soc.clock.clearTimer(h);
        this.inbox.splice(this.inbox.indexOf(r), 1);
        resolve(r);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  async send(ep: number, m: Message): Promise<void> {
    await this.driver.send(ep, encode(m));
  }

  /** System-endpoint services a host must provide while the firmware runs (§5). */
  private service(r: Received): void {
    const { ep, m } = r;
    const echo = (): void => void this.driver.send(ep, r.msg);
    switch (m.kind) {
      case 'syslogLog':
        if (!this.echoSyslog) return;
        this.syslogEchoes++;
        echo();
        return;
      case 'ioreportReport':
      case 'ioreportStart':
      case 'oslogCounter':
        echo();
        return;
      case 'crashNotification':
        this.crashed = true;
        return;
      case 'crashlogBufferRequest':
        this.crashArmed = true;
        this.serveBuffer(ep, m.size * 4096, m.iova, (iova) => ({
          kind: 'crashlogBufferReply',
          size: m.size,
          iova,
        }));
        return;
      case 'syslogBufferRequest':
        this.serveBuffer(ep, m.size * 4096, m.iova, (iova) => ({
          kind: 'syslogBufferReply',
          size: m.size,
          iova,
        }));
        return;
      case 'ioreportBufferRequest':
        this.serveBuffer(ep, m.size * 4096, m.iova, (iova) => ({
          kind: 'ioreportBufferReply',
          size: m.size,
          iova,
        }));
        return;
      case 'oslogBufferRequest':
        this.serveBuffer(ep, m.size, m.page * 4096, (iova) => ({
          kind: 'oslogBufferReply',
          size: m.size,
          page: iova / 4096,
        }));
        return;
      default:
        return;
    }
  }

  private serveBuffer(
    ep: number,
    bytes: number,
    iova: number,
    reply: (device: number) => Message,
  ): void {
    const known = this.buffers.get(ep);
    const place = this.cp.profile.placement;
    if (iova !== 0) {
      // Firmware-owned (mode B) or an SRAM pointer (mode C): map for ourselves, no reply.
      const inSram =
        place.sram && iova >= place.sram.base && iova < place.sram.base + place.sram.size;
      this.buffers.set(ep, { ep, device: iova, bytes, mode: inSram ? 'sram' : 'firmware' });
      return;
    }
    if (known) {
      void this.send(ep, reply(known.device));
      return;
    }
    const size = Math.ceil(bytes / 0x4000) * 0x4000;
    const paddr = this.soc.dram.alloc(size);
    if (paddr === undefined) throw new Error('host DRAM exhausted');
    let device = paddr;
    let mode: HostBuffer['mode'] = 'identity';
    let sartSlot: number | undefined;
    if (place.memoryPath.kind === 'dart') {
      device = this.nextIova;
      this.nextIova += size;
      this.soc.dart.map(this.cp.dartStream!, device, paddr, size, 'rw');
      mode = 'dart';
    } else if (place.memoryPath.kind === 'sart') {
      sartSlot = this.soc.sart.allow(paddr, size);
      if (sartSlot === undefined) throw new Error('SART full');
      mode = 'sart';
    }
    this.buffers.set(ep, {
      ep,
      device,
      paddr,
      bytes,
      mode,
      ...(sartSlot !== undefined ? { sartSlot } : {}),
    });
    void this.send(ep, reply(device));
  }

  /** Boot from a stopped CPU: RUN, HELLO, version, EPMAP, STARTEPs, power ON (§4.2 / §4.3). */
  async boot(
    opts: { ordering: Ordering; maxVersion?: number; minVersion?: number; wake?: boolean } = {
      ordering: 'linux',
    },
  ): Promise<void> {
    const { ordering } = opts;
    await setAscCpuRun(this.soc.mmio, this.cp.ascBase, true);
    if (opts.wake) await this.send(0, { kind: 'setIopPowerState', state: 0x220 });
    await this.handshake(ordering, opts.maxVersion ?? 12, opts.minVersion ?? 11);
  }

  /** Wake from SLEEP/QUIESCED: 0x220, then the full handshake again. */
  async wake(ordering: Ordering = 'linux', maxVersion = 12): Promise<void> {
    await this.send(0, { kind: 'setIopPowerState', state: 0x220 });
    await this.handshake(ordering, maxVersion, 10);
  }

  private async handshake(ordering: Ordering, ourMax: number, ourMin: number): Promise<void> {
    const hello = await this.expect((r) => r.ep === 0 && r.m.kind === 'hello', 1000, 'HELLO');
    if (hello.m.kind !== 'hello') throw new Error('unreachable');
    const v10 = hello.m.maxVersion === 10;
    const want = Math.min(ourMax, hello.m.maxVersion);
    if (want < ourMin || (!v10 && hello.m.minVersion > ourMax))
      throw new Error('VERSION_UNSUPPORTED');
    this.version = want;
    await this.send(0, { kind: 'helloAck', minVersion: want, maxVersion: want });
    this.endpoints.clear();
    for (;;) {
      const b = await this.expect((r) => r.ep === 0 && r.m.kind === 'epmap', 1000, 'EPMAP');
      if (b.m.kind !== 'epmap') throw new Error('unreachable');
      for (let i = 0; i < 32; i++)
        if ((b.m.bitmap >>> i) & 1) this.endpoints.add(b.m.base * 32 + i);
      const last = v10 || b.m.last;
      await this.send(0, {
        kind: 'epmapReply',
        base: b.m.base,
        last: v10 ? false : b.m.last,
        more: v10 ? false : !b.m.last,
      });
      if (last) break;
    }
    if (ordering === 'm1n1') await this.send(0, { kind: 'setApPowerState', state: 0x20 });
    const appBase = v10 ? 5 : 0x20;
    for (const ep of [1, 2, 3, 4, 8, 0x0a]) {
      if (ep < appBase && this.endpoints.has(ep))
        await this.send(0, { kind: 'startEndpoint', endpoint: ep });
    }
    await this.expect(
      (r) => r.ep === 0 && r.m.kind === 'iopPowerStateAck' && (r.m.state & 0xff) === 0x20,
      1000,
      'IOP ack',
    );
    if (ordering === 'linux') await this.send(0, { kind: 'setApPowerState', state: 0x20 });
    if (!(v10 && this.minorNoApAck(hello.m.minVersion))) {
      await this.expect(
        (r) => r.ep === 0 && r.m.kind === 'apPowerStateAck' && r.m.state === 0x20,
        1000,
        'AP ack',
      );
    }
  }

  private minorNoApAck(minor: number): boolean {
    return minor <= 1;
  }

  /** AP state first, then the IOP state, each acked with exactly the state (§4.5). */
  async setPower(ap: number, iop: number): Promise<void> {
    await this.send(0, { kind: 'setApPowerState', state: ap });
    await this.expect(
      (r) => r.ep === 0 && r.m.kind === 'apPowerStateAck' && r.m.state === ap,
      1000,
      `AP ack ${ap}`,
    );
    await this.send(0, { kind: 'setIopPowerState', state: iop });
    await this.expect(
      (r) => r.ep === 0 && r.m.kind === 'iopPowerStateAck' && r.m.state === iop,
      1000,
      `IOP ack ${iop}`,
    );
  }

  async shutdown(): Promise<void> {
    await this.setPower(0x10, 0x01);
    this.release();
  }

  /** Drop every buffer, mapping and allow-list entry (what a host does on reinit). */
  release(): void {
    for (const b of this.buffers.values()) {
      if (b.mode === 'dart')
        this.soc.dart.unmap(this.cp.dartStream!, b.device, Math.ceil(b.bytes / 0x4000) * 0x4000);
      if (b.sartSlot !== undefined) this.soc.sart.revoke(b.sartSlot);
      if (b.paddr !== undefined) this.soc.dram.free(b.paddr);
    }
    this.buffers.clear();
    this.crashArmed = false;
  }

  /**
   * Copy a buffer as the host sees it: through the DART for IOVAs (host-allocated or
   * firmware-owned), physical memory for SART/identity buffers, MMIO for SRAM.
   */
  async readBuffer(ep: number, len?: number): Promise<Uint8Array> {
    const b = this.buffers.get(ep);
    if (!b) throw new Error(`no buffer for endpoint ${ep}`);
    const n = len ?? b.bytes;
    const out = new Uint8Array(n);
    if (b.mode === 'sram') {
      for (let i = 0; i < n; i += 4) {
        const w = await this.soc.mmio.read32(b.device + i);
        for (let k = 0; k < 4 && i + k < n; k++) out[i + k] = (w >>> (8 * k)) & 0xff;
      }
      return out;
    }
    if (b.mode === 'dart' || b.mode === 'firmware') {
      const page = 0x4000;
      for (let off = 0; off < n; ) {
        const iova = b.device + off;
        const pa = this.soc.dart.translate(this.cp.dartStream!, iova, false);
        if (pa === undefined) throw new Error(`IOVA 0x${iova.toString(16)} is not mapped`);
        const chunk = Math.min(n - off, page - (iova % page));
        out.set(this.soc.memory.read(pa, chunk), off);
        off += chunk;
      }
      return out;
    }
    out.set(this.soc.memory.read(b.device, n));
    return out;
  }

  async idle(ms: number): Promise<void> {
    await sleep(this.soc.clock, ms);
  }

  async close(): Promise<void> {
    await this.driver.close();
  }
}
