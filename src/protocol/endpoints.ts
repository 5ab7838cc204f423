/**
 * Endpoint numbers and names. System endpoint names follow Apple's crash reports
 * ("syslog", "ioreporting"); application endpoints are `userNN` with NN = ep − 0x1f in decimal,
 * as macOS and Apple's crashlog decoder print them (PROTOCOL.md §2).
 */

export const Endpoint = {
  Management: 0x00,
  Crashlog: 0x01,
  Syslog: 0x02,
  Debug: 0x03,
  IOReport: 0x04,
  OSLog: 0x08,
  TraceKit: 0x0a,
  /** First application endpoint for protocol v11 and later. */
  AppBase: 0x20,
} as const;

const SYSTEM_NAMES: Readonly<Record<number, string>> = {
  0: 'management',
  1: 'crashlog',
  2: 'syslog',
  3: 'debug',
  4: 'ioreporting',
  8: 'oslog',
  10: 'tracekit',
};

/** The system endpoints our host starts after discovery (PROTOCOL.md §3.4, "ours"). */
export const KNOWN_SYSTEM_ENDPOINTS: readonly number[] = [0x01, 0x02, 0x03, 0x04, 0x08, 0x0a];

export function isValidEndpoint(ep: unknown): ep is number {
  return typeof ep === 'number' && Number.isInteger(ep) && ep >= 0 && ep <= 0xff;
}

/**
 * First application endpoint for a protocol version: 0x20 from v11; for v10, 5 (10.0–10.1) or
 * 6 (10.2+) [single source: HoolockLinux].
 */
export function firstAppEndpoint(version?: number, minor?: number): number {
  if (version === 10) return minor !== undefined && minor >= 2 ? 6 : 5;
  return Endpoint.AppBase;
}

export function isAppEndpoint(ep: number, version?: number, minor?: number): boolean {
  return ep >= firstAppEndpoint(version, minor);
}

/** Apple's name for an endpoint: `management`, `syslog`, …, `user01` for 0x20, `unknown05`. */
export function endpointName(ep: number): string {
  const sys = SYSTEM_NAMES[ep];
  if (sys !== undefined) return sys;
  if (ep >= 0x20 && ep <= 0xfe) return `user${String(ep - 0x1f).padStart(2, '0')}`;
  return `unknown${String(ep).padStart(2, '0')}`;
}
