/**
 * Application-endpoint protocols, selected by co-processor (PROTOCOL.md §9, §10). An endpoint
 * number alone does not say which protocol it speaks: 0x20 is the SMC on the SMC, an AFK ring
 * on the DCP and firmware control on the GPU.
 */

import { bits, flag } from './fields.js';
import { showKey } from './fourcc.js';
import { defineVariant } from './variant.js';

const hex = (n: number): string => `0x${n.toString(16)}`;

// ---------------------------------------------------------------------------------------------
// SMC, EP 0x20 (§9). AP→SMC commands and SMC→AP replies share [7:0] as their selector.

export const SmcField = {
  MSG: bits(7, 0, 'hex'),
  ID: bits(15, 12),
  SIZE: bits(23, 16),
  WSIZE: bits(31, 24),
  DATA: bits(63, 32, 'fourcc'),
  INDEX: bits(63, 32),
  RESULT: bits(7, 0, 'hex'),
  /** m1n1-Py's width; ML reads [23:16] (same value up to 255). */
  REPLY_SIZE: bits(31, 16),
  VALUE: bits(63, 32, 'hex'),
  EVENT_TYPE: bits(63, 48, 'hex'),
  EVENT_SUBCODE: bits(47, 40, 'hex'),
  EVENT_DATA: bits(39, 32, 'hex'),
  SHMEM: bits(51, 0, 'hex'),
} as const;

export const SmcMsg = {
  ReadKey: 0x10,
  WriteKey: 0x11,
  GetKeyByIndex: 0x12,
  GetKeyInfo: 0x13,
  Initialize: 0x17,
  /** Reply code reserved for notifications. */
  Notification: 0x18,
  RwKey: 0x20,
} as const;

const S = SmcField.MSG;

function smcCommand<K extends string>(kind: K, title: string, select: number, doc: string) {
  return defineVariant(S, {
    kind,
    title,
    dir: 'ap->iop',
    select,
    fields: { id: SmcField.ID, size: SmcField.SIZE, wsize: SmcField.WSIZE, key: SmcField.DATA },
    summary: (v) =>
      `SMC ${title} ${showKey(v.key)} id ${v.id} size ${v.size}${v.wsize ? ` wsize ${v.wsize}` : ''}`,
    doc,
  });
}

export const smcReadKey = smcCommand(
  'smcReadKey',
  'READ_KEY',
  SmcMsg.ReadKey,
  'Read SIZE bytes of a key; more than 4 bytes come back through shared memory.',
);
export const smcWriteKey = smcCommand(
  'smcWriteKey',
  'WRITE_KEY',
  SmcMsg.WriteKey,
  'Write SIZE bytes, placed in shared memory before the command.',
);
export const smcGetKeyInfo = smcCommand(
  'smcGetKeyInfo',
  'GET_KEY_INFO',
  SmcMsg.GetKeyInfo,
  'Key metadata in shared memory: u8 size, char type[4], u8 flags.',
);
export const smcRwKey = smcCommand(
  'smcRwKey',
  'RW_KEY',
  SmcMsg.RwKey,
  'Write WSIZE bytes then read SIZE bytes in one command.',
);

export const smcGetKeyByIndex = defineVariant(S, {
  kind: 'smcGetKeyByIndex',
  title: 'GET_KEY_BY_INDEX',
  dir: 'ap->iop',
  select: SmcMsg.GetKeyByIndex,
  fields: { id: SmcField.ID, size: SmcField.SIZE, wsize: SmcField.WSIZE, index: SmcField.INDEX },
  summary: (v) => `SMC GET_KEY_BY_INDEX ${v.index} id ${v.id}`,
  doc: 'The key at an index; the reply carries it little-endian in VALUE.',
});

export const smcInitialize = defineVariant(S, {
  kind: 'smcInitialize',
  title: 'INITIALIZE',
  dir: 'ap->iop',
  select: SmcMsg.Initialize,
  fields: { id: SmcField.ID },
  summary: (v) => `SMC INITIALIZE id ${v.id}`,
  doc: 'First command after STARTEP; the SMC answers with its shared-memory address.',
});

