/**
 * `smc`: the M1 (t8103) system management controller at `23e400000.smc`.
 *
 * Modelled facts and their sources:
 *  - ASC at 0x23e400000 and SRAM at 0x23fe00000, 1 MiB (the t8103 device tree's `smc` node:
 *    `reg-names = "smc", "sram"`; PROTOCOL.md §1.2 uses the same ASC address).
 *  - Protocol 11..12; real SMC firmware negotiates 12 (fixtures dmesg-m2pro-boot.txt,
 *    dmesg-m1pro-nvme-syslog.txt).
 *  - Endpoints 1, 2, 3, 4 and the SMC application endpoint 0x20 (§9), modelled by
 *    `createSmcEndpoint()` (smc-app.ts).
 *  - RTKit buffers in SRAM, mode C (§6.4: Linux's SMC client rejects IOVA 0, checks the range
 *    against the SRAM window, sends no reply). Placed top-down from the SRAM end so they stay
 *    clear of the SMC shared buffer at the SRAM start [inferred: the real layout is unknown];
 *    sizes [inferred].
 *  - Syslog lines from real SMC firmware (fixture dmesg-m2-dcp-smc-syslog.txt; messages start with
 *    a TAB, contexts `aceElec.cpp:703`, `charger.cpp:2418`); geometry [inferred].
 *  - Crash: version string and task names [invented] in the observed shape.
 */

import type { FirmwareProfile, SyslogLine } from '../firmware/types.js';
import { createSmcEndpoint, SMC_ENDPOINT, type SmcEndpointOptions } from './smc-app.js';

/** SMC syslog lines as real firmware logged them (fixture dmesg-m2-dcp-smc-syslog.txt). */
export const SMC_SYSLOG_LINES: readonly SyslogLine[] = [
  { file: 'aceElec.cpp', line: 703, text: '\tElec: Elec Cause 0x0' },
  { file: 'aceElec.cpp', line: 703, text: '\tElec: Elec Cause 0x200000' },
  { file: 'aceElec.cpp', line: 703, text: '\tElec: Elec Cause 0x8000' },
  { file: 'aceElec.cpp', line: 703, text: '\tElec: Elec Cause 0x20' },
  { file: 'charger.cpp', line: 2418, text: 'Not charging:0' },
  { file: 'aceElec.cpp', line: 703, text: '\tElec: Elec Cause 0x1000' },
];

export interface SmcProfileOptions {
  readonly smc?: SmcEndpointOptions;
}

export const SMC_SRAM = { base: 0x2_3fe0_0000, size: 0x10_0000 } as const;

export function smcProfile(opts: SmcProfileOptions = {}): FirmwareProfile {
  return {
    name: 'smc',
    coproc: 'smc',
    description: 'Apple M1 (t8103) system management controller (SMC), application endpoint 0x20.',
    sources: [
      'torvalds/linux drivers/mfd/macsmc.c, arch/arm64/boot/dts/apple/t8103.dtsi',
      'AsahiLinux/m1n1 proxyclient/m1n1/fw/smc.py',
      'fixtures dmesg-m2-dcp-smc-syslog.txt, dmesg-m2pro-boot.txt',
      'PROTOCOL.md §6.4, §9',
    ],
    versions: { min: 11, max: 12 },
    endpoints: [1, 2, 3, 4, SMC_ENDPOINT],
    apps: () => [createSmcEndpoint(opts.smc)],
    buffers: {
      1: { mode: 'sram', bytes: 2 * 0x1000 },
      2: { mode: 'sram', bytes: 2 * 0x1000 },
      4: { mode: 'sram', bytes: 0x1000 },
    },
    syslog: {
      // 32 × 0xa0 = 0x1400 bytes: two pages.
      entryCount: 32,
      messageSize: 0x80,
      lines: SMC_SYSLOG_LINES,
      intervalMs: [200, 2000],
    },
    kdebug: { entryCount: 0x100 },
    crash: {
      versionString: 'RTKit: RTKit-2413.41.1.release - Client: local-t8103smc.release',
      role: 'SMC',
      tasks: ['smc_main', 'rtk_mbox', 'charger', 'aceElec', 'syslog', 'idle'],
      textBase: 0x8_0000,
    },
    placement: {
      soc: 't8103',
      deviceName: '23e400000.smc',
      ascBase: 0x2_3e40_0000,
      sram: SMC_SRAM,
      memoryPath: { kind: 'identity' },
    },
  };
}
