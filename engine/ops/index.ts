/**
 * Every op as a function. Importing this module registers all op definitions. Tensor methods
 * and the public `ops` namespace both come from here.
 */

export * from './elementwise.js';
export * from './creation.js';
export * from './reduce.js';
export * from './movement.js';
export * from './nn.js';
export * from './composite.js';
