/**
 * An in-memory byte-link pair for tests: what one end writes, the other receives, asynchronously
 * (a macrotask later, like a socket) and optionally cut into arbitrary chunks, so code written
 * against it cannot rely on one write being one read.
 */

import { ErrorCode, RtkitError } from '../../errors.js';
import type { ByteLink } from '../link.js';

export interface MockLinkOptions {
  /**
   * How each write is cut into received chunks: `whole` (one chunk per write, the default),
   * `bytes` (one chunk per byte) or `random` (seeded random cuts of 1–97 bytes).
   */
  chunking?: 'whole' | 'bytes' | 'random';
  /** Seed for `random` chunking (default 1). */
  seed?: number;
  /** Names of the two ends, for `description` (default `mock:a`, `mock:b`). */
  names?: readonly [string, string];
  /**
   * Runs each delivery a macrotask later, in call order (default `setImmediate`; in a browser
   * `messageChannelScheduler()`, since `setTimeout` is clamped to 4 ms after a few turns).
   */
  schedule?: (fn: () => void) => void;
}

/** A browser macrotask scheduler: one MessageChannel turn runs everything queued so far. */
export function messageChannelScheduler(): (fn: () => void) => void {
  const channel = new MessageChannel();
  const queue: (() => void)[] = [];
  channel.port1.onmessage = () => {
    for (const fn of queue.splice(0)) fn();
  };
  return (fn) => {
    queue.push(fn);
    if (queue.length === 1) channel.port2.postMessage(null);
  };
}

class MockEnd implements ByteLink {
  peer!: MockEnd;
  private receiver: ((chunk: Uint8Array) => void) | undefined;
  private readonly held: Uint8Array[] = [];
  private closeListeners: ((error?: Error) => void)[] = [];
  private isClosed = false;
  /** Every baud rate set on this end, for tests of the UART bootstrap. */
  readonly baudRates: number[] = [];

  constructor(
    readonly description: string,
    private readonly cut: (bytes: Uint8Array) => Uint8Array[],
    private readonly schedule: (fn: () => void) => void,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.isClosed) {
      return Promise.reject(
        new RtkitError(ErrorCode.TRANSPORT_CLOSED, `${this.description} is closed`),
      );
    }
    const copy = bytes.slice();
    const peer = this.peer;
    this.schedule(() => {
      if (peer.isClosed) return;
      for (const chunk of this.cut(copy)) peer.deliver(chunk);
    });
    return Promise.resolve();
  }

  onData(fn: (chunk: Uint8Array) => void): void {
    this.receiver = fn;
    while (this.held.length > 0 && this.receiver === fn) fn(this.held.shift()!);
  }

  onClose(fn: (error?: Error) => void): void {
    if (this.isClosed) fn();
    else this.closeListeners.push(fn);
  }

  setBaudRate(baud: number): Promise<void> {
    this.baudRates.push(baud);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.shut();
    // The peer sees a hang-up after the bytes already in flight.
    this.schedule(() => this.peer.shut());
    return Promise.resolve();
  }

  private deliver(chunk: Uint8Array): void {
    if (this.receiver) this.receiver(chunk);
    else this.held.push(chunk);
  }

  private shut(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const fn of listeners) fn();
  }
}

function cutter(opts: MockLinkOptions): (bytes: Uint8Array) => Uint8Array[] {
  switch (opts.chunking ?? 'whole') {
    case 'whole':
      return (b) => [b];
    case 'bytes':
      return (b) => Array.from(b, (_, i) => b.subarray(i, i + 1));
    default: {
      // xorshift32: deterministic per seed, independent of the simulator's generator.
      let s = (opts.seed ?? 1) >>> 0 || 1;
      const next = () => {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        return s >>> 0;
      };
      return (b) => {
        const out: Uint8Array[] = [];
        for (let i = 0; i < b.length; ) {
          const n = 1 + (next() % 97);
          out.push(b.subarray(i, i + n));
          i += n;
        }
        return out;
      };
    }
  }
}

/** Two connected ends: `[host, device]` by convention. */
export function createLinkPair(opts: MockLinkOptions = {}): [MockEnd, MockEnd] {
  const [na, nb] = opts.names ?? ['mock:a', 'mock:b'];
  const cut = cutter(opts);
  const schedule = opts.schedule ?? ((fn: () => void) => setImmediate(fn));
  const a = new MockEnd(na, cut, schedule);
  const b = new MockEnd(nb, cut, schedule);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export type { MockEnd };
