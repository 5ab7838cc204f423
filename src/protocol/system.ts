/**
 * Management (EP 0) and system endpoints (1 crashlog, 2 syslog, 3 debug/kdebug, 4 ioreporting,
 * 8 oslog). Layouts from PROTOCOL.md §3, §5, §6; where the sources disagree we follow the
 * "our choice" column of PROTOCOL.md §12, cited per field.
 */

import { bits, flag } from './fields.js';
import { describePowerState } from './power.js';
import { defineVariant } from './variant.js';

const hex = (n: number): string => `0x${n.toString(16)}`;

// ---------------------------------------------------------------------------------------------
// Management, EP 0. TYPE [59:52] (ML; QEMU models [55:52], identical for types < 16).

export const MgmtField = {
  TYPE: bits(59, 52),
  MINVER: bits(15, 0),
  MAXVER: bits(31, 16),
  PING_COOKIE: bits(31, 0, 'hex'),
  PING_EXTRA: bits(47, 32, 'hex'),
  STARTEP_EP: bits(39, 32, 'hex'),
  STARTEP_FLAG: bits(1, 0),
  PWR_STATE: bits(15, 0, 'power'),
  EPMAP_BITMAP: bits(31, 0, 'hex'),
  EPMAP_BASE: bits(34, 32),
  EPMAP_LAST: flag(51),
  EPMAP_MORE: flag(0),
} as const;

export const MgmtType = {
  Hello: 1,
  HelloAck: 2,
  Ping: 3,
  Pong: 4,
  StartEndpoint: 5,
  SetIopPowerState: 6,
  IopPowerStateAck: 7,
  EndpointMap: 8,
  PowerNap: 0xa,
  SetApPowerState: 0xb,
} as const;

const T = MgmtField.TYPE;

/** "v11..12", or "v10.2" for a v10 HELLO whose MINVER is a minor version (HoolockLinux). */
function versionRange(min: number, max: number): string {
  if (max === 10 && min < 10) return `v10.${min} (v10: MINVER is the minor version)`;
  return min === max ? `v${max}` : `v${min}..${max}`;
}

function epList(base: number, bitmap: number): string {
  const eps: string[] = [];
  for (let i = 0; i < 32; i++) if ((bitmap >>> i) & 1) eps.push(hex(base * 32 + i));
  return eps.length === 0 ? '{}' : `{${eps.join(',')}}`;
}

export const hello = defineVariant(T, {
  kind: 'hello',
  title: 'HELLO',
  dir: 'iop->ap',
  select: MgmtType.Hello,
  fields: { minVersion: MgmtField.MINVER, maxVersion: MgmtField.MAXVER },
  summary: (v) => `HELLO ${versionRange(v.minVersion, v.maxVersion)}`,
  doc: 'Sent by the firmware when its CPU starts: the protocol versions it supports.',
});

export const helloAck = defineVariant(T, {
  kind: 'helloAck',
  title: 'HELLO_ACK',
  dir: 'ap->iop',
  select: MgmtType.HelloAck,
  fields: { minVersion: MgmtField.MINVER, maxVersion: MgmtField.MAXVER },
  summary: (v) =>
    v.minVersion === 0xffff && v.maxVersion === 0x0bad
      ? 'HELLO_ACK NAK (0xffff/0x0bad)'
      : `HELLO_ACK ${versionRange(v.minVersion, v.maxVersion)}`,
  doc: 'The chosen version, as MINVER = MAXVER. QEMU knows a NAK form 0xffff/0x0bad.',
});

export const ping = defineVariant(T, {
  kind: 'ping',
  title: 'PING',
  dir: 'ap->iop',
  select: MgmtType.Ping,
  fields: { cookie: MgmtField.PING_COOKIE, extra: MgmtField.PING_EXTRA },
  summary: (v) => `PING cookie ${hex(v.cookie)}${v.extra ? ` extra ${hex(v.extra)}` : ''}`,
  doc: 'Liveness check; the firmware echoes bits [31:0] (real hardware does not echo [47:32]).',
});

export const pong = defineVariant(T, {
  kind: 'pong',
  title: 'PONG',
  dir: 'iop->ap',
  select: MgmtType.Pong,
  fields: { cookie: MgmtField.PING_COOKIE, extra: MgmtField.PING_EXTRA },
  summary: (v) => `PONG cookie ${hex(v.cookie)}${v.extra ? ` extra ${hex(v.extra)}` : ''}`,
  doc: 'Answer to PING carrying its cookie.',
});

