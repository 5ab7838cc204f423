/**
 * The simulated Mac running m1n1 (docs/m1n1-server.md): a SimSoc with m1n1's memory layout, boot
 * args and device tree, served over any ByteLink by a proxy server speaking M1N1-PROXY.md.
 */

// The boot-args codec is m1n1's (one layout for client and server); re-exported for `rtkit/sim`.
export {
  type BootArgs,
  bootArgsSize,
  decodeBootArgs,
  encodeBootArgs,
  MAX_BOOT_ARGS_REVISION,
  type VideoArgs,
} from '../../m1n1/boot-args.js';
export {
  ADT_I2C0_POWER_DOMAIN,
  ADT_I2C0_REG,
  ADT_PMGR_REG,
  ADT_PMU_COMPATIBLE,
  ADT_PMU_I2C_ADDRESS,
  type AdtCoprocessor,
  ARM_IO_RANGE,
  buildSocAdt,
  type SocAdtOptions,
} from './adt-image.js';
export {
  type Access,
  type AccessWidth,
  DEFAULT_MAX_BULK,
  type MapRegion,
  type MemoryFault,
  ProxyMemoryMap,
  type ProxyMemoryMapOptions,
  type RegionKind,
} from './memory-map.js';
export { ProxyServer, type ProxyServerOptions, type ProxyServerStats } from './server.js';
export {
  MAC_BOOT_ARGS_REVISION,
  MAC_MEMORY,
  type MacLayout,
  SimulatedMac,
  type SimulatedMacOptions,
} from './simulated-mac.js';
