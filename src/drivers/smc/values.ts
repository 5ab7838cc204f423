// The SMC value codec lives in the protocol layer, shared with the simulator's SMC model.
export * from '../../protocol/smc-values.js';
