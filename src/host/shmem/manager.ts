/**
 * The part of the shared-memory layer the session uses: turns buffer requests into buffers and
 * reply words, one live buffer per endpoint (PROTOCOL.md §6.5).
 *
 *   firmware request ─► bufferRequestFromMessage ─► BufferManager.handle ─► strategy.acquire
 *                                                        │ (per endpoint)      (iommu, sart, …)
 *   session ◄── { granted | repeat | busy | refused, reply word } ◄──┘
 *
 * - M2 / ROBUSTNESS B11: an identical repeat gets the identical reply again (mode A) or nothing
 *   (B/C), without a new allocation; another geometry while a buffer is live is `BUFFER_BUSY`.
 * - M3 / B18 / B25: a reply never carries address 0; a refusal never produces a reply.
 * - M6: `releaseAll()` on reinit, shutdown, power-off and crash recovery; `{ keep: true }` after a
 *   failed shutdown (the IOP may still DMA, HF's "free retaining buffers").
 * - B14: OSLog is answered with a type-1 buffer reply in its own layout, never the obsolete
 *   type-3 ACK. B15: an OSLog request carries a page number, turned into an address here.
 * - The reply's SIZE echoes the requested count (ML; §6.1 "ours", §12 row 16).
 *
 * Every operation runs in arrival order on one queue, so a repeat that arrives while the first
 * request is still being served sees its outcome, and `releaseAll` waits for requests in flight.
 */

import { RtkitError } from '../../errors.js';
import { encode, type Message } from '../../protocol/index.js';
import { badInput, hex, isU53, PAGE_4K, ShmemErrorCode } from './common.js';
import type { BufferRefusalCode, BufferRequest, BufferStrategy, SharedBuffer } from './types.js';

/** The endpoints whose buffer replies we can encode: crashlog, syslog, IOReport, OSLog. */
export const BUFFER_ENDPOINTS = [1, 2, 4, 8] as const;

const REPLY_KIND = {
  1: 'crashlogBufferReply',
  2: 'syslogBufferReply',
  4: 'ioreportBufferReply',
} as const;

const REQUEST_EP: Readonly<Record<string, number>> = {
  crashlogBufferRequest: 1,
  syslogBufferRequest: 2,
  ioreportBufferRequest: 4,
  oslogBufferRequest: 8,
};

/**
 * The buffer request in a decoded message, in bytes and device address, or undefined when the
 * message is not a buffer request for `ep` (an EP1 crash notification is not one: decode it with
 * `crashlogArmed`, ROBUSTNESS B17).
 *
 * EP 1/2/4: SIZE is in 4 KiB pages, IOVA is an address (§6.1). EP 8: SIZE is in bytes and the
 * IOVA field is a page number (§5.5, B15).
 */
export function bufferRequestFromMessage(ep: number, m: Message): BufferRequest | undefined {
  if (REQUEST_EP[m.kind] !== ep) return undefined;
  switch (m.kind) {
    case 'crashlogBufferRequest':
    case 'syslogBufferRequest':
    case 'ioreportBufferRequest':
      return { ep, bytes: m.size * PAGE_4K, iova: m.iova };
    case 'oslogBufferRequest':
      return { ep, bytes: m.size, iova: m.page * PAGE_4K };
    default:
      return undefined;
  }
}

/**
 * The reply word for a host-allocated buffer. EP 1/2/4: TYPE 1, the requested page count, the
 * device address. EP 8: TYPE 1 in the OSLog layout, the requested size in bytes, the address
 * >> 12 (B14: `0x0104000000801004` for 16 KiB at `0x801004000`). Throws `BAD_INPUT` for another
 * endpoint, a device address 0 (M3) or an OSLog address that is not 4 KiB-aligned.
 */
export function bufferReplyWord(ep: number, buffer: SharedBuffer, req: BufferRequest): bigint {
  const device = buffer.device;
  if (!(isU53(device) && device !== 0)) {
    badInput(`endpoint ${hex(ep)}: never reply with device address ${String(device)} (M3)`);
  }
  if (ep === 8) {
    if (device % PAGE_4K !== 0) {
      badInput(`OSLog buffer address ${hex(device)} is not 4 KiB-aligned`, { device });
    }
    return encode({ kind: 'oslogBufferReply', size: req.bytes, page: device / PAGE_4K });
  }
  if (ep === 1 || ep === 2 || ep === 4) {
    return encode({ kind: REPLY_KIND[ep], size: Math.ceil(req.bytes / PAGE_4K), iova: device });
  }
  return badInput(`endpoint ${hex(ep)} has no buffer reply`, { ep });
}

