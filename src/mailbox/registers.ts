/**
 * The ASC register block and its mailbox (PROTOCOL.md §1.2–§1.8), declared once. The simulated
 * ASC (src/sim/mailbox/asc.ts) and the host driver (asc-driver.ts) both read every offset and bit
 * position from here; nothing else spells them.
 *
 * Names follow Linux `drivers/soc/apple/mailbox.c` (`APPLE_ASC_MBOX_A2I_CONTROL`, ...); m1n1-Py
 * names (`INBOX_CTRL`, `OUTBOX1`, ...) are noted where they differ.
 */

import { type BitField, bits, flag } from '../protocol/fields.js';

/** `CPU_CONTROL`, offset from the ASC base (§1.2). Hosts read-modify-write it. */
export const ASC_CPU_CONTROL = 0x44;
/** `CPU_STATUS`, offset from the ASC base (§1.2). Read-only. */
export const ASC_CPU_STATUS = 0x48;
/** Where the mailbox block starts, from the ASC base (Linux DT `mbox@…8000`). */
export const ASC_MAILBOX_OFFSET = 0x8000;
/** Size of the mailbox block in the device tree. */
export const ASC_MAILBOX_SIZE = 0x4000;

export const CpuControl = {
  /** Set to start the IOP CPU, clear to stop it. */
  RUN: flag(4),
} as const;

export const CpuStatus = {
  RUNNING: flag(0),
  /** m1n1-Py: "running" means STOPPED == 0. */
  STOPPED: flag(1),
  /** [uncertain] in PROTOCOL.md; the model leaves it 0. */
  IRQ_NOT_PENDING: flag(2),
  /** [uncertain] in PROTOCOL.md; the model leaves it 0. */
  FIQ_NOT_PENDING: flag(3),
  /** "mailboxes to AP empty" (Asahi docs). */
  IDLE: flag(5),
} as const;

/** A2I_CONTROL / I2A_CONTROL (§1.4). 32-bit registers: every field lives in the low half. */
export const MboxControl = {
  ENABLE: flag(0),
  WPTR: bits(11, 8),
  RPTR: bits(15, 12),
  FULL: flag(16),
  EMPTY: flag(17),
  /** m1n1-Py name; the model sets it when SEND1 is written while FULL (sticky, W1C). */
  OVERFLOW: flag(18),
  /** Named only by Apple's Cmbx decoder; the model sets it when RECV1 is read while EMPTY. */
  UNDERFLOW: flag(19),
  FIFOCNT: bits(23, 20),
} as const;

/** Bookkeeping bits of a 64-bit RECV1 read (§1.5). Hosts use EP only. */
export const MboxRecv1 = {
  EP: bits(7, 0),
  INPTR: bits(43, 40),
  OUTPTR: bits(47, 44),
  INCNT: bits(51, 48),
  OUTCNT: bits(56, 52),
} as const;

/**
 * M3 IRQ_ENABLE / IRQ_ACK bits (§1.7). The bit index is also the index of the interrupt line in
 * device-tree order (§1.8): send-empty, send-not-empty, recv-empty, recv-not-empty.
 */
export const M3Irq = {
  A2I_EMPTY: flag(0),
  A2I_NOT_EMPTY: flag(1),
  I2A_EMPTY: flag(2),
  I2A_NOT_EMPTY: flag(3),
} as const;

/** The four host-visible mailbox interrupt lines, in device-tree order (§1.8). */
export const MAILBOX_IRQ_LINES = [
  'send-empty',
  'send-not-empty',
  'recv-empty',
  'recv-not-empty',
] as const;
export type MailboxIrqLine = (typeof MAILBOX_IRQ_LINES)[number];

/** Bit of `M3Irq` (and line index) for each line. */
export const IRQ_LINE_BIT: Readonly<Record<MailboxIrqLine, number>> = {
  'send-empty': M3Irq.A2I_EMPTY.maskLo,
  'send-not-empty': M3Irq.A2I_NOT_EMPTY.maskLo,
  'recv-empty': M3Irq.I2A_EMPTY.maskLo,
  'recv-not-empty': M3Irq.I2A_NOT_EMPTY.maskLo,
};

/** `apple,asc-mailbox-v4` (default), `apple,t8015-asc-mailbox`, `apple,m3-mailbox-v2`. */
export type MailboxVariant = 'asc-v4' | 't8015' | 'm3-v2';

/** Register offsets from the mailbox base. CONTROL and IRQ registers are 32-bit, the rest 64-bit. */
export interface MailboxLayout {
  readonly variant: MailboxVariant;
  /** m1n1-Py `INBOX_CTRL` */
  readonly a2iControl: number;
  /** m1n1-Py `OUTBOX_CTRL` */
  readonly i2aControl: number;
  /** m1n1-Py `INBOX0` */
  readonly a2iSend0: number;
  /** m1n1-Py `INBOX1`; the write enqueues */
  readonly a2iSend1: number;
  readonly a2iRecv0: number;
  /** the read dequeues (IOP side) */
  readonly a2iRecv1: number;
  readonly i2aSend0: number;
  /** the write enqueues (IOP side) */
  readonly i2aSend1: number;
  /** m1n1-Py `OUTBOX0` */
  readonly i2aRecv0: number;
  /** m1n1-Py `OUTBOX1`; the read dequeues */
  readonly i2aRecv1: number;
  /** M3 only */
  readonly irqEnable: number | undefined;
  /** M3 only */
  readonly irqAck: number | undefined;
}

