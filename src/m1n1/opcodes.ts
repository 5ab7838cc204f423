/**
 * REQ_PROXY opcodes (M1N1-PROXY.md §8), one table shared by the client, the simulated server and
 * the decoders. `SERVED` lists what our simulator answers (the spec's SIM and SIM+ ops); every
 * other opcode gets the inner status S_BADCMD, as m1n1 answers function-pointer ops it cannot run.
 */

export const ProxyOp = {
  NOP: 0x000,
  EXIT: 0x001,
  CALL: 0x002,
  GET_BOOTARGS: 0x003,
  GET_BASE: 0x004,
  SET_BAUD: 0x005,
  UDELAY: 0x006,
  SET_EXC_GUARD: 0x007,
  GET_EXC_COUNT: 0x008,
  EL0_CALL: 0x009,
  EL1_CALL: 0x00a,
  VECTOR: 0x00b,
  GL1_CALL: 0x00c,
  GL2_CALL: 0x00d,
  GET_SIMD_STATE: 0x00e,
  PUT_SIMD_STATE: 0x00f,
  REBOOT: 0x010,
  SLEEP: 0x011,
  EL3_CALL: 0x012,
  GET_CHIPID: 0x013,
  GET_CPU_FEATURES: 0x014,

  WRITE64: 0x100,
  WRITE32: 0x101,
  WRITE16: 0x102,
  WRITE8: 0x103,
  READ64: 0x104,
  READ32: 0x105,
  READ16: 0x106,
  READ8: 0x107,
  SET64: 0x108,
  SET32: 0x109,
  SET16: 0x10a,
  SET8: 0x10b,
  CLEAR64: 0x10c,
  CLEAR32: 0x10d,
  CLEAR16: 0x10e,
  CLEAR8: 0x10f,
  MASK64: 0x110,
  MASK32: 0x111,
  MASK16: 0x112,
  MASK8: 0x113,
  WRITEREAD64: 0x114,
  WRITEREAD32: 0x115,
  WRITEREAD16: 0x116,
  WRITEREAD8: 0x117,

  MEMCPY64: 0x200,
  MEMCPY32: 0x201,
  MEMCPY16: 0x202,
  MEMCPY8: 0x203,
  MEMSET64: 0x204,
  MEMSET32: 0x205,
  MEMSET16: 0x206,
  MEMSET8: 0x207,

  IC_IALLUIS: 0x300,
  IC_IALLU: 0x301,
  IC_IVAU: 0x302,
  DC_IVAC: 0x303,
  DC_ISW: 0x304,
  DC_CSW: 0x305,
  DC_CISW: 0x306,
  DC_ZVA: 0x307,
  DC_CVAC: 0x308,
  DC_CVAU: 0x309,
  DC_CIVAC: 0x30a,
  MMU_SHUTDOWN: 0x30b,
  MMU_INIT: 0x30c,
  MMU_DISABLE: 0x30d,
  MMU_RESTORE: 0x30e,
  MMU_INIT_SECONDARY: 0x30f,

  XZDEC: 0x400,
  GZDEC: 0x401,

  SMP_START_SECONDARIES: 0x500,
  SMP_CALL: 0x501,
  SMP_CALL_SYNC: 0x502,
  SMP_WAIT: 0x503,
  SMP_SET_WFE_MODE: 0x504,
  SMP_IS_ALIVE: 0x505,
  SMP_STOP_SECONDARIES: 0x506,
  SMP_CALL_EL1: 0x507,
  SMP_CALL_EL1_SYNC: 0x508,
  SMP_CALL_EL0: 0x509,
  SMP_CALL_EL0_SYNC: 0x50a,

  HEAPBLOCK_ALLOC: 0x600,
  MALLOC: 0x601,
  MEMALIGN: 0x602,
  FREE: 0x603,

  KBOOT_BOOT: 0x700,
  KBOOT_SET_CHOSEN: 0x701,
  KBOOT_SET_INITRD: 0x702,
  KBOOT_PREPARE_DT: 0x703,
  KBOOT_SET_UBOOT: 0x704,

  PMGR_POWER_ENABLE: 0x800,
  PMGR_POWER_DISABLE: 0x801,
  PMGR_ADT_POWER_ENABLE: 0x802,
  PMGR_ADT_POWER_DISABLE: 0x803,
  PMGR_RESET: 0x804,

  IODEV_SET_USAGE: 0x900,
  IODEV_CAN_READ: 0x901,
  IODEV_CAN_WRITE: 0x902,
  IODEV_READ: 0x903,
  IODEV_WRITE: 0x904,
  IODEV_WHOAMI: 0x905,
  USB_IODEV_VUART_SETUP: 0x906,

  TUNABLES_APPLY_GLOBAL: 0xa00,
  TUNABLES_APPLY_LOCAL: 0xa01,
  TUNABLES_APPLY_LOCAL_ADDR: 0xa02,

  DART_INIT: 0xb00,
  DART_SHUTDOWN: 0xb01,
  DART_MAP: 0xb02,
  DART_UNMAP: 0xb03,

  MCC_GET_CARVEOUTS: 0x1000,
  CPUFREQ_INIT: 0x1300,
} as const;
export type ProxyOp = (typeof ProxyOp)[keyof typeof ProxyOp];

