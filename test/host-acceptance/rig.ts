// The acceptance rig: a co-processor on the simulated SoC driven through its registers (the
// real path), with three witnesses the session cannot influence:
//  - the SoC's trace (`soc.traceLines()`): every word that entered a mailbox FIFO, in order;
//  - a grant ledger: every buffer the host's strategies granted and released, so that each DMA
//    fault the simulated memory records can be checked against what the host held at that moment;
//  - the memory units themselves (DART stream tables, SART entries, DRAM allocator).
// test/host/helpers.ts's `simRig` is the model; this one adds the witnesses and the knobs the
// recipes need (RECV1 bookkeeping, host-memory hooks, strategy overrides, profile overrides).
import type { VirtualClock } from '../../src/clock.js';
import { RtkitSession, type SessionOptions, type WarningEvent } from '../../src/host/index.js';
import type { StrategySelection } from '../../src/host/shmem/manager.js';
import type { BufferStrategy, HostMemory, SharedBuffer } from '../../src/host/shmem/types.js';
import { AscMailboxDriver } from '../../src/mailbox/asc-driver.js';
import { MAILBOX_LAYOUTS } from '../../src/mailbox/registers.js';
import type { Mmio } from '../../src/mailbox/types.js';
import type { FaultSpec } from '../../src/sim/faults.js';
import type { FirmwareProfile, StrictOptions } from '../../src/sim/firmware/types.js';
import type { DmaFault } from '../../src/sim/memory/types.js';
import type { ProfileName } from '../../src/sim/profiles/index.js';
import { type GenericProfileOptions, genericProfile } from '../../src/sim/profiles/index.js';
import { type SimCoprocessor, SimSoc, type SocOptions } from '../../src/sim/soc.js';
import {
  type SimStrategies,
  type SimStrategyOptions,
  simHostMemory,
  strategiesFor,
} from '../../src/wiring/sim-host.js';
import type { WireMessage } from '../host/helpers.js';

/** The DART stream the generic-with-DART profile uses (DCP has 0, MTP 1). */
export const GENERIC_DART_STREAM = 2;

/**
 * The `generic` profile (echo endpoint at 0x20, 1-page crashlog: ROBUSTNESS's standard setup)
 * behind its own DART stream, so that every firmware DMA is checked by an IOMMU: an access to
 * anything the host did not map is a recorded fault.
 */
export function genericDart(
  opts: GenericProfileOptions = {},
  patch: (p: FirmwareProfile) => FirmwareProfile = (p) => p,
): FirmwareProfile {
  const p = genericProfile(opts);
  return patch({
    ...p,
    placement: { ...p.placement, memoryPath: { kind: 'dart', stream: GENERIC_DART_STREAM } },
  });
}

/** One buffer the host granted, with when (ledger sequence) it was granted and released. */
export interface Grant {
  readonly buffer: SharedBuffer;
  readonly ep: number;
  readonly device: number;
  readonly bytes: number;
  readonly mode: string;
  readonly grantedAt: number;
  releasedAt: number | undefined;
}

/** A DMA fault and the grants the host held when the simulated memory recorded it. */
export interface AuditedFault {
  readonly fault: DmaFault;
  readonly held: readonly Grant[];
}

export class GrantLedger {
  readonly grants: Grant[] = [];
  readonly faults: AuditedFault[] = [];
  /** Grants ever made (kept when the history is forgotten). */
  total = 0;
  readonly #live = new Map<SharedBuffer, Grant>();

  constructor(private readonly clock: VirtualClock) {}

