/** The RTKit firmware model (docs/sim-firmware.md). */

export type { AppEndpoint, FirmwareServices, LocalMemory, Rng } from './app.js';
export { type ComposedCrashlog, type CrashComposeInput, composeCrashlog } from './crash.js';
export { DEFAULT_TIMING, RtkitFirmware } from './firmware.js';
export { IOP_TICKS_PER_MS, IopTimebase, MailboxHistory } from './history.js';
export { createIovaAllocator, type LocalMemoryPort, localMemoryPort } from './memory.js';
export {
  type AddressWindow,
  type BufferEndpoint,
  type BufferMode,
  type BufferSpec,
  type CrashCause,
  type CrashKind,
  type CrashProfile,
  type CrashRecord,
  type FirmwareMemory,
  type FirmwareOptions,
  type FirmwareProfile,
  type FirmwareState,
  type FirmwareTiming,
  type HistoryEntry,
  type IOReportProfile,
  type IopPowerPhase,
  type KdebugProfile,
  type OSLogProfile,
  type ProfilePlacement,
  type ProtocolContext,
  type StrictOptions,
  type SyslogLine,
  type SyslogProfile,
  type TraceEntry,
  Violation,
  type ViolationCode,
  type ViolationRecord,
} from './types.js';