export const startEndpoint = defineVariant(T, {
  kind: 'startEndpoint',
  title: 'STARTEP',
  dir: 'ap->iop',
  select: MgmtType.StartEndpoint,
  fixed: [[MgmtField.STARTEP_FLAG, 2]],
  fields: { endpoint: MgmtField.STARTEP_EP },
  summary: (v) => `STARTEP ${hex(v.endpoint)} start`,
  doc: 'Start an endpoint (FLAG = 2). No reply is known.',
});

export const stopEndpoint = defineVariant(T, {
  kind: 'stopEndpoint',
  title: 'STARTEP',
  dir: 'ap->iop',
  select: MgmtType.StartEndpoint,
  fixed: [[MgmtField.STARTEP_FLAG, 1]],
  fields: { endpoint: MgmtField.STARTEP_EP },
  summary: (v) => `STARTEP ${hex(v.endpoint)} stop`,
  doc: 'Stop an endpoint (FLAG = 1) [single source: m1n1-Py]; the firmware reaction is unknown.',
});

export const setIopPowerState = defineVariant(T, {
  kind: 'setIopPowerState',
  title: 'SET_IOP_PWR_STATE',
  dir: 'ap->iop',
  select: MgmtType.SetIopPowerState,
  fields: { state: MgmtField.PWR_STATE },
  summary: (v) => `SET_IOP_PWR_STATE ${describePowerState(v.state)}`,
  doc: 'Ask the IOP to change power state (0x220 wakes, 0x201 idles, 0x10 quiesces, 1 sleeps, 0 powers off).',
});

export const iopPowerStateAck = defineVariant(T, {
  kind: 'iopPowerStateAck',
  title: 'IOP_PWR_STATE_ACK',
  dir: 'iop->ap',
  select: MgmtType.IopPowerStateAck,
  fields: { state: MgmtField.PWR_STATE },
  summary: (v) => `IOP_PWR_STATE_ACK ${describePowerState(v.state)}`,
  doc: 'The IOP power state reached; also sent unsolicited at the end of boot.',
});

export const epmap = defineVariant(T, {
  kind: 'epmap',
  title: 'EPMAP',
  dir: 'iop->ap',
  select: MgmtType.EndpointMap,
  fields: {
    bitmap: MgmtField.EPMAP_BITMAP,
    base: MgmtField.EPMAP_BASE,
    last: MgmtField.EPMAP_LAST,
  },
  summary: (v) => `EPMAP block ${v.base} ${epList(v.base, v.bitmap)}${v.last ? ' last' : ''}`,
  doc: 'One block of the endpoint map: endpoint 32·BASE + i for every set bit i; LAST ends it.',
});

export const epmapReply = defineVariant(T, {
  kind: 'epmapReply',
  title: 'EPMAP_REPLY',
  dir: 'ap->iop',
  select: MgmtType.EndpointMap,
  fields: { base: MgmtField.EPMAP_BASE, last: MgmtField.EPMAP_LAST, more: MgmtField.EPMAP_MORE },
  summary: (v) =>
    `EPMAP_REPLY block ${v.base}${v.last ? ' last' : ''}${v.more ? ' more' : ''}${
      !v.last && !v.more ? ' (v10 form)' : ''
    }`,
  doc: 'Answer to every EPMAP block: BASE with LAST for the last block, else MORE.',
});

export const powerNap = defineVariant(T, {
  kind: 'powerNap',
  title: 'POWER_NAP',
  dir: 'both',
  select: MgmtType.PowerNap,
  fields: {},
  summary: () => 'POWER_NAP',
  doc: 'Defined by QEMU only; meaning unknown [uncertain].',
});

export const apPowerStateAck = defineVariant(T, {
  kind: 'apPowerStateAck',
  title: 'AP_PWR_STATE_ACK',
  dir: 'iop->ap',
  select: MgmtType.SetApPowerState,
  fields: { state: MgmtField.PWR_STATE },
  summary: (v) => `AP_PWR_STATE_ACK ${describePowerState(v.state)}`,
  doc: 'The IOP acknowledges the AP power state (same type number as the request).',
});

export const setApPowerState = defineVariant(T, {
  kind: 'setApPowerState',
  title: 'SET_AP_PWR_STATE',
  dir: 'ap->iop',
  select: MgmtType.SetApPowerState,
  fields: { state: MgmtField.PWR_STATE },
  summary: (v) => `SET_AP_PWR_STATE ${describePowerState(v.state)}`,
  doc: 'Tell the IOP the AP power state (0x20 ON enables syslog; 0x10 first on every shutdown).',
});

