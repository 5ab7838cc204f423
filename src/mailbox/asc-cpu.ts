/**
 * The ASC's CPU registers from the host (PROTOCOL.md §1.2): start and stop the co-processor's
 * CPU with a read-modify-write of CPU_CONTROL.RUN, read CPU_STATUS. Offsets are from the ASC
 * base (the mailbox is at base + 0x8000).
 */

import { ASC_CPU_CONTROL, ASC_CPU_STATUS, CpuControl, CpuStatus } from './registers.js';
import type { Mmio } from './types.js';

export interface AscCpuStatus {
  raw: number;
  /** m1n1-Py's definition of running: STOPPED clear. */
  running: boolean;
  stopped: boolean;
  idle: boolean;
}

export async function readAscCpuStatus(mmio: Mmio, ascBase: number): Promise<AscCpuStatus> {
  const raw = await mmio.read32(ascBase + ASC_CPU_STATUS);
  const stopped = CpuStatus.STOPPED.get(0, raw) === 1;
  return { raw, running: !stopped, stopped, idle: CpuStatus.IDLE.get(0, raw) === 1 };
}

/** Set or clear CPU_CONTROL.RUN, keeping the register's other bits (as every host does). */
export async function setAscCpuRun(mmio: Mmio, ascBase: number, run: boolean): Promise<void> {
  const addr = ascBase + ASC_CPU_CONTROL;
  const v = await mmio.read32(addr);
  const next = run ? v | CpuControl.RUN.maskLo : v & ~CpuControl.RUN.maskLo;
  await mmio.write32(addr, next >>> 0);
}
