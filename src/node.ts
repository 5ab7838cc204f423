/** Node-only helpers: streaming decode of files and Node streams. */
export {
  decodeFile,
  decodeReadable,
  type FileDecodeOptions,
  iterateFile,
} from './trace/node-stream.js';
