/**
 * The co-processor's side of one ASC (the mailbox's IOP-facing FIFO ends, the CPU control
 * registers) as the firmware model sees it. The register block implements it; the firmware model
 * and its unit tests are written against it.
 */

import type { MailboxMessage } from '../../mailbox/types.js';

/**
 * Implementations may return an unsubscribe function from the `on…` registrations (the simulated
 * ASC does, and keeps several listeners); callers written against this interface ignore it.
 */
export interface IopPort {
  /** Enqueue an IOP→AP message. False when the I2A FIFO is full: nothing was enqueued. */
  trySend(ep: number, msg: bigint): boolean;
  /** Dequeue the oldest AP→IOP message, if any. */
  receive(): MailboxMessage | undefined;
  /** Called synchronously after each host write to A2I_SEND1 that enqueued a message. */
  onInbound(fn: () => void): void;
  /** Called synchronously after the host dequeued from I2A (there is room again). */
  onOutboundSpace(fn: () => void): void;
  /**
   * Called when the host changes CPU_CONTROL.RUN. `true` on 0→1 (the CPU starts executing from
   * reset), `false` on 1→0 (the CPU is halted; its state is lost).
   */
  onRun(fn: (running: boolean) => void): void;
  /** What CPU_STATUS shows the host. */
  setCpuStatus(status: { running: boolean; idle: boolean }): void;
}
