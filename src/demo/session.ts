/**
 * The scripted demo: a simulated Mac with three co-processors, each driven by the host library
 * through its mailbox registers exactly as a driver would drive real hardware, and everything the
 * sessions report published as a live feed (src/viewer/feed.ts) for the terminal and the viewer.
 *
 * ```
 *  script        boot ×3 · syslog · SMC keys · polling + frames · idle/wake · DCP crash → recover
 *  RtkitSession  one per co-processor (host/session.ts), buffers from strategiesFor, CPU control
 *    SmcClient   SMC keys on EP 0x20 (drivers/smc), IOMFB words on DCP's EP 0x37
 *  transport     AscMailboxDriver over soc.mmio, one per co-processor
 *  SimSoc        smc + ans + dcp, strict mode, VirtualClock run by pace.ts
 *     └─ FeedPublisher ──► FeedHub (viewer) and onEvent (terminal, --json)
 * ```
 *
 * One seed gives one session: the same events in the same order at either pace.
 */

import { sleep, type VirtualClock } from '../clock.js';
import { SmcClient, type SmcValue } from '../drivers/smc/index.js';
import { isRtkitError } from '../errors.js';
import type { RtkitSession } from '../host/session.js';
import { mmioSram } from '../host/shmem/sram.js';
import type { SharedBuffer } from '../host/shmem/types.js';
import type { EndpointHandle } from '../host/types.js';
import type { AscMailboxDriver } from '../mailbox/asc-driver.js';
import { decode, encode, powerStateName } from '../protocol/index.js';
import type { ProfileName } from '../sim/profiles/index.js';
import { type SimCoprocessor, SimSoc } from '../sim/soc.js';
import type { FeedHub } from '../viewer/feed.js';
import { type SimStrategies, simSession } from '../wiring/sim-host.js';
import { type Pace, runClock } from './pace.js';
import { FeedPublisher, type FeedSink, feedSeconds } from './publisher.js';

export interface DemoOptions {
  /** Every event is published here (the viewer's source). */
  readonly hub?: FeedHub;
  /** Seed of every random choice in the simulator (default 1). */
  readonly seed?: number;
  /** `fast` (default): as fast as possible; `realtime`: virtual time follows the wall clock. */
  readonly pace?: Pace;
  /** `realtime`: virtual ms per wall ms (default 1). */
  readonly rate?: number;
  /** Stops the session: what runs is abandoned, the sessions are closed, `aborted` is set. */
  readonly signal?: AbortSignal;
  /** Every event, with the in-process detail (the parsed crash report). */
  readonly onEvent?: FeedSink;
}

/** A JSON-safe rendering of a typed SMC value (bigint as decimal text, raw bytes as hex). */
export type DemoValue = number | boolean | string;

export interface SmcReading {
  readonly key: string;
  /** The key's SMC type (`si16`, `flt `, `ch8*`, ...). */
  readonly type: string;
  readonly value: DemoValue;
  /** How the value was shown. */
  readonly text: string;
}

export interface DemoCrash {
  readonly coproc: string;
  /** Virtual seconds. */
  readonly t: number;
  /** Section tags of the parsed crash log (empty when there was none). */
  readonly sections: readonly string[];
  readonly reason: string | undefined;
  readonly problem?: string;
}

export interface DemoResult {
  readonly seed: number;
  readonly pace: Pace;
  /** Every step ran, nothing went wrong the script did not ask for, no violation, no DMA fault. */
  readonly ok: boolean;
  /** The signal stopped the session. */
  readonly aborted: boolean;
  /** The first step that failed unexpectedly. */
  readonly failure?: string;
  readonly coprocs: readonly string[];
  readonly events: number;
  readonly messages: number;
  readonly syslogLines: number;
  readonly warnings: number;
  /** Virtual seconds from the first boot to the last shutdown. */
  readonly virtualSeconds: number;
  readonly smc: {
    readonly keyCount: number | undefined;
    readonly reads: readonly SmcReading[];
    readonly write:
      | { readonly key: string; readonly before: DemoValue; readonly after: DemoValue }
      | undefined;
    /** Reads done by the polling loop. */
    readonly polls: number;
  };
  /** IOMFB commands DCP acknowledged. */
  readonly frames: number;
  readonly crashes: readonly DemoCrash[];
  readonly recovered: boolean;
  readonly violations: ReturnType<SimSoc['violations']>;
  readonly dmaFaults: number;
}

