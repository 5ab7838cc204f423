/**
 * `ans`: the NVMe storage co-processor (ANS) of an M1 Pro/Max (t6000), `393cc0000.nvme`.
 *
 * Modelled facts and their sources:
 *  - Device name `393cc0000.nvme` (fixture dmesg-m1pro-nvme-syslog.txt). That address is the NVMe
 *    controller; the RTKit ASC is the node's second (`ans`) register range. On t8103, t6000 and
 *    t6020 the ANS mailbox sits 0x48b8000 below the controller (t8103 NVMe 0x27bcc0000 / ANS
 *    0x277400000; t6020 0x34bcc0000 / 0x347400000), giving the t6000 ASC 0x38f400000 and SART
 *    0x393c50000.
 *  - Protocol 11..12 (negotiates 12 on real hardware).
 *  - Endpoints 1, 2, 3, 4 and tracekit 0x0a (NVMe firmware of the same generation family reports
 *    0x0a, fixture dmesg-m2pro-boot.txt; whether M1 Pro firmware has it is [uncertain]).
 *  - Host-allocated buffers (mode A) reached through the SART allow-list (§6.2): the host must
 *    add every buffer to the SART or the firmware's accesses fault. Linux's NVMe client refuses
 *    firmware-owned buffers.
 *  - F4's switch: the end-of-boot IOP ack is held back until the crashlog and IOReport buffers
 *    are served, as macOS 13 NVMe firmware does.
 *  - Syslog lines from real NVMe firmware (fixture dmesg-m1pro-nvme-syslog.txt: `apcie.c:962`,
 *    `cmd.c:6074` with its leading space); geometry and buffer sizes [inferred].
 *  - Crash: version string and task names [invented] in the observed shape.
 */

import type { FirmwareProfile, SyslogLine } from '../firmware/types.js';

export const ANS_SYSLOG_LINES: readonly SyslogLine[] = [
  { file: 'apcie.c', line: 962, text: 'power up done[1]: PMU=Undefined, PWR=0' },
  { file: 'apcie_legacy.c', line: 469, text: 'APCIe 1 is configured as unused.' },
  { file: 'cmd.c', line: 6074, text: ' boot mode normal' },
];

export interface AnsProfileOptions {
  /** Include tracekit 0x0a in the map (default true). */
  readonly tracekit?: boolean;
  /** Hold the IOP ack until crashlog and IOReport buffers are served (default true). */
  readonly requireBuffers?: boolean;
}

export function ansProfile(opts: AnsProfileOptions = {}): FirmwareProfile {
  const tracekit = opts.tracekit ?? true;
  return {
    name: 'ans',
    coproc: 'nvme',
    description:
      'Apple M1 Pro/Max (t6000) NVMe storage co-processor (ANS2): system endpoints only, buffers in host RAM behind the SART.',
    sources: [
      'torvalds/linux drivers/nvme/host/apple.c, drivers/soc/apple/sart.c',
      'fixtures dmesg-m1pro-nvme-syslog.txt, dmesg-m2pro-boot.txt',
      'PROTOCOL.md §4.6 F4, §6.2, §10.4',
    ],
    versions: { min: 11, max: 12 },
    endpoints: tracekit ? [1, 2, 3, 4, 0x0a] : [1, 2, 3, 4],
    buffers: {
      1: { mode: 'host', bytes: 3 * 0x1000 },
      2: { mode: 'host', bytes: 3 * 0x1000 },
      4: { mode: 'host', bytes: 0x1000 },
    },
    ...(opts.requireBuffers === false ? {} : { bootRequires: { buffers: [1, 4] as const } }),
    syslog: {
      entryCount: 64,
      messageSize: 0x80,
      bootLines: ANS_SYSLOG_LINES,
      lines: ANS_SYSLOG_LINES,
      intervalMs: [500, 3000],
    },
    ioreport: { intervalMs: 1000 },
    kdebug: { entryCount: 0x100 },
    crash: {
      versionString: 'RTKit: RTKit-2413.41.1.release - Client: local-t600xans2.release',
      role: 'ANS2',
      tasks: ['ans_main', 'rtk_mbox', 'nvme_cmd', 'apcie', 'syslog', 'idle'],
      textBase: 0x10_0000,
    },
    placement: {
      soc: 't6000',
      deviceName: '393cc0000.nvme',
      ascBase: 0x3_8f40_0000,
      memoryPath: { kind: 'sart' },
      related: { nvme: 0x3_93cc_0000, sart: 0x3_93c5_0000 },
    },
  };
}