export const smcShmemAddress = defineVariant(bits(63, 52), {
  kind: 'smcShmemAddress',
  title: 'SHMEM',
  dir: 'iop->ap',
  select: 0,
  fields: { address: SmcField.SHMEM },
  when: (ctx) => ctx.smcShmemPending === true && ctx.dir !== 'ap->iop',
  summary: (v) => `SMC shared memory at ${hex(v.address)}`,
  doc: 'The first SMC→AP word after INITIALIZE: a raw address inside the SRAM window.',
});

export const smcNotification = defineVariant(S, {
  kind: 'smcNotification',
  title: 'NOTIFICATION',
  dir: 'iop->ap',
  select: SmcMsg.Notification,
  fields: {
    event: SmcField.EVENT_TYPE,
    subcode: SmcField.EVENT_SUBCODE,
    data: SmcField.EVENT_DATA,
  },
  summary: (v) => `SMC notification ${smcEventName(v.event, v.subcode)} data ${hex(v.data)}`,
  doc: 'Asynchronous event (button, lid, ...), enabled by writing NTAP = 1.',
});

export const smcReply = defineVariant(null, {
  kind: 'smcReply',
  title: 'REPLY',
  dir: 'iop->ap',
  select: 0,
  fields: {
    result: SmcField.RESULT,
    id: SmcField.ID,
    size: SmcField.REPLY_SIZE,
    value: SmcField.VALUE,
  },
  // RESULT 0x18 marks a notification, never a reply.
  accept: (v) => v.result !== SmcMsg.Notification,
  summary: (v) =>
    `SMC reply id ${v.id} ${v.result === 0 ? 'ok' : `error ${hex(v.result)}`} size ${v.size} value ${hex(v.value)}`,
  doc: 'Result (0 = success), the echoed ID, data size and up to 4 bytes of data (little-endian).',
});

function smcEventName(event: number, sub: number): string {
  if (event === 0x7201) {
    const b: Record<number, string> = {
      1: 'power button',
      6: 'Touch ID/power button',
      254: 'button held briefly',
      0: 'button held long',
    };
    return `button (${b[sub] ?? hex(sub)})`;
  }
  if (event === 0x7203) return `lid ${hex(sub)}`;
  return `${hex(event)}/${hex(sub)}`;
}

/** A reply may carry any RESULT byte except 0x18, so it matches when nothing else does. */
export const SMC = [
  smcShmemAddress,
  smcReadKey,
  smcWriteKey,
  smcGetKeyByIndex,
  smcGetKeyInfo,
  smcInitialize,
  smcRwKey,
  smcNotification,
] as const;

// ---------------------------------------------------------------------------------------------
// DCP IOMFB, EP 0x37 (§10.1; AS iomfb.h).

export const IomfbField = {
  TYPE: bits(3, 0),
  ACK: flag(6),
  CONTEXT: bits(11, 8),
  OFFSET: bits(31, 16, 'hex'),
  LENGTH: bits(63, 32, 'hex'),
} as const;

const IOMFB_CONTEXT: Readonly<Record<number, string>> = {
  0: 'CB',
  2: 'CMD',
  3: 'ASYNC',
  4: 'OOBCB',
  6: 'OOBCMD',
};

export function iomfbContextName(c: number): string {
  return IOMFB_CONTEXT[c] ?? `ctx${c}`;
}

export const iomfbSetShmem = defineVariant(IomfbField.TYPE, {
  kind: 'iomfbSetShmem',
  title: 'SET_SHMEM',
  dir: 'ap->iop',
  select: 0,
  // AS iomfb.h: a flag nibble in [7:4] (4 in Linux's message, which sets bit 6 — not an ACK
  // here) and the region's DVA in [63:16]; PROTOCOL.md §10.1 lists only TYPE for this message.
  fields: { flag: bits(7, 4, 'hex'), address: bits(63, 16, 'hex') },
  summary: (v) => `IOMFB SET_SHMEM ${hex(v.address)} flag ${hex(v.flag)}`,
  doc: 'The AP hands DCP the shared-memory region for IOMFB calls.',
});

