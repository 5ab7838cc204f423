/**
 * `dcp`: the M1 (t8103) display co-processor, DCP, at `231c00000.dcp`.
 *
 * Modelled facts and their sources:
 *  - ASC at 0x231c00000 (the DT node and the Linux device name `231c00000.dcp` in fixtures
 *    dmesg-dcp-crash-142.txt and dmesg-dcp-syslog-truncated.txt; mailbox at +0x8000).
 *  - Protocol 11..12; every real Mac co-processor seen negotiates 12 (PROTOCOL.md §3.2).
 *  - Endpoints: system 1, 2, 3, 4, 8; AFK/EPIC endpoints 0x20–0x2d named by the Asahi DCP driver
 *    (`dcp-internal.h`) and m1n1's tracer, of which 0x24, 0x27–0x2b carried traffic on real M1
 *    Pro/Max [observed]; IOMFB at 0x37 (§10.1). Only IOMFB has a model (`dcp-iomfb.ts`).
 *  - Buffers are firmware-owned (mode B, §6.3): the Asahi DCP driver maps them through the DART
 *    and sends no reply. The crashlog is 3 pages, as in the real crash notifications quoted in
 *    §5.1 [observed]; the other sizes are [inferred].
 *  - Syslog: 128-byte messages (cut at 127 characters, fixture dmesg-dcp-syslog-truncated.txt),
 *    indices wrapping after 0x3e [observed, §5.2]; lines from the DCP fixtures.
 *  - IOReport and OSLog traffic (macOS AP-side logs show IOReport on an M2 DCP; HF: "AppleDCP
 *    waits for its log transport to drain before AP sleep").
 *  - Crash: `Cver` from fixture dmesg-dcp-crash-142.txt (line 1 of rtkit-version-strings.txt);
 *    PCs near the fixture's 0x17eaf0.
 *  - The firmware-owned IOVA window is [invented]: the real values come from the ADT
 *    (`iommu-addresses`), which our sources do not give.
 */

import type { FirmwareProfile, SyslogLine } from '../firmware/types.js';
import { createIomfbEndpoint, IOMFB_ENDPOINT, type IomfbOptions } from './dcp-iomfb.js';

/**
 * DCP syslog lines as real firmware logged them (fixtures of issues #295 and #379). The files are
 * given as the observed 23-character contexts: the firmware cuts `file:line` from the left, so
 * the original prefix is unknown and does not matter. Lines that ended in `\n` (#295) keep it.
 */
export const DCP_SYSLOG_LINES: readonly SyslogLine[] = [
  {
    file: 'nifiedPipeline.cpp',
    line: 1356,
    text: 'set_device_enabled_gated: current state: 0, requested state: 1\n',
  },
  {
    file: 'UPPipeDCP_H13P.cpp',
    line: 10468,
    text: 'set_run_mode_safe: no need to defer: 0 -> 1\n',
  },
  {
    file: 'ock_Tunables_v1.cpp',
    line: 651,
    text: 'IOMFB: Writing tunables with target 3\n',
  },
  {
    file: 'UPPipeDCP_H13P.cpp',
    line: 10468,
    text: 'set_run_mode_safe: no need to defer: 1 -> 2\n',
  },
  {
    file: 'eoInterfaceIOAV.cpp',
    line: 237,
    text: 'bool VideoInterfaceIOAV::open_ioav_gated(): IOAVVideoInterface open failed\n',
  },
  { file: 'UPPipeDCP_H13P.cpp', line: 10490, text: 'set_run_mode_safe: deferring: 4 -> 1' },
  {
    file: 'UPPipeDCP_H13P.cpp',
    line: 10395,
    text:
      'virtual IOMFBStatus IOMFB::UPPipeDCP_H13P::ready_for_run_mode_change(IOMFB::AppleRegisterStream *): ' +
      'initiating deferred run mode change',
  },
  { file: 'UPTSQManager.cpp', line: 133, text: 'IOMFB: clearing M3 reset' },
  { file: 'M3Hal_v1.cpp', line: 197, text: 'IOMFB: load APT M3 IMem : size 0x7918' },
  { file: 'M3Hal_v1.cpp', line: 197, text: 'IOMFB: load APT M3 DMem : size 0x6f60' },
  {
    file: 'CAHandler.cpp',
    line: 188,
    text: 'IOMFB load_ca_data: Unrecognized data version 0 (expected 1 or 2)',
  },
  {
    file: 'UPPipe.cpp',
    line: 3767,
    text: 'IOMFB read_pmu_data_sync: pmu ram read error (e00800d8)',
  },
  { file: 'AppleDCPDPTX.cpp', line: 355, text: '[AFK]powering nub 0x86ffc0' },
  { file: 'UPPipeDCP_H13P.cpp', line: 18011, text: 'Dual pipe disabled offset 0' },
  { file: 'ileCDIDPDisplay.cpp', line: 119, text: '[AFK]SAC enable: DP=1 CDI=1' },
];

