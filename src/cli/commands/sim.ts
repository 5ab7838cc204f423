/**
 * `rtkit sim`: one simulated co-processor driven by the host library, the way a driver would run
 * it on a Mac, and the session shown decoded (docs/cli-sim.md).
 *
 * ```
 *  script        boot, profile traffic, syslog time, idle/wake, shutdown; crash → recover
 *  RtkitSession  host/session.ts, buffers from strategiesFor(soc, cp), CPU control
 *  transport     AscMailboxDriver over soc.mmio (register level, notification mode)
 *  SimSoc        one co-processor of the profile, strict mode, faults, VirtualClock
 *     ├─ every mailbox word ──► FeedPublisher ──► LiveRenderer       (text, as it happens)
 *     └─ traceLines() ──► decodeTrace ──► toJsonLine                  (--json, --record)
 * ```
 *
 * The text output is the live feed (src/viewer/feed.ts) rendered as `rtkit demo` renders it: the
 * words as the SoC recorded them, with the session's state changes, syslog lines, warnings and
 * crash, and the script's steps, in the order they happened.
 *
 * Everything runs on the SoC's virtual clock (`autoAdvance`), and every random choice comes from
 * the seed, so one seed and one set of arguments give a byte-identical recording.
 */

import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { sleep, type VirtualClock } from '../../clock.js';
import { crashlogToJson } from '../../crashlog/index.js';
import { FeedPublisher, type FeedSink } from '../../demo/publisher.js';
import { SmcClient } from '../../drivers/smc/index.js';
import { isRtkitError } from '../../errors.js';
import type { CrashEvent, SessionState } from '../../host/events.js';
import type { RtkitSession } from '../../host/session.js';
import { mmioSram } from '../../host/shmem/sram.js';
import type { SharedBuffer } from '../../host/shmem/types.js';
import { decode, encode, powerStateName, summarize } from '../../protocol/index.js';
import { type FaultSpec, parseFaultSpec } from '../../sim/faults.js';
import { getProfile, PROFILE_NAMES, type ProfileName } from '../../sim/profiles/index.js';
import { type SimCoprocessor, SimSoc } from '../../sim/soc.js';
import { printable } from '../../text.js';
import { decodeTrace } from '../../trace/decoder.js';
import { toJsonLine } from '../../trace/render.js';
import { type SimStrategies, simSession } from '../../wiring/sim-host.js';
import { CliFailure, type CliIO, CliUsageError } from '../io.js';
import { colorEnabled, LiveRenderer, livePaint } from '../live-render.js';
import type { Paint } from '../style.js';

interface SimCliOptions {
  profile: ProfileName;
  fault: string[];
  seed: string;
  record?: string;
  json?: boolean;
  version?: '10' | '11' | '12';
}

/** What one run asks for, validated. */
export interface SimConfig {
  readonly profile: ProfileName;
  readonly seed: number;
  /** The `--fault` text as given (clauses joined with `;`), for the summary. */
  readonly faultText: string | undefined;
  /** Clauses for the simulator (without our `crash`). */
  readonly faults: FaultSpec | undefined;
  /** `crash` was given: the firmware crashes in the middle of the session. */
  readonly crash: boolean;
  /** Highest protocol version the host offers. */
  readonly version: number | undefined;
}

/** One entry of the timeline, placed after the first `at` recorded mailbox messages. */
type Note =
  | { kind: 'step'; at: number; t: number; step: string; ok: boolean; detail?: string }
  | { kind: 'state'; at: number; t: number; reason: string; state: SessionState }
  | { kind: 'syslog'; at: number; t: number; context: string; message: string }
  | { kind: 'warning'; at: number; t: number; code: string; message: string }
  | { kind: 'crash'; at: number; t: number; event: CrashEvent | undefined; simReason?: string };

export interface SimStep {
  step: string;
  ok: boolean;
  /** Virtual seconds when the step ended. */
  t: number;
  detail?: string;
}