const NAMES = new Map<number, string>(Object.entries(ProxyOp).map(([k, v]) => [v, k]));

/** `READ32`, or `op 0x123` for an opcode outside the table. */
export function proxyOpName(op: number | bigint): string {
  const n = typeof op === 'bigint' ? (op <= 0xffffffffn && op >= 0n ? Number(op) : -1) : op;
  return NAMES.get(n) ?? `op 0x${op.toString(16)}`;
}

/** Width in bits of a memory access op (READ8…READ64, MEMSET8…MEMSET64, …). */
export type AccessWidth = 8 | 16 | 32 | 64;

/** The READ/WRITE/SET/CLEAR/MASK family (`0x100`–`0x113`), in opcode order. */
export type MemOpKind = 'write' | 'read' | 'set' | 'clear' | 'mask';

const MEM_OP_KINDS: readonly MemOpKind[] = ['write', 'read', 'set', 'clear', 'mask'];
/** m1n1 numbers every sized family 64, 32, 16, 8 (`WRITE64` = 0x100 … `WRITE8` = 0x103). */
const WIDTH_BY_LOW_BITS: readonly AccessWidth[] = [64, 32, 16, 8];

/** What a READ/WRITE/SET/CLEAR/MASK opcode does and its width; undefined for any other op. */
export function memAccessOp(op: number): { kind: MemOpKind; width: AccessWidth } | undefined {
  if (!Number.isInteger(op) || op < ProxyOp.WRITE64 || op > ProxyOp.MASK8) return undefined;
  const i = op - ProxyOp.WRITE64;
  return { kind: MEM_OP_KINDS[i >> 2]!, width: WIDTH_BY_LOW_BITS[i & 3]! };
}

/** The width of a MEMSET64/32/16/8 opcode; undefined for any other op. */
export function memsetWidth(op: number): AccessWidth | undefined {
  if (!Number.isInteger(op) || op < ProxyOp.MEMSET64 || op > ProxyOp.MEMSET8) return undefined;
  return WIDTH_BY_LOW_BITS[op & 3];
}

/**
 * What SETn, CLEARn and MASKn store and return (m1n1 `proxy.c`): `old | a1`, `old & ~a1`,
 * `(old & ~a1) | a2`, cut to the access width.
 */
export function memOpResult(
  kind: 'set' | 'clear' | 'mask',
  old: bigint,
  a1: bigint,
  a2: bigint,
  width: AccessWidth,
): bigint {
  const v = kind === 'set' ? old | a1 : kind === 'clear' ? old & ~a1 : (old & ~a1) | a2;
  return BigInt.asUintN(width, v);
}

/** What a guarded read of `width` bits returns after a fault: FAULT_MARKER cut to the width (§6). */
export function faultMarker(width: AccessWidth): bigint {
  return BigInt.asUintN(width, FAULT_MARKER);
}

/** Iodev numbers (§1): what IODEV_WHOAMI answers. */
export const Iodev = { Uart: 0, Dockchannel: 1, UsbVuart: 3, Usb0: 4 } as const;

/** Exception guard modes for SET_EXC_GUARD (§6); `Silent` is OR-ed in. */
export const ExcGuard = { Off: 0, Skip: 1, Mark: 2, Return: 3, Silent: 0x100 } as const;

/** The value a guarded read returns after a fault (§6), before truncation to the access width. */
export const FAULT_MARKER = 0xacce5515abad1dean;

/**
 * Longest ADT path passed to PMGR_ADT_POWER_ENABLE/DISABLE, NUL included. Ours (m1n1 reads up to
 * the NUL): the client refuses longer paths, the simulated server stops reading there.
 */
export const MAX_ADT_PATH = 1024;

/** What m1n1's host tooling and ours offer as SET_BAUD arguments (§7). */
export const BAUD_SWITCH = { baud: 1_500_000, count: 16, pattern: 0x005aa5f0 } as const;

/** GET_CPU_FEATURES expects this structure size (§11.2). */
export const CPU_FEATURES_SIZE = 20;
