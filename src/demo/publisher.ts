/**
 * Turns what a running host session reports (its `tx`/`rx`, `state`, `syslog`, `crash` and
 * `warning` events) into live-feed events (src/viewer/feed.ts), numbered and stamped with the
 * SoC's clock, and hands them to a `FeedHub` and/or a callback. Used by the scripted demo and by
 * `rtkit sim`; a proxy session on a real Mac can publish the same way.
 *
 * The feed is JSON-safe (it goes to the viewer as is); an in-process renderer may want the parsed
 * crash report itself, to render it with `renderCrashlogText` instead of from its JSON: that
 * travels next to the event as a `FeedDetail`.
 */

import type { Clock } from '../clock.js';
import { type CrashReport, crashlogToJson } from '../crashlog/index.js';
import type { CrashEvent, SessionState } from '../host/events.js';
import type { RtkitSession } from '../host/session.js';
import { bufferRequestFromMessage } from '../host/shmem/manager.js';
import { type Direction, endpointName, hex64 } from '../protocol/index.js';
import type {
  FeedBuffer,
  FeedCoprocState,
  FeedCrash,
  FeedEvent,
  FeedHub,
  FeedMessage,
} from '../viewer/feed.js';

/** What travels next to an event in process only (never on the wire). */
export interface FeedDetail {
  /** The parsed crash report behind a `crash` event. */
  readonly report?: CrashReport;
}

export type FeedSink = (event: FeedEvent, detail?: FeedDetail) => void;

export interface FeedPublisherOptions {
  /** Time base of every event (`t` = `clock.now()` in seconds). */
  readonly clock: Clock;
  readonly hub?: FeedHub;
  readonly onEvent?: FeedSink;
}

export interface TapOptions {
  /** Publish the session's `tx`/`rx` words as `message` events (default true). */
  readonly messages?: boolean;
  /** Publish `warning` events as remarks (`phase`, `warning CODE: ...`; default true). */
  readonly warnings?: boolean;
}

const LOW32 = 0xffff_ffffn;

/**
 * Milliseconds → seconds, rounded to the nanosecond: virtual times are sums of fractional
 * delays, and `0.0021000000000000003` in every JSON line helps nobody. Rounding keeps the order.
 */
export function feedSeconds(ms: number): number {
  return Math.round(ms * 1e6) / 1e9;
}

export class FeedPublisher {
  readonly #clock: Clock;
  readonly #hub: FeedHub | undefined;
  readonly #onEvent: FeedSink | undefined;
  #events = 0;
  #messages = 0;
  #syslog = 0;
  #warnings = 0;

  constructor(opts: FeedPublisherOptions) {
    this.#clock = opts.clock;
    this.#hub = opts.hub;
    this.#onEvent = opts.onEvent;
  }

  /** Events published so far. */
  get events(): number {
    return this.#events;
  }

  /** `message` events published so far (also the next message's `seq`). */
  get messages(): number {
    return this.#messages;
  }

  get syslogLines(): number {
    return this.#syslog;
  }

  get warnings(): number {
    return this.#warnings;
  }

