/**
 * Contracts of the host library that other modules (drivers such as the SMC client, tools) are
 * written against. The session implements them.
 */

export interface RequestOptions {
  /** Default 1000 ms (Linux's protocol-step timeout). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** One started application endpoint of a running session. */
export interface EndpointHandle {
  readonly ep: number;
  /** Send on this endpoint; rejects NOT_RUNNING / COPROC_CRASHED / TRANSPORT_* like Session.send. */
  send(msg: bigint, opts?: RequestOptions): Promise<void>;
  /**
   * Send and wait for the first message on this endpoint for which `match` is true; that message
   * is consumed (not passed to onMessage listeners). Rejects TIMEOUT (step `request`).
   */
  request(msg: bigint, match: (reply: bigint) => boolean, opts?: RequestOptions): Promise<bigint>;
  /** Every message on this endpoint not consumed by a request, in arrival order. */
  onMessage(fn: (msg: bigint) => void): () => void;
}

/**
 * Bounds-checked access to a window of device memory through MMIO (e.g. the SMC's SRAM).
 * Addresses are absolute: the device address the firmware announces, which for an SRAM window
 * inside the co-processor's MMIO space is also the physical address the host maps (§6.4).
 */
export interface SramAccess {
  readonly base: number;
  readonly size: number;
  read(addr: number, len: number): Promise<Uint8Array>;
  write(addr: number, data: Uint8Array): Promise<void>;
}
