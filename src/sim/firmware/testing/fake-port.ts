/**
 * Test doubles for the firmware model's unit tests: an in-memory `IopPort` with two bounded
 * FIFOs (the mailbox's A2I and I2A) and a RUN bit. The host side is driven directly by tests.
 */

import type { MailboxMessage } from '../../../mailbox/types.js';
import type { IopPort } from '../../mailbox/iop-port.js';

export class FakeIopPort implements IopPort {
  /** FIFO depth in entries (16 on real hardware [inferred]). */
  readonly depth: number;
  readonly a2i: MailboxMessage[] = [];
  readonly i2a: MailboxMessage[] = [];
  /** Every message the host enqueued / dequeued, in order. */
  readonly hostSent: MailboxMessage[] = [];
  readonly hostReceived: MailboxMessage[] = [];
  /** Host sends refused because A2I was full. */
  overflows = 0;
  cpuStatus = { running: false, idle: false };
  run = false;
  #inbound: (() => void) | undefined;
  #space: (() => void) | undefined;
  #run: ((running: boolean) => void) | undefined;
  /** Called synchronously after the IOP enqueued (an interrupt-driven host reacts here). */
  onI2A: (() => void) | undefined;
  /** Called synchronously after the IOP dequeued from A2I (a waiting host may send again). */
  onA2ISpace: (() => void) | undefined;

  constructor(depth = 16) {
    this.depth = depth;
  }

  // IOP side (IopPort)
  trySend(ep: number, msg: bigint): boolean {
    if (this.i2a.length >= this.depth) return false;
    this.i2a.push({ ep, msg });
    this.onI2A?.();
    return true;
  }
  receive(): MailboxMessage | undefined {
    const m = this.a2i.shift();
    if (m !== undefined) this.onA2ISpace?.();
    return m;
  }
  onInbound(fn: () => void): void {
    this.#inbound = fn;
  }
  onOutboundSpace(fn: () => void): void {
    this.#space = fn;
  }
  onRun(fn: (running: boolean) => void): void {
    this.#run = fn;
  }
  setCpuStatus(status: { running: boolean; idle: boolean }): void {
    this.cpuStatus = { ...status };
  }

  // Host side
  /** Enqueue AP→IOP; false (and an overflow) when A2I is full. */
  hostSend(ep: number, msg: bigint): boolean {
    if (this.a2i.length >= this.depth) {
      this.overflows++;
      return false;
    }
    this.a2i.push({ ep, msg });
    this.hostSent.push({ ep, msg });
    this.#inbound?.();
    return true;
  }
  /** Dequeue one IOP→AP message. */
  hostReceive(): MailboxMessage | undefined {
    const m = this.i2a.shift();
    if (m === undefined) return undefined;
    this.hostReceived.push(m);
    this.#space?.();
    return m;
  }
  /** Dequeue everything queued now. */
  hostDrain(): MailboxMessage[] {
    const out: MailboxMessage[] = [];
    for (;;) {
      const m = this.hostReceive();
      if (m === undefined) return out;
      out.push(m);
    }
  }
  /** Write CPU_CONTROL.RUN; the firmware hears only changes. */
  setRun(on: boolean): void {
    if (on === this.run) return;
    this.run = on;
    this.#run?.(on);
  }
}