// IOP→AP kinds are listed before their AP→IOP twins: with no direction known, a shared layout
// decodes as the firmware's message.
export const MANAGEMENT = [
  hello,
  helloAck,
  ping,
  pong,
  startEndpoint,
  stopEndpoint,
  setIopPowerState,
  iopPowerStateAck,
  epmap,
  epmapReply,
  powerNap,
  apPowerStateAck,
  setApPowerState,
] as const;

// ---------------------------------------------------------------------------------------------
// Buffer request/reply on EP 1, 2, 4 (§6.1). TYPE [59:52] = 1, SIZE [51:44] in 4 KiB pages,
// IOVA [43:0] (ML since 2023; UB/m1n1-C/NB mask [41:0], too narrow for GPU addresses).

export const BufferField = {
  TYPE: bits(59, 52),
  SIZE: bits(51, 44),
  IOVA: bits(43, 0, 'hex'),
} as const;

function bufferText(v: { size: number; iova: number }): string {
  return `${v.size} page${v.size === 1 ? '' : 's'} (${hex(v.size * 4096)} bytes)${
    v.iova === 0 ? ', host allocates' : ` at ${hex(v.iova)}`
  }`;
}

function bufferVariants<P extends string>(sel: typeof BufferField.TYPE, prefix: P) {
  const request = defineVariant(sel, {
    kind: `${prefix}BufferRequest` as `${P}BufferRequest`,
    title: 'BUFFER_REQUEST',
    dir: 'iop->ap',
    select: 1,
    fields: { size: BufferField.SIZE, iova: BufferField.IOVA },
    summary: (v) => `buffer request ${bufferText(v)}`,
    doc: 'The firmware asks for a shared buffer: IOVA 0 = host allocates; else the firmware owns it.',
  });
  const reply = defineVariant(sel, {
    kind: `${prefix}BufferReply` as `${P}BufferReply`,
    title: 'BUFFER_REPLY',
    dir: 'ap->iop',
    select: 1,
    fields: { size: BufferField.SIZE, iova: BufferField.IOVA },
    summary: (v) => `buffer reply ${bufferText(v)}`,
    doc: 'The host hands the device address of the buffer it allocated.',
  });
  return [request, reply] as const;
}

// ---------------------------------------------------------------------------------------------
// Crashlog, EP 1 (§5.1).

export const [crashlogBufferRequest, crashlogBufferReply] = bufferVariants(
  BufferField.TYPE,
  'crashlog',
);

export const crashNotification = defineVariant(BufferField.TYPE, {
  kind: 'crashNotification',
  title: 'CRASHED',
  dir: 'iop->ap',
  select: 1,
  fields: { size: BufferField.SIZE, iova: BufferField.IOVA },
  when: (ctx) => ctx.crashlogArmed === true && ctx.dir !== 'ap->iop',
  summary: (v) => `co-processor crashed; crashlog ${bufferText(v)}`,
  doc: 'Any EP1 type-1 message after the buffer request: the firmware has crashed. No reply.',
});

/** m1n1-Py's debug values that make the firmware crash on purpose [single source: m1n1-Py]. */
export const CrashTrigger = { Soft: 0x40, Hard: 0x22 } as const;

export const crashTrigger = defineVariant(BufferField.TYPE, {
  kind: 'crashTrigger',
  title: 'CRASH_TRIGGER',
  dir: 'ap->iop',
  select: 0,
  fields: { code: bits(7, 0, 'hex') },
  accept: (v) => v.code === CrashTrigger.Soft || v.code === CrashTrigger.Hard,
  summary: (v) => `crash trigger (${v.code === CrashTrigger.Soft ? 'soft' : 'hard'}, m1n1 debug)`,
  doc: 'Raw 0x40 ("soft") or 0x22 ("hard") on EP1 provokes a crash [single source: m1n1-Py].',
});

export const CRASHLOG = [
  crashNotification,
  crashlogBufferRequest,
  crashlogBufferReply,
  crashTrigger,
] as const;

// ---------------------------------------------------------------------------------------------
// Syslog, EP 2 (§5.2). INIT is decoded with m1n1's wide fields and checked by notesFor().

