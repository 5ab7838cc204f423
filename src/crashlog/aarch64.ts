/**
 * AArch64 facts used to explain a `Crg8` exception frame (PROTOCOL.md §7.4). The field layouts are
 * the architecture's (Arm ARM: SPSR M[3:0], ESR_ELx EC/IL/ISS); only the mode names are chosen to
 * match what Linux prints (`== Exception taken from EL1h ==`).
 */

export type ExceptionLevelName = 'EL0t' | 'EL1t' | 'EL1h' | 'EL2t' | 'EL2h' | 'unknown';

/** Mode name for PSR[3:0]; the five values Linux names, everything else `unknown` (ML). */
export function exceptionLevelName(mode: number): ExceptionLevelName {
  switch (mode & 0xf) {
    case 0x0:
      return 'EL0t';
    case 0x4:
      return 'EL1t';
    case 0x5:
      return 'EL1h';
    case 0x8:
      return 'EL2t';
    case 0x9:
      return 'EL2h';
    default:
      return 'unknown';
  }
}

/** ESR_ELx exception classes (EC, bits [31:26]) from the Arm Architecture Reference Manual. */
const EC_NAMES: Readonly<Record<number, string>> = {
  0: 'Unknown reason',
  1: 'Trapped WFI/WFE',
  3: 'Trapped MCR/MRC (coproc 0b1111)',
  4: 'Trapped MCRR/MRRC (coproc 0b1111)',
  5: 'Trapped MCR/MRC (coproc 0b1110)',
  6: 'Trapped LDC/STC',
  7: 'SVE/SIMD/FP access trap',
  10: 'Trapped LD64B/ST64B',
  12: 'Trapped MRRC (coproc 0b1110)',
  13: 'Branch target exception',
  14: 'Illegal execution state',
  17: 'SVC (AArch32)',
  21: 'SVC (AArch64)',
  22: 'HVC (AArch64)',
  23: 'SMC (AArch64)',
  24: 'Trapped MSR/MRS/system instruction',
  25: 'SVE access trap',
  28: 'Pointer authentication failure',
  32: 'Instruction abort from a lower EL',
  33: 'Instruction abort from the same EL',
  34: 'PC alignment fault',
  36: 'Data abort from a lower EL',
  37: 'Data abort from the same EL',
  38: 'SP alignment fault',
  40: 'Trapped FP exception (AArch32)',
  44: 'Trapped FP exception (AArch64)',
  47: 'SError interrupt',
  48: 'Breakpoint from a lower EL',
  49: 'Breakpoint from the same EL',
  50: 'Software step from a lower EL',
  51: 'Software step from the same EL',
  52: 'Watchpoint from a lower EL',
  53: 'Watchpoint from the same EL',
  56: 'BKPT (AArch32)',
  60: 'BRK (AArch64)',
};

export function esrClassName(ec: number): string {
  return EC_NAMES[ec] ?? 'unknown';
}

export interface EsrFields {
  /** Exception class, ESR[31:26]. */
  ec: number;
  /** Instruction length bit, ESR[25]. */
  il: number;
  /** Instruction-specific syndrome, ESR[24:0]. */
  iss: number;
  ecName: string;
}

export function decodeEsr(esr: number): EsrFields {
  const ec = (esr >>> 26) & 0x3f;
  return { ec, il: (esr >>> 25) & 1, iss: esr & 0x1ff_ffff, ecName: esrClassName(ec) };
}
