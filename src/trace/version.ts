// One parser for RTKit version strings, shared with the crashlog's Cver decoder.
export { parseRtkitVersion } from '../crashlog/version.js';
