/**
 * rtkit: Apple RTKit co-processor IPC. Browser-safe entry point (no `node:*` imports); Node-only
 * helpers are in `rtkit/node`. Each layer's index lists its exports by name.
 */

export {
  type Clock,
  macrotask,
  sleep,
  systemClock,
  type TimerHandle,
  VirtualClock,
} from './clock.js';
export * from './crashlog/index.js';
export * from './drivers/smc/index.js';
export { ErrorCode, isRtkitError, RtkitError } from './errors.js';
export * from './host/index.js';
export * from './m1n1/index.js';
export * from './mailbox/index.js';
export * from './protocol/index.js';
export * from './syslog/index.js';
export * from './trace/index.js';
