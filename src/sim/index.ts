/** The simulated SoC (`rtkit/sim`): browser-safe like the rest of the core. */
export { asyncMmio, MmioBus } from './bus.js';
export * from './faults.js';
export * from './firmware/index.js';
export * from './mailbox/index.js';
export * from './memory/index.js';
export * from './profiles/index.js';
export * from './proxy/index.js';
export { createRng, type SeededRng } from './rng.js';
export { type CoprocessorOptions, SimCoprocessor, SimSoc, type SocOptions } from './soc.js';
export { MiniHost, type Ordering } from './testing/mini-host.js';
