/**
 * The simulated memory model: RAM, host-side allocation, the DART and SART units, SRAM windows,
 * and the DmaPorts through which simulated firmware reaches memory (docs/sim-memory.md).
 */

export {
  applyDramMask,
  MemoryErrorCode,
  PHYS_LIMIT,
  stripDramMask,
} from './address.js';
export { type Allocation, PageAllocator, type PageAllocatorOptions } from './allocator.js';
export { Dart, type DartMapping, type DartOptions, type DartPerms } from './dart.js';
export { FaultList, type FaultListOptions } from './faults.js';
export { PhysicalMemory } from './physical.js';
export { identityPort, type PortOptions } from './port.js';
export {
  SART_ENTRIES,
  SART_FLAGS_ALLOW,
  Sart,
  type SartEntry,
  type SartOptions,
  type SartPortOptions,
  type SartRegisters,
} from './sart.js';
export { type SramPortOptions, SramRegion, type SramRegionOptions } from './sram.js';
export type { DmaFault, DmaFaultKind, DmaPort, FaultLog } from './types.js';
