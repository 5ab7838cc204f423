/**
 * `generic`: an RTKit co-processor with only the system endpoints and a configurable protocol
 * version (10..12), for host tests that do not care which co-processor they talk to. It models
 * RTKit itself rather than one product: the behaviour comes from PROTOCOL.md §3–§8, the v10
 * specifics from HoolockLinux (§3.2), the syslog lines from real AOP firmware as quoted in m1n1
 * (fixture `m1n1-aop-syslog.txt`). Placement values are invented (no real device).
 */

import { firstAppEndpoint } from '../../protocol/index.js';
import type {
  BufferEndpoint,
  BufferSpec,
  FirmwareProfile,
  IOReportProfile,
  ProtocolContext,
  SyslogLine,
} from '../firmware/types.js';
import { createEchoEndpoint } from './echo-app.js';

export interface GenericProfileOptions {
  /** HELLO MINVER (default 11). For a v10-only firmware (`maxVersion` 10) see `minor`. */
  readonly minVersion?: number;
  /** HELLO MAXVER (default 12). */
  readonly maxVersion?: number;
  /**
   * v10 minor version when `maxVersion` is 10 (default 2): HELLO carries it in MINVER; 10.0/10.1
   * firmware does not ack AP ON and acks QUIESCED as OFF (F9).
   */
  readonly minor?: number;
  /** System endpoints in the map (default 1, 2, 3, 4, 8; v10 keeps those below the first app). */
  readonly systemEndpoints?: readonly number[];
  /** An echo test endpoint at the first application endpoint (default true). */
  readonly echoApp?: boolean;
  readonly buffers?: Readonly<Partial<Record<BufferEndpoint, BufferSpec>>>;
  readonly ping?: 'real' | 'qemu';
  /** IOReport 0xc/8 traffic after AP ON (default on, every 1000 ms); false = none. */
  readonly ioreport?: IOReportProfile | false;
  /** Send syslog INIT before the buffer request (§12 row 19; default false). */
  readonly syslogInitFirst?: boolean;
}

/** Real AOP syslog lines (fixture m1n1-aop-syslog.txt, from m1n1's aop_als.py / aop_audio.py). */
export const AOP_SYSLOG_LINES: readonly SyslogLine[] = [
  { file: 'ALSAOPDriver.cpp', line: 267, text: 'setProperty Setting log level = -1' },
  { file: 'ALSCT720.cpp', line: 1138, text: 'loadALSCalibrationData: ALS sensor is calibrated' },
  {
    file: 'ALSCT720.cpp',
    line: 690,
    text: 'configureSensor - Configure sensor with gain 8 and integration time 197380',
  },
  { file: 'ALSCT720.cpp', line: 708, text: 'setSensorEnabled - Enabling the sensor.' },
  {
    file: 'ALSCT720.cpp',
    line: 598,
    text: 'setProperty: set report interval 0, _wakeHintMode = 0',
  },
  { file: 'ALSCT720.cpp', line: 735, text: 'setSensorEnabled - Disabling the sensor.' },
  {
    file: 'udioPDMNodeBase.cpp',
    line: 554,
    text: 'PDMDev<pdm0> off ->xi0 , 0->2400000 AP state 1',
  },
];

const GENERIC_BUFFERS: Readonly<Partial<Record<BufferEndpoint, BufferSpec>>> = {
  // One page: the standard crashlog setup of ROBUSTNESS.md (the dump is trimmed to fit).
  1: { mode: 'host', bytes: 0x1000 },
  // 64 entries × 0xa0 = 0x2800 bytes.
  2: { mode: 'host', bytes: 0x3000 },
  4: { mode: 'host', bytes: 0x1000 },
  // 16 KiB, the §5.5 example.
  8: { mode: 'host', bytes: 0x4000 },
};

export function genericProfile(opts: GenericProfileOptions = {}): FirmwareProfile {
  const max = opts.maxVersion ?? 12;
  const v10only = max === 10;
  const min = v10only ? (opts.minor ?? 2) : (opts.minVersion ?? 11);
  const system = opts.systemEndpoints ?? [1, 2, 3, 4, 8];
  const echo = opts.echoApp ?? true;
  const firstApp = (ctx: ProtocolContext): number => firstAppEndpoint(ctx.version, ctx.minor);
  const ioreport = opts.ioreport === false ? undefined : (opts.ioreport ?? { intervalMs: 1000 });
  return {
    name: 'generic',
    coproc: 'generic',
    description:
      'A generic RTKit co-processor (system endpoints only, plus an echo test endpoint); protocol 10..12 configurable.',
    sources: [
      'PROTOCOL.md §3–§8',
      'HoolockLinux/linux drivers/soc/apple/rtkit.c (v10)',
      'fixture m1n1-aop-syslog.txt (syslog lines)',
    ],
    versions: { min, max },
    endpoints: (ctx) => system.filter((ep) => ep < firstApp(ctx)),
    ...(echo ? { apps: (ctx: ProtocolContext) => [createEchoEndpoint(firstApp(ctx))] } : {}),
    buffers: opts.buffers ?? GENERIC_BUFFERS,
    syslog: {
      entryCount: 64,
      messageSize: 0x80,
      ...(opts.syslogInitFirst !== undefined ? { initFirst: opts.syslogInitFirst } : {}),
      bootLines: AOP_SYSLOG_LINES.slice(0, 1),
      lines: AOP_SYSLOG_LINES,
      intervalMs: [50, 400],
    },
    ...(ioreport !== undefined ? { ioreport } : {}),
    oslog: { counterIntervalMs: 0 },
    kdebug: { entryCount: 0x100 },
    ...(opts.ping !== undefined ? { ping: opts.ping } : {}),
    crash: {
      // [invented] a version string in the observed shape, with a generic client.
      versionString: 'RTKit: RTKit-2413.41.1.release - Client: local-generic.release',
      role: 'IOP',
      tasks: ['main', 'rtk_mbox', 'syslog', 'ioreport', 'idle'],
      textBase: 0x10_0000,
    },
    placement: {
      soc: 'generic',
      deviceName: '200000000.iop',
      // [invented] no real device: a free-standing ASC for tests.
      ascBase: 0x2_0000_0000,
      memoryPath: { kind: 'identity' },
    },
  };
}
