/**
 * The live feed: what a running session (the demo, `rtkit sim`, a proxy session) publishes and
 * what the web viewer and the terminal renderer consume. Plain JSON-safe values — 64-bit words
 * are `0x` strings — so one event is one line of JSON on the wire (server-sent events) or in a
 * file. Messages carry only the raw word: every consumer decodes with the library's codec, so no
 * bit field is described twice.
 *
 * A `message` event is a record of our JSON-lines trace format (docs/trace-format.md) plus
 * `type`, so a saved feed opens in every tool that reads traces.
 */

import type { CrashlogJson } from '../crashlog/index.js';
import type { Direction } from '../protocol/index.js';

export interface FeedMessage {
  readonly type: 'message';
  /** Seconds since the feed started. */
  readonly t: number;
  readonly dir: Direction;
  readonly coproc: string;
  readonly ep: number;
  /** `0x` + 16 lower-case hex digits. */
  readonly msg: string;
  readonly seq: number;
}

export interface FeedBuffer {
  readonly ep: number;
  /** Endpoint name (`crashlog`, `syslog`, `ioreport`, ...). */
  readonly endpoint: string;
  /** How it was provided: `iommu`, `sart`, `identity`, `firmware-iova`, `sram`. */
  readonly mode: string;
  /** Device address (`0x` hex) and size in bytes. */
  readonly iova: string;
  readonly size: number;
}

export interface FeedCoprocState {
  /** Last acked power states (`0x20` on, `0x10` quiesced/idle, …); null before any ack. */
  readonly iopPower: number | null;
  readonly apPower: number | null;
  readonly version: number | null;
  readonly handshake: 'none' | 'hello' | 'epmap' | 'starting' | 'done';
  readonly running: boolean;
  readonly crashed: boolean;
  readonly poweredOff: boolean;
  readonly endpoints: readonly number[];
  readonly started: readonly number[];
  readonly buffers: readonly FeedBuffer[];
}

export interface FeedState {
  readonly type: 'state';
  readonly t: number;
  readonly coproc: string;
  /** Why it changed: `boot`, `iop-ack`, `crash`, `recovered`, ... */
  readonly reason: string;
  readonly state: FeedCoprocState;
}

export interface FeedSyslog {
  readonly type: 'syslog';
  readonly t: number;
  readonly coproc: string;
  readonly context: string;
  readonly message: string;
}

export interface FeedCrash {
  readonly type: 'crash';
  readonly t: number;
  readonly coproc: string;
  /** The EP1 notification word. */
  readonly msg: string;
  /** `crashlogToJson(report)`; absent when no crash log could be read (`problem` says why). */
  readonly report?: CrashlogJson;
  readonly problem?: string;
}

/** A step of a scripted session (`SMC: read keys`), or a free remark. */
export interface FeedPhase {
  readonly type: 'phase';
  readonly t: number;
  readonly text: string;
  readonly coproc?: string;
}

export type FeedEvent = FeedMessage | FeedState | FeedSyslog | FeedCrash | FeedPhase;

export interface FeedHubOptions {
  /** Events kept for subscribers that join late (default 200,000; the oldest are dropped). */
  history?: number;
}

/**
 * Fan-out of feed events to any number of subscribers, with a bounded history so a viewer opened
 * in the middle of a session still sees it from the start (or from the oldest kept event).
 */
export class FeedHub {
  private readonly limit: number;
  private readonly kept: FeedEvent[] = [];
  private head = 0;
  private readonly subscribers = new Set<(e: FeedEvent) => void>();
  private dropped = 0;

  constructor(opts: FeedHubOptions = {}) {
    this.limit = Math.max(1, opts.history ?? 200_000);
  }

  publish(event: FeedEvent): void {
    if (this.kept.length < this.limit) this.kept.push(event);
    else {
      this.kept[this.head] = event;
      this.head = (this.head + 1) % this.limit;
      this.dropped++;
    }
    for (const fn of this.subscribers) fn(event);
  }

  /** Events kept so far, oldest first. */
  history(): FeedEvent[] {
    return this.head === 0
      ? this.kept.slice()
      : [...this.kept.slice(this.head), ...this.kept.slice(0, this.head)];
  }

  /** How many events fell out of the history. */
  get droppedFromHistory(): number {
    return this.dropped;
  }

  /** Receive every later event; with `replay`, first the history. Returns the unsubscribe. */
  subscribe(fn: (e: FeedEvent) => void, opts: { replay?: boolean } = {}): () => void {
    if (opts.replay) for (const e of this.history()) fn(e);
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }
}
