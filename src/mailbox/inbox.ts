import { Queue } from './queue.js';
import type { MailboxMessage } from './types.js';

/**
 * Received messages waiting for the receiver: the one delivery loop of every MailboxTransport.
 * Messages are delivered exactly once and in order; a receiver set later gets what arrived
 * before it; a receiver that throws is reported and delivery goes on (ROBUSTNESS B29); a
 * receiver that causes more arrivals (re-entrancy) does not start a second loop.
 */
export class Inbox {
  private readonly queue = new Queue<MailboxMessage>();
  private delivering = false;

  constructor(
    private readonly receiver: () => ((m: MailboxMessage) => void) | undefined,
    private readonly failed: (e: unknown) => void,
  ) {}

  get length(): number {
    return this.queue.length;
  }

  push(m: MailboxMessage): void {
    this.queue.push(m);
  }

  deliver(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (;;) {
        const fn = this.receiver();
        if (fn === undefined) break;
        const m = this.queue.shift();
        if (m === undefined) break;
        try {
          fn(m);
        } catch (e) {
          this.failed(e);
        }
      }
    } finally {
      this.delivering = false;
    }
  }
}
