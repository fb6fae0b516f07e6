/**
 * Wiregrad's engine: the public API. Runs unchanged in Node and in a browser worker.
 *
 *   import * as wg from './engine/index.js';
 *   const x = wg.tensor([[1, 2], [3, 4]], { requiresGrad: true });
 *   const loss = x.mul(x).sum();
 *   loss.backward(); // x.grad = 2x
 */

import './backend/cpu/index.js';
import * as ops from './ops/index.js';

export { ops };
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export * as gnn from './gnn/index.js';
export * as rl from './rl/index.js';
export * as teach from './teach/index.js';
export { Tensor, type NestedArray, type TapeEntry } from './tensor.js';
export type { DType, TypedArray } from './core/dtype.js';
export type { Shape } from './core/shape.js';
export {
  WiregradError,
  ShapeError,
  DTypeError,
  GraphError,
  DisposedError,
  NumericsError,
} from './core/errors.js';
export {
  tensor,
  scalar,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  arange,
  rand,
  randn,
  type CreateOptions,
  type RandomOptions,
  type TensorOptions,
} from './ops/creation.js';
export { setSeed } from './core/random.js';
export { tidy, keep, dispose, memory, type MemoryInfo } from './runtime/scope.js';
export { runOp } from './runtime/dispatch.js';
export {
  ExecutionRecorder,
  exportTrace,
  tensorStats,
  withNode,
  withPhase,
  withNumericsCheck,
  type ExecutionEvent,
  type TensorStats,
  type Phase,
  type RecorderOptions,
  type WatchPredicate,
  type ChromeTrace,
  type TraceEvent,
  type TraceExportOptions,
} from './runtime/events.js';
export { grad, valueAndGrad, noGrad, type TensorFn } from './autograd/grad.js';
export { gradients, type BackwardOptions } from './autograd/backward.js';
export {
  walkBackward,
  type BackwardHooks,
  type WalkContribution,
  type WalkOptions,
  type WalkStep,
} from './autograd/backward.js';
export {
  getOp,
  listOps,
  type OpDef,
  type TensorMeta,
  type AttrSpec,
  type AttrKind,
} from './ops/registry.js';
export type { DeviceName } from './backend/backend.js';
export { availableBackends } from './backend/backend.js';
export { cpuBackend } from './backend/cpu/index.js';
export {
  initWebGPU,
  WebGPUBackend,
  WEBGPU_TODO,
  type InitWebGPUOptions,
  type WebGPUStats,
} from './backend/webgpu/index.js';
export { devices, defaultDevice, to, type DeviceInfo } from './runtime/devices.js';
export {
  Graph,
  registerGraphMigration,
  type GraphNode,
  type Diagnostic,
  type ShapeOptions,
  type SymbolicMeta,
} from './graph/graph.js';
export {
  GRAPH_FORMAT,
  GRAPH_VERSION,
  type GraphJSON,
  type NodeJSON,
  type OutputJSON,
  type AttrValue,
  type AttrValueJSON,
  type InputAttrs,
  type ParameterAttrs,
  type ConstantAttrs,
  type ParamInit,
  type InputRole,
} from './graph/ir.js';
export { type RunOptions, type InitOptions } from './graph/run.js';
export {
  trace,
  type TraceOptions,
  type TraceInputSpec,
  type TracedOutputs,
} from './graph/trace.js';
export { differentiate, type DifferentiateOptions } from './graph/differentiate.js';
export { GraphBuilder, type BatchNormHelperOptions } from './graph/builder.js';
export { runGraphParallel, type ParallelRunOptions } from './runtime/executor.js';
export * from './placement/index.js';
export {
  LanePool,
  type LanePoolOptions,
  type LaneTask,
  type LaneTiming,
} from './runtime/lanes/pool.js';
export type { LaneHost, LanePort, LaneInfo } from './runtime/lanes/protocol.js';
export {
  jit,
  fuseElementwise,
  type JitArg,
  type JitOptions,
  type JitCacheStats,
  type JittedFunction,
  type CompiledInfo,
  type FusionResult,
  type FusedGroup,
} from './jit/index.js';
export {
  Trainer,
  trainConfigOf,
  DEFAULT_TRAIN_CONFIG,
  type TrainConfig,
  type OptimizerConfig,
  type ScheduleConfig,
  type EvalResult,
  type TrainerOptions,
} from './train/trainer.js';
export {
  DeviceTrainer,
  placeTraining,
  splitPins,
  transfersOf,
  type DeviceStepResult,
  type DeviceTransfer,
  type EdgeNorm,
} from './train/device-trainer.js';