// -----------------------------------------------------------------------------------------------
// The script's numbers (virtual milliseconds unless noted). About 11 s of virtual time: at the
// `realtime` pace that is what a person watches.

const SYSLOG_MS = 2500;
const TRAFFIC_MS = 4500;
const IDLE_MS = 1500;
const FRAMES_BEFORE_CRASH_MS = 500;
const AFTER_RECOVERY_MS = 2000;
/** The DCP and ANS firmware log in bursts (a mode set, a controller reset): lines per burst. */
const SYSLOG_BURST = { dcp: 96, ans: 48 } as const;
/** The firmware keeps at most 64 queued lines (docs/sim-firmware.md): feed it in batches. */
const SYSLOG_BATCH = 32;
/** hwmon-style polling, much faster than a real driver's 1 Hz so that the feed is busy. */
const POLL_MS = 5;
const POLL_KEYS = ['CLKM', 'TB0T', 'PSTR', 'B0AC'] as const;
const READ_KEYS = ['RPlt', 'BMDN', 'B0AV', 'B0RM', 'BUIC', 'TB0T', 'TG0B', 'CHCE', 'BAAC'] as const;
const SMC_WRITE = { key: 'F0Tg', value: 3000 } as const;
/** 60 Hz: one swap per frame, two IOMFB commands each (lengths as in the #142 crash dump). */
const FRAME_MS = 1000 / 60;
const FRAME_COMMANDS = [0x3c, 0xb78] as const;
const IOMFB_EP = 0x37;
const ANS_PING_MS = 250;
/** How long to wait for the crash notification, a syslog batch, ... (virtual ms). */
const WAIT_MS = 1000;
const CRASH_REASON = 'SError in IOMFB::UPPipe (injected by rtkit demo)';

const COPROCS: readonly ProfileName[] = ['smc', 'ans', 'dcp'];
const TITLE: Record<string, string> = { smc: 'SMC', ans: 'ANS (NVMe)', dcp: 'DCP (display)' };

interface Coproc {
  readonly name: string;
  readonly cp: SimCoprocessor;
  readonly session: RtkitSession;
  readonly driver: AscMailboxDriver;
  readonly strategies: SimStrategies;
  syslog: number;
  crashes: number;
}

