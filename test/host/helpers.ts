// Rigs for the session tests: the simulated SoC through the register-level mailbox (the real
// path), and the same firmware model over the in-process channel (an IopPort adapter).
import { VirtualClock } from '../../src/clock.js';
import { RtkitSession, type SessionOptions, type WarningEvent } from '../../src/host/index.js';
import { AscMailboxDriver } from '../../src/mailbox/asc-driver.js';
import { type ChannelEnd, createChannelPair } from '../../src/mailbox/channel.js';
import type { MailboxMessage } from '../../src/mailbox/types.js';
import type { FaultSpec } from '../../src/sim/faults.js';
import { RtkitFirmware } from '../../src/sim/firmware/firmware.js';
import type { FirmwareProfile, StrictOptions } from '../../src/sim/firmware/types.js';
import type { IopPort } from '../../src/sim/mailbox/iop-port.js';
import { identityPort } from '../../src/sim/memory/index.js';
import { getProfile, type ProfileName } from '../../src/sim/profiles/index.js';
import { createRng } from '../../src/sim/rng.js';
import { type SimCoprocessor, SimSoc, type SocOptions } from '../../src/sim/soc.js';
import { type SimStrategyOptions, strategiesFor } from '../../src/wiring/sim-host.js';

export interface SimRigOptions {
  profile: ProfileName | FirmwareProfile;
  faults?: FaultSpec | string;
  strict?: boolean | StrictOptions;
  background?: boolean;
  seed?: number;
  soc?: SocOptions;
  strategies?: SimStrategyOptions;
  session?: Partial<SessionOptions>;
  /** Default true: the clock jumps to the next timer whenever the program is idle. */
  autoAdvance?: boolean;
}

export interface SimRig {
  soc: SimSoc;
  cp: SimCoprocessor;
  driver: AscMailboxDriver;
  session: RtkitSession;
  warnings: WarningEvent[];
  clock: VirtualClock;
  /** Every message through the mailbox, both directions, in order. */
  wire: WireMessage[];
  dispose(): Promise<void>;
}

export interface WireMessage {
  dir: 'ap->iop' | 'iop->ap';
  ep: number;
  msg: bigint;
  t: number;
}

const live: (() => Promise<void>)[] = [];

/** Call from afterEach: stops clocks and closes what the rigs opened. */
export async function disposeRigs(): Promise<void> {
  const all = live.splice(0);
  for (const d of all) await d();
}

/** A co-processor on the simulated SoC, driven through its registers (AscMailboxDriver). */
export function simRig(o: SimRigOptions): SimRig {
  const soc = new SimSoc({ seed: o.seed ?? 1, ...o.soc });
  const stop = o.autoAdvance === false ? () => {} : soc.clock.autoAdvance();
  const cp = soc.add({
    profile: o.profile,
    ...(o.faults !== undefined ? { faults: o.faults } : {}),
    ...(o.strict !== undefined ? { strict: o.strict } : {}),
    ...(o.background !== undefined ? { background: o.background } : {}),
  });
  const driver = new AscMailboxDriver({
    mmio: soc.mmio,
    base: cp.mailboxBase,
    clock: soc.clock,
    interrupts: cp.asc.interrupts,
  });
  const wire: WireMessage[] = [];
  cp.asc.onTraffic((dir, ep, msg) => {
    wire.push({ dir, ep, msg, t: soc.clock.now() });
  });
  const warnings: WarningEvent[] = [];
  const session = new RtkitSession({
    transport: driver,
    clock: soc.clock,
    strategies: strategiesFor(soc, cp, o.strategies),
    cpu: { mmio: soc.mmio, ascBase: cp.ascBase },
    coproc: cp.profile.coproc,
    name: cp.name,
    ...o.session,
    listeners: { warning: (w) => warnings.push(w), ...o.session?.listeners },
  });
  let disposed = false;
  const dispose = async (): Promise<void> => {
    if (disposed) return;
    disposed = true;
    await session.close();
    await driver.close();
    cp.firmware.dispose();
    stop();
  };
  live.push(dispose);
  return { soc, cp, driver, session, warnings, clock: soc.clock, wire, dispose };
}

/** The firmware model's IopPort over the IOP end of an in-process channel. */
export class ChannelIopPort implements IopPort {
  readonly #inbox: MailboxMessage[] = [];
  #inbound: (() => void) | undefined;
  #run: ((running: boolean) => void) | undefined;
  status = { running: false, idle: false };

  constructor(readonly end: ChannelEnd) {
    end.setReceiver((m) => {
      this.#inbox.push(m);
      this.#inbound?.();
    });
  }

  trySend(ep: number, msg: bigint): boolean {
    // An unbounded channel never refuses; a closed one swallows (the test is over).
    this.end.send(ep, msg).catch(() => {});
    return true;
  }

  receive(): MailboxMessage | undefined {
    return this.#inbox.shift();
  }

  onInbound(fn: () => void): void {
    this.#inbound = fn;
  }

  onOutboundSpace(_fn: () => void): void {}

