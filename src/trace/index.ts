/**
 * Trace decoding: our JSON-lines traces, plain `<ep> <msg0>` lines and Linux/m1n1 logs with RTKit
 * output → message, syslog, init, event, crash and warning records. Browser-safe; the Node file
 * adapter is `./node-stream.js`. Formats: docs/trace-format.md.
 */

export {
  CrashBuilder,
  type CrashLimits,
  DEFAULT_CRASH_LIMITS,
} from './crash.js';
export {
  decodeTrace,
  decodeTraceStream,
  TraceDecoder,
  type TraceDecoderOptions,
  type TraceStats,
} from './decoder.js';
export {
  DETECT_WINDOW,
  type Detection,
  detectFormat,
  FormatDetector,
  type TraceFormat,
} from './detect.js';
export {
  formatTraceEntry,
  formatTraceHeader,
  type ParsedTraceLine,
  parseTraceLine,
  TRACE_FORMAT_VERSION,
  type TraceEntry,
  type TraceEntryInput,
  type TraceHeader,
  TraceWriter,
  type WordLike,
} from './jsonl.js';
export {
  classifyExceptionLine,
  classifyRtkit,
  type ExceptionLine,
  parseM1n1Syslog,
  parseSmcInitialized,
  type RtkitLine,
  type SmcInitialized,
} from './kernel-line.js';
export { type ParsedPlainLine, parsePlainLine } from './plain.js';
export { type LinePrefix, parseDevHead, parsePrefix } from './prefix.js';
export type {
  CodecNote,
  CrashException,
  CrashMailbox,
  CrashMailboxEntry,
  CrashRecord,
  CrashVersion,
  EventName,
  EventRecord,
  InitRecord,
  MessageOrigin,
  MessageRecord,
  RecordOrigin,
  RtkitVersion,
  SmcKey,
  SyslogRecord,
  TraceOutput,
  TraceOutputType,
  WarningCode,
  WarningRecord,
} from './records.js';
export { renderText, toJsonLine } from './render.js';
export { parseRtkitVersion } from './version.js';
