/**
 * The byte-link contract: what the proxy client and the simulated server run over. A link is an
 * ordered, reliable byte stream with no framing of its own (a serial port, a TCP connection, a
 * Web Serial port, an in-memory pair). Implementations: `src/transports/` (Node: TCP, serial
 * devices and ptys), `web-serial-link.ts` (browsers), `testing/mock-link.ts` (tests).
 *
 * The contract suite in `test/transports/link-contract.test.ts` holds every implementation to it.
 */

export interface ByteLink {
  /** What the link is, for messages: `tcp:127.0.0.1:4000`, `/dev/ttyACM0`, `mock`. */
  readonly description: string;
  readonly closed: boolean;
  /**
   * Queue bytes for the peer. Writes reach the peer in call order and byte-exact (no newline
   * translation, no flow-control bytes). Resolves once the bytes are handed to the OS or the
   * peer (not when the peer has read them). Rejects with RtkitError `TRANSPORT_CLOSED` after the
   * link closed. The caller may reuse `bytes` after the promise resolves.
   */
  write(bytes: Uint8Array): Promise<void>;
  /**
   * Set the receiver of incoming bytes. Chunks are delivered in order, each exactly once; chunk
   * boundaries carry no meaning. Bytes that arrive before a receiver is set are kept and
   * delivered to it. Replacing the receiver hands later chunks to the new one.
   */
  onData(fn: (chunk: Uint8Array) => void): void;
  /** Called once when the link closes: by `close()`, by the peer hanging up, or on an error. */
  onClose(fn: (error?: Error) => void): void;
  /** Change the line rate, where there is one (serial); resolves without effect elsewhere. */
  setBaudRate(baud: number): Promise<void>;
  /** Close; pending and later writes reject with TRANSPORT_CLOSED. Idempotent. */
  close(): Promise<void>;
}
