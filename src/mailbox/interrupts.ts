/**
 * Host-facing mailbox interrupt lines (PROTOCOL.md §1.8). A real mailbox has four consecutive
 * level-triggered AIC lines; the in-process simulator exposes them through this interface so a
 * driver can work in notification mode instead of polling. A driver over the m1n1 proxy has no
 * interrupts and polls.
 */

import type { MailboxIrqLine } from './registers.js';

export type { MailboxIrqLine } from './registers.js';

export interface MailboxInterrupts {
  /** Current level of the line (after masking, on M3). */
  level(line: MailboxIrqLine): boolean;
  /**
   * Call `fn` with the new level on every change of the line; not called for the level at the
   * time of subscribing (read it with `level`). The callback runs synchronously inside whatever
   * changed the line (a firmware enqueue, a register access): it must not touch the mailbox
   * synchronously, only schedule work. Returns a function that unsubscribes.
   */
  subscribe(line: MailboxIrqLine, fn: (level: boolean) => void): () => void;
}