export const iomfbInitialized = defineVariant(IomfbField.TYPE, {
  kind: 'iomfbInitialized',
  title: 'INITIALIZED',
  dir: 'iop->ap',
  select: 1,
  fields: {
    ack: IomfbField.ACK,
    context: IomfbField.CONTEXT,
    offset: IomfbField.OFFSET,
    length: IomfbField.LENGTH,
  },
  summary: () => 'IOMFB INITIALIZED',
  doc: 'DCP reports the IOMFB endpoint ready.',
});

export const iomfbMessage = defineVariant(IomfbField.TYPE, {
  kind: 'iomfbMessage',
  title: 'MSG',
  dir: 'both',
  select: 2,
  fields: {
    ack: IomfbField.ACK,
    context: IomfbField.CONTEXT,
    offset: IomfbField.OFFSET,
    length: IomfbField.LENGTH,
  },
  summary: (v) =>
    v.ack
      ? `IOMFB ACK of ${iomfbContextName(v.context)}`
      : `IOMFB MSG ${iomfbContextName(v.context)} length ${hex(v.length)}${v.offset ? ` offset ${hex(v.offset)}` : ''}`,
  doc: 'A call or callback in the shared region (CMD/OOBCMD from the AP, CB/ASYNC from DCP) or its ACK.',
});

export const IOMFB = [iomfbSetShmem, iomfbInitialized, iomfbMessage] as const;

// ---------------------------------------------------------------------------------------------
// AFK / EPIC rings (§10.2): DCP 0x20–0x2d, AOP 0x20–0x2e. TYPE [63:48].

export const AfkField = {
  TYPE: bits(63, 48, 'hex'),
  GETBUF_SIZE: bits(31, 16),
  TAG: bits(15, 0, 'hex'),
  DVA: bits(47, 0, 'hex'),
  RING_OFFSET: bits(47, 32, 'hex'),
  WPTR: bits(31, 0, 'hex'),
} as const;

const A = AfkField.TYPE;

function afkSimple<K extends string>(
  kind: K,
  title: string,
  select: number,
  dir: 'ap->iop' | 'iop->ap',
  doc: string,
) {
  return defineVariant(A, {
    kind,
    title,
    dir,
    select,
    fields: {},
    summary: () => `AFK ${title}`,
    doc,
  });
}

export const afkInit = afkSimple('afkInit', 'INIT', 0x80, 'ap->iop', 'Start of ring setup.');
export const afkInitAck = afkSimple(
  'afkInitAck',
  'INIT_ACK',
  0xa0,
  'iop->ap',
  'Ring setup acknowledged.',
);
export const afkStart = afkSimple('afkStart', 'START', 0xa3, 'ap->iop', 'Rings configured; start.');
export const afkStartAck = afkSimple(
  'afkStartAck',
  'START_ACK',
  0x86,
  'iop->ap',
  'Start acknowledged.',
);
export const afkRecv = afkSimple(
  'afkRecv',
  'RECV',
  0x85,
  'iop->ap',
  'Data available in the RX ring.',
);
export const afkShutdown = afkSimple(
  'afkShutdown',
  'SHUTDOWN',
  0xc0,
  'ap->iop',
  'Tear the rings down.',
);
export const afkShutdownAck = afkSimple(
  'afkShutdownAck',
  'SHUTDOWN_ACK',
  0xc1,
  'iop->ap',
  'Shutdown acknowledged.',
);

export const afkGetBuffer = defineVariant(A, {
  kind: 'afkGetBuffer',
  title: 'GETBUF',
  dir: 'iop->ap',
  select: 0x89,
  fields: { size: AfkField.GETBUF_SIZE, tag: AfkField.TAG },
  summary: (v) => `AFK GETBUF ${hex(v.size * 64)} bytes tag ${hex(v.tag)}`,
  doc: 'The IOP asks for a ring buffer of SIZE 64-byte blocks.',
});

export const afkGetBufferAck = defineVariant(A, {
  kind: 'afkGetBufferAck',
  title: 'GETBUF_ACK',
  dir: 'ap->iop',
  select: 0xa1,
  fields: { dva: AfkField.DVA },
  summary: (v) => `AFK GETBUF_ACK at ${hex(v.dva)}`,
  doc: 'Device address of the ring buffer.',
});