/** A step failed in a way the script did not ask for. */
class ScriptError extends Error {}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const seed = opts.seed ?? 1;
  const pace = opts.pace ?? 'fast';
  const soc = new SimSoc({ seed, record: false });
  const clock = soc.clock;
  const feed = new FeedPublisher({
    clock,
    ...(opts.hub !== undefined ? { hub: opts.hub } : {}),
    ...(opts.onEvent !== undefined ? { onEvent: opts.onEvent } : {}),
  });
  // Our own signal: the caller's, or the script's end (stops loops that run alongside).
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(opts.signal?.reason);
  if (opts.signal?.aborted) stop.abort(opts.signal.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = stop.signal;

  const cps = new Map<string, Coproc>();
  const untaps: (() => void)[] = [];
  for (const profile of COPROCS) {
    const cp = soc.add({ profile });
    const { session, transport: driver, strategies } = simSession(soc, cp);
    const c: Coproc = { name: cp.name, cp, session, driver, strategies, syslog: 0, crashes: 0 };
    untaps.push(feed.tap(session, cp.name));
    untaps.push(session.on('syslog', () => void c.syslog++));
    untaps.push(session.on('crash', () => void c.crashes++));
    cps.set(cp.name, c);
  }
  const smcCp = cps.get('smc')!;
  const ansCp = cps.get('ans')!;
  const dcpCp = cps.get('dcp')!;

  const reads: SmcReading[] = [];
  let keyCount: number | undefined;
  let write: DemoResult['smc']['write'];
  let polls = 0;
  let frames = 0;
  const crashes: DemoCrash[] = [];
  let recovered = false;
  let failure: string | undefined;
  let smc: SmcClient | undefined;
  let dcpShmem: { buffer: SharedBuffer; release(): Promise<void> } | undefined;
  let iomfb: EndpointHandle | undefined;

  untaps.push(
    dcpCp.session.on('crash', (e) => {
      const cstr = e.report?.sections.find((s) => s.kind === 'Cstr');
      crashes.push({
        coproc: dcpCp.name,
        t: feedSeconds(e.time),
        sections: e.report?.sections.map((s) => s.fourcc) ?? [],
        reason: cstr?.kind === 'Cstr' ? cstr.text.trim() : undefined,
        ...(e.problem !== undefined ? { problem: e.problem } : {}),
      });
    }),
  );

  const phase = (text: string, coproc?: string): void => feed.phase(text, coproc);
  const title = (c: Coproc): string => TITLE[c.name] ?? c.name;

  const boot = async (c: Coproc): Promise<void> => {
    phase(`${title(c)}: boot`, c.name);
    await c.session.boot({ signal });
    const s = c.session;
    phase(
      `${title(c)}: running, protocol v${s.version}, endpoints ${s.startedEndpoints.map(hexEp).join(' ')}`,
      c.name,
    );
  };

  const openIomfb = async (): Promise<void> => {
    const s = dcpCp.session;
    iomfb = await s.openEndpoint(IOMFB_EP);
    // The Asahi driver allocates the IOMFB shared region itself and announces it with SET_SHMEM.
    if (dcpShmem === undefined) {
      const strategy = dcpCp.strategies.hostAllocated;
      const d = await strategy.acquire({ ep: IOMFB_EP, bytes: 0x4000, iova: 0 });
      if (!d.ok) throw new ScriptError(`DCP: no IOMFB shared region: ${d.code}: ${d.message}`);
      dcpShmem = { buffer: d.buffer, release: () => strategy.release(d.buffer) };
    }
    const address = dcpShmem.buffer.device;
    await iomfb.request(
      encode({ kind: 'iomfbSetShmem', flag: 4, address }),
      (w) => decode(IOMFB_EP, w, { dir: 'iop->ap', coproc: 'dcp' }).kind === 'iomfbInitialized',
      { signal },
    );
    phase(`DCP: IOMFB shared region at 0x${address.toString(16)}, INITIALIZED`, dcpCp.name);
  };

  // The loops below check the signal between commands instead of passing it to each one: every
  // command is bounded by its own timeout, and a signal per call (AbortSignal.any in the SMC
  // client and the session) costs more than the rest of a round trip.

  /** Swaps at 60 Hz for `ms`, or until the DCP stops answering (a crash ends it quietly). */
  const swapFrames = async (ms: number): Promise<void> => {
    const h = iomfb;
    if (h === undefined) return;
    const end = clock.now() + ms;
    while (clock.now() < end && !signal.aborted) {
      for (const length of FRAME_COMMANDS) {
        const cmd = encode({ kind: 'iomfbMessage', ack: false, context: 2, offset: 0, length });
        const ack = encode({ kind: 'iomfbMessage', ack: true, context: 2, offset: 0, length: 0 });
        try {
          await h.request(cmd, (w) => w === ack);
        } catch (e) {
          if (dcpCp.session.crashed) return;
          throw e;
        }
        frames++;
      }
      await sleep(clock, FRAME_MS, signal);
    }
  };

  const pollSensors = async (ms: number): Promise<void> => {
    const client = smc;
    if (client === undefined) return;
    const end = clock.now() + ms;
    while (clock.now() < end && !signal.aborted) {
      for (const key of POLL_KEYS) {
        await client.read(key);
        polls++;
      }
      await sleep(clock, POLL_MS, signal);
    }
  };

  const pingLoop = async (c: Coproc, ms: number): Promise<void> => {
    const end = clock.now() + ms;
    while (clock.now() < end && !signal.aborted) {
      await c.session.ping();
      await sleep(clock, ANS_PING_MS, signal);
    }
  };

  /** Real lines of the profile, queued faster than the trickle: what a log flood looks like. */
  const syslogBurst = async (c: Coproc, count: number): Promise<void> => {
    const lines = c.cp.profile.syslog?.lines ?? [];
    if (lines.length === 0) return;
    phase(`${title(c)}: a burst of ${count} syslog lines`, c.name);
    for (let done = 0; done < count; ) {
      const n = Math.min(SYSLOG_BATCH, count - done);
      const target = c.syslog + n;
      for (let i = 0; i < n; i++) {
        const l = lines[(done + i) % lines.length]!;
        c.cp.firmware.log(l.file, l.line, l.text);
      }
      // The trickle may add lines of its own: at least `n` more arrive.
      if (!(await until(clock, () => c.syslog >= target, WAIT_MS, signal))) {
        throw new ScriptError(`${title(c)}: syslog burst stalled after ${done} lines`);
      }
      done += n;
    }
  };

  const t0 = clock.now();
  const stopClock = runClock(clock, pace, opts.rate !== undefined ? { rate: opts.rate } : {});
  try {
    phase(
      'A simulated Mac: SMC, ANS (NVMe) and DCP (display) on one SoC, driven by the host library',
    );

    // 1. Boot.
    await boot(smcCp);
    const window = smcCp.cp.profile.placement.sram;
    if (window === undefined) throw new ScriptError('the smc profile has no SRAM window');
    smc = await SmcClient.open(await smcCp.session.openEndpoint(0x20), {
      sram: mmioSram(soc.mmio, window.base, window.size),
      clock,
    });
    phase(`SMC: client open, shared buffer at 0x${smc.shmemAddress.toString(16)}`, smcCp.name);
    await boot(ansCp);
    await boot(dcpCp);
    await openIomfb();

    // 2. Syslog flowing: the trickle of all three, and two bursts.
    phase('Syslog: the firmware logs through its shared ring; every line is read and echoed');
    await Promise.all([
      syslogBurst(dcpCp, SYSLOG_BURST.dcp),
      syslogBurst(ansCp, SYSLOG_BURST.ans),
      sleep(clock, SYSLOG_MS, signal),
    ]);

    // 3. SMC keys.
    const client = smc;
    phase('SMC: read keys (typed by their GET_KEY_INFO type)', smcCp.name);
    keyCount = await client.keyCount({ signal });
    phase(`SMC: #KEY = ${keyCount} keys`, smcCp.name);
    for (const key of READ_KEYS) {
      const info = await client.getKeyInfo(key, { signal });
      const value = await client.read(key, { signal });
      const r = reading(key, info.type, value);
      reads.push(r);
      phase(`SMC: ${key} = ${r.text} (${info.type.trimEnd()})`, smcCp.name);
    }
    {
      const { key, value } = SMC_WRITE;
      const before = await client.read(key, { signal });
      await client.write(key, value, { signal });
      const after = await client.read(key, { signal });
      write = { key, before: jsonValue(before), after: jsonValue(after) };
      phase(
        `SMC: write ${key} = ${value}, read back ${showValue(after)} (was ${showValue(before)})`,
        smcCp.name,
      );
      if (after !== value) throw new ScriptError(`SMC: ${key} read back ${showValue(after)}`);
    }

    // 4. Everything at once.
    phase(`Traffic: SMC sensor polling every ${POLL_MS} ms, DCP swaps at 60 Hz, ANS pings`);
    await Promise.all([
      pollSensors(TRAFFIC_MS),
      swapFrames(TRAFFIC_MS),
      pingLoop(ansCp, TRAFFIC_MS),
    ]);
    phase(`Traffic: ${polls} SMC reads, ${frames} IOMFB commands acked`);

    // 5. Idle and wake (the SMC never sleeps).
    phase('Idle: ANS and DCP go idle (AP, then IOP 0x201); the SMC stays on');
    await ansCp.session.idle({ signal });
    await dcpCp.session.idle({ signal });
    await sleep(clock, IDLE_MS, signal);
    phase('Wake: IOP 0x220, then AP on');
    await ansCp.session.wake({ signal });
    await dcpCp.session.wake({ signal });
    phase(`Awake: ANS ${powerText(ansCp.session)}, DCP ${powerText(dcpCp.session)}`);

    // 6. A crash in the middle of the frames, as in AsahiLinux/linux#142.
    phase('DCP: swapping frames', dcpCp.name);
    const swapping = swapFrames(FRAMES_BEFORE_CRASH_MS * 4);
    await sleep(clock, FRAMES_BEFORE_CRASH_MS, signal);
    phase('DCP: fault injected: the firmware takes an SError', dcpCp.name);
    const before = dcpCp.crashes;
    dcpCp.cp.firmware.crash(CRASH_REASON, { kind: 'serror' });
    await swapping;
    if (!(await until(clock, () => dcpCp.crashes > before, WAIT_MS, signal))) {
      throw new ScriptError('DCP: crashed, but no crash notification reached the host');
    }
    const seen = crashes.at(-1);
    phase(
      seen !== undefined && seen.sections.length > 0
        ? `DCP: crashed; its crash log (${seen.sections.join(' ')}) was copied from its buffer and parsed`
        : `DCP: crashed; no crash log: ${seen?.problem ?? 'it did not parse'}`,
      dcpCp.name,
    );

    // 7. Recovery: CPU reset, boot again, the display driver starts over.
    phase('DCP: recovery (CPU reset, reinit, boot)', dcpCp.name);
    await dcpCp.session.recover({ signal });
    recovered = true;
    feed.state(dcpCp.name, 'recovered', dcpCp.session);
    await openIomfb();
    await Promise.all([
      swapFrames(AFTER_RECOVERY_MS),
      pollSensors(AFTER_RECOVERY_MS / 3),
      sleep(clock, AFTER_RECOVERY_MS, signal),
    ]);

    // 8. Shutdown.
    phase('Shutdown: AP QUIESCED, IOP SLEEP, buffers released');
    await smc.close();
    smc = undefined;
    for (const c of [dcpCp, ansCp, smcCp]) {
      await c.session.shutdown({ signal });
      phase(`${title(c)}: shut down`, c.name);
    }
  } catch (e) {
    if (!signal.aborted) failure = errorText(e);
  } finally {
    await smc?.close().catch(() => {});
    await dcpShmem?.release().catch(() => {});
    for (const off of untaps) off();
    for (const c of cps.values()) {
      await c.session.close();
      await c.driver.close();
      c.cp.firmware.dispose();
    }
    stopClock();
    stop.abort();
    opts.signal?.removeEventListener('abort', onAbort);
  }

  const aborted = opts.signal?.aborted === true;
  const violations = soc.violations();
  const dmaFaults = soc.faults.faults.length;
  const virtualSeconds = (clock.now() - t0) / 1000;
  if (!aborted) {
    phase(
      failure === undefined
        ? `Done: ${feed.messages} messages, ${feed.syslogLines} syslog lines, ${crashes.length} crash (recovered) in ${virtualSeconds.toFixed(3)} virtual s`
        : `Stopped: ${failure}`,
    );
  }
  return {
    seed,
    pace,
    ok: !aborted && failure === undefined && violations.length === 0 && dmaFaults === 0,
    aborted,
    ...(failure !== undefined ? { failure } : {}),
    coprocs: [...cps.keys()],
    events: feed.events,
    messages: feed.messages,
    syslogLines: feed.syslogLines,
    warnings: feed.warnings,
    virtualSeconds,
    smc: { keyCount, reads, write, polls },
    frames,
    crashes,
    recovered,
    violations,
    dmaFaults,
  };
}

