/**
 * TCP byte links: the simulator's proxy server listens, our client (or a pty bridge for m1n1's
 * Python tooling) connects. Nagle is off: the proxy is request/reply with 64- and 36-byte frames,
 * and a delayed ACK would add tens of milliseconds to every round trip.
 */

import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { type Clock, systemClock } from '../clock.js';
import { ErrorCode, RtkitError } from '../errors.js';
import type { ByteLink } from '../m1n1/link.js';
import { LinkCore } from '../m1n1/web-serial-link.js';
import {
  checkHost,
  checkPort,
  checkTimeout,
  DEFAULT_OPEN_TIMEOUT_MS,
  tcpDescription,
} from './common.js';

export interface TcpConnectOptions {
  /** Bound on the connect, default DEFAULT_OPEN_TIMEOUT_MS; past it, TRANSPORT_TIMEOUT. */
  timeoutMs?: number;
  /** Clock for the connect timeout and the close grace period (default: real time). */
  clock?: Clock;
}

const WRITTEN = Promise.resolve();

class TcpLink implements ByteLink {
  private readonly core: LinkCore;
  private osError: Error | undefined;
  /**
   * One entry per `socket.write` in call order, matching Node's write callbacks, which come in
   * that order: the settle function of a write that waits for the OS, or undefined for one the
   * kernel took at once (already resolved).
   */
  private readonly settlers: (((error?: unknown) => void) | undefined)[] = [];
  /** The one callback given to every `socket.write` (Node batches a repeated callback). */
  private readonly written = (error?: Error | null): void => {
    this.settlers.shift()?.(error);
  };

  constructor(
    private readonly socket: Socket,
    description: string,
    clock: Clock,
  ) {
    this.core = new LinkCore(
      description,
      () => this.teardown(),
      () => socket.destroy(),
      clock,
    );
    socket.on('data', (chunk: Buffer) => this.core.deliver(chunk));
    // EPIPE, ECONNRESET, ...: 'close' follows and reports it; without a listener Node would
    // throw it as an uncaught exception.
    socket.on('error', (e: Error) => {
      this.osError ??= e;
    });
    socket.on('close', () => {
      const e = this.osError;
      void this.core.shut(e === undefined ? undefined : this.core.failure('connection lost', e));
    });
  }

  get description(): string {
    return this.core.description;
  }

  get closed(): boolean {
    return this.core.closed;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.core.closed) return Promise.reject(this.core.closedError());
    if (bytes.length === 0) return Promise.resolve();
    const socket = this.socket;
    // The callback runs once libuv has handed the bytes to the kernel; Node buffers later writes
    // meanwhile, so awaiting each write is the backpressure. No copy: Node wraps the view.
    const open = !socket.destroyed && !socket.writableEnded;
    socket.write(bytes, this.written);
    if (open && socket.writableLength === 0 && !socket.destroyed && socket.errored === null) {
      // Nothing is queued in Node after the write: libuv wrote every byte to the kernel right
      // away (the usual case for a request or a reply). The promise is settled already; making
      // one per write cost about a microsecond of a ~30 µs loopback round trip.
      this.settlers.push(undefined);
      return WRITTEN;
    }
    if (this.core.closed) {
      this.settlers.push(undefined);
      return Promise.reject(this.core.closedError());
    }
    return this.core.write((settle) => this.settlers.push(settle));
  }

  onData(fn: (chunk: Uint8Array) => void): void {
    this.core.onData(fn);
  }

  onClose(fn: (error?: Error) => void): void {
    this.core.onClose(fn);
  }

  setBaudRate(_baud: number): Promise<void> {
    if (this.core.closed) return Promise.reject(this.core.closedError());
    return Promise.resolve();
  }

  close(): Promise<void> {
    return this.core.shut();
  }

  private teardown(): Promise<void> {
    const socket = this.socket;
    if (socket.destroyed && socket.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      // A FIN after what the kernel already holds, then let go without waiting for the peer's
      // FIN; the core's grace timer destroys a socket whose flush is stuck.
      socket.once('finish', () => socket.destroy());
      socket.end();
      if (socket.writableFinished) socket.destroy();
    });
  }
}

/**
 * Connect to `host:port`. Connect failures reject with TRANSPORT_CLOSED (the OS reason in
 * `details.code`, e.g. ECONNREFUSED); no answer within `timeoutMs` rejects TRANSPORT_TIMEOUT.
 */
