/**
 * Composes the crash dump the simulated firmware writes into its crashlog buffer (PROTOCOL.md §7)
 * from its live state: the panic text, the profile's RTKit version, the crash time in the IOP
 * timebase, the real mailbox history (`Cmbx`), an AArch64 exception frame, the faulting call
 * stack, the RTKit task list and the ASC error registers. Register values are seeded-random but
 * plausible (PSR in EL1h, PCs inside the profile's text range); `buildCrashlog` writes the bytes.
 * The result never exceeds the buffer: history entries are dropped first, then whole sections.
 */

import {
  buildCrashlog,
  type CrashlogInput,
  type RtkTaskInput,
  type SectionInput,
} from '../../crashlog/index.js';
import type { Rng } from './app.js';
import type { CrashKind, CrashProfile, HistoryEntry } from './types.js';

export interface CrashComposeInput {
  readonly profile: CrashProfile;
  readonly reason: string;
  readonly kind: CrashKind;
  /** The whole history, oldest first; the tail that fits goes into `Cmbx`. */
  readonly history: readonly HistoryEntry[];
  /** `Ctim`: IOP timebase at the crash. */
  readonly time: bigint;
  readonly rng: Rng;
  /** Index into `profile.tasks` of the faulting task (default 0). */
  readonly task?: number;
}

export interface ComposedCrashlog {
  readonly input: CrashlogInput;
  readonly bytes: Uint8Array;
  /** The history entries that made it into `Cmbx`. */
  readonly entries: readonly HistoryEntry[];
}

/** PSR of the #142 fixture: EL1h (mode 5), NZCV = 0110 [observed]. */
const PSR_EL1H = 0x6000_12c5n;

/**
 * ESR per crash kind: an SError as in the #142 fixture (EC 0x2f, IL 1) [observed]; a data abort
 * taken at the same EL (EC 0x25, IL 1, DFSC 0x07 translation fault level 3); a panic as a BRK
 * (EC 0x3c, IL 1) [inferred: how an assert-style panic traps is not documented].
 */
const ESR: Record<CrashKind, number> = {
  serror: 0xbe00_0000,
  abort: 0x9600_0007,
  panic: 0xf200_0000,
};