function afkRing<K extends string>(kind: K, title: string, select: number) {
  return defineVariant(A, {
    kind,
    title,
    dir: 'iop->ap',
    select,
    fields: { offset: AfkField.RING_OFFSET, size: AfkField.GETBUF_SIZE, tag: AfkField.TAG },
    summary: (v) => `AFK ${title} offset ${hex(v.offset)} size ${hex(v.size)} tag ${hex(v.tag)}`,
    doc: `Place the ${title === 'INIT_TX' ? 'TX' : 'RX'} ring inside the buffer.`,
  });
}

export const afkInitTx = afkRing('afkInitTx', 'INIT_TX', 0x8a);
export const afkInitRx = afkRing('afkInitRx', 'INIT_RX', 0x8b);

export const afkSend = defineVariant(A, {
  kind: 'afkSend',
  title: 'SEND',
  dir: 'ap->iop',
  select: 0xa2,
  fields: { wptr: AfkField.WPTR },
  summary: (v) => `AFK SEND wptr ${hex(v.wptr)}`,
  doc: 'The AP wrote ring entries up to WPTR.',
});

export const AFK = [
  afkInit,
  afkInitAck,
  afkGetBuffer,
  afkGetBufferAck,
  afkInitTx,
  afkInitRx,
  afkStart,
  afkStartAck,
  afkSend,
  afkRecv,
  afkShutdown,
  afkShutdownAck,
] as const;

// ---------------------------------------------------------------------------------------------
// GPU (AGX) firmware control 0x20 and doorbell 0x21 (§10.3). TYPE [63:48].

export const GpuField = {
  TYPE: bits(63, 48, 'hex'),
  INITDATA: bits(43, 0, 'hex'),
  CHANNEL: bits(47, 0, 'hex'),
} as const;

const GPU_CHANNELS: Readonly<Record<number, string>> = {
  0: 'TA',
  1: '3D',
  2: 'CL',
  16: 'kick firmware',
  17: 'device control',
};

export const gpuInit = defineVariant(GpuField.TYPE, {
  kind: 'gpuInit',
  title: 'INIT',
  dir: 'ap->iop',
  select: 0x81,
  fields: { initdata: GpuField.INITDATA },
  summary: (v) => `GPU INIT initdata ${hex(v.initdata)}`,
  doc: 'Hands the firmware its initdata structure.',
});

export const gpuRxDoorbell = defineVariant(GpuField.TYPE, {
  kind: 'gpuRxDoorbell',
  title: 'RX_DOORBELL',
  dir: 'iop->ap',
  select: 0x42,
  fields: {},
  summary: () => 'GPU RX doorbell',
  doc: 'The firmware signals new messages in its rings ("pong" in the Asahi docs).',
});

export const gpuDoorbell = defineVariant(GpuField.TYPE, {
  kind: 'gpuDoorbell',
  title: 'DOORBELL',
  dir: 'ap->iop',
  select: 0x83,
  fields: { channel: GpuField.CHANNEL },
  summary: (v) => `GPU doorbell ${GPU_CHANNELS[v.channel] ?? hex(v.channel)}`,
  doc: 'Kick a submission channel (0 TA, 1 3D, 2 CL, 0x10 firmware, 0x11 device control).',
});

export const gpuFwctl = defineVariant(GpuField.TYPE, {
  kind: 'gpuFwctl',
  title: 'FWCTL',
  dir: 'ap->iop',
  select: 0x84,
  fields: {},
  summary: () => 'GPU FWCTL',
  doc: 'Firmware control doorbell.',
});

export const gpuHalt = defineVariant(GpuField.TYPE, {
  kind: 'gpuHalt',
  title: 'HALT',
  dir: 'ap->iop',
  select: 0x85,
  fields: {},
  summary: () => 'GPU HALT',
  doc: 'Halt the firmware.',
});

export const GPU = [gpuInit, gpuRxDoorbell, gpuDoorbell, gpuFwctl, gpuHalt] as const;

// ---------------------------------------------------------------------------------------------
// SIO DMA co-processor, EP 0x20 (§10.4; AS apple-sio.c). TYPE [23:16].

export const SioField = {
  TYPE: bits(23, 16, 'hex'),
  DATA: bits(63, 32, 'hex'),
  PARAM: bits(31, 24, 'hex'),
  TAG: bits(13, 8),
  CHANNEL: bits(7, 0),
} as const;

