/**
 * `mtp`: the M2 Pro/Max (t6020) multi-touch/keyboard co-processor at `2a9400000.mtp`, booted by
 * Linux's generic `rtkit-helper`.
 *
 * Modelled facts and their sources:
 *  - Device name and ASC base 0x2a9400000 (fixture dmesg-m2pro-boot.txt).
 *  - Protocol 11..12 (negotiates 12 in the fixture).
 *  - Endpoints 1, 2, 3, 4, 8 and tracekit 0x0a; MTP's traffic goes through OSLog (§2), the
 *    keyboard/trackpad data through dockchannel (not RTKit). Tracekit is present on M2 Pro/Max
 *    firmware of this generation (the NVMe of the same fixture reports it) [inferred for MTP].
 *  - OSLog: right after its buffer is set up the firmware sends the six words of unknown OSLog
 *    types 3, 4, 5 seen in the fixture (`Unknown oslog message: 300006e6ab20420` …, printed by
 *    Linux without zero padding; the type-5 payloads spell "MtpFir"/"mware"), then type-2 write
 *    counters while AP power is ON.
 *  - Buffers host-allocated through the MTP DART (mode A); sizes [inferred]; the OSLog size is
 *    the §5.5 example (16 KiB).
 *  - No syslog lines: none were ever published for MTP.
 *  - Crash: version string and task names [invented].
 */

import type { FirmwareProfile } from '../firmware/types.js';

/** The OSLog words of fixture dmesg-m2pro-boot.txt, left-padded to 64 bits (types 3, 4, 5). */
export const MTP_OSLOG_BOOT_MESSAGES: readonly bigint[] = [
  0x0300006e6ab20420n,
  0x0400002000000105n,
  0x0400004001050000n,
  0x0400006000000000n,
  0x050672694670744dn,
  0x056500657261776dn,
];

export function mtpProfile(): FirmwareProfile {
  return {
    name: 'mtp',
    coproc: 'mtp',
    description:
      'Apple M2 Pro/Max (t6020) multi-touch/keyboard co-processor (MTP): OSLog traffic incl. unknown types 3/4/5, tracekit 0x0a.',
    sources: ['fixture dmesg-m2pro-boot.txt', 'PROTOCOL.md §2, §5.5, §5.6'],
    versions: { min: 11, max: 12 },
    endpoints: [1, 2, 3, 4, 8, 0x0a],
    buffers: {
      1: { mode: 'host', bytes: 0x1000 },
      2: { mode: 'host', bytes: 0x2000 },
      4: { mode: 'host', bytes: 0x1000 },
      8: { mode: 'host', bytes: 0x4000 },
    },
    syslog: { entryCount: 32, messageSize: 0x80, lines: [], intervalMs: [1000, 1000] },
    oslog: { bootMessages: MTP_OSLOG_BOOT_MESSAGES, counterIntervalMs: 250 },
    kdebug: { entryCount: 0x100 },
    crash: {
      versionString: 'RTKit: RTKit-2413.41.1.release - Client: local-t602xmtp.release',
      role: 'MTP',
      tasks: ['mtp_main', 'rtk_mbox', 'oslog', 'dockchannel', 'idle'],
      textBase: 0x10_0000,
    },
    placement: {
      soc: 't6020',
      deviceName: '2a9400000.mtp',
      ascBase: 0x2_a940_0000,
      // [inferred] the MTP's own DART stream.
      memoryPath: { kind: 'dart', stream: 1 },
    },
  };
}
