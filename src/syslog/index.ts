export {
  decodeSyslogEntry,
  type SyslogDecodeResult,
  type SyslogEntry,
} from './decode-entry.js';
export {
  SYSLOG_CONTEXT_OFFSET,
  SYSLOG_CONTEXT_SIZE,
  SYSLOG_ENTRY_HEADER_SIZE,
  SYSLOG_MESSAGE_OFFSET,
  type SyslogErrorCode,
  type SyslogGeometry,
  type SyslogGeometryLike,
  type SyslogProblem,
  validateSyslogGeometry,
} from './geometry.js';
export { SyslogRing } from './syslog-ring.js';
export {
  type SyslogSource,
  type WriteSyslogEntryOptions,
  type WrittenSyslogEntry,
  writeSyslogEntry,
} from './write-entry.js';
