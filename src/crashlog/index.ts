/** Crashlog buffer codec: parse, build, render (PROTOCOL.md §7, ROBUSTNESS.md §1). */

export {
  decodeEsr,
  type EsrFields,
  type ExceptionLevelName,
  esrClassName,
  exceptionLevelName,
} from './aarch64.js';
export {
  buildCrashlog,
  type CascInput,
  type CcdpInput,
  type CcstInput,
  type CmbxInput,
  type CrashlogInput,
  type Crg8Input,
  type CrgAInput,
  type CrtkInput,
  type CstrInput,
  type CtimInput,
  type CverInput,
  encodeSection,
  type MailboxEntryInput,
  type RawInput,
  type RtkTaskInput,
  type SectionHeaderInput,
  type SectionInput,
} from './build.js';
export { CrashlogCode } from './codes.js';
export { Fourcc, fourccName, fourccValue } from './fourcc.js';
export {
  type CrashlogJson,
  type CrashlogJsonSection,
  crashlogToJson,
  formatWarning,
  type JsonValue,
} from './json.js';
export { FLAG_INCOMPLETE, FLAG_NESTED, parseCrashlog } from './parse.js';
export { ByteReader, READ_OUT_OF_RANGE } from './reader.js';
export {
  type ColorFunctions,
  type RenderCrashlogOptions,
  renderCrashlogText,
} from './render-text.js';
export type * from './types.js';
export { parseRtkitVersion, type RtkitVersion } from './version.js';
