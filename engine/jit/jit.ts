/**
 * `jit(fn)`: capture a function of tensors into a graph on its first call and replay a
 * compiled plan afterwards (as `@tf.function` and `torch.jit.trace` do). Calls are keyed by
 * the shapes, dtypes, devices and requiresGrad flags of the tensor arguments, the values of the
 * other (static) arguments, and whether gradients are being recorded; a new key traces and
 * compiles again. Plans live in a bounded LRU cache (16 by default) whose counters `stats()`
 * reports.
 *
 * Compiling: `trace` (engine/graph/trace.ts) records the ops; closure-captured tensors that
 * require gradients become parameter nodes bound to the live tensors (an optimiser's in-place
 * updates are seen by later calls), other captured tensors become constants (their values at
 * trace time). The fusion pass (fuse.ts) turns elementwise chains into `fusedElementwise` nodes
 * and plan.ts orders the kernels and their buffers.
 *
 * Gradients: when the call must be differentiable (gradients are recorded and some argument or
 * captured parameter requires them), the plan runs node by node through the dispatcher, so each
 * node (a fused one is one node) goes on the tape; the fused node's gradient rule recomputes
 * its chain (see fused-op.ts). Otherwise the plan runs without the tape. Inside an outer
 * `trace`, a jitted function simply runs its body, so the outer graph records its ops.
 *
 * Like any tracing JIT, `fn` must be a pure function of its arguments: side effects and
 * value-dependent control flow are captured as they happened on the first call.
 * Random ops would replay the same numbers on every call, so a function that draws them is
 * refused with an error; pass random tensors in as arguments instead.
 */

import { WiregradError } from '../core/errors.js';
import type { Graph } from '../graph/graph.js';
import { trace, type TracedOutputs } from '../graph/trace.js';
import { getOp } from '../ops/registry.js';
import { gradEnabled, state } from '../runtime/state.js';
import { Tensor } from '../tensor.js';
import { type FusedGroup, fuseElementwise } from './fuse.js';
import { Plan, type PlanInfo } from './plan.js';
// The op definition and its CPU kernels must be registered before a plan can use them.
import './fused-op.js';
import './cpu-kernel.js';

/** What a jitted function may take: tensors, and static values that become part of the key. */
export type JitArg = Tensor | number | string | boolean | null | undefined;

export interface JitOptions {
  /** How many compiled plans to keep (least recently used go first); default 16. */
  readonly cacheSize?: number;
  /** Fuse elementwise chains (default true); false replays the traced graph as it is. */
  readonly fuse?: boolean;
  /** A name for graphs and error messages (default: the function's name). */
  readonly name?: string;
}

export interface JitCacheStats {
  /** Calls served by a cached plan. */
  readonly hits: number;
  /** Calls that traced and compiled a new plan. */
  readonly misses: number;
  /** Plans dropped to keep the cache within its capacity. */
  readonly evictions: number;
  /** Plans cached now. */
  readonly size: number;
  readonly capacity: number;
}

/** What one compiled variant holds, for tests and tools. */
export interface CompiledInfo extends PlanInfo {
  /** The cache key (shapes, dtypes, devices …). */
  readonly key: string;
  /** The graph the plan runs (fused), as a document is JSON. */
  readonly graph: Graph;
  /** The fused groups and the ops each replaced. */
  readonly groups: readonly FusedGroup[];
}

export interface JittedFunction<A extends JitArg[], R extends TracedOutputs> {
  (...args: A): R;
  /** Cache counters. */
  stats(): JitCacheStats;
  /** Drops every compiled plan (counters stay). */
  clear(): void;
  /** The compiled variant for these arguments (compiling it if needed; counts as a call). */
  inspect(...args: A): CompiledInfo;
}

type Structure =
  | { readonly kind: 'tensor' }
  | { readonly kind: 'array'; readonly length: number }
  | { readonly kind: 'object'; readonly keys: readonly string[] };

interface Compiled {
  readonly info: CompiledInfo;
  readonly plan: Plan;
  readonly structure: Structure;
  readonly params: readonly Tensor[];
}

function structureOf(result: unknown): Structure {
  if (result instanceof Tensor) return { kind: 'tensor' };
  if (Array.isArray(result)) return { kind: 'array', length: result.length };
  return { kind: 'object', keys: Object.keys(result as object) };
}

function rebuild(structure: Structure, outputs: readonly Tensor[]): TracedOutputs {
  switch (structure.kind) {
    case 'tensor':
      return outputs[0]!;
    case 'array':
      return [...outputs];
    case 'object':
      return Object.fromEntries(structure.keys.map((k, i) => [k, outputs[i]!]));
    default:
      return structure satisfies never;
  }
}