export interface SimRun {
  readonly config: SimConfig;
  readonly name: string;
  /** Profile for decoding application endpoints (`smc`, `dcp`, ...). */
  readonly coproc: string | undefined;
  readonly traceLines: string[];
  readonly notes: Note[];
  readonly steps: SimStep[];
  /** Negotiated protocol version, e.g. `v12`, `v10.2`; undefined before a HELLO was accepted. */
  readonly version: string | undefined;
  readonly crashes: number;
  readonly recovered: boolean;
  readonly syslogLines: number;
  readonly violations: ReturnType<SimSoc['violations']>;
  readonly dmaFaults: SimSoc['faults']['faults'];
  /** Why the session failed (a step that failed and could not be recovered). */
  readonly failure: string | undefined;
}

/** How long the firmware's syslog (and IOReport, OSLog) runs before the power changes. */
const SYSLOG_MS = 1500;
const AFTER_RECOVERY_MS = 500;
/** How long to wait for the crash notification to be handled. */
const CRASH_WAIT_MS = 1000;
const SMC_KEYS_SHOWN = ['B0AV', 'B0RM', 'BMDN', 'TB0T', 'TG0B', 'CHCE', 'BAAC'] as const;
const SMC_WRITE = { key: 'F0Tg', value: 3000 } as const;

export function simCommand(io: CliIO): Command {
  return new Command('sim')
    .description(
      'boot a simulated co-processor with the host library through its mailbox registers and show the session, decoded',
    )
    .addOption(
      new Option('--profile <name>', 'co-processor to simulate')
        .choices([...PROFILE_NAMES])
        .makeOptionMandatory(),
    )
    .addOption(
      new Option(
        '--fault <spec>',
        'fault injection (grammar in docs/sim-firmware.md, plus "crash": crash mid-session); repeatable',
      )
        .argParser((v: string, prev: string[]) => [...prev, v])
        .default([], 'none'),
    )
    .option('--seed <n>', 'seed of every random choice (0..2^32-1)', '1')
    .option('--record <file>', 'write the raw recording in our trace format (docs/trace-format.md)')
    .option('--json', 'JSON lines as `rtkit decode --json` writes them, then a summary object')
    .addOption(
      new Option(
        '--version <v>',
        'highest protocol version the host offers (10: generic only)',
      ).choices(['10', '11', '12']),
    )
    .addHelpText(
      'after',
      `
The session: boot (CPU RUN, HELLO, endpoint map, buffers, power on), the profile's traffic
(smc: SMC keys read and written; dcp: IOMFB words on 0x37; generic: the echo endpoint;
ans, mtp: syslog and OSLog), ${SYSLOG_MS} ms of syslog, idle and wake, shutdown. After a crash the
crashlog is shown and the session recovers (CPU reset, boot) and shuts down cleanly.

Exit codes: 0 the session succeeded with no strict-mode violation and no DMA fault; 1 otherwise
(one line on stderr says why); 2 usage error (unknown profile, bad fault spec).

Examples:
  rtkit sim --profile smc
  rtkit sim --profile dcp --fault crash
  rtkit sim --profile ans --fault crash-at=ap-on --seed 7
  rtkit sim --profile dcp --fault 'drop:ep=2,type=5,count=1'    exits 1: a LOG the host never saw
  rtkit sim --profile smc --json | jq -c 'select(.type == "summary")'
  rtkit sim --profile generic --record session.jsonl && rtkit decode session.jsonl`,
    )
    .action(async (opts: SimCliOptions) => {
      const config = simConfig(opts);
      // Text: rendered live as the session runs; JSON: the recording, decoded afterwards.
      const renderer = opts.json
        ? undefined
        : new LiveRenderer({ write: (s) => io.stdout(s), color: colorEnabled(io) });
      const run = await runSimulation(
        config,
        renderer === undefined ? undefined : (e, d) => renderer.render(e, d),
      );
      if (opts.record !== undefined) {
        await writeFile(opts.record, `${run.traceLines.join('\n')}\n`);
      }
      if (renderer === undefined) {
        let out = '';
        for (const r of decodeTrace(`${run.traceLines.join('\n')}\n`)) out += `${toJsonLine(r)}\n`;
        out += `${JSON.stringify(summaryJson(run))}\n`;
        io.stdout(out);
      } else {
        renderer.text('');
        for (const l of renderSummary(run, livePaint(io))) renderer.text(l);
        renderer.flush();
      }
      await io.drain();
      const why = verdict(run);
      if (why !== undefined) throw new CliFailure(oneLine(why));
    });
}

