/**
 * The FaultLog tests assert on. Bounded: a hostile or looping firmware model must not be able to
 * grow memory without limit (ROBUSTNESS.md, Principles 3), so faults past the cap are counted in
 * `dropped` instead of kept.
 */

import { RtkitError } from '../../errors.js';
import { MemoryErrorCode } from './address.js';
import type { DmaFault, DmaFaultKind, FaultLog } from './types.js';

export interface FaultListOptions {
  /** Most faults kept; later ones only increment `dropped`. Default 1024. */
  readonly cap?: number | undefined;
}

export class FaultList implements FaultLog {
  readonly cap: number;
  private readonly list: DmaFault[] = [];
  private droppedCount = 0;

  constructor(opts: FaultListOptions = {}) {
    const cap = opts.cap ?? 1024;
    if (!(Number.isSafeInteger(cap) && cap >= 0)) {
      throw new RtkitError(MemoryErrorCode.BAD_INPUT, `fault cap ${cap} must be an integer ≥ 0`, {
        cap,
      });
    }
    this.cap = cap;
  }

  /** The first `cap` faults since creation or the last `clear()`, in order. */
  get faults(): readonly DmaFault[] {
    return this.list;
  }

  /** Faults not kept because the list was full. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Faults recorded, kept or not. */
  get total(): number {
    return this.list.length + this.droppedCount;
  }

  record(f: DmaFault): void {
    if (this.list.length < this.cap) this.list.push(Object.freeze({ ...f }));
    else this.droppedCount++;
  }

  /** Kept faults of one kind. */
  ofKind(kind: DmaFaultKind): DmaFault[] {
    return this.list.filter((f) => f.kind === kind);
  }

  /** Forget everything, including the dropped count. */
  clear(): void {
    this.list.length = 0;
    this.droppedCount = 0;
  }
}
