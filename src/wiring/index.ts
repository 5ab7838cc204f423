/**
 * Where host and simulator meet (they never import each other, STYLE.md): adapters from the
 * simulated SoC to the host library's hardware interfaces.
 */

export {
  locateCoprocessor,
  openProxyCoprocessor,
  type ProxyCoprocessor,
  type ProxyCoprocessorInfo,
  type ProxyCoprocessorOptions,
  proxyHostMemory,
  proxySram,
  proxyStrategies,
} from './proxy-host.js';
export {
  M1N1_IOVA_WINDOW,
  type SimHostMemoryOptions,
  type SimSession,
  type SimSessionOptions,
  type SimStrategies,
  type SimStrategyOptions,
  simHostMemory,
  simIommu,
  simSart,
  simSession,
  simSram,
  strategiesFor,
} from './sim-host.js';
