/**
 * Explicit memory ownership. Every tensor made inside `tidy(fn)` is disposed when `fn`
 * returns, except the tensors it returns (found in arrays and plain objects) and those passed
 * to `keep`. Tensors made outside any scope live until `dispose()`. `memory()` reports what is
 * alive, so a test can prove that a training loop does not leak.
 */

import { WiregradError } from '../core/errors.js';
import { Tensor } from '../tensor.js';
import { state } from './state.js';

export interface MemoryInfo {
  /** Tensors holding device storage. */
  readonly tensors: number;
  /** Bytes of device storage those tensors hold (shared storage counted once). */
  readonly bytes: number;
}

export function memory(): MemoryInfo {
  return { tensors: state.liveTensors, bytes: state.liveBytes };
}

/** Runs `fn`, disposing every tensor it creates except those it returns or keeps. */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  state.scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    state.scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  state.scopes.pop();
  if (result instanceof Promise)
    throw new WiregradError('tidy() takes a synchronous function; await outside the scope');
  const keepers = new Set<Tensor>();
  collectTensors(result, keepers, 0);
  const parent = state.scopes[state.scopes.length - 1];
  for (const t of scope) {
    if (keepers.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

/** Exempts `t` from the scopes it is tracked by, so it outlives them. */
export function keep<T extends Tensor>(t: T): T {
  for (const scope of state.scopes) scope.delete(t);
  return t;
}

/** Disposes every tensor found in `value` (a tensor, array or plain object of them). */
export function dispose(value: unknown): void {
  const found = new Set<Tensor>();
  collectTensors(value, found, 0);
  for (const t of found) t.dispose();
}

function collectTensors(value: unknown, out: Set<Tensor>, depth: number): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (value instanceof Tensor) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectTensors(v, out, depth + 1);
    return;
  }
  if (value instanceof Map) {
    for (const v of value.values()) collectTensors(v, out, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value)) collectTensors(v, out, depth + 1);
}
