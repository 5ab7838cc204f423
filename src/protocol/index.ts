export {
  AFK,
  AfkField,
  GPU,
  GpuField,
  IOMFB,
  IomfbField,
  iomfbContextName,
  PMP,
  PmpField,
  SIO,
  SioField,
  SMC,
  SmcField,
  SmcMsg,
  smcReply,
} from './apps.js';
export { countMatching, extractField, wordCount } from './bulk.js';
export {
  allVariants,
  CODECS,
  type CodecName,
  codecFor,
  decode,
  decodeWords,
  type EndpointCodec,
  encode,
  encodeHex,
  encodeWords,
  type Message,
  type MessageKind,
  type UnknownMessage,
  variantOf,
} from './codec.js';
export { COPROCS, type Coproc, coprocFromDevice, isCoproc } from './coproc.js';
export { type CodecNote, type FieldValue, fieldsOf, notesFor, summarize } from './describe.js';
export {
  Endpoint,
  endpointName,
  firstAppEndpoint,
  isAppEndpoint,
  isValidEndpoint,
  KNOWN_SYSTEM_ENDPOINTS,
} from './endpoints.js';
export { type BitField, bits, type FieldFormat, flag } from './fields.js';
export { fourccToU32, showKey, u32ToFourcc } from './fourcc.js';
export { describePowerState, PowerState, powerStateName } from './power.js';
export {
  BufferField,
  CrashTrigger,
  IOReportField,
  KdebugField,
  MgmtField,
  MgmtType,
  OSLogField,
  SyslogField,
  SyslogType,
} from './system.js';
export type { DecodeContext, Decoded, ReservedBits, Variant } from './variant.js';
export {
  type Direction,
  hex64,
  hex64Of,
  hexNum,
  joinWord,
  parseHex64,
  splitWord,
  type WordInput,
} from './word.js';
