/**
 * A real m1n1 device over Web Serial (Chromium's `navigator.serial`).
 *
 * ── INTEGRATION POINT (m1n1 link, issue 5) ──────────────────────────────────────────────────
 * The pieces now exist in src/ (browser-safe, no node:*); what is left is to join them here and set
 * `deviceSession` below to a factory that:
 *   1. wraps `port` in a ByteLink: `webSerialLink(port)` (src/m1n1/web-serial-link.ts; its
 *      `WebSerialPortLike` is this file's `WebSerialPort`),
 *   2. opens a `ProxyClient` on it (src/m1n1/client.ts) and attaches a session to a
 *      co-processor: `openProxyCoprocessor(client, { path: '/arm-io/smc', ... })`
 *      (src/wiring/proxy-host.ts), then `start()`s it (or a passive trace),
 *   3. taps the session with `FeedPublisher` (src/demo/publisher.ts, as `rtkit sim` does) and
 *      calls `publish(events)` with its FeedEvents — the events a Node session publishes on a
 *      FeedHub; the viewer ingests them exactly like its server-sent feed (LiveIngest).
 * Until then the button asks for a port and says that device support is not in this build.
 * ────────────────────────────────────────────────────────────────────────────────────────────
 */

import type { FeedEvent } from '../src/viewer/feed.js';

/** The part of the Web Serial API we use (not in TypeScript's DOM library). */
export interface WebSerialPort {
  open(options: { baudRate: number }): Promise<void>;
  close(): Promise<void>;
  readonly readable: ReadableStream<Uint8Array> | null;
  readonly writable: WritableStream<Uint8Array> | null;
}

interface WebSerial {
  requestPort(options?: object): Promise<WebSerialPort>;
}

export interface DeviceSession {
  close(): Promise<void>;
}

export type DeviceSessionFactory = (
  port: WebSerialPort,
  publish: (events: readonly FeedEvent[]) => void,
  log: (text: string) => void,
) => Promise<DeviceSession>;

/** Set when the m1n1 client lands (see the integration point above). */
export const deviceSession: DeviceSessionFactory | undefined = undefined;

export function webSerial(): WebSerial | undefined {
  const nav = navigator as Navigator & { serial?: WebSerial };
  return nav.serial;
}

/** The button's action: choose a port, start the device session if this build has one. */
export async function connectDevice(
  publish: (events: readonly FeedEvent[]) => void,
  log: (text: string) => void,
  factory: DeviceSessionFactory | undefined = deviceSession,
): Promise<DeviceSession | undefined> {
  const serial = webSerial();
  if (serial === undefined) {
    log('this browser has no Web Serial (use Chromium)');
    return undefined;
  }
  let port: WebSerialPort;
  try {
    port = await serial.requestPort();
  } catch {
    log('no serial port chosen');
    return undefined;
  }
  if (factory === undefined) {
    log('serial port chosen, but m1n1 device support is not in this build yet');
    return undefined;
  }
  try {
    return await factory(port, publish, log);
  } catch (e) {
    log(`device session failed: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}