const V4_DATA = {
  a2iSend0: 0x800,
  a2iSend1: 0x808,
  a2iRecv0: 0x810,
  a2iRecv1: 0x818,
  i2aSend0: 0x820,
  i2aSend1: 0x828,
  i2aRecv0: 0x830,
  i2aRecv1: 0x838,
} as const;

export const MAILBOX_LAYOUTS: Readonly<Record<MailboxVariant, MailboxLayout>> = {
  'asc-v4': {
    variant: 'asc-v4',
    a2iControl: 0x110,
    i2aControl: 0x114,
    ...V4_DATA,
    irqEnable: undefined,
    irqAck: undefined,
  },
  t8015: {
    variant: 't8015',
    a2iControl: 0x108,
    i2aControl: 0x10c,
    ...V4_DATA,
    irqEnable: undefined,
    irqAck: undefined,
  },
  'm3-v2': {
    variant: 'm3-v2',
    a2iControl: 0x50,
    i2aControl: 0x80,
    a2iSend0: 0x60,
    a2iSend1: 0x68,
    a2iRecv0: 0x70,
    a2iRecv1: 0x78,
    i2aSend0: 0x90,
    i2aSend1: 0x98,
    i2aRecv0: 0xa0,
    i2aRecv1: 0xa8,
    irqEnable: 0x48,
    irqAck: 0x4c,
  },
};

/** Pointers in CONTROL and RECV1 are 4 bits wide and wrap mod 16 (§1.4). */
export const MBOX_PTR_MOD = 16;
/** The deepest FIFO the model supports: FIFOCNT and the pointers cannot describe more. */
export const MBOX_MAX_DEPTH = 16;

/** A CONTROL register value as fields. */
export interface MboxControlFields {
  enable: boolean;
  wptr: number;
  rptr: number;
  full: boolean;
  empty: boolean;
  overflow: boolean;
  underflow: boolean;
  fifoCount: number;
}

const get32 = (f: BitField, v: number): number => f.get(0, v >>> 0);
const put32 = (f: BitField, v: number): number => f.place(v)[1];

export function decodeControl(v: number): MboxControlFields {
  return {
    enable: get32(MboxControl.ENABLE, v) === 1,
    wptr: get32(MboxControl.WPTR, v),
    rptr: get32(MboxControl.RPTR, v),
    full: get32(MboxControl.FULL, v) === 1,
    empty: get32(MboxControl.EMPTY, v) === 1,
    overflow: get32(MboxControl.OVERFLOW, v) === 1,
    underflow: get32(MboxControl.UNDERFLOW, v) === 1,
    fifoCount: get32(MboxControl.FIFOCNT, v),
  };
}

export function encodeControl(c: MboxControlFields): number {
  return (
    (put32(MboxControl.ENABLE, c.enable ? 1 : 0) |
      put32(MboxControl.WPTR, c.wptr) |
      put32(MboxControl.RPTR, c.rptr) |
      put32(MboxControl.FULL, c.full ? 1 : 0) |
      put32(MboxControl.EMPTY, c.empty ? 1 : 0) |
      put32(MboxControl.OVERFLOW, c.overflow ? 1 : 0) |
      put32(MboxControl.UNDERFLOW, c.underflow ? 1 : 0) |
      put32(MboxControl.FIFOCNT, c.fifoCount)) >>>
    0
  );
}

export interface MboxRecv1Fields {
  ep: number;
  inPtr: number;
  outPtr: number;
  inCount: number;
  outCount: number;
}

export function decodeRecv1(v: bigint): MboxRecv1Fields {
  const hi = Number((v >> 32n) & 0xffff_ffffn);
  const lo = Number(v & 0xffff_ffffn);
  return {
    ep: MboxRecv1.EP.get(hi, lo),
    inPtr: MboxRecv1.INPTR.get(hi, lo),
    outPtr: MboxRecv1.OUTPTR.get(hi, lo),
    inCount: MboxRecv1.INCNT.get(hi, lo),
    outCount: MboxRecv1.OUTCNT.get(hi, lo),
  };
}

/** High 32 bits of a RECV1 value carrying the given bookkeeping (endpoint goes in the low half). */
export function recv1High(
  inPtr: number,
  outPtr: number,
  inCount: number,
  outCount: number,
): number {
  return (
    (MboxRecv1.INPTR.place(inPtr)[0] |
      MboxRecv1.OUTPTR.place(outPtr)[0] |
      MboxRecv1.INCNT.place(inCount)[0] |
      MboxRecv1.OUTCNT.place(outCount)[0]) >>>
    0
  );
}

export function encodeRecv1(f: MboxRecv1Fields): bigint {
  const hi = recv1High(f.inPtr, f.outPtr, f.inCount, f.outCount);
  return (BigInt(hi) << 32n) | BigInt(MboxRecv1.EP.place(f.ep)[1]);
}

/** Endpoint numbers are integers 0–255 (msg1 bits [7:0]). */
// One definition of a valid endpoint, the protocol layer's.
export { isValidEndpoint } from '../protocol/endpoints.js';

/** The msg1 word the AP writes for each endpoint: the endpoint, zeros elsewhere (§1.1). */
export const ENDPOINT_WORDS: readonly bigint[] = Array.from({ length: 256 }, (_, i) => BigInt(i));

export const MAX_MSG0 = 0xffff_ffff_ffff_ffffn;

/** msg0 is an unsigned 64-bit bigint. */
export function isValidMsg0(msg: unknown): msg is bigint {
  return typeof msg === 'bigint' && msg >= 0n && msg <= MAX_MSG0;
}
