/**
 * Shared-memory strategies of the host library (PROTOCOL.md §6, docs/host-shmem.md): how the
 * host answers a firmware buffer request, and the BufferManager the session uses.
 */

export {
  type AddressWindow,
  type BufferIo,
  type BufferPlacement,
  DEFAULT_MAX_BYTES,
  DEVICE_LIMIT,
  HostSharedBuffer,
  type Segment,
  ShmemErrorCode,
} from './common.js';
export {
  type FakeHostMemory,
  type FakeHostMemoryOptions,
  type FakeIommu,
  type FakeMmio,
  type FakeSart,
  fakeHostMemory,
  fakeIommu,
  fakeMmio,
  fakeSart,
} from './fakes.js';
export {
  type FirmwareIovaStrategyOptions,
  type FirmwareMapping,
  firmwareIovaStrategy,
  translateRange,
} from './firmware-iova.js';
export {
  type IdentityIommuOptions,
  type IdentityStrategyOptions,
  identityIommu,
  identityStrategy,
} from './identity.js';
export { type IommuStrategyOptions, iommuStrategy } from './iommu.js';
export {
  BUFFER_ENDPOINTS,
  type BufferEntry,
  BufferManager,
  type BufferOutcome,
  type BufferStats,
  bufferReplyWord,
  bufferRequestFromMessage,
  type StrategySelection,
} from './manager.js';
export { RangeAllocator } from './range-allocator.js';
export { type SartStrategyOptions, sartStrategy } from './sart.js';
export { mmioSram, type SramStrategyOptions, sramStrategy } from './sram.js';
export type {
  BufferDecision,
  BufferMode,
  BufferRefusalCode,
  BufferRequest,
  BufferStrategy,
  HostMemory,
  IommuControl,
  SartControl,
  SharedBuffer,
} from './types.js';