// -----------------------------------------------------------------------------------------------
// Helpers

async function until(
  clock: VirtualClock,
  done: () => boolean,
  ms: number,
  signal: AbortSignal,
): Promise<boolean> {
  const end = clock.now() + ms;
  while (!done()) {
    if (clock.now() >= end) return false;
    await sleep(clock, 1, signal);
  }
  return true;
}

function reading(key: string, type: string, v: SmcValue): SmcReading {
  return { key, type, value: jsonValue(v), text: showValue(v) };
}

function jsonValue(v: SmcValue): DemoValue {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'object') return hexBytes(v.bytes);
  return v;
}

function showValue(v: SmcValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object') return `${v.type.trimEnd()} ${hexBytes(v.bytes)}`;
  if (typeof v === 'number' && !Number.isInteger(v)) return String(Number(v.toFixed(4)));
  return String(v);
}

function hexBytes(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

function hexEp(ep: number): string {
  return `0x${ep.toString(16).padStart(2, '0')}`;
}

function powerText(s: RtkitSession): string {
  const p = (v: number | undefined): string => (v === undefined ? '-' : powerStateName(v));
  return `IOP ${p(s.iopPowerState)}, AP ${p(s.apPowerState)}`;
}

function errorText(e: unknown): string {
  if (isRtkitError(e)) return e.message;
  return e instanceof Error ? e.message : String(e);
}