  get live(): Grant[] {
    return [...this.#live.values()];
  }

  grant(b: SharedBuffer): void {
    const g: Grant = {
      buffer: b,
      ep: b.ep,
      device: b.device,
      bytes: b.bytes,
      mode: b.mode,
      grantedAt: this.clock.now(),
      releasedAt: undefined,
    };
    this.grants.push(g);
    this.total++;
    this.#live.set(b, g);
  }

  release(b: SharedBuffer): void {
    const g = this.#live.get(b);
    if (g === undefined) return;
    // From the moment release starts the host no longer vouches for the range (the strategy
    // revokes the device's access before it frees).
    g.releasedAt = this.clock.now();
    this.#live.delete(b);
  }

  /** Drop the history of released grants (long runs that measure the host's heap). */
  forgetReleased(): void {
    const keep = this.grants.filter((g) => g.releasedAt === undefined);
    this.grants.length = 0;
    this.grants.push(...keep);
  }

  /** A strategy that reports to this ledger and otherwise behaves exactly as `s`. */
  wrap(s: BufferStrategy): BufferStrategy {
    const ledger = this;
    return {
      name: s.name,
      get live() {
        return s.live;
      },
      async acquire(req) {
        const d = await s.acquire(req);
        if (d.ok) ledger.grant(d.buffer);
        return d;
      },
      release(b) {
        ledger.release(b);
        return s.release(b);
      },
    };
  }

  wrapSelection(sel: StrategySelection): StrategySelection {
    if (typeof sel === 'function') {
      const cache = new Map<BufferStrategy, BufferStrategy>();
      return (ep, req) => {
        const s = sel(ep, req);
        if (s === undefined) return s;
        let w = cache.get(s);
        if (w === undefined) {
          w = this.wrap(s);
          cache.set(s, w);
        }
        return w;
      };
    }
    const byEndpoint: Record<number, BufferStrategy> = {};
    for (const [ep, s] of Object.entries(sel.byEndpoint ?? {})) {
      if (s !== undefined) byEndpoint[Number(ep)] = this.wrap(s);
    }
    return { default: this.wrap(sel.default), byEndpoint };
  }
}

function overlaps(a: number, alen: number, b: number, blen: number): boolean {
  return a < b + blen && b < a + Math.max(1, alen);
}

export interface AccRigOptions {
  profile: ProfileName | FirmwareProfile;
  faults?: FaultSpec | string;
  /** Default false: the recipes provoke violations on purpose; tests that care set it. */
  strict?: boolean | StrictOptions;
  background?: boolean;
  seed?: number;
  soc?: SocOptions;
  recv1?: 'plain' | 'realistic';
  /** Host memory behind the strategies (default `simHostMemory(soc)`). */
  memory?: (soc: SimSoc) => HostMemory;
  strategyOptions?: Omit<SimStrategyOptions, 'memory'>;
  /** Replace the selection built by `strategiesFor` (still audited by the ledger). */
  strategies?: (base: SimStrategies, soc: SimSoc, cp: SimCoprocessor) => StrategySelection;
  session?: Partial<SessionOptions>;
  /** Record every RECV1 read the driver makes (endpoint-masking check). */
  recordRecv1?: boolean;
}

export interface AccRig {
  soc: SimSoc;
  cp: SimCoprocessor;
  driver: AscMailboxDriver;
  session: RtkitSession;
  warnings: WarningEvent[];
  clock: VirtualClock;
  wire: WireMessage[];
  ledger: GrantLedger;
  recv1Reads: bigint[];
  /** The SoC's recorded trace for this co-processor, parsed. */
  trace(): TraceWord[];
  dispose(): Promise<void>;
}

export interface TraceWord {
  /** Virtual ms. */
  readonly t: number;
  readonly dir: 'ap->iop' | 'iop->ap';
  readonly ep: number;
  readonly msg: bigint;
}

const live: (() => Promise<void>)[] = [];

/** afterEach: stop clocks, close sessions and transports the rigs opened. */
export async function disposeAccRigs(): Promise<void> {
  for (const d of live.splice(0)) await d();
}

export function accRig(o: AccRigOptions): AccRig {
  const soc = new SimSoc({ seed: o.seed ?? 1, ...o.soc });
  const stop = soc.clock.autoAdvance();
  const cp = soc.add({
    profile: o.profile,
    strict: o.strict ?? false,
    ...(o.faults !== undefined ? { faults: o.faults } : {}),
    ...(o.background !== undefined ? { background: o.background } : {}),
    ...(o.recv1 !== undefined ? { recv1: o.recv1 } : {}),
  });
  const ledger = new GrantLedger(soc.clock);
  // Every fault the memory units record, with the host's grants at that instant.
  const record = soc.faults.record.bind(soc.faults);
  soc.faults.record = (f: DmaFault): void => {
    ledger.faults.push({ fault: f, held: ledger.live });
    record(f);
  };
  const recv1Reads: bigint[] = [];
  let mmio: Mmio = soc.mmio;
  if (o.recordRecv1) {
    const at = cp.mailboxBase + MAILBOX_LAYOUTS['asc-v4']!.i2aRecv1;
    const inner = soc.mmio;
    mmio = {
      read32: (a) => inner.read32(a),
      write32: (a, v) => inner.write32(a, v),
      write64: (a, v) => inner.write64(a, v),
      read64: async (a) => {
        const v = await inner.read64(a);
        if (a === at) recv1Reads.push(v);
        return v;
      },
    };
  }
  const driver = new AscMailboxDriver({
    mmio,
    base: cp.mailboxBase,
    clock: soc.clock,
    interrupts: cp.asc.interrupts,
  });
  const wire: WireMessage[] = [];
  cp.asc.onTraffic((dir, ep, msg) => {
    wire.push({ dir, ep, msg, t: soc.clock.now() });
  });
  const memory = o.memory?.(soc) ?? simHostMemory(soc);
  const base = strategiesFor(soc, cp, { ...o.strategyOptions, memory });
  const selection = o.strategies?.(base, soc, cp) ?? base;
  const warnings: WarningEvent[] = [];
  const session = new RtkitSession({
    transport: driver,
    clock: soc.clock,
    strategies: ledger.wrapSelection(selection),
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
  const trace = (): TraceWord[] => parseTrace(soc.traceLines(), cp.name);
  return {
    soc,
    cp,
    driver,
    session,
    warnings,
    clock: soc.clock,
    wire,
    ledger,
    recv1Reads,
    trace,
    dispose,
  };
}

export function parseTrace(lines: readonly string[], coproc?: string): TraceWord[] {
  const out: TraceWord[] = [];
  for (const line of lines) {
    const j = JSON.parse(line) as {
      t?: number;
      dir?: string;
      ep?: number;
      msg?: string;
      coproc?: string;
    };
    if (j.msg === undefined || j.ep === undefined || j.t === undefined) continue;
    if (coproc !== undefined && j.coproc !== coproc) continue;
    out.push({
      t: j.t * 1000,
      dir: j.dir === 'ap->iop' ? 'ap->iop' : 'iop->ap',
      ep: j.ep,
      msg: BigInt(j.msg),
    });
  }
  return out;
}

/** Words in one direction on one endpoint (both when `ep` is undefined), from the trace. */
export function words(tr: readonly TraceWord[], dir: 'ap->iop' | 'iop->ap', ep?: number): bigint[] {
  return tr.filter((w) => w.dir === dir && (ep === undefined || w.ep === ep)).map((w) => w.msg);
}

export function hx(w: bigint | number): string {
  return `0x${w.toString(16).padStart(16, '0')}`;
}

/**
 * Whether every LOG (type 5) the firmware sent on EP2 was echoed unchanged, in order: the k-th
 * AP→IOP type-5 word equals the k-th IOP→AP one.
 */
export function logsAndEchoes(tr: readonly TraceWord[]): { logs: bigint[]; echoes: bigint[] } {
  const isLog = (w: TraceWord): boolean => w.ep === 2 && w.msg >> 52n === 5n;
  return {
    logs: tr.filter((w) => isLog(w) && w.dir === 'iop->ap').map((w) => w.msg),
    echoes: tr.filter((w) => isLog(w) && w.dir === 'ap->iop').map((w) => w.msg),
  };
}

/**
 * The DMA assertion of these tests: no fault the simulated memory recorded touches a buffer the
 * host held at that moment (the host granted it, so the device must be able to reach it), and
 * every fault lies in one of the `explained` ranges (the firmware's own address that the host
 * refused to map, e.g. B24's `0x801000000`). With no `explained` ranges: no fault at all.
 */
export function dmaProblems(
  r: Pick<AccRig, 'ledger'>,
  explained: readonly { base: number; size: number }[] = [],
): string[] {
  const out: string[] = [];
  for (const { fault: f, held } of r.ledger.faults) {
    const g = held.find((x) => overlaps(f.addr, f.len, x.device, x.bytes));
    if (g !== undefined) {
      out.push(
        `${f.kind} fault at ${hx(f.addr)}+${f.len} inside the EP${g.ep} buffer the host granted (${hx(g.device)}+${g.bytes})`,
      );
      continue;
    }
    if (!explained.some((e) => overlaps(f.addr, f.len, e.base, e.size))) {
      out.push(
        `${f.kind} fault at ${hx(f.addr)}+${f.len} (${f.detail}) outside any explained range`,
      );
    }
  }
  return out;
}

/**
 * The host opens exactly what it grants: the co-processor's DART stream maps the firmware's
 * pre-mapped window plus the pages of live IOMMU grants; the SART holds one non-reserved entry
 * per live SART grant. Returns the discrepancies.
 */
export function mappingProblems(r: AccRig, premappedPages = 0): string[] {
  const out: string[] = [];
  const live = r.ledger.live;
  const path = r.cp.profile.placement.memoryPath.kind;
  if (path === 'dart') {
    const stream = r.cp.dartStream!;
    const ps = r.soc.dart.pageSize;
    let pages = premappedPages;
    for (const g of live) {
      if (g.mode !== 'iommu') continue;
      const alloc = (g.buffer as { placement?: { allocated?: number } }).placement?.allocated;
      pages += Math.ceil((alloc ?? g.bytes) / ps);
    }
    const mapped = r.soc.dart.mappedPagesIn(stream);
    if (mapped !== pages)
      out.push(`DART stream ${stream}: ${mapped} pages mapped, grants need ${pages}`);
  }
  if (path === 'sart') {
    const entries = r.soc.sart.entries().filter((e) => !e.reserved);
    const sartGrants = live.filter((g) => g.mode === 'sart');
    if (entries.length !== sartGrants.length) {
      out.push(`SART: ${entries.length} entries, ${sartGrants.length} live SART grants`);
    }
    for (const g of sartGrants) {
      if (!entries.some((e) => e.paddr <= g.device && g.device + g.bytes <= e.paddr + e.size)) {
        out.push(`SART: no entry covers the EP${g.ep} buffer ${hx(g.device)}+${g.bytes}`);
      }
    }
  }
  return out;
}
