/**
 * A compiled plan: a graph with concrete shapes turned into a flat list of kernel calls over
 * numbered value slots, with each step's output shape, dtype and attributes, and the slots it
 * frees, all worked out once. Running it (`runFast`) allocates each intermediate buffer when
 * its step runs and frees it right after its last reader, calling the backends directly: no
 * shape inference, no Tensor objects, no scope bookkeeping per op. Only the outputs become
 * Tensors (in the caller's scope, as eager results are).
 *
 * The fast path records nothing on the autodiff tape and emits no execution events. When
 * either is wanted, `runTaped` evaluates the same graph node by node through `runOp`
 * (engine/graph/run.ts), which puts every node, fused ones included, on the tape and in the
 * events; its intermediates then live in the caller's scope as eager ones do.
 */

import {
  type Backend,
  type DeviceName,
  type KernelTensor,
  type Storage,
  getBackend,
} from '../backend/backend.js';
import { type DType, bytesPerElement } from '../core/dtype.js';
import { DisposedError, WiregradError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import { sizeOf } from '../core/shape.js';
import type { Graph, GraphNode } from '../graph/graph.js';
import { atNode } from '../graph/ir.js';
import { evaluateNodes } from '../graph/run.js';
import { getOp } from '../ops/registry.js';
import { state } from '../runtime/state.js';
import { Tensor } from '../tensor.js';

type SourceKind = 'arg' | 'param' | 'constant';

interface Source {
  readonly kind: SourceKind;
  readonly slot: number;
  readonly node: GraphNode;
  /** For args: the position among the tensor arguments. */
  readonly arg: number;
}

interface Step {
  readonly node: GraphNode;
  readonly op: string;
  readonly inputs: readonly number[];
  readonly out: number;
  readonly attrs: object;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
  readonly view: boolean;
  /** Where a step without inputs allocates. */
  readonly device: DeviceName | undefined;
  /** Intermediate slots whose last reader is this step. */
  readonly frees: readonly number[];
}

/** What a plan holds, for tests and tools. */
export interface PlanInfo {
  /** Steps that run a kernel (views are not kernels). */
  readonly kernels: number;
  /** Steps that only make a view (reshape, identity). */
  readonly views: number;
  /** `fusedElementwise` steps. */
  readonly fused: number;
  /** The most intermediate bytes alive at once while the plan runs. */
  readonly peakBytes: number;
}

function release(s: Storage): void {
  s.refs--;
  if (s.refs === 0) s.backend.release(s);
}

function bytesOf(backend: Backend, dtype: DType, size: number): number {
  return backend.bytesFor ? backend.bytesFor(dtype, size) : size * bytesPerElement(dtype);
}

function asKernelTensor(t: Tensor, what: string): KernelTensor {
  t.assertAlive(what);
  return { storage: t.storage!, shape: t.shape, dtype: t.dtype, size: t.size };
}

export class Plan {
  readonly info: PlanInfo;
  private readonly sources: Source[] = [];
  private readonly steps: Step[] = [];
  private readonly outputSlots: number[];
  private readonly slotCount: number;

  /**
   * `argNodes[i]` is the input node fed by tensor argument i; `params` holds the live tensors
   * the graph's parameter nodes stand for.
   */
  constructor(
    readonly graph: Graph,
    private readonly argNodes: readonly string[],
    private readonly params: ReadonlyMap<string, Tensor>,
    private readonly label: string,
  ) {
    const metas = graph.inferShapes();
    const slotOf = new Map<string, number>();
    graph.nodes.forEach((n, i) => slotOf.set(n.id, i));
    this.slotCount = graph.nodes.length;
    const lastRead = new Map<number, number>();
    const outputs = new Set(graph.outputs.map((o) => slotOf.get(o.node)!));
    for (const node of graph.nodes) {
      const slot = slotOf.get(node.id)!;
      if (node.op === 'input' || node.op === 'parameter' || node.op === 'constant') {
        const kind: SourceKind =
          node.op === 'input' ? 'arg' : node.op === 'parameter' ? 'param' : 'constant';
        const arg = argNodes.indexOf(node.id);
        if (kind === 'arg' && arg < 0)
          throw new WiregradError(`${label}: input node '${node.id}' is fed by no argument`);
        this.sources.push({ kind, slot, node, arg });
        continue;
      }
      const meta = metas.get(node.id)!;
      const inputs = node.inputs.map((id) => slotOf.get(id)!);
      for (const s of inputs) lastRead.set(s, this.steps.length);
      const def = getOp(node.op);
      const pinned = node.device !== undefined && inputs.length === 0;
      this.steps.push({
        node,
        op: node.op,
        inputs,
        out: slot,
        attrs: pinned ? { ...node.attrs, device: node.device } : node.attrs,
        shape: meta.shape,
        dtype: meta.dtype,
        size: sizeOf(meta.shape),
        view: def.view === true,
        device: node.device,
        frees: [],
      });
    }
    // Each intermediate is freed after its last reader (or at once, when nothing reads it).
    const isSource = new Set(this.sources.map((s) => s.slot));
    const producers = new Map(this.steps.map((step) => [step.out, step]));
    let live = 0;
    let peak = 0;
    this.steps.forEach((step, i) => {
      if (!step.view) live += step.size * bytesPerElement(step.dtype);
      peak = Math.max(peak, live);
      const frees: number[] = [];
      for (const s of new Set([...step.inputs, step.out])) {
        if (isSource.has(s) || outputs.has(s)) continue;
        if ((lastRead.get(s) ?? i) === i) frees.push(s);
      }
      (step.frees as number[]).push(...frees);
      for (const s of frees) {
        const producer = producers.get(s)!;
        if (!producer.view) live -= producer.size * bytesPerElement(producer.dtype);
      }
    });
    this.outputSlots = graph.outputs.map((o) => slotOf.get(o.node)!);
    this.info = {
      kernels: this.steps.filter((s) => !s.view).length,
      views: this.steps.filter((s) => s.view).length,
      fused: this.steps.filter((s) => s.op === 'fusedElementwise').length,
      peakBytes: peak,
    };
  }

  private sourceTensor(source: Source, args: readonly Tensor[]): Tensor {
    switch (source.kind) {
      case 'arg':
        return args[source.arg]!;
      case 'param': {
        const t = this.params.get(source.node.id);
        if (!t || t.isDisposed)
          throw new DisposedError(
            `${this.label}: the captured tensor '${source.node.name ?? source.node.id}' was ` +
              `disposed; a jitted function keeps using the tensors it captured, so keep them ` +
              `alive (or call jitted.clear() and recompile)`,
            { node: source.node.id, op: 'parameter' },
          );
        return t;
      }
      case 'constant':
        return this.graph.constant(source.node);
      default:
        return source.kind satisfies never;
    }
  }

  /** Runs the plan without the tape; returns the outputs in the graph's output order. */
  runFast(args: readonly Tensor[]): Tensor[] {
    const values: (KernelTensor | undefined)[] = new Array<KernelTensor | undefined>(
      this.slotCount,
    );
    const tensors = new Map<number, Tensor>();
    for (const source of this.sources) {
      const t = this.sourceTensor(source, args);
      values[source.slot] = asKernelTensor(t, this.label);
      tensors.set(source.slot, t);
    }
    let current: Step | null = null;
    try {
      for (const step of this.steps) {
        current = step;
        const inputs = step.inputs.map((s) => values[s]!);
        const first = inputs[0];
        const backend = first
          ? first.storage.backend
          : getBackend(step.device ?? state.defaultDevice);
        for (const t of inputs)
          if (t.storage.backend !== backend)
            throw new WiregradError(
              `inputs live on different devices (${inputs
                .map((i) => i.storage.backend.device)
                .join(', ')}); move them with t.to('${backend.device}') first`,
              { op: step.op },
            );
        let storage: Storage;
        if (step.view) {
          storage = first!.storage;
          storage.refs++;
          values[step.out] = { storage, shape: step.shape, dtype: step.dtype, size: step.size };
        } else {
          storage = backend.allocate(bytesOf(backend, step.dtype, step.size));
          const out = { storage, shape: step.shape, dtype: step.dtype, size: step.size };
          values[step.out] = out;
          backend.run(step.op, inputs, out, step.attrs);
        }
        for (const s of step.frees) {
          release(values[s]!.storage);
          values[s] = undefined;
        }
      }
    } catch (e) {
      // Free what this call allocated; nothing leaks from a failed step.
      for (const step of this.steps) {
        const v = values[step.out];
        if (v) release(v.storage);
        values[step.out] = undefined;
      }
      throw current ? atNode(e, current.node) : e;
    }
    const made = new Map<number, Tensor>();
    return this.outputSlots.map((slot) => {
      const known = tensors.get(slot);
      if (known && this.sources.find((s) => s.slot === slot)!.kind !== 'constant') return known;
      let t = made.get(slot);
      if (!t) {
        const v = values[slot]!;
        // A constant is handed out as a new tensor sharing its storage (the plan keeps its own).
        if (known) v.storage.refs++;
        t = new Tensor(v.shape, v.dtype, v.storage, v.storage.backend.device);
        made.set(slot, t);
      }
      return t;
    });
  }

  /** Runs the graph node by node through `runOp`: on the tape and in execution events. */
  runTaped(args: readonly Tensor[]): Tensor[] {
    const bySlot = new Map(this.sources.map((s) => [s.node.id, s]));
    const values = evaluateNodes(this.graph, (node) =>
      this.sourceTensor(bySlot.get(node.id)!, args),
    );
    return this.graph.outputs.map((o) => values.get(o.node)!);
  }
}
