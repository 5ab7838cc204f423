/**
 * A Web Serial `SerialPort` stand-in over one end of a byte link (usually a mock pair): the
 * "wire" to the device. It follows the parts of the WICG spec the link relies on: `readable` and
 * `writable` exist only while open, `close()` refuses while a stream is locked, opening twice
 * fails, and a lost wire errors the readable with a NetworkError, as Chromium does on unplug.
 */

import type { ByteLink } from '../../src/m1n1/link.js';
import type { WebSerialOpenOptions, WebSerialPortLike } from '../../src/m1n1/web-serial-link.js';

export class FakeWebSerialPort implements WebSerialPortLike {
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  /** Every `open()` call's options, in order. */
  readonly opens: WebSerialOpenOptions[] = [];
  closes = 0;
  /** Bytes that arrived while the port was closed (lost, as on a real port). */
  dropped = 0;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;

  constructor(
    private readonly wire: ByteLink,
    private readonly info: { usbVendorId?: number; usbProductId?: number } = {},
  ) {
    wire.onData((chunk) => {
      if (this.controller) this.controller.enqueue(chunk.slice());
      else this.dropped += chunk.length;
    });
    wire.onClose(() => {
      this.controller?.error(new DOMException('The device has been lost.', 'NetworkError'));
      this.controller = undefined;
    });
  }

  getInfo(): { usbVendorId?: number; usbProductId?: number } {
    return this.info;
  }

  async open(options: WebSerialOpenOptions): Promise<void> {
    if (this.readable !== null || this.writable !== null) {
      throw new DOMException('The port is already open.', 'InvalidStateError');
    }
    if (this.wire.closed) throw new DOMException('Failed to open serial port.', 'NetworkError');
    this.opens.push(options);
    this.readable = this.freshReadable();
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => this.wire.write(chunk),
    });
  }

  async close(): Promise<void> {
    const { readable, writable } = this;
    if (readable === null || writable === null) {
      throw new DOMException('The port is already closed.', 'InvalidStateError');
    }
    if (readable.locked || writable.locked) throw new TypeError('Cannot close a locked stream');
    this.controller = undefined;
    await readable.cancel().catch(() => {});
    await writable.abort().catch(() => {});
    this.readable = null;
    this.writable = null;
    this.closes++;
  }

  /** A non-fatal read error (WICG: the readable errors and a fresh one replaces it). */
  readError(name: 'BreakError' | 'FramingError' | 'ParityError' | 'BufferOverrunError'): void {
    const old = this.controller;
    this.readable = this.freshReadable();
    old?.error(new DOMException('read error', name));
  }

  private freshReadable(): ReadableStream<Uint8Array> {
    let mine: ReadableStreamDefaultController<Uint8Array> | undefined;
    return new ReadableStream<Uint8Array>({
      start: (c) => {
        mine = c;
        this.controller = c;
      },
      // Cancelling discards what the OS buffered; later bytes are lost until the port reopens.
      cancel: () => {
        if (this.controller === mine) this.controller = undefined;
      },
    });
  }
}
