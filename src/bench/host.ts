/**
 * Host session benchmarks (docs/host-library.md "Performance"):
 *  - boot wall time against the simulator, through the registers (RUN to AP ON);
 *  - application-endpoint round trips per second: `request()` on an echo endpoint, through the
 *    in-process channel and through the register-level mailbox (AscMailboxDriver → asyncMmio →
 *    SimAsc → firmware model);
 *  - syslog entries per second: LOG → entry read from the shared buffer → decoded → echoed;
 *  - heap before and after 1,000,000 round trips (after GC): the session must not grow.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { systemClock, VirtualClock } from '../clock.js';
import type { EndpointHandle } from '../host/index.js';
import { RtkitSession } from '../host/index.js';
import { identityStrategy } from '../host/shmem/index.js';
import type { HostMemory } from '../host/shmem/types.js';
import { AscMailboxDriver } from '../mailbox/asc-driver.js';
import { type ChannelEnd, createChannelPair } from '../mailbox/channel.js';
import type { MailboxMessage } from '../mailbox/types.js';
import { decode, encode } from '../protocol/index.js';
import { RtkitFirmware } from '../sim/firmware/firmware.js';
import type { IopPort } from '../sim/mailbox/iop-port.js';
import { identityPort } from '../sim/memory/index.js';
import { getProfile, PROFILE_NAMES } from '../sim/profiles/index.js';
import { createRng } from '../sim/rng.js';
import { SimSoc } from '../sim/soc.js';
import { writeSyslogEntry } from '../syslog/index.js';
import { strategiesFor } from '../wiring/sim-host.js';
import type { BenchResult } from './result.js';

// ---------------------------------------------------------------------------------------------
// Boot

async function bootOnce(profile: (typeof PROFILE_NAMES)[number], seed: number): Promise<number> {
  const soc = new SimSoc({ seed, record: false });
  const stop = soc.clock.autoAdvance();
  try {
    const cp = soc.add({ profile, background: false });
    const driver = new AscMailboxDriver({
      mmio: soc.mmio,
      base: cp.mailboxBase,
      clock: soc.clock,
      interrupts: cp.asc.interrupts,
    });
    const session = new RtkitSession({
      transport: driver,
      clock: soc.clock,
      strategies: strategiesFor(soc, cp),
      cpu: { mmio: soc.mmio, ascBase: cp.ascBase },
    });
    const t0 = performance.now();
    await session.boot();
    const dt = performance.now() - t0;
    await session.close();
    await driver.close();
    cp.firmware.dispose();
    return dt;
  } finally {
    stop();
  }
}

async function boots(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const profile of PROFILE_NAMES) {
    for (let i = 0; i < 20; i++) await bootOnce(profile, i);
    const times: number[] = [];
    for (let i = 0; i < 100; i++) times.push(await bootOnce(profile, i));
    times.sort((a, b) => a - b);
    out.push({
      name: `host.boot.${profile}`,
      value: times[50]!,
      unit: 'ms',
      note: `median wall time of 100 RtkitSession.boot() through the registers, p90 ${times[90]!.toFixed(3)} ms`,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Round trips

/** The firmware model's IopPort over the IOP end of an in-process channel. */
class ChannelIopPort implements IopPort {
  readonly #inbox: MailboxMessage[] = [];
  #inbound: (() => void) | undefined;
  #run: ((running: boolean) => void) | undefined;

  constructor(readonly end: ChannelEnd) {
    end.setReceiver((m) => {
      this.#inbox.push(m);
      this.#inbound?.();
    });
  }
  trySend(ep: number, msg: bigint): boolean {
    this.end.send(ep, msg).catch(() => {});
    return true;
  }
  receive(): MailboxMessage | undefined {
    return this.#inbox.shift();
  }
  onInbound(fn: () => void): void {
    this.#inbound = fn;
  }
  onOutboundSpace(): void {}
  onRun(fn: (running: boolean) => void): void {
    this.#run = fn;
  }
  setCpuStatus(): void {}
  run(on: boolean): void {
    this.#run?.(on);
  }
}

interface Rig {
  handle: EndpointHandle;
  session: RtkitSession;
  close(): Promise<void>;
}

