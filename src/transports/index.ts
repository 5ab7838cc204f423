/** Node byte links for the m1n1 proxy: TCP, serial devices, pseudo-terminals (docs/m1n1-links.md). */
export { DEFAULT_OPEN_TIMEOUT_MS } from './common.js';
export { type DeviceSpec, type OpenLinkOptions, openLink, parseDeviceSpec } from './open-link.js';
export {
  bridgePtyToTcp,
  createPtyPair,
  type PtyBridge,
  type PtyOptions,
  type PtyPair,
  type PtyPairOptions,
} from './pty.js';
export { openSerial, type SerialOptions } from './serial.js';
export {
  connectTcp,
  type LinkServer,
  listenTcp,
  type TcpConnectOptions,
  type TcpListenOptions,
} from './tcp.js';