function u64(rng: Rng): bigint {
  return (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
}

interface Material {
  readonly uuid: string;
  readonly regs: bigint[];
  readonly sp: bigint;
  readonly pc: bigint;
  readonly far: bigint;
  readonly tasks: RtkTaskInput[];
  readonly faulting: RtkTaskInput;
}

/** Draw every random value once, before any trimming, so trimming never shifts the stream. */
function material(c: CrashComposeInput): Material {
  const { rng, profile } = c;
  const text = BigInt(profile.textBase);
  const code = (): bigint => text + BigInt(rng.below(0x20_0000) & ~3);
  let uuid = '';
  for (let i = 0; i < 4; i++) uuid += rng.u32().toString(16).padStart(8, '0');
  const stackTop = 0x1_0000_0000n + BigInt(rng.below(0x100) * 0x1_0000);
  const regs: bigint[] = [];
  for (let i = 0; i < 31; i++) {
    const pick = rng.below(4);
    regs.push(
      pick === 0
        ? BigInt(rng.below(0x100))
        : pick === 1
          ? code()
          : pick === 2
            ? stackTop - 0x200n
            : u64(rng) & 0xffff_ffffn,
    );
  }
  regs[30] = code(); // LR
  const pc = code();
  const sp = stackTop - BigInt(0x100 + rng.below(0x800)) * 16n;
  const far = c.kind === 'abort' ? BigInt(rng.u32()) * 0x1000n + 0xdead_0000n : 0n;
  const names = profile.tasks.length > 0 ? profile.tasks : ['main'];
  const faultIdx = Math.min(Math.max(0, c.task ?? 0), names.length - 1);
  const tasks: RtkTaskInput[] = names.map((name, i) => {
    const stackSize = BigInt(0x1000 * (1 + rng.below(4)));
    const depth = 2 + rng.below(3);
    const frames: bigint[] = [];
    for (let d = 0; d < depth; d++) frames.push(code());
    return {
      id: i,
      faulting: i === faultIdx,
      priority: 1 + rng.below(40),
      effectivePriority: 0,
      // 0 runnable for the faulting task, else a waiting state [uncertain: index → name].
      state: i === faultIdx ? 0 : 1 + rng.below(2),
      waitObject: i === faultIdx ? 0n : text + 0x40_0000n + BigInt(rng.below(0x1000) * 8),
      stackSize,
      stackUsed: (stackSize * BigInt(10 + rng.below(60))) / 100n,
      name: name.slice(0, 28),
      frames: i === faultIdx ? [pc, regs[30]!, ...frames] : frames,
    };
  });
  return { uuid, regs, sp, pc, far, tasks, faulting: tasks[faultIdx]! };
}

/** The sections for a given history tail and set of optional sections. */
function sections(
  c: CrashComposeInput,
  m: Material,
  entries: readonly HistoryEntry[],
  drop: ReadonlySet<string>,
): SectionInput[] {
  const out: SectionInput[] = [];
  // Cstr id 0; macOS builds its panic string as "<ROLE> PANIC - <text> - <task>(<id>)".
  out.push({ kind: 'Cstr', id: 0, text: `${c.reason}\n` });
  if (!drop.has('Cver')) out.push({ kind: 'Cver', uuid: m.uuid, version: c.profile.versionString });
  if (!drop.has('Ctim')) out.push({ kind: 'Ctim', time: c.time });
  if (!drop.has('Crg8')) {
    out.push({
      kind: 'Crg8',
      regs: m.regs,
      sp: m.sp,
      pc: m.pc,
      psr: PSR_EL1H,
      // CPACR_EL1.FPEN = 3: FP/SIMD enabled at EL0 and EL1.
      cpacr: 0x30_0000n,
      far: m.far,
      esr: ESR[c.kind],
    });
  }
  if (!drop.has('Cmbx')) {
    // Header words [inferred plausible values]: both FIFOs enabled and empty (CONTROL 0x20001),
    // no mailbox error, route 0.
    out.push({
      kind: 'Cmbx',
      kicInboxCtrl: 0x0002_0001,
      kicMailboxSet: 0,
      apOutboxCtrl: 0x0002_0001,
      apMailboxSet: 0,
      mailboxError: 0,
      unknown20: 0,
      route: 0,
      entries: entries.map((e) => ({ ep: e.ep, msg: e.msg, timestamp: e.timestamp, dir: e.dir })),
    });
  }
  if (!drop.has('Ccst')) {
    out.push({ kind: 'Ccst', taskId: m.faulting.id, frames: m.faulting.frames ?? [] });
  }
  if (!drop.has('Crtk')) out.push({ kind: 'Crtk', tasks: m.tasks });
  if (!drop.has('CasC')) out.push({ kind: 'CasC' });
  return out;
}

/** Sections given up, in order, when even an empty history does not fit. */
const DROP_ORDER = ['Crtk', 'Ccst', 'CasC', 'Crg8', 'Cmbx', 'Cver', 'Ctim'] as const;

/**
 * Compose a crashlog of at most `maxBytes` bytes. An empty `bytes` means not even the header,
 * a `Cstr` and the footer fit (or the reason is not representable).
 */
export function composeCrashlog(c: CrashComposeInput, maxBytes: number): ComposedCrashlog {
  const m = material(c);
  const drop = new Set<string>();
  let n = c.history.length;
  const build = (): ComposedCrashlog => {
    const entries = n > 0 ? c.history.slice(-n) : [];
    const input: CrashlogInput = { sections: sections(c, m, entries, drop) };
    return { input, bytes: buildCrashlog(input), entries };
  };
  let out = build();
  if (out.bytes.length > maxBytes && n > 0) {
    n = Math.max(0, n - Math.ceil((out.bytes.length - maxBytes) / 24));
    out = build();
  }
  for (const s of DROP_ORDER) {
    if (out.bytes.length <= maxBytes) break;
    drop.add(s);
    if (s === 'Cmbx') n = 0;
    out = build();
  }
  if (out.bytes.length > maxBytes) {
    return { input: { sections: [] }, bytes: new Uint8Array(0), entries: [] };
  }
  return out;
}