const SIO_TYPES: readonly [string, string, number, 'ap->iop' | 'iop->ap'][] = [
  ['sioStart', 'START', 2, 'ap->iop'],
  ['sioSetup', 'SETUP', 3, 'ap->iop'],
  ['sioConfigure', 'CONFIGURE', 5, 'ap->iop'],
  ['sioIssue', 'ISSUE', 6, 'ap->iop'],
  ['sioTerminate', 'TERMINATE', 8, 'ap->iop'],
  ['sioAck', 'ACK', 0x65, 'iop->ap'],
  ['sioNack', 'NACK', 0x66, 'iop->ap'],
  ['sioStarted', 'STARTED', 0x67, 'iop->ap'],
  ['sioReport', 'REPORT', 0x68, 'iop->ap'],
];

export const SIO = SIO_TYPES.map(([kind, title, select, dir]) =>
  defineVariant(SioField.TYPE, {
    kind: kind as
      | 'sioStart'
      | 'sioSetup'
      | 'sioConfigure'
      | 'sioIssue'
      | 'sioTerminate'
      | 'sioAck'
      | 'sioNack'
      | 'sioStarted'
      | 'sioReport',
    title,
    dir,
    select,
    fields: {
      data: SioField.DATA,
      param: SioField.PARAM,
      tag: SioField.TAG,
      channel: SioField.CHANNEL,
    },
    summary: (v) =>
      `SIO ${title} channel ${v.channel} tag ${v.tag} param ${hex(v.param)} data ${hex(v.data)}`,
    doc: `SIO DMA ${title}.`,
  }),
);

// ---------------------------------------------------------------------------------------------
// PMP, EP 0x20 (§10.4; m1n1 fw/pmp.py). TYPE [56:44].

export const PmpField = {
  TYPE: bits(56, 44, 'hex'),
  DVA: bits(43, 0, 'hex'),
  DEV: bits(31, 16, 'hex'),
  STATE: bits(15, 0, 'hex'),
} as const;

const PMP_SIMPLE: readonly [string, string, number, 'ap->iop' | 'iop->ap'][] = [
  ['pmpStartup', 'Startup', 0x00, 'iop->ap'],
  ['pmpConfigureAck', 'Configure_Ack', 0x20, 'iop->ap'],
  ['pmpUnk', 'Unk', 0x100, 'ap->iop'],
  ['pmpUnkAck', 'Unk_Ack', 0x110, 'iop->ap'],
  ['pmpInit1', 'Init1', 0x200, 'ap->iop'],
  ['pmpInit1Ack', 'Init1_Ack', 0x201, 'iop->ap'],
  ['pmpInit2', 'Init2', 0x202, 'ap->iop'],
  ['pmpInit2Ack', 'Init2_Ack', 0x203, 'iop->ap'],
  ['pmpDevPwrSync', 'DevPwr_Sync', 0x208, 'ap->iop'],
  ['pmpDevPwrAck', 'DevPwr_Ack', 0x209, 'iop->ap'],
];

export const pmpConfigure = defineVariant(PmpField.TYPE, {
  kind: 'pmpConfigure',
  title: 'Configure',
  dir: 'ap->iop',
  select: 0x10,
  fields: { dva: PmpField.DVA },
  summary: (v) => `PMP Configure ${hex(v.dva)}`,
  doc: 'Hands PMP its buffer.',
});

export const pmpDevPwr = defineVariant(PmpField.TYPE, {
  kind: 'pmpDevPwr',
  title: 'DevPwr',
  dir: 'ap->iop',
  select: 0x20e,
  fields: { dev: PmpField.DEV, state: PmpField.STATE },
  summary: (v) => `PMP DevPwr device ${hex(v.dev)} state ${hex(v.state)}`,
  doc: 'Set a device power state.',
});

export const PMP = [
  pmpConfigure,
  pmpDevPwr,
  ...PMP_SIMPLE.map(([kind, title, select, dir]) =>
    defineVariant(PmpField.TYPE, {
      kind: kind as 'pmpStartup',
      title,
      dir,
      select,
      fields: {},
      summary: () => `PMP ${title}`,
      doc: `PMP ${title}.`,
    }),
  ),
];