  onRun(fn: (running: boolean) => void): void {
    this.#run = fn;
  }

  setCpuStatus(status: { running: boolean; idle: boolean }): void {
    this.status = { ...status };
  }

  /** CPU_CONTROL.RUN 0→1 / 1→0. */
  run(on: boolean): void {
    this.#run?.(on);
  }
}

export interface ChannelRig {
  soc: SimSoc;
  port: ChannelIopPort;
  fw: RtkitFirmware;
  session: RtkitSession;
  warnings: WarningEvent[];
  clock: VirtualClock;
  ap: ChannelEnd;
}

/**
 * The same firmware model behind the in-process channel (no registers): memory is the SoC's
 * physical memory through an identity port, so only identity-path profiles fit (generic).
 */
export function channelRig(
  o: { profile?: FirmwareProfile; session?: Partial<SessionOptions>; faults?: string } = {},
): ChannelRig {
  const profile = o.profile ?? getProfile('generic');
  const soc = new SimSoc();
  const clock = soc.clock;
  const stop = clock.autoAdvance();
  const pair = createChannelPair({ clock });
  const port = new ChannelIopPort(pair.iop);
  const fw = new RtkitFirmware({
    name: profile.name,
    port,
    clock,
    rng: createRng(7),
    profile,
    memory: { dma: identityPort(soc.memory, soc.faults, { clock, name: 'channel/identity' }) },
    strict: true,
    ...(o.faults !== undefined ? { faults: o.faults } : {}),
  });
  const warnings: WarningEvent[] = [];
  const fakeCp = { profile, dartStream: undefined } as unknown as SimCoprocessor;
  const session = new RtkitSession({
    transport: pair.ap,
    clock,
    strategies: strategiesFor(soc, fakeCp),
    coproc: profile.coproc,
    ...o.session,
    listeners: { warning: (w) => warnings.push(w), ...o.session?.listeners },
  });
  live.push(async () => {
    await session.close();
    await pair.ap.close();
    await pair.iop.close();
    fw.dispose();
    stop();
  });
  return { soc, port, fw, session, warnings, clock, ap: pair.ap };
}

export function codes(ws: readonly WarningEvent[]): string[] {
  return ws.map((w) => w.code);
}

/** Words the host sent on `ep` (after index `from` of the wire). */
export function sent(r: SimRig, ep?: number, from = 0): bigint[] {
  return r.wire
    .slice(from)
    .filter((w) => w.dir === 'ap->iop' && (ep === undefined || w.ep === ep))
    .map((w) => w.msg);
}

export function hex(w: bigint): string {
  return `0x${w.toString(16).padStart(16, '0')}`;
}

/**
 * A hand-driven co-processor over the in-process channel: tests read what the host sent, in
 * order, and post exactly the words they want. No firmware model, no faults: the wire only.
 */
export class ScriptedIop {
  readonly received: MailboxMessage[] = [];
  #next = 0;
  #waiter: (() => void) | undefined;

  constructor(
    readonly end: ChannelEnd,
    readonly clock: VirtualClock,
  ) {
    end.setReceiver((m) => {
      this.received.push(m);
      const w = this.#waiter;
      this.#waiter = undefined;
      w?.();
    });
  }

  post(ep: number, msg: bigint): void {
    void this.end.send(ep, msg);
  }

  /** The next host message not yet taken (waits up to `timeoutMs` virtual ms). */
  async next(timeoutMs = 100): Promise<MailboxMessage> {
    const deadline = this.clock.now() + timeoutMs;
    while (this.#next >= this.received.length) {
      if (this.clock.now() >= deadline) throw new Error('ScriptedIop: nothing sent by the host');
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        const h = this.clock.setTimer(Math.max(0, deadline - this.clock.now()), () => {
          this.#waiter = undefined;
          resolve();
        });
        void h;
      });
    }
    return this.received[this.#next++]!;
  }

  /** Words the host sent on `ep` not yet taken with next(), taking them. */
  take(): MailboxMessage[] {
    const out = this.received.slice(this.#next);
    this.#next = this.received.length;
    return out;
  }

  /** Let virtual time pass. */
  async idle(ms = 5): Promise<void> {
    await new Promise<void>((resolve) => this.clock.setTimer(ms, resolve));
  }
}

export interface ScriptedRig {
  iop: ScriptedIop;
  session: RtkitSession;
  warnings: WarningEvent[];
  clock: VirtualClock;
}

export function scriptedRig(session: Partial<SessionOptions> = {}): ScriptedRig {
  const clock = new VirtualClock();
  const stop = clock.autoAdvance();
  const pair = createChannelPair({ clock });
  const iop = new ScriptedIop(pair.iop, clock);
  const warnings: WarningEvent[] = [];
  const s = new RtkitSession({
    transport: pair.ap,
    clock,
    ...session,
    listeners: { warning: (w) => warnings.push(w), ...session.listeners },
  });
  live.push(async () => {
    await s.close();
    await pair.ap.close();
    await pair.iop.close();
    stop();
  });
  return { iop, session: s, warnings, clock };
}