// -----------------------------------------------------------------------------------------------
// Arguments

/** `--seed`: 0..2^32-1, decimal or 0x hex (also `rtkit demo`'s). */
export function parseSeed(text: string): number {
  const t = text.trim();
  const seed = /^0x[0-9a-f]+$/i.test(t)
    ? Number.parseInt(t.slice(2), 16)
    : /^\d+$/.test(t)
      ? Number(t)
      : Number.NaN;
  if (!Number.isSafeInteger(seed) || seed > 0xffff_ffff) {
    throw new CliUsageError(`--seed must be an integer 0..2^32-1 (decimal or 0x hex): ${text}`);
  }
  return seed;
}

function simConfig(o: SimCliOptions): SimConfig {
  const seed = parseSeed(o.seed);
  const version = o.version === undefined ? undefined : Number(o.version);
  if (version === 10 && o.profile !== 'generic') {
    throw new CliUsageError(
      `--version 10 needs --profile generic (the ${o.profile} profile models firmware speaking v11..12)`,
    );
  }
  // `crash` is ours (a crash in the middle of the session); every other clause is the
  // simulator's grammar, parsed by its own parser so that its error message is the one shown.
  let crash = false;
  const rest: string[] = [];
  for (const text of o.fault) {
    for (const raw of text.split(';')) {
      const clause = raw.trim();
      if (clause.toLowerCase() === 'crash') crash = true;
      else if (clause !== '') rest.push(clause);
    }
  }
  let faults: FaultSpec | undefined;
  if (rest.length > 0) {
    try {
      faults = parseFaultSpec(rest.join(';'));
    } catch (e) {
      throw new CliUsageError(e instanceof Error ? e.message : String(e));
    }
  }
  return {
    profile: o.profile,
    seed,
    faultText: o.fault.length > 0 ? o.fault.join(';') : undefined,
    faults,
    crash,
    version,
  };
}

// -----------------------------------------------------------------------------------------------
// The session

/** A step that failed without a crash to blame: the session failed. */
class StepFailed extends Error {
  constructor(
    readonly step: string,
    readonly error: unknown,
  ) {
    super(`${step}: ${errorText(error)}`);
  }
}

/** A crash seen after a step (the session's crash event, or the simulator's own record). */
class CrashSeen extends Error {}

/**
 * Run the session; never throws for anything the co-processor does. With `onEvent`, everything
 * is also published as it happens as a live feed: every word as the SoC recorded it, the
 * session's events, the script's steps (`phase`, `step <name>: ok`).
 */
