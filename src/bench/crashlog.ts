/**
 * Crashlog benchmarks: parse throughput on a realistic dump (every decoded section kind, with
 * non-zero register and message values so that no fast path flatters the figure), on a large
 * buffer of opaque sections (the walk and zero-copy payload views alone), and build throughput
 * (what the simulator pays per crash).
 */

import {
  buildCrashlog,
  type CrashlogInput,
  parseCrashlog,
  type SectionInput,
} from '../crashlog/index.js';
import { type BenchResult, bestOf } from './result.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

/** A DCP-like crash: about 24 KiB with 128 mailbox entries, 20 tasks and some opaque sections. */
export function realisticCrashlog(seed = 1): CrashlogInput {
  const r = rng(seed);
  const u64 = (): bigint => (BigInt((r() | 1) >>> 0) << 32n) | BigInt(r());
  const addr = (): bigint => 0xfffffe0000000000n | BigInt((r() & 0xfffffff0) >>> 0);
  const sections: SectionInput[] = [
    {
      kind: 'Cstr',
      id: 1,
      text: 'SError: UPPipeDCP_H13P.cpp:7476 assertion failed: state == RUN\n',
    },
    {
      kind: 'Cver',
      uuid: '2a8e1f4c-9b0d-4e7a-8c3f-5d6e7f809a1b',
      version: 'RTKit: RTKit-1827.120.2.debug - Client: local-ipad14dcp.release',
    },
    { kind: 'Ctim', time: 0x5c1600e7n },
    {
      kind: 'Cmbx',
      kicInboxCtrl: 0x20001,
      kicMailboxSet: 0x1,
      apOutboxCtrl: 0x20001,
      apMailboxSet: 0x1,
      mailboxError: 0,
      route: 0,
      entries: Array.from({ length: 128 }, (_, i) => ({
        ep: 0x37,
        msg: (BigInt(r() & 0xfff) << 32n) | BigInt((r() & 0xf00) | 0x02),
        timestamp: BigInt(0x1d396650 + i * 0x1234),
      })),
    },
    {
      kind: 'Crg8',
      regs: Array.from({ length: 31 }, u64),
      sp: addr(),
      pc: 0x17eaf0n,
      psr: 0x600012c5n,
      cpacr: 0x300000n,
      fp: Array.from({ length: 64 }, u64),
      far: addr(),
      esr: 0xbe000000,
    },
    {
      kind: 'Crtk',
      tasks: Array.from({ length: 20 }, (_, i) => ({
        id: i + 1,
        faulting: i === 7,
        name: `task-${i}`,
        priority: 10 + i,
        state: i % 3,
        waitObject: i % 2 === 0 ? addr() : 0n,
        stackSize: 0x4000n,
        stackUsed: BigInt(0x400 + 0x40 * i),
        frames: Array.from({ length: 8 + (i % 9) }, addr),
      })),
    },
    { kind: 'Ccst', taskId: 8, frames: Array.from({ length: 16 }, addr) },
    { kind: 'CasC', l2cErrSts: 4n, l2cErrAdr: addr(), dpcErrSts: 0n },
    {
      kind: 'Ccdp',
      entries: Array.from({ length: 16 }, () => ({ va: addr(), pa: u64(), flags: 3 })),
    },
    { kind: 'raw', fourcc: 'Cpct', raw: new Uint8Array(48) },
    { kind: 'raw', fourcc: 'Cunk', raw: Uint8Array.from({ length: 6144 }, () => r() & 0xff) },
    { kind: 'raw', fourcc: 'Cxyz', raw: Uint8Array.from({ length: 6144 }, () => r() & 0xff) },
  ];
  return { sections };
}

/** Throughput of `fn` over `bytes` per call, with `reps` calls per timed batch. */
function mbPerSecond(bytes: number, reps: number, fn: () => void): number {
  const ms = bestOf(() => {
    for (let i = 0; i < reps; i++) fn();
  }, 1000);
  return (bytes * reps) / 1e6 / (ms / 1000);
}

function mustParse(buf: Uint8Array): void {
  const res = parseCrashlog(buf);
  if (!res.ok || res.report.warnings.length > 0)
    throw new Error('bench crashlog did not parse cleanly');
}

export function run(): BenchResult[] {
  const input = realisticCrashlog();
  const real = buildCrashlog(input);
  mustParse(real);
  const n = parseCrashlog(real);
  const sectionCount = n.ok ? n.report.sections.length : 0;

  // The decoded sections alone: no opaque bytes to pad the figure.
  const decoded = buildCrashlog({ sections: input.sections.filter((x) => x.kind !== 'raw') });
  mustParse(decoded);

  const big = buildCrashlog({
    sections: Array.from({ length: 64 }, () => ({
      kind: 'raw' as const,
      fourcc: 'Cunk',
      raw: new Uint8Array(16384),
    })),
  });
  mustParse(big);

  return [
    {
      name: 'crashlog.parse',
      value: mbPerSecond(real.length, 50, () => parseCrashlog(real)),
      unit: 'MB/s',
      note: `${real.length}-byte DCP-like log, ${sectionCount} sections (128 mailbox entries, 20 tasks)`,
    },
    {
      name: 'crashlog.parse.decoded',
      value: mbPerSecond(decoded.length, 50, () => parseCrashlog(decoded)),
      unit: 'MB/s',
      note: `${decoded.length}-byte log of the same decoded sections, no opaque ones`,
    },
    {
      name: 'crashlog.parse.raw',
      value: mbPerSecond(big.length, 20, () => parseCrashlog(big)),
      unit: 'MB/s',
      note: `${big.length}-byte log of 64 opaque 16 KiB sections`,
    },
    {
      name: 'crashlog.build',
      value: mbPerSecond(real.length, 20, () => buildCrashlog(input)),
      unit: 'MB/s',
      note: 'the realistic log above, from section values',
    },
  ];
}
