/** Validation and timing shared by the Node byte links. */

import { isIP } from 'node:net';
import type { Clock } from '../clock.js';
import { ErrorCode, RtkitError } from '../errors.js';

/**
 * Default bound on opening a link (TCP connect, serial open, socat start). Longer than the 1 s
 * protocol timeouts: a connect may cross a network, and m1n1's own tooling waits 3 s for a reply.
 */
export const DEFAULT_OPEN_TIMEOUT_MS = 5000;

export function badInput(message: string, details: Record<string, unknown> = {}): RtkitError {
  return new RtkitError(ErrorCode.BAD_INPUT, message, details);
}

export function checkTimeout(ms: unknown, where: string): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw badInput(`${where}: timeoutMs must be a finite number ≥ 0, got ${String(ms)}`, {
      timeoutMs: ms,
    });
  }
  return ms;
}

/** A host name or an IP address (IPv6 with or without brackets); returns it without brackets. */
export function checkHost(host: unknown, where: string): string {
  if (typeof host === 'string') {
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    if (isIP(bare) !== 0) return bare;
    if (bare === host && bare.length <= 253 && /^[A-Za-z0-9_](?:[A-Za-z0-9._-]*)$/.test(bare)) {
      return bare;
    }
  }
  throw badInput(`${where}: not a host name or IP address: ${JSON.stringify(host)}`, { host });
}

export function checkPort(port: unknown, where: string, allowZero = false): number {
  const min = allowZero ? 0 : 1;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < min || port > 0xffff) {
    throw badInput(`${where}: port must be an integer ${min}..65535, got ${String(port)}`, {
      port,
    });
  }
  return port;
}

/** `tcp:HOST:PORT`, with an IPv6 host in brackets, as parseDeviceSpec reads it back. */
export function tcpDescription(host: string, port: number): string {
  return `tcp:${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * Settle `promise` within `ms` on `clock`: past that, reject with TRANSPORT_TIMEOUT and hand a
 * late result to `onLate` (to close what was opened too late).
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  clock: Clock,
  what: string,
  onLate: (value: T) => void = () => {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let expired = false;
    const timer = clock.setTimer(ms, () => {
      expired = true;
      reject(new RtkitError(ErrorCode.TRANSPORT_TIMEOUT, `${what}: no answer in ${ms} ms`, { ms }));
    });
    promise.then(
      (value) => {
        if (expired) onLate(value);
        else {
          clock.clearTimer(timer);
          resolve(value);
        }
      },
      (error: unknown) => {
        if (expired) return;
        clock.clearTimer(timer);
        reject(error);
      },
    );
  });
}