/** Which strategy serves an endpoint. */
export type StrategySelection =
  | {
      readonly default: BufferStrategy;
      readonly byEndpoint?: Readonly<Partial<Record<number, BufferStrategy>>>;
    }
  | ((ep: number, req: BufferRequest) => BufferStrategy | undefined);

export type BufferOutcome =
  /** A new buffer. `reply`: send it on the endpoint (mode A); undefined for modes B/C. */
  | {
      readonly kind: 'granted';
      readonly buffer: SharedBuffer;
      readonly request: BufferRequest;
      readonly reply: bigint | undefined;
    }
  /** The identical request again (M2, B11): re-send `reply` if defined; nothing allocated. */
  | {
      readonly kind: 'repeat';
      readonly buffer: SharedBuffer;
      readonly request: BufferRequest;
      readonly reply: bigint | undefined;
    }
  /** Another geometry while `buffer` is live: no reply, warning `BUFFER_BUSY`. */
  | {
      readonly kind: 'busy';
      readonly code: 'BUFFER_BUSY';
      readonly message: string;
      readonly buffer: SharedBuffer;
      readonly request: BufferRequest;
    }
  /** No buffer: no reply, warning `code`. */
  | {
      readonly kind: 'refused';
      readonly code: BufferRefusalCode;
      readonly message: string;
      readonly request: BufferRequest;
      readonly cause?: unknown;
    };

/** One live buffer as the manager holds it. */
export interface BufferEntry {
  readonly ep: number;
  readonly buffer: SharedBuffer;
  /** The request that created it (what a repeat must equal). */
  readonly request: BufferRequest;
  /** The reply word sent for it (mode A), re-sent on a repeat. */
  readonly reply: bigint | undefined;
  readonly strategy: string;
  /** Kept alive by `releaseAll({ keep: true })` (a failed shutdown). */
  readonly retained: boolean;
}

export interface BufferStats {
  /** Buffers held now. */
  readonly live: number;
  /** New buffers granted by strategies since creation (B11's "allocator counter"). */
  readonly allocations: number;
  /** Buffers released. */
  readonly releases: number;
  readonly repeats: number;
  readonly busy: number;
  readonly refused: number;
}

interface Held {
  buffer: SharedBuffer;
  request: BufferRequest;
  reply: bigint | undefined;
  strategy: BufferStrategy;
  retained: boolean;
}

export class BufferManager {
  private readonly select: StrategySelection;
  private readonly held = new Map<number, Held>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly counts = { allocations: 0, releases: 0, repeats: 0, busy: 0, refused: 0 };

  constructor(strategies: StrategySelection) {
    if (typeof strategies !== 'function' && strategies?.default === undefined) {
      badInput('BufferManager needs a default strategy or a selection function');
    }
    this.select = strategies;
  }

  get live(): number {
    return this.held.size;
  }

  get allocations(): number {
    return this.counts.allocations;
  }

  stats(): BufferStats {
    return { live: this.held.size, ...this.counts };
  }

  /** The live buffer of an endpoint. */
  get(ep: number): SharedBuffer | undefined {
    return this.held.get(ep)?.buffer;
  }

  entries(): BufferEntry[] {
    return [...this.held.entries()]
      .sort(([a], [b]) => a - b)
      .map(([ep, h]) => ({
        ep,
        buffer: h.buffer,
        request: h.request,
        reply: h.reply,
        strategy: h.strategy.name,
        retained: h.retained,
      }));
  }

  /** Serve a decoded message, or undefined when it is not a buffer request for `ep`. */
  handleMessage(ep: number, m: Message): Promise<BufferOutcome> | undefined {
    const req = bufferRequestFromMessage(ep, m);
    return req === undefined ? undefined : this.handle(req);
  }

  /** Serve a buffer request. Never rejects for firmware input: every failure is `refused`. */
  handle(req: BufferRequest): Promise<BufferOutcome> {
    return this.enqueue(() => this.serve(req));
  }

  /** Release one endpoint's buffer (free, unmap, revoke). */
  release(ep: number): Promise<boolean> {
    return this.enqueue(async () => {
      const h = this.held.get(ep);
      if (h === undefined) return false;
      await h.strategy.release(h.buffer);
      this.held.delete(ep);
      this.counts.releases++;
      return true;
    });
  }