export async function runSimulation(config: SimConfig, onEvent?: FeedSink): Promise<SimRun> {
  const soc = new SimSoc({ seed: config.seed });
  const clock = soc.clock;
  const stopClock = clock.autoAdvance();
  const profile =
    config.version === 10
      ? getProfile('generic', { maxVersion: 10, minor: 2 })
      : getProfile(config.profile);
  const cp = soc.add({
    profile,
    ...(config.faults !== undefined ? { faults: config.faults } : {}),
  });
  const name = cp.name;
  const feed = onEvent === undefined ? undefined : new FeedPublisher({ clock, onEvent });
  let traffic = 0;
  cp.asc.onTraffic((dir, ep, msg) => {
    traffic++;
    feed?.message(name, dir, ep, msg);
  });
  const notes: Note[] = [];
  const now = (): number => clock.now() / 1000;
  const note = (n: DistributiveOmit<Note, 'at' | 't'>): void => {
    notes.push({ ...n, at: traffic, t: now() } as Note);
    // State, syslog, warnings and the notified crash reach the feed through its tap.
    if (n.kind === 'step') {
      feed?.phase(
        `step ${n.step}: ${n.ok ? 'ok' : 'FAILED'}${n.detail ? `: ${n.detail}` : ''}`,
        name,
      );
    } else if (n.kind === 'crash' && n.event === undefined) {
      feed?.phase(
        `crashed without a notification (before it asked for a crashlog buffer); the simulator says: ${n.simReason}`,
        name,
      );
    }
  };

  /** Crash events with where they happened in the timeline. */
  const crashEvents: { event: CrashEvent; at: number; t: number }[] = [];
  let syslogLines = 0;
  const {
    session,
    transport: driver,
    strategies,
  } = simSession(soc, cp, {
    name,
    ...(config.version !== undefined
      ? { maxVersion: config.version, minVersion: Math.min(11, config.version) }
      : {}),
    listeners: {
      state: (e) => note({ kind: 'state', reason: e.reason, state: e.state }),
      syslog: (e) => {
        syslogLines++;
        note({ kind: 'syslog', context: e.entry.context, message: e.entry.message });
      },
      warning: (w) => note({ kind: 'warning', code: w.code, message: w.message }),
      crash: (event) => {
        crashEvents.push({ event, at: traffic, t: now() });
      },
    },
  });
  const untap = feed?.tap(session, name, { messages: false });

  const steps: SimStep[] = [];
  let firmwareCrashes = 0;
  let crashes = 0;
  let eventsShown = 0;
  let recovered = false;
  let failure: string | undefined;

  /** Has the co-processor crashed since the last look? */
  const crashed = (): boolean => session.crashed || cp.firmware.crashes.length > firmwareCrashes;

  const step = async (label: string, fn: () => Promise<string | undefined>) => {
    let detail: string | undefined;
    try {
      detail = (await fn()) ?? undefined;
    } catch (e) {
      const d = errorText(e);
      steps.push({ step: label, ok: false, t: now(), detail: d });
      note({ kind: 'step', step: label, ok: false, detail: d });
      if (crashed()) throw new CrashSeen();
      throw new StepFailed(label, e);
    }
    steps.push({ step: label, ok: true, t: now(), ...(detail ? { detail } : {}) });
    note({ kind: 'step', step: label, ok: true, ...(detail ? { detail } : {}) });
    if (crashed()) throw new CrashSeen();
  };

  const ctx: TrafficContext = { soc, cp, session, clock, step, strategies };

  const mainScript = async (): Promise<void> => {
    await step('boot', async () => {
      await session.boot();
      return `protocol v${session.version}${session.minorVersion === undefined ? '' : `.${session.minorVersion}`}, started ${session.startedEndpoints.map(hexEp).join(' ')}`;
    });
    await step('ping', async () => `PONG after ${fmtMs(await session.ping())}`);
    await TRAFFIC[config.profile](ctx);
    await step('syslog', async () => {
      await sleep(clock, SYSLOG_MS);
      return `${SYSLOG_MS} ms, ${plural(syslogLines, 'line')} so far`;
    });
    if (config.crash) {
      await step('crash', async () => {
        const before = crashEvents.length;
        cp.firmware.crash('rtkit sim: crash requested with --fault crash');
        const notified = await until(clock, () => crashEvents.length > before, CRASH_WAIT_MS);
        return notified
          ? 'the firmware crashed and notified the host'
          : `the firmware crashed; no notification within ${CRASH_WAIT_MS} ms`;
      });
    }
    await step('idle', async () => {
      await session.idle();
      return `IOP ${stateName(session.iopPowerState)}`;
    });
    await step('wake', async () => {
      await session.wake();
      return `IOP ${stateName(session.iopPowerState)}, AP ${stateName(session.apPowerState)}`;
    });
    await step('ping', async () => `PONG after ${fmtMs(await session.ping())}`);
    await step('shutdown', async () => {
      await session.shutdown();
      return 'AP QUIESCED, IOP SLEEP; session reset';
    });
  };

  const recoveryScript = async (): Promise<void> => {
    await step('recover', async () => {
      await session.recover();
      return `CPU reset, booted again: protocol v${session.version}`;
    });
    await step('ping', async () => `PONG after ${fmtMs(await session.ping())}`);
    await TRAFFIC[config.profile](ctx);
    await step('syslog', async () => {
      await sleep(clock, AFTER_RECOVERY_MS);
      return `${AFTER_RECOVERY_MS} ms, ${plural(syslogLines, 'line')} so far`;
    });
    await step('shutdown', async () => {
      await session.shutdown();
      return 'AP QUIESCED, IOP SLEEP; session reset';
    });
    recovered = true;
  };

  /** Report the crash the session (or only the simulator) saw. */
  const reportCrash = async (): Promise<void> => {
    if (session.crashed) {
      // The session marks itself crashed at once; the event follows the crashlog copy.
      await until(clock, () => crashEvents.length > eventsShown, CRASH_WAIT_MS);
    }
    const seen = crashEvents[eventsShown];
    const sim = cp.firmware.crashes[cp.firmware.crashes.length - 1];
    firmwareCrashes = cp.firmware.crashes.length;
    crashes++;
    if (seen !== undefined) {
      eventsShown++;
      // In the timeline where it happened, not where the script noticed it.
      const i = notes.findIndex((n) => n.at > seen.at || (n.at === seen.at && n.t > seen.t));
      const n: Note = { kind: 'crash', at: seen.at, t: seen.t, event: seen.event };
      if (i < 0) notes.push(n);
      else notes.splice(i, 0, n);
    } else {
      // A crash before the firmware asked for a crashlog buffer sends no notification: a host
      // sees only a timeout. The simulator knows why.
      note({
        kind: 'crash',
        event: undefined,
        simReason: sim?.reason ?? 'the co-processor stopped answering',
      });
    }
  };

  try {
    try {
      await mainScript();
    } catch (e) {
      if (!(e instanceof CrashSeen)) throw e;
      await reportCrash();
      try {
        await recoveryScript();
      } catch (e2) {
        if (!(e2 instanceof CrashSeen)) throw e2;
        await reportCrash();
        throw new StepFailed('recovery', 'the co-processor crashed again');
      }
    }
  } catch (e) {
    failure = e instanceof StepFailed ? e.message : `internal error: ${errorText(e)}`;
  } finally {
    untap?.();
    await ctx.dcpShmem?.release().catch(() => {});
    await session.close();
    await driver.close();
    cp.firmware.dispose();
    stopClock();
  }

  return {
    config,
    name,
    coproc: cp.profile.coproc,
    traceLines: soc.traceLines(),
    notes,
    steps,
    version: lastVersion(notes),
    crashes,
    recovered,
    syslogLines,
    violations: soc.violations(),
    dmaFaults: soc.faults.faults,
    failure,
  };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface TrafficContext {
  readonly soc: SimSoc;
  readonly cp: SimCoprocessor;
  readonly session: RtkitSession;
  readonly clock: VirtualClock;
  readonly strategies: SimStrategies;
  step(label: string, fn: () => Promise<string | undefined>): Promise<void>;
  /** DCP: the host buffer announced with SET_SHMEM, released at the end. */
  dcpShmem?: { buffer: SharedBuffer; release(): Promise<void> };
}

/** Each profile's application traffic (docs/cli-sim.md "What runs"). */
const TRAFFIC: Record<ProfileName, (c: TrafficContext) => Promise<void>> = {
  async generic(c) {
    const ep = c.session.firstAppEndpoint;
    const h = await c.session.openEndpoint(ep);
    for (const w of [0x1234n, 0xdead_beef_0000_0001n, 0xffff_ffff_ffff_ffffn]) {
      await c.step(`echo ${hexEp(ep)}`, async () => {
        const back = await h.request(w, (x) => x === w);
        return `${hex64(w)} came back as ${hex64(back)}`;
      });
    }
  },

  async smc(c) {
    const window = c.cp.profile.placement.sram;
    if (window === undefined) throw new Error('the smc profile has no SRAM window');
    let smc: SmcClient | undefined;
    try {
      await c.step('smc open', async () => {
        const h = await c.session.openEndpoint(0x20);
        smc = await SmcClient.open(h, {
          sram: mmioSram(c.soc.mmio, window.base, window.size),
          clock: c.clock,
        });
        return `shared buffer at ${hexN(smc.shmemAddress)}`;
      });
      const client = smc!;
      await c.step('smc #KEY', async () => `${await client.keyCount()} keys`);
      for (const key of SMC_KEYS_SHOWN) {
        await c.step(`smc read ${key}`, async () => showValue(await client.read(key)));
      }
      const { key, value } = SMC_WRITE;
      await c.step(`smc write ${key}`, async () => {
        const before = await client.read(key);
        await client.write(key, value);
        const after = await client.read(key);
        if (after !== value) throw new Error(`read back ${showValue(after)}, wrote ${value}`);
        return `${showValue(before)} → ${showValue(after)} (read back)`;
      });
    } finally {
      await smc?.close();
    }
  },

  async dcp(c) {
    const h = await c.session.openEndpoint(0x37);
    // The Asahi driver allocates the IOMFB shared region itself and announces its DVA with
    // SET_SHMEM; the model does not read it, but the address is a real mapping all the same.
    let address = 0;
    await c.step('iomfb set-shmem', async () => {
      if (c.dcpShmem === undefined) {
        const strategy = c.strategies.hostAllocated;
        const d = await strategy.acquire({ ep: 0x37, bytes: 0x4000, iova: 0 });
        if (!d.ok) throw new Error(`no shared region: ${d.code}: ${d.message}`);
        c.dcpShmem = { buffer: d.buffer, release: () => strategy.release(d.buffer) };
      }
      address = c.dcpShmem.buffer.device;
      await h.request(
        encode({ kind: 'iomfbSetShmem', flag: 4, address }),
        (w) => decode(0x37, w, { dir: 'iop->ap', coproc: 'dcp' }).kind === 'iomfbInitialized',
      );
      return `shared region at ${hexN(address)}; INITIALIZED`;
    });
    for (const [context, length] of [
      [2, 0x3c],
      [6, 0x20],
      [2, 0x84],
    ] as const) {
      const cmd = encode({ kind: 'iomfbMessage', ack: false, context, offset: 0, length });
      const ack = encode({ kind: 'iomfbMessage', ack: true, context, offset: 0, length: 0 });
      await c.step(`iomfb ${context === 2 ? 'cmd' : 'oobcmd'}`, async () => {
        await h.request(cmd, (w) => w === ack);
        return `${summarize(decode(0x37, cmd, { dir: 'ap->iop', coproc: 'dcp' }))} acked`;
      });
    }
  },

  // NVMe and MTP have no application model: their syslog, IOReport and OSLog traffic is the show.
  async ans() {},
  async mtp() {},
};

// -----------------------------------------------------------------------------------------------
// Output

function verdict(run: SimRun): string | undefined {
  if (run.failure !== undefined) return `the session failed: ${run.failure}`;
  const v = run.violations;
  if (v.length > 0) {
    return `${plural(v.length, 'strict-mode violation')}, the first: ${v[0]!.code}: ${v[0]!.detail}`;
  }
  const f = run.dmaFaults;
  if (f.length > 0) {
    return `${plural(f.length, 'DMA fault')}, the first: ${f[0]!.port} ${f[0]!.kind} at ${hexN(f[0]!.addr)}: ${f[0]!.detail}`;
  }
  return undefined;
}

function summaryJson(run: SimRun): Record<string, unknown> {
  const crashes: Record<string, unknown>[] = [];
  const syslog: Record<string, unknown>[] = [];
  const warnings: Record<string, unknown>[] = [];
  for (const n of run.notes) {
    if (n.kind === 'syslog') syslog.push({ t: n.t, context: n.context, message: n.message });
    else if (n.kind === 'warning') warnings.push({ t: n.t, code: n.code, message: n.message });
    else if (n.kind === 'crash') {
      const e = n.event;
      crashes.push({
        t: n.t,
        notified: e !== undefined,
        ...(n.simReason !== undefined ? { simulatorReason: n.simReason } : {}),
        ...(e?.msg !== undefined ? { msg: hex64(e.msg) } : {}),
        ...(e !== undefined ? { size: e.size } : {}),
        ...(e?.problem !== undefined ? { problem: e.problem } : {}),
        ...(e?.parseError !== undefined ? { parseError: e.parseError.message } : {}),
        ...(e?.report !== undefined ? { crashlog: crashlogToJson(e.report) } : {}),
      });
    }
  }
  const tally = messageTally(run.traceLines);
  return {
    type: 'summary',
    profile: run.config.profile,
    coproc: run.name,
    seed: run.config.seed,
    faults: run.config.faultText ?? null,
    protocol: run.version ?? null,
    ok: verdict(run) === undefined,
    ...(run.failure !== undefined ? { failure: run.failure } : {}),
    steps: run.steps,
    messages: tally,
    syslog,
    warnings,
    crashes,
    recovered: run.recovered,
    violations: run.violations,
    dmaFaults: run.dmaFaults,
  };
}

function renderSummary(run: SimRun, p: Paint): string[] {
  const c = run.config;
  const tally = messageTally(run.traceLines);
  const failed = run.steps.filter((s) => !s.ok);
  const warnings = run.notes.filter((n) => n.kind === 'warning').length;
  const out = [
    p.bold(
      `summary: ${c.profile}, seed ${c.seed}, faults ${c.faultText ?? 'none'}, protocol ${run.version ?? '-'}`,
    ),
    `  steps       ${run.steps.length - failed.length} of ${run.steps.length} ok${failed.length > 0 ? ` (failed: ${failed.map((s) => s.step).join(', ')})` : ''}`,
    `  messages    ${tally.total} (ap->iop ${tally.apToIop}, iop->ap ${tally.iopToAp})`,
    `  syslog      ${plural(run.syslogLines, 'line')}`,
    `  warnings    ${warnings}`,
    `  crashes     ${run.crashes}${run.crashes > 0 ? (run.recovered ? ' (recovered)' : ' (not recovered)') : ''}`,
    `  violations  ${run.violations.length}`,
  ];
  for (const v of run.violations) {
    out.push(p.red(printable(`    ${(v.time / 1000).toFixed(6)} ${v.code}: ${v.detail}`)));
  }
  out.push(`  DMA faults  ${run.dmaFaults.length}`);
  for (const f of run.dmaFaults) {
    out.push(
      p.red(
        printable(
          `    ${(f.time / 1000).toFixed(6)} ${f.port} ${f.kind} at ${hexN(f.addr)}: ${f.detail}`,
        ),
      ),
    );
  }
  const why = verdict(run);
  out.push(
    why === undefined ? p.green('  result      ok') : p.red(printable(`  result      ${why}`)),
  );
  return out;
}

function messageTally(lines: readonly string[]): {
  total: number;
  apToIop: number;
  iopToAp: number;
} {
  let apToIop = 0;
  let iopToAp = 0;
  for (const l of lines) {
    if (l.includes('"dir":"ap->iop"')) apToIop++;
    else if (l.includes('"dir":"iop->ap"')) iopToAp++;
  }
  return { total: apToIop + iopToAp, apToIop, iopToAp };
}

/** The last protocol version a state change reported (`v12`, `v10.2`). */
function lastVersion(notes: readonly Note[]): string | undefined {
  let v: string | undefined;
  for (const n of notes) {
    if (n.kind !== 'state' || n.state.version === undefined) continue;
    const minor = n.state.minorVersion;
    v = `v${n.state.version}${minor === undefined ? '' : `.${minor}`}`;
  }
  return v;
}

// -----------------------------------------------------------------------------------------------
// Helpers

async function until(clock: VirtualClock, done: () => boolean, ms: number): Promise<boolean> {
  const end = clock.now() + ms;
  while (!done()) {
    if (clock.now() >= end) return false;
    await sleep(clock, 1);
  }
  return true;
}

function stateName(s: number | undefined): string {
  return s === undefined ? '-' : powerStateName(s);
}

function showValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'object' && v !== null && 'bytes' in v) {
    const { type, bytes } = v as { type: string; bytes: Uint8Array };
    return `${type} ${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
  }
  return String(v);
}

function hexEp(ep: number): string {
  return `0x${ep.toString(16).padStart(2, '0')}`;
}

function hexN(n: number): string {
  return `0x${n.toString(16)}`;
}

function hex64(w: bigint): string {
  return `0x${w.toString(16).padStart(16, '0')}`;
}

function fmtMs(ms: number): string {
  return `${Number(ms.toFixed(3))} ms`;
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function errorText(e: unknown): string {
  if (isRtkitError(e)) return e.message;
  return e instanceof Error ? e.message : String(e);
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}
