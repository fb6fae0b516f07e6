/**
 * The engine's mutable state, in one place: whether gradients are recorded, the stack of
 * memory scopes, the active tracer (while `trace` captures a function into a graph), the
 * default device, and live-tensor accounting for `memory()`.
 */

import type { DeviceName } from '../backend/backend.js';
import type { OpDef, TensorMeta } from '../ops/registry.js';
import type { Tensor } from '../tensor.js';

/** Records ops into a graph instead of running them (implemented by graph/trace.ts). */
export interface Tracer {
  record(def: OpDef, inputs: readonly Tensor[], attrs: object, meta: TensorMeta): Tensor;
}

/** Observes every op the dispatcher runs (execution events, the autodiff teacher). */
export interface OpObserver {
  /**
   * Called after each op. `start` is `performance.now()` taken just before the op ran (the
   * dispatcher reads the clock only while some observer is registered, so timing costs
   * nothing when no one observes).
   */
  onOp(def: OpDef, inputs: readonly Tensor[], output: Tensor, attrs: object, start: number): void;
}

export const state = {
  /** > 0 inside noGrad. */
  noGradDepth: 0,
  scopes: [] as Set<Tensor>[],
  tracer: null as Tracer | null,
  defaultDevice: 'cpu' as DeviceName,
  liveTensors: 0,
  liveBytes: 0,
  nextTensorId: 1,
  observers: [] as OpObserver[],
};

export function gradEnabled(): boolean {
  return state.noGradDepth === 0;
}