export function connectTcp(
  host: string,
  port: number,
  opts: TcpConnectOptions = {},
): Promise<ByteLink> {
  let bare: string;
  let timeoutMs: number;
  try {
    bare = checkHost(host, 'connectTcp');
    checkPort(port, 'connectTcp');
    timeoutMs = checkTimeout(opts.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS, 'connectTcp');
  } catch (e) {
    return Promise.reject(e);
  }
  const clock = opts.clock ?? systemClock;
  const description = tcpDescription(bare, port);
  return new Promise<ByteLink>((resolve, reject) => {
    const socket = tcpConnect({ host: bare, port, noDelay: true });
    const onError = (e: Error): void => {
      clock.clearTimer(timer);
      socket.destroy();
      const code = (e as { code?: unknown }).code;
      reject(
        new RtkitError(
          ErrorCode.TRANSPORT_CLOSED,
          `cannot connect to ${description}: ${e.message}`,
          { host: bare, port, ...(typeof code === 'string' ? { code } : {}), reason: e.message },
          { cause: e },
        ),
      );
    };
    const timer = clock.setTimer(timeoutMs, () => {
      socket.off('error', onError);
      // A late 'error' from the destroyed socket must find a listener.
      socket.on('error', () => {});
      socket.destroy();
      reject(
        new RtkitError(
          ErrorCode.TRANSPORT_TIMEOUT,
          `cannot connect to ${description}: no answer in ${timeoutMs} ms`,
          { host: bare, port, timeoutMs },
        ),
      );
    });
    socket.once('error', onError);
    socket.once('connect', () => {
      clock.clearTimer(timer);
      socket.off('error', onError);
      resolve(new TcpLink(socket, description, clock));
    });
  });
}

export interface LinkServer {
  /** Where it listens (the real port when asked for 0). */
  readonly address: { host: string; port: number };
  /** `tcp:127.0.0.1:PORT`. */
  readonly description: string;
  /** Stop listening and close every link it accepted that is still open. */
  close(): Promise<void>;
}

export interface TcpListenOptions {
  /** Clock for the accepted links' close grace period (default: real time). */
  clock?: Clock;
}

/**
 * Listen on `host:port` (0 = any free port); each accepted connection becomes a ByteLink handed
 * to `onLink`. A listen failure (EADDRINUSE, EACCES) rejects with TRANSPORT_CLOSED.
 */
export function listenTcp(
  host: string,
  port: number,
  onLink: (link: ByteLink) => void,
  opts: TcpListenOptions = {},
): Promise<LinkServer> {
  let bare: string;
  try {
    bare = checkHost(host, 'listenTcp');
    checkPort(port, 'listenTcp', true);
  } catch (e) {
    return Promise.reject(e);
  }
  const clock = opts.clock ?? systemClock;
  const links = new Set<ByteLink>();
  const server: Server = createServer({ noDelay: true }, (socket) => {
    const peer = tcpDescription(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
    const link = new TcpLink(socket, peer, clock);
    links.add(link);
    link.onClose(() => links.delete(link));
    try {
      onLink(link);
    } catch {
      // The application refused this connection the only way it could; the server stays up.
      void link.close();
    }
  });
  return new Promise<LinkServer>((resolve, reject) => {
    const onListenError = (e: Error): void => {
      const code = (e as { code?: unknown }).code;
      reject(
        new RtkitError(
          ErrorCode.TRANSPORT_CLOSED,
          `cannot listen on ${tcpDescription(bare, port)}: ${e.message}`,
          { host: bare, port, ...(typeof code === 'string' ? { code } : {}), reason: e.message },
          { cause: e },
        ),
      );
    };
    server.once('error', onListenError);
    server.listen(port, bare, () => {
      server.off('error', onListenError);
      // Accept errors (EMFILE) are transient: the server keeps listening.
      server.on('error', () => {});
      const bound = server.address();
      const actual =
        typeof bound === 'object' && bound !== null
          ? { host: bound.address, port: bound.port }
          : { host: bare, port };
      let closing: Promise<void> | undefined;
      resolve({
        address: actual,
        description: tcpDescription(actual.host, actual.port),
        close: () => {
          closing ??= (async () => {
            const stopped = new Promise<void>((done) => server.close(() => done()));
            await Promise.all([...links].map((link) => link.close()));
            await stopped;
          })();
          return closing;
        },
      });
    });
  });
}