export const SyslogField = {
  TYPE: bits(59, 52),
  /** ML and OB read only [7:0]. */
  INIT_COUNT: bits(15, 0),
  /** ML and OB read only [31:24]. */
  INIT_SIZE: bits(39, 24),
  LOG_INDEX: bits(7, 0),
} as const;

export const SyslogType = { Buffer: 1, Log: 5, Init: 8 } as const;

export const [syslogBufferRequest, syslogBufferReply] = bufferVariants(SyslogField.TYPE, 'syslog');

export const syslogInit = defineVariant(SyslogField.TYPE, {
  kind: 'syslogInit',
  title: 'SYSLOG_INIT',
  dir: 'iop->ap',
  select: SyslogType.Init,
  fields: { entryCount: SyslogField.INIT_COUNT, messageSize: SyslogField.INIT_SIZE },
  summary: (v) => `syslog init: ${v.entryCount} entries of ${v.messageSize}-byte messages`,
  doc: 'Ring geometry: entry count and message size; entry stride is 0x20 + message size.',
});

export const syslogLog = defineVariant(SyslogField.TYPE, {
  kind: 'syslogLog',
  title: 'SYSLOG_LOG',
  dir: 'both',
  select: SyslogType.Log,
  fields: { index: SyslogField.LOG_INDEX },
  summary: (v) => `syslog entry ${v.index}`,
  doc: 'A new ring entry; the AP acks by echoing the identical word, always.',
});

export const SYSLOG = [syslogBufferRequest, syslogBufferReply, syslogInit, syslogLog] as const;

// ---------------------------------------------------------------------------------------------
// Debug / KDebug, EP 3 (§5.3) [single source: m1n1-Py]. TYPE [55:48], unlike EP 1/2/4.

export const KdebugField = {
  TYPE: bits(55, 48),
  COUNT: bits(47, 0),
  DVA: bits(47, 0, 'hex'),
  DVA_PAGE: bits(47, 12, 'page'),
  FLAGS: bits(11, 0, 'hex'),
} as const;

const KT = KdebugField.TYPE;

export const kdebugGetBuffer = defineVariant(KT, {
  kind: 'kdebugGetBuffer',
  title: 'KDEBUG_GETBUF',
  dir: 'iop->ap',
  select: 1,
  fields: { count: KdebugField.COUNT },
  summary: (v) => `kdebug buffer request: ${v.count} entries (${hex(v.count * 0x20)} bytes)`,
  doc: 'The firmware wants COUNT × 0x20 bytes of trace buffer.',
});

export const kdebugBuffer1 = defineVariant(KT, {
  kind: 'kdebugBuffer1',
  title: 'KDEBUG_BUF1',
  dir: 'ap->iop',
  select: 1,
  fields: { dva: KdebugField.DVA },
  summary: (v) => `kdebug buffer 1 at ${hex(v.dva)}`,
  doc: 'Reply to GETBUF: device address of the entry buffer.',
});

export const kdebugPreallocated1 = defineVariant(KT, {
  kind: 'kdebugPreallocated1',
  title: 'KDEBUG_PREALLOC1',
  dir: 'iop->ap',
  select: 2,
  fields: { page: KdebugField.DVA_PAGE, flags: KdebugField.FLAGS },
  summary: (v) => `kdebug preallocated buffer 1 at ${hex(v.page * 4096)} flags ${hex(v.flags)}`,
  doc: 'The firmware announces its own buffer 1: DVA [47:12], flags [11:0].',
});

export const kdebugBuffer2 = defineVariant(KT, {
  kind: 'kdebugBuffer2',
  title: 'KDEBUG_BUF2',
  dir: 'ap->iop',
  select: 2,
  fields: { dva: KdebugField.DVA },
  summary: (v) => `kdebug buffer 2 at ${hex(v.dva)}`,
  doc: 'Second host buffer (0x2000 bytes in m1n1).',
});

export const kdebugPreallocated2 = defineVariant(KT, {
  kind: 'kdebugPreallocated2',
  title: 'KDEBUG_PREALLOC2',
  dir: 'iop->ap',
  select: 3,
  fields: { dva: KdebugField.DVA },
  summary: (v) => `kdebug preallocated buffer 2 at ${hex(v.dva)}`,
  doc: 'The firmware announces its own buffer 2.',
});

export const kdebugStart = defineVariant(KT, {
  kind: 'kdebugStart',
  title: 'KDEBUG_START',
  dir: 'ap->iop',
  select: 8,
  fields: {},
  summary: () => 'kdebug start',
  doc: 'Sent by m1n1 when the endpoint is started.',
});

