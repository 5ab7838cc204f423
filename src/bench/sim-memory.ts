/**
 * Simulated-memory benchmarks: what the firmware model pays per syslog entry and per crashlog
 * written through a DmaPort (DART with 16 KiB pages, SART, SRAM window), and bulk RAM copies.
 */

import {
  Dart,
  FaultList,
  identityPort,
  PhysicalMemory,
  Sart,
  SramRegion,
} from '../sim/memory/index.js';
import type { DmaPort } from '../sim/memory/types.js';
import { type BenchResult, bestOf } from './result.js';

const DRAM = 0x8_0000_0000;
const IOVA = 0x8000_0000;

/** ns per write of `entry` bytes cycling through a 64-entry ring at `base`. */
function ringWrites(port: DmaPort, base: number, entry: number, n: number): number {
  const data = new Uint8Array(entry).fill(0x41);
  const ms = bestOf(() => {
    for (let i = 0; i < n; i++) port.write(base + (i & 63) * entry, data);
  }, 300);
  return (ms * 1e6) / n;
}

export function run(): BenchResult[] {
  const mem = new PhysicalMemory();
  const faults = new FaultList();
  const dart = new Dart();
  dart.map(0, IOVA, DRAM, 0x10_0000);
  const sart = new Sart();
  sart.reserve(DRAM + 0x100_0000, 0x4000);
  sart.allow(DRAM, 0x10_0000);
  const sram = new SramRegion({ base: 0x23_4000_0000, size: 0x4000 });
  const ports: [string, DmaPort, number][] = [
    ['dart', dart.port(0, mem, faults), IOVA],
    ['sart', sart.port(mem, faults), DRAM],
    ['identity', identityPort(mem, faults), DRAM],
    ['sram', sram.port(faults), sram.base],
  ];
  const out: BenchResult[] = [];
  // A syslog entry is 0x20 bytes of header plus the message (0x80 on real DCP, PROTOCOL.md §5.2).
  for (const [name, port, base] of ports) {
    out.push({
      name: `sim-memory.${name}-port.write-160b`,
      value: ringWrites(port, base, 0xa0, 20_000),
      unit: 'ns/op',
    });
  }
  const crash = new Uint8Array(3 * 0x1000).fill(7);
  const dartPort = dart.port(0, mem, faults);
  const crashMs = bestOf(() => {
    for (let i = 0; i < 100; i++) dartPort.write(IOVA + 0x2000, crash);
  }, 300);
  out.push({
    name: 'sim-memory.dart-port.write-12k-cross-page',
    value: (crashMs * 1e6) / 100,
    unit: 'ns/op',
  });
  const big = new Uint8Array(0x10_0000);
  const copyMs = bestOf(() => {
    mem.write(DRAM + 0x200_0001, big);
    mem.read(DRAM + 0x200_0001, big.length);
  }, 300);
  out.push({
    name: 'sim-memory.ram.write-read-1m-unaligned',
    value: (2 * big.length) / 1e6 / (copyMs / 1e3),
    unit: 'MB/s',
  });
  return out;
}
