/** Node-only helpers: streaming decode of files and Node streams, and the m1n1 byte links. */
export {
  decodeFile,
  decodeReadable,
  type FileDecodeOptions,
  iterateFile,
} from './trace/node-stream.js';
export * from './transports/index.js';