export const KDEBUG = [
  kdebugGetBuffer,
  kdebugBuffer1,
  kdebugPreallocated1,
  kdebugBuffer2,
  kdebugPreallocated2,
  kdebugStart,
] as const;

// ---------------------------------------------------------------------------------------------
// IOReport, EP 4 (§5.4). Types 8, 0xc and 4 are echoed verbatim, so their remaining bits are
// kept as an opaque payload.

export const IOReportField = { TYPE: bits(59, 52), PAYLOAD: bits(51, 0, 'hex') } as const;

export const [ioreportBufferRequest, ioreportBufferReply] = bufferVariants(
  IOReportField.TYPE,
  'ioreport',
);

export const ioreportReport = defineVariant(IOReportField.TYPE, {
  kind: 'ioreportReport',
  title: 'IOREPORT_8',
  dir: 'both',
  select: 8,
  fields: { payload: IOReportField.PAYLOAD },
  summary: (v) => `ioreport type 8${v.payload ? ` ${hex(v.payload)}` : ''} (echoed)`,
  doc: 'Must be echoed or the co-processor hangs (ML); m1n1 calls it "report".',
});

export const ioreportStart = defineVariant(IOReportField.TYPE, {
  kind: 'ioreportStart',
  title: 'IOREPORT_C',
  dir: 'both',
  select: 0xc,
  fields: { payload: IOReportField.PAYLOAD },
  summary: (v) => `ioreport type 0xc${v.payload ? ` ${hex(v.payload)}` : ''} (echoed)`,
  doc: 'Must be echoed (ML); m1n1 calls it "start".',
});

export const ioreportQuery = defineVariant(IOReportField.TYPE, {
  kind: 'ioreportQuery',
  title: 'IOREPORT_4',
  dir: 'both',
  select: 4,
  fields: { payload: IOReportField.PAYLOAD },
  summary: (v) => `ioreport type 4${v.payload ? ` ${hex(v.payload)}` : ''}`,
  doc: 'Sent periodically by macOS and echoed by the IOP [observed]; meaning unknown.',
});

export const IOREPORT = [
  ioreportBufferRequest,
  ioreportBufferReply,
  ioreportReport,
  ioreportStart,
  ioreportQuery,
] as const;

// ---------------------------------------------------------------------------------------------
// OSLog, EP 8 (§5.5). TYPE [63:56]; SIZE [55:36] in bytes, IOVA [35:0] as a page number
// (ML ≥ 6.15, UB, OB; maintainer-confirmed). m1n1-Py's reading differs, see notesFor().

export const OSLogField = {
  TYPE: bits(63, 56),
  SIZE: bits(55, 36, 'hex'),
  PAGE: bits(35, 0, 'page'),
  COUNTER: bits(31, 0),
} as const;

function oslogBufferText(v: { size: number; page: number }): string {
  return `${hex(v.size)} bytes${v.page === 0 ? ', host allocates' : ` at ${hex(v.page * 4096)}`}`;
}

export const oslogBufferRequest = defineVariant(OSLogField.TYPE, {
  kind: 'oslogBufferRequest',
  title: 'OSLOG_BUFFER_REQUEST',
  dir: 'iop->ap',
  select: 1,
  fields: { size: OSLogField.SIZE, page: OSLogField.PAGE },
  summary: (v) => `oslog buffer request ${oslogBufferText(v)}`,
  doc: 'OSLog buffer request; a non-zero page number is a firmware-owned buffer (no reply).',
});

export const oslogBufferReply = defineVariant(OSLogField.TYPE, {
  kind: 'oslogBufferReply',
  title: 'OSLOG_BUFFER_REPLY',
  dir: 'ap->iop',
  select: 1,
  fields: { size: OSLogField.SIZE, page: OSLogField.PAGE },
  summary: (v) => `oslog buffer reply ${oslogBufferText(v)}`,
  doc: 'Reply with the buffer address shifted right by 12 (never the obsolete type-3 ACK).',
});

export const oslogCounter = defineVariant(OSLogField.TYPE, {
  kind: 'oslogCounter',
  title: 'OSLOG_COUNTER',
  dir: 'both',
  select: 2,
  fields: { counter: OSLogField.COUNTER },
  summary: (v) => `oslog write counter ${v.counter}`,
  doc: 'Cumulative write counter; echoed when bits [55:32] are zero [single source: HF].',
});

export const OSLOG = [oslogBufferRequest, oslogBufferReply, oslogCounter] as const;
