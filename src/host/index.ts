/** The host library: the RTKit session, its events and options, passive tracing, shared memory. */

export { DeadlineQueue } from './deadlines.js';
export { TypedEmitter } from './emitter.js';
export {
  type CrashEvent,
  type CrashlogProblem,
  type SessionEventName,
  type SessionEvents,
  type SessionListener,
  type SessionListeners,
  type SessionState,
  type StateEvent,
  type SyslogEvent,
  type SystemMessageEvent,
  type TrafficEvent,
  type UnhandledEvent,
  WarningCode as SessionWarningCode,
  type WarningEvent,
} from './events.js';
export { type Logger, type LogMessage, lineLogger, silentLogger } from './logger.js';
export {
  type CpuControl as SessionCpuControl,
  DEFAULT_STEP_TIMEOUT_MS,
  type SessionOptions,
  SUPPORTED_VERSIONS,
} from './options.js';
export { type ObservedMessage, type PassiveOptions, PassiveSession } from './passive.js';
export { ackMatches, chooseVersion, isOn, powerMismatch, type VersionChoice } from './rules.js';
export {
  type OperationOptions,
  type PingOptions,
  RtkitSession,
  type SessionStats,
} from './session.js';
export type { EndpointHandle, RequestOptions, SramAccess } from './types.js';