  /** Seconds on the feed's clock. */
  now(): number {
    return feedSeconds(this.#clock.now());
  }

  publish(event: FeedEvent, detail?: FeedDetail): void {
    this.#events++;
    this.#hub?.publish(event);
    this.#onEvent?.(event, detail);
  }

  /** A mailbox word; `ms` is when it passed (default now). */
  message(coproc: string, dir: Direction, ep: number, msg: bigint, ms?: number): void {
    const e: FeedMessage = {
      type: 'message',
      t: feedSeconds(ms ?? this.#clock.now()),
      dir,
      coproc,
      ep,
      msg: hex64(Number(msg >> 32n), Number(msg & LOW32)),
      seq: this.#messages++,
    };
    this.publish(e);
  }

  state(coproc: string, reason: string, session: RtkitSession, state?: SessionState): void {
    this.publish({
      type: 'state',
      t: this.now(),
      coproc,
      reason,
      state: coprocState(session, state),
    });
  }

  syslog(coproc: string, context: string, message: string): void {
    this.#syslog++;
    this.publish({ type: 'syslog', t: this.now(), coproc, context, message });
  }

  crash(coproc: string, e: CrashEvent): void {
    const msg = hex64(Number(e.msg >> 32n), Number(e.msg & LOW32));
    const problem =
      e.problem ??
      (e.parseError !== undefined ? `did not parse: ${e.parseError.message}` : undefined);
    const event: FeedCrash = {
      type: 'crash',
      t: feedSeconds(e.time),
      coproc,
      msg,
      ...(e.report !== undefined ? { report: crashlogToJson(e.report) } : {}),
      ...(problem !== undefined ? { problem } : {}),
    };
    this.publish(event, e.report !== undefined ? { report: e.report } : undefined);
  }

  phase(text: string, coproc?: string): void {
    this.publish({
      type: 'phase',
      t: this.now(),
      text,
      ...(coproc !== undefined ? { coproc } : {}),
    });
  }

  /**
   * Publish a session's events under the name `coproc` until the returned function is called.
   * Listeners are attached at once; attach before `boot()` to see the whole session.
   */
  tap(session: RtkitSession, coproc: string, opts: TapOptions = {}): () => void {
    const offs: (() => void)[] = [];
    const messages = opts.messages ?? true;
    // The session reports no event when a buffer is granted or released outside a state change
    // (a grant completes asynchronously after the request): a change in the manager's counters
    // is published as a `buffers` state change, looked for at the next word and at the next
    // clock turn after a buffer request.
    let seen = bufferMark(session);
    const buffersChanged = (): boolean => {
      const now = bufferMark(session);
      if (now === seen) return false;
      seen = now;
      return true;
    };
    const checkBuffers = (): void => {
      if (buffersChanged()) this.state(coproc, 'buffers', session);
    };
    let checkPending = false;
    const checkSoon = (): void => {
      if (checkPending) return;
      checkPending = true;
      this.#clock.setTimer(0, () => {
        checkPending = false;
        if (!closed) checkBuffers();
      });
    };
    let closed = false;
    if (messages) {
      offs.push(
        session.on('tx', (e) => {
          checkBuffers();
          this.message(coproc, 'ap->iop', e.ep, e.msg, e.time);
        }),
      );
    }
    offs.push(
      session.on('rx', (e) => {
        checkBuffers();
        if (messages) this.message(coproc, 'iop->ap', e.ep, e.msg, e.time);
        if (bufferRequestFromMessage(e.ep, e.message) !== undefined) checkSoon();
      }),
    );
    offs.push(
      session.on('state', (e) => {
        buffersChanged();
        this.state(coproc, e.reason, session, e.state);
      }),
    );
    offs.push(session.on('syslog', (e) => this.syslog(coproc, e.entry.context, e.entry.message)));
    offs.push(session.on('crash', (e) => this.crash(coproc, e)));
    if (opts.warnings ?? true) {
      offs.push(
        session.on('warning', (w) => {
          this.#warnings++;
          this.phase(`warning ${w.code}: ${w.message}`, coproc);
        }),
      );
    }
    return () => {
      closed = true;
      for (const off of offs) off();
    };
  }
}

/** Changes whenever a buffer is granted or released. */
function bufferMark(session: RtkitSession): number {
  const m = session.buffers;
  return m === undefined ? 0 : m.allocations * 0x10000 + m.live;
}

/** The feed's view of a session: power, protocol, endpoints and the live shared buffers. */
export function coprocState(
  session: RtkitSession,
  s: SessionState = session.state,
): FeedCoprocState {
  const buffers: FeedBuffer[] = [];
  for (const b of session.buffers?.entries() ?? []) {
    buffers.push({
      ep: b.ep,
      endpoint: endpointName(b.ep),
      mode: b.buffer.mode,
      iova: `0x${b.buffer.device.toString(16)}`,
      size: b.buffer.bytes,
    });
  }
  return {
    iopPower: s.iopPowerState ?? null,
    apPower: s.apPowerState ?? null,
    version: s.version ?? null,
    handshake: s.handshake,
    running: s.running,
    crashed: s.crashed,
    poweredOff: s.poweredOff,
    endpoints: s.discoveredEndpoints,
    started: s.startedEndpoints,
    buffers,
  };
}