/** Booted session over the channel; afterwards the IOP end echoes application words itself. */
async function channelRig(): Promise<Rig> {
  const clock = new VirtualClock();
  const soc = new SimSoc({ clock, record: false });
  const profile = getProfile('generic');
  const pair = createChannelPair({ clock: systemClock });
  const port = new ChannelIopPort(pair.iop);
  const fw = new RtkitFirmware({
    name: 'generic',
    port,
    clock,
    rng: createRng(1),
    profile,
    memory: { dma: identityPort(soc.memory, soc.faults, { clock }) },
    strict: false,
    background: false,
  });
  const session = new RtkitSession({
    transport: pair.ap,
    clock: systemClock,
    strategies: strategiesFor(soc, { profile, dartStream: undefined } as never),
  });
  const stop = clock.autoAdvance();
  port.run(true);
  await session.boot();
  const handle = await session.openEndpoint(0x20);
  stop();
  // From here the IOP end answers application words directly: the figure is the host's.
  const iop = pair.iop;
  iop.setReceiver((m) => {
    if (m.ep >= 0x20) void iop.send(m.ep, m.msg);
  });
  return {
    handle,
    session,
    close: async () => {
      await session.close();
      await pair.ap.close();
      await pair.iop.close();
      fw.dispose();
    },
  };
}

/** Booted session through the registers; the firmware model's echo endpoint answers. */
async function registerRig(): Promise<Rig> {
  const soc = new SimSoc({ record: false });
  const stop = soc.clock.autoAdvance();
  const cp = soc.add({ profile: 'generic', background: false, strict: false });
  const driver = new AscMailboxDriver({
    mmio: soc.mmio,
    base: cp.mailboxBase,
    clock: soc.clock,
    interrupts: cp.asc.interrupts,
  });
  const session = new RtkitSession({
    transport: driver,
    clock: systemClock,
    strategies: strategiesFor(soc, cp),
    cpu: { mmio: soc.mmio, ascBase: cp.ascBase },
  });
  await session.boot();
  const handle = await session.openEndpoint(0x20);
  stop();
  return {
    handle,
    session,
    close: async () => {
      await session.close();
      await driver.close();
      cp.firmware.dispose();
    },
  };
}

/** `n` sequential round trips (each request awaits its reply). */
async function roundTrips(h: EndpointHandle, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const w = BigInt(i);
    const r = await h.request(w, (x) => x === w);
    if (r !== w) throw new Error('wrong reply');
  }
}

/** `n` round trips with `depth` requests in flight. */
async function pipelined(h: EndpointHandle, n: number, depth: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const w = BigInt(next++);
      const r = await h.request(w, (x) => x === w);
      if (r !== w) throw new Error('wrong reply');
    }
  };
  await Promise.all(Array.from({ length: depth }, worker));
}

async function rate(run: (n: number) => Promise<void>, n: number, rounds = 3): Promise<number> {
  await run(Math.min(n, 20_000));
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await run(n);
    best = Math.min(best, performance.now() - t0);
  }
  return (n / best) * 1000;
}

// ---------------------------------------------------------------------------------------------
// Syslog: a scripted IOP over the channel posts LOGs; each next one after the previous echo.

function memoryOf(size: number, base = 0x8_0000_0000): HostMemory & { bytes: Uint8Array } {
  const bytes = new Uint8Array(size);
  let next = base;
  return {
    bytes,
    alloc: async (n, align) => {
      const at = Math.ceil(next / align) * align;
      next = at + n;
      return at;
    },
    free: async () => {},
    read: async (p, n) => bytes.slice(p - base, p - base + n),
    write: async (p, d) => {
      bytes.set(d, p - base);
    },
  };
}

