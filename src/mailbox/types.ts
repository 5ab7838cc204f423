/**
 * The two transport contracts everything above the hardware is written against.
 *
 *  - `Mmio`: 32- and 64-bit register access at physical addresses. Implemented by the simulated
 *    SoC's bus (in process) and by the m1n1 proxy (over USB serial, later). Asynchronous because
 *    the proxy is; the simulator answers immediately.
 *  - `MailboxTransport`: word-level mailbox, `send(ep, msg)` and an ordered stream of received
 *    `{ep, msg}`. Implemented by the register-level driver over any Mmio and by the in-process
 *    channel used in unit tests.
 */

/** Register access. Addresses are byte addresses below 2^53; 64-bit values are bigint. */
export interface Mmio {
  read32(addr: number): Promise<number>;
  write32(addr: number, value: number): Promise<void>;
  read64(addr: number): Promise<bigint>;
  write64(addr: number, value: bigint): Promise<void>;
}

/** The same, answering synchronously: what simulated devices implement. */
export interface SyncMmio {
  read32(addr: number): number;
  write32(addr: number, value: number): void;
  read64(addr: number): bigint;
  write64(addr: number, value: bigint): void;
}

/** One mailbox message: msg0 and the endpoint (msg1 bits [7:0]). */
export interface MailboxMessage {
  readonly ep: number;
  readonly msg: bigint;
}

export interface SendOptions {
  /** How long the sender may wait for FIFO space; default 500 ms (Linux). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface MailboxTransport {
  /**
   * Queue `msg` for endpoint `ep`. Resolves once the hardware accepted it. Sends complete in the
   * order they were called. Rejects with RtkitError `TRANSPORT_TIMEOUT` when the FIFO stayed
   * full for `timeoutMs`, `TRANSPORT_CLOSED` after close(), `ENDPOINT_INVALID` for an endpoint
   * outside 0–255 (nothing written), or the signal's reason.
   */
  send(ep: number, msg: bigint, opts?: SendOptions): Promise<void>;
  /**
   * Set the receiver. Every received message is delivered exactly once, in arrival order;
   * messages that arrive before a receiver is set are kept (never dropped) and delivered to it.
   * A receiver that throws does not stop delivery (the error is passed to `onError`).
   */
  setReceiver(fn: (m: MailboxMessage) => void, onError?: (e: unknown) => void): void;
  /** Drain whatever the hardware holds now (polled mode); resolves with how many were read. */
  poll(): Promise<number>;
  /** Stop; pending sends reject with TRANSPORT_CLOSED. Idempotent. */
  close(): Promise<void>;
  readonly closed: boolean;
}
