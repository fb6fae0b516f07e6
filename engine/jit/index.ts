/**
 * The JIT: `jit(fn)` captures a function into a graph, fuses its elementwise chains into
 * generated kernels and replays a compiled plan; see jit.ts and docs/jit.md.
 */

export {
  jit,
  type JitArg,
  type JitOptions,
  type JitCacheStats,
  type JittedFunction,
  type CompiledInfo,
} from './jit.js';
export { fuseElementwise, type FusionOptions, type FusionResult, type FusedGroup } from './fuse.js';
export { fusedElementwise, type FusedAttrs } from './fused-op.js';
export {
  FUSABLE_OPS,
  type FusableOp,
  type FusedProgram,
  type Instruction,
  type Operand,
  formatProgram,
  parseProgram,
} from './program.js';
export { registerFusedKernels } from './cpu-kernel.js';