export async function syslogRate(n: number): Promise<number> {
  const pair = createChannelPair({ clock: systemClock });
  const mem = memoryOf(0x10_0000);
  const session = new RtkitSession({
    transport: pair.ap,
    strategies: { default: identityStrategy({ memory: mem }) },
  });
  const iop = pair.iop;
  const COUNT = 64;
  const SIZE = 0x80;
  let onEcho: ((w: bigint) => void) | undefined;
  let bufferAt = 0;
  iop.setReceiver((m) => {
    if (m.ep === 0) {
      const k = decode(0, m.msg, { dir: 'ap->iop' }).kind;
      if (k === 'helloAck') {
        void iop.send(0, encode({ kind: 'epmap', base: 0, bitmap: 0x4, last: true }));
      }
      if (k === 'epmapReply') void iop.send(0, encode({ kind: 'iopPowerStateAck', state: 0x20 }));
      if (k === 'startEndpoint') {
        void iop.send(2, encode({ kind: 'syslogBufferRequest', size: 4, iova: 0 }));
        void iop.send(2, encode({ kind: 'syslogInit', entryCount: COUNT, messageSize: SIZE }));
      }
      if (k === 'setApPowerState') {
        void iop.send(0, encode({ kind: 'apPowerStateAck', state: 0x20 }));
      }
    } else if (m.ep === 2) {
      // The first word on EP2 is the buffer reply; every later one is an echo.
      if (bufferAt === 0) {
        const r = decode(2, m.msg, { dir: 'ap->iop' });
        if (r.kind === 'syslogBufferReply') bufferAt = r.iova;
      } else onEcho?.(m.msg);
    }
  });
  void iop.send(0, encode({ kind: 'hello', minVersion: 11, maxVersion: 12 }));
  await session.boot();
  while (bufferAt === 0) await new Promise((r) => setTimeout(r, 1));
  const ring = new Uint8Array(COUNT * (0x20 + SIZE));
  for (let i = 0; i < COUNT; i++) {
    writeSyslogEntry(
      ring,
      i,
      { entryCount: COUNT, messageSize: SIZE },
      { file: 'AppleFirmwareBenchmark.cpp', line: 100 + i },
      `entry ${i}: the quick brown fox jumps over the lazy dog`,
    );
  }
  mem.bytes.set(ring, bufferAt - 0x8_0000_0000);
  let decoded = 0;
  session.on('syslog', () => {
    decoded++;
  });
  const logs = Array.from({ length: COUNT }, (_, index) => encode({ kind: 'syslogLog', index }));
  const burst = (count: number): Promise<void> =>
    new Promise((resolve) => {
      let i = 0;
      const post = (): void => {
        if (i === count) {
          onEcho = undefined;
          resolve();
          return;
        }
        void iop.send(2, logs[i++ % COUNT]!);
      };
      onEcho = post;
      post();
    });
  const perSec = await rate(burst, n);
  if (decoded < n) throw new Error(`only ${decoded} syslog entries decoded`);
  await session.close();
  await pair.ap.close();
  await pair.iop.close();
  return perSec;
}

// ---------------------------------------------------------------------------------------------
// Memory

/** A full GC: `--expose-gc`, or the flag set at run time (V8 allows it before first use). */
function gcFunction(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    setFlagsFromString('--expose-gc');
    const f = runInNewContext('gc') as unknown;
    return typeof f === 'function' ? (f as () => void) : undefined;
  } catch {
    return undefined;
  }
}

function collect(): boolean {
  const g = gcFunction();
  if (g === undefined) return false;
  g();
  g();
  return true;
}

async function heapGrowth(n: number): Promise<{ before: number; after: number; gc: boolean }> {
  const rig = await channelRig();
  await roundTrips(rig.handle, 20_000);
  const gc = collect();
  const before = process.memoryUsage().heapUsed;
  await roundTrips(rig.handle, n);
  collect();
  const after = process.memoryUsage().heapUsed;
  if (rig.session.stats.deadlines > 16) throw new Error('request deadlines leak');
  await rig.close();
  return { before, after, gc };
}

export async function run(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  out.push(...(await boots()));

  const ch = await channelRig();
  out.push({
    name: 'host.roundtrip.channel',
    value: await rate((n) => roundTrips(ch.handle, n), 500_000),
    unit: 'req/s',
    note: 'EndpointHandle.request() → in-process channel → echo → match; one in flight',
  });
  out.push({
    name: 'host.roundtrip.channel.pipelined',
    value: await rate((n) => pipelined(ch.handle, n, 16), 500_000),
    unit: 'req/s',
    note: '16 requests in flight',
  });
  await ch.close();

  const reg = await registerRig();
  out.push({
    name: 'host.roundtrip.registers',
    value: await rate((n) => roundTrips(reg.handle, n), 200_000),
    unit: 'req/s',
    note: 'request() → AscMailboxDriver → asyncMmio → SimAsc → firmware echo endpoint → IRQ drain; one in flight',
  });
  out.push({
    name: 'host.roundtrip.registers.pipelined',
    value: await rate((n) => pipelined(reg.handle, n, 8), 200_000),
    unit: 'req/s',
    note: '8 requests in flight (FIFO depth 16)',
  });
  await reg.close();

  out.push({
    name: 'host.syslog',
    value: await syslogRate(300_000),
    unit: 'entries/s',
    note: 'LOG → entry read from the shared buffer → decoded → echo; the next LOG after the echo',
  });

  const mem = await heapGrowth(1_000_000);
  const mb = (b: number): number => b / (1 << 20);
  out.push({
    name: 'host.heap.before',
    value: mb(mem.before),
    unit: 'MiB',
    note: mem.gc ? 'after GC' : 'no GC exposed (run node --expose-gc for exact figures)',
  });
  out.push({
    name: 'host.heap.after-1M-roundtrips',
    value: mb(mem.after),
    unit: 'MiB',
    note: `growth ${(mb(mem.after) - mb(mem.before)).toFixed(2)} MiB over 1,000,000 round trips (2,000,000 messages)`,
  });
  return out;
}