export interface DcpProfileOptions {
  readonly iomfb?: IomfbOptions;
}

export function dcpProfile(opts: DcpProfileOptions = {}): FirmwareProfile {
  return {
    name: 'dcp',
    coproc: 'dcp',
    description: 'Apple M1 (t8103) display co-processor (DCP) with its IOMFB endpoint 0x37.',
    sources: [
      'AsahiLinux/linux drivers/gpu/drm/apple/{dcp.c,dcp-internal.h,iomfb.h,iomfb.c}',
      'fixtures dmesg-dcp-crash-142.txt, dmesg-dcp-syslog-truncated.txt, dmesg-m2-dcp-smc-syslog.txt',
      'PROTOCOL.md §5.1, §5.2, §6.3, §10.1',
    ],
    versions: { min: 11, max: 12 },
    endpoints: [
      1,
      2,
      3,
      4,
      8,
      0x20,
      0x21,
      0x22,
      0x23,
      0x24,
      0x27,
      0x28,
      0x29,
      0x2a,
      0x2b,
      0x2d,
      IOMFB_ENDPOINT,
    ],
    apps: () => [createIomfbEndpoint(opts.iomfb)],
    buffers: {
      1: { mode: 'firmware', bytes: 3 * 0x1000 },
      2: { mode: 'firmware', bytes: 3 * 0x1000 },
      4: { mode: 'firmware', bytes: 0x1000 },
      8: { mode: 'firmware', bytes: 0x4000 },
    },
    syslog: {
      entryCount: 64,
      messageSize: 0x80,
      wrapAfter: 0x3e,
      bootLines: DCP_SYSLOG_LINES.slice(0, 2),
      lines: DCP_SYSLOG_LINES,
      intervalMs: [20, 300],
    },
    ioreport: { intervalMs: 1000 },
    oslog: { counterIntervalMs: 2000 },
    kdebug: { entryCount: 0x100 },
    crash: {
      versionString: 'RTKit: RTKit-1827.120.2.debug - Client: local-ipad14dcp.release',
      role: 'DCP',
      // [invented] task names; real DCP task lists are not in our sources.
      tasks: ['IOMFB', 'rtk_mbox', 'afk_ep', 'DCPAV', 'syslog', 'idle'],
      textBase: 0x10_0000,
    },
    placement: {
      soc: 't8103',
      deviceName: '231c00000.dcp',
      ascBase: 0x2_31c0_0000,
      // [inferred] the DCP DART stream used for the co-processor's own accesses.
      memoryPath: { kind: 'dart', stream: 0 },
      // [invented] below 2^36 (M2 DCP needs IOVAs < 2^36, §6.2), clear of m1n1's
      // 0x8000_0000–0x9000_0000 host allocations.
      firmwareIovaWindow: { base: 0xa000_0000, size: 0x0100_0000 },
    },
    historyDepth: 128,
  };
}
