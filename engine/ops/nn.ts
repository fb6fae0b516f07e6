/**
 * The neural-network ops, by concept: matmul.ts, conv.ts, pool.ts, losses.ts (softmax and
 * losses) and normalization.ts (batchNorm, layerNorm, dropout).
 */

export * from './matmul.js';
export * from './conv.js';
export * from './pool.js';
export * from './losses.js';
export * from './normalization.js';
