/** The mailbox link layer: contracts, register declarations, the register-level driver, the channel. */

export { type AscCpuStatus, readAscCpuStatus, setAscCpuRun } from './asc-cpu.js';
export {
  AscMailboxDriver,
  type AscMailboxDriverOptions,
  type AscMailboxDriverStats,
} from './asc-driver.js';
export {
  type ChannelDelivery,
  ChannelEnd,
  type ChannelPair,
  type ChannelPairOptions,
  type ChannelSide,
  createChannelPair,
} from './channel.js';
export type { MailboxInterrupts } from './interrupts.js';
export {
  ASC_CPU_CONTROL,
  ASC_CPU_STATUS,
  ASC_MAILBOX_OFFSET,
  ASC_MAILBOX_SIZE,
  CpuControl,
  CpuStatus,
  decodeControl,
  decodeRecv1,
  ENDPOINT_WORDS,
  encodeControl,
  encodeRecv1,
  IRQ_LINE_BIT,
  isValidMsg0,
  M3Irq,
  MAILBOX_IRQ_LINES,
  MAILBOX_LAYOUTS,
  MAX_MSG0,
  type MailboxIrqLine,
  type MailboxLayout,
  type MailboxVariant,
  MBOX_MAX_DEPTH,
  MBOX_PTR_MOD,
  MboxControl,
  type MboxControlFields,
  MboxRecv1,
  type MboxRecv1Fields,
  recv1High,
} from './registers.js';
export type {
  MailboxMessage,
  MailboxTransport,
  Mmio,
  SendOptions,
  SyncMmio,
} from './types.js';