/** The cache key of a call; throws for arguments a plan cannot be keyed on. */
function keyOf(label: string, args: readonly unknown[]): string {
  const parts = args.map((a, i) => {
    if (a instanceof Tensor) {
      a.assertAlive(label);
      if (a.isSymbolic)
        throw new WiregradError(`${label}: argument ${i} is a symbolic tensor of another trace`);
      return `${a.dtype}[${a.shape.join(',')}]@${a.device}${a.requiresGrad ? '+grad' : ''}`;
    }
    if (a === null || a === undefined || ['number', 'string', 'boolean'].includes(typeof a))
      return `${typeof a}:${String(a)}`;
    throw new WiregradError(
      `${label}: argument ${i} is ${Array.isArray(a) ? 'an array' : `a(n) ${typeof a}`}; a ` +
        `jitted function takes tensors and static numbers, strings or booleans (which become ` +
        `part of the cache key). Capture other values in the function's closure, or pass ` +
        `tensors one by one`,
    );
  });
  return parts.join(' ') + (gradEnabled() ? '' : ' noGrad');
}

/** Compiles `fn` into a plan for JIT callers: trace, refuse randomness, fuse, plan. */
function compile(
  fn: (...args: JitArg[]) => TracedOutputs,
  args: readonly JitArg[],
  key: string,
  label: string,
  name: string | undefined,
  fuse: boolean,
): Compiled {
  const tensorAt: number[] = [];
  args.forEach((a, i) => {
    if (a instanceof Tensor) tensorAt.push(i);
  });
  const examples = tensorAt.map((i) => args[i] as Tensor);
  const seen: { structure?: Structure } = {};
  const traced = trace(
    (...symbols: Tensor[]) => {
      const full = [...args];
      tensorAt.forEach((at, k) => (full[at] = symbols[k]!));
      const result = fn(...full);
      seen.structure = structureOf(result);
      return result;
    },
    examples,
    { inputNames: examples.map((_, k) => `arg${tensorAt[k]}`), ...(name ? { name } : {}) },
  );
  for (const node of traced.nodes)
    if (getOp(node.op).random)
      throw new WiregradError(
        `${label}: the function draws random numbers (node '${node.id}'); a compiled plan ` +
          `would replay the same numbers on every call. Draw them outside and pass them in as ` +
          `arguments, or call the function without jit`,
        { node: node.id, op: node.op },
      );
  const argNodes = examples.map(
    (_, k) => traced.inputs.find((n) => n.name === `arg${tensorAt[k]}`)!.id,
  );
  const devicesFuse = examples.every((t) => t.storage!.backend.hasKernel('fusedElementwise'));
  const { graph, groups } =
    fuse && devicesFuse ? fuseElementwise(traced) : { graph: traced, groups: [] };
  const params = traced.parameters.length > 0 ? traced.initParameters() : new Map<string, Tensor>();
  const plan = new Plan(graph, argNodes, params, label);
  return {
    info: { ...plan.info, key, graph, groups },
    plan,
    structure: seen.structure!,
    params: [...params.values()],
  };
}

/**
 * Returns `fn` compiled: the first call with new argument shapes traces it into a graph, fuses
 * its elementwise chains and plans its buffers; later calls with the same shapes replay the
 * plan. Results equal `fn`'s (bit for bit where the fused ops are exactly rounded; see
 * docs/jit.md for exp, log, tanh and sigmoid), and gradients flow through it.
 */
export function jit<A extends JitArg[], R extends TracedOutputs>(
  fn: (...args: A) => R,
  options: JitOptions = {},
): JittedFunction<A, R> {
  const capacity = options.cacheSize ?? 16;
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new WiregradError(`jit: cacheSize must be an integer >= 1, got ${capacity}`);
  const name = options.name ?? (fn.name !== '' ? fn.name : undefined);
  const label = `jit(${name ?? 'anonymous'})`;
  const fuse = options.fuse ?? true;
  const cache = new Map<string, Compiled>();
  let hits = 0;
  let misses = 0;
  let evictions = 0;

  const lookup = (args: readonly JitArg[]): Compiled => {
    const key = keyOf(label, args);
    const known = cache.get(key);
    if (known) {
      hits++;
      cache.delete(key); // re-insert: Map order is the LRU order
      cache.set(key, known);
      return known;
    }
    misses++;
    const compiled = compile(fn as (...args: JitArg[]) => R, args, key, label, name, fuse);
    cache.set(key, compiled);
    while (cache.size > capacity) {
      cache.delete(cache.keys().next().value!);
      evictions++;
    }
    return compiled;
  };

  const jitted = (...args: A): R => {
    // Inside an outer trace the body runs as is, so that trace records its ops.
    if (state.tracer) return fn(...args);
    const compiled = lookup(args);
    const tensors = args.filter((a): a is Tensor => a instanceof Tensor);
    const taped =
      state.observers.length > 0 ||
      (gradEnabled() &&
        (tensors.some((t) => t.requiresGrad) || compiled.params.some((p) => p.requiresGrad)));
    const outputs = taped ? compiled.plan.runTaped(tensors) : compiled.plan.runFast(tensors);
    return rebuild(compiled.structure, outputs) as R;
  };
  return Object.assign(jitted, {
    stats: (): JitCacheStats => ({ hits, misses, evictions, size: cache.size, capacity }),
    clear: (): void => cache.clear(),
    inspect: (...args: A): CompiledInfo => lookup(args).info,
  });
}
