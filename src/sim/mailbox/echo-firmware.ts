/**
 * The smallest firmware there is: it takes every AP→IOP message from an `IopPort`, records it,
 * and (when asked) sends it straight back. Messages it cannot enqueue because the I2A FIFO is
 * full wait in its own queue and go out, in order, as the host makes room. For transport tests
 * and benchmarks; the RTKit firmware model lives in src/sim/firmware.
 */

import type { MailboxMessage } from '../../mailbox/types.js';
import type { IopPort } from './iop-port.js';

export interface EchoFirmwareOptions {
  /** Send every received message back on the same endpoint; default false. */
  echo?: boolean;
  /** Keep received messages in `inbox`; default true (turn off for long benchmarks). */
  record?: boolean;
}

export class EchoFirmware {
  /** Every AP→IOP message, in arrival order. */
  readonly inbox: MailboxMessage[] = [];
  echo: boolean;
  record: boolean;
  /** How many messages arrived (also when not recorded). */
  received = 0;
  private outq: MailboxMessage[] = [];
  private outHead = 0;

  constructor(
    private readonly port: IopPort,
    opts: EchoFirmwareOptions = {},
  ) {
    this.echo = opts.echo ?? false;
    this.record = opts.record ?? true;
    port.onInbound(() => this.pull());
    port.onOutboundSpace(() => this.flush());
  }

  /** Queue a message to the AP; it enters the FIFO now if there is room, else later. */
  send(ep: number, msg: bigint): void {
    if (this.outHead === this.outq.length && this.port.trySend(ep, msg)) return;
    this.outq.push({ ep, msg });
    this.flush();
  }

  /** Messages waiting for FIFO space. */
  get backlog(): number {
    return this.outq.length - this.outHead;
  }

  /** Take everything the host has sent. */
  pull(): void {
    for (let m = this.port.receive(); m !== undefined; m = this.port.receive()) {
      this.received++;
      if (this.record) this.inbox.push(m);
      if (this.echo) this.send(m.ep, m.msg);
    }
  }

  /** Push waiting messages into the FIFO while it has room. */
  flush(): void {
    const q = this.outq;
    while (this.outHead < q.length) {
      const m = q[this.outHead]!;
      if (!this.port.trySend(m.ep, m.msg)) break;
      this.outHead++;
    }
    if (this.outHead === q.length) {
      this.outq = [];
      this.outHead = 0;
    }
  }
}