  /**
   * M6: release every buffer (reinit, shutdown, power-off, crash recovery — after the crash log
   * was copied). Resolves with how many were released. With `keep: true` (a failed shutdown:
   * the IOP may still DMA into them) nothing is freed: the buffers stay live and attached to
   * their endpoints, marked `retained`, so a crash log can still be read and an identical
   * request is still a repeat; a later `releaseAll()` frees them.
   *
   * A buffer whose release fails stays live (retry later); the others are released and the call
   * rejects with `BUFFER_RELEASE_FAILED` listing the endpoints and their causes.
   */
  releaseAll(opts: { keep?: boolean } = {}): Promise<number> {
    return this.enqueue(async () => {
      if (opts.keep === true) {
        for (const h of this.held.values()) h.retained = true;
        return 0;
      }
      const failed: { ep: number; error: unknown }[] = [];
      let n = 0;
      for (const [ep, h] of [...this.held.entries()].sort(([a], [b]) => a - b)) {
        try {
          await h.strategy.release(h.buffer);
          this.held.delete(ep);
          this.counts.releases++;
          n++;
        } catch (error) {
          failed.push({ ep, error });
        }
      }
      if (failed.length > 0) {
        throw new RtkitError(
          ShmemErrorCode.BUFFER_RELEASE_FAILED,
          `could not release the buffers of endpoint(s) ${failed.map((f) => hex(f.ep)).join(', ')}`,
          { endpoints: failed.map((f) => f.ep), errors: failed.map((f) => f.error) },
          { cause: failed[0]!.error },
        );
      }
      return n;
    });
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private strategyFor(req: BufferRequest): BufferStrategy | undefined {
    const s = this.select;
    if (typeof s === 'function') return s(req.ep, req);
    return s.byEndpoint?.[req.ep] ?? s.default;
  }

  private async serve(req: BufferRequest): Promise<BufferOutcome> {
    const h = this.held.get(req.ep);
    if (h !== undefined) {
      if (h.request.bytes === req.bytes && h.request.iova === req.iova) {
        this.counts.repeats++;
        return { kind: 'repeat', buffer: h.buffer, request: req, reply: h.reply };
      }
      this.counts.busy++;
      return {
        kind: 'busy',
        code: 'BUFFER_BUSY',
        message:
          `endpoint ${hex(req.ep)}: request ${geometry(req)} while the buffer ` +
          `${geometry(h.request)} is live`,
        buffer: h.buffer,
        request: req,
      };
    }
    let strategy: BufferStrategy | undefined;
    try {
      strategy = this.strategyFor(req);
    } catch (e) {
      return this.refused(req, 'BUFFER_REJECTED', because('strategy selection failed', e), e);
    }
    if (strategy === undefined) {
      return this.refused(req, 'BUFFER_REJECTED', `no buffer strategy for endpoint ${hex(req.ep)}`);
    }
    let d: Awaited<ReturnType<BufferStrategy['acquire']>>;
    try {
      d = await strategy.acquire(req);
    } catch (e) {
      return this.refused(req, 'BUFFER_ALLOC_FAILED', because(`${strategy.name} threw`, e), e);
    }
    if (!d.ok) return this.refused(req, d.code, d.message, d.cause);
    const buffer = d.buffer;
    let reply: bigint | undefined;
    try {
      if (buffer.ep !== req.ep || buffer.bytes < req.bytes) {
        throw new Error(`${strategy.name} granted ${hex(buffer.bytes)} bytes for ${geometry(req)}`);
      }
      // M3: checked here too, whatever the strategy: a reply never carries address 0.
      if (d.reply) reply = bufferReplyWord(req.ep, buffer, req);
    } catch (e) {
      try {
        await strategy.release(buffer);
      } catch {}
      return this.refused(req, 'BUFFER_ALLOC_FAILED', because('unusable buffer', e), e);
    }
    this.held.set(req.ep, { buffer, request: req, reply, strategy, retained: false });
    this.counts.allocations++;
    return { kind: 'granted', buffer, request: req, reply };
  }

  private refused(
    req: BufferRequest,
    code: BufferRefusalCode,
    message: string,
    cause?: unknown,
  ): BufferOutcome {
    this.counts.refused++;
    return cause === undefined
      ? { kind: 'refused', code, message, request: req }
      : { kind: 'refused', code, message, request: req, cause };
  }
}

/** A refusal message that names the host-side error behind it. */
function because(message: string, e: unknown): string {
  return `${message}: ${e instanceof Error ? e.message : String(e)}`;
}

function geometry(req: BufferRequest): string {
  return `${hex(req.bytes)} bytes ${req.iova === 0 ? '(host allocates)' : `at ${hex(req.iova)}`}`;
}
