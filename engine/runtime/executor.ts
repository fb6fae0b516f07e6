/**
 * The parallel executor (TensorFlow's executor design): every step of a graph's plan waits on
 * a count of unfinished inputs; steps whose count reaches zero join a ready queue, and ready
 * steps go to idle CPU lanes (worker threads sharing the heap, see lanes/pool.ts), so
 * independent branches run at the same time. A large matmul that finds more idle lanes than
 * ready work is split into row blocks across them. Behind a lane's running step the executor
 * queues the step that waits only on it, so a chain runs on one lane without a round trip
 * through the main thread between links (a lane runs its tasks in order). Cheap steps
 * (views, small elementwise ops, creation ops, composites that must run whole) run inline on
 * the main thread, "lane 0", where messaging would cost more than the op. The main thread
 * allocates every output before its step is dispatched and frees each intermediate after its
 * last reader finishes.
 *
 * Results equal `graph.run`'s bitwise: the steps are the same kernels with the same
 * attributes, and matmul row blocks fall on the kernel's micro-tile rows, so every output
 * element is summed in the same order. Backward runs here too: run the graph that
 * `differentiate` makes, and independent gradient branches run in parallel.
 *
 * The run records no autodiff tape (its outputs are plain tensors; take gradients with
 * `differentiate`) and its outputs belong to no `tidy` scope (the caller disposes them).
 * Lane steps appear in execution events with their lane number (1 …); inline ones on lane 0.
 */

import { getBackend } from '../backend/backend.js';
import { cpuBackend } from '../backend/cpu/index.js';
import { type MatmulAttrs, planMatmul } from '../backend/cpu/kernels/nn.js';
import type { MatmulParams } from '../backend/wasm/kernels.js';
import { bytesPerElement } from '../core/dtype.js';
import { WiregradError } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import type { Graph } from '../graph/graph.js';
import { atNode } from '../graph/ir.js';
import { type RunOptions, graphSources } from '../graph/run.js';
import { Tensor } from '../tensor.js';
import { runOp } from './dispatch.js';
import { type EventName, enterNode, enterPhase, isObserving, recordLaneOp } from './events.js';
import { type ExecutionPlan, type PlanStep, cachedPlan } from './lanes/plan.js';
import type { LanePool, LaneTask, LaneTiming } from './lanes/pool.js';
import type { LaneTensor } from './lanes/protocol.js';
import { keep, tidy } from './scope.js';
import { state } from './state.js';

export interface ParallelRunOptions extends RunOptions {
  /** The lanes to run on. Without a pool (or with `lanes: 0`) every step runs inline. */
  readonly pool?: LanePool | null;
  /** Use at most this many of the pool's lanes (default: all). */
  readonly lanes?: number;
  /**
   * Elementwise and other light steps whose largest operand has fewer elements run inline on
   * the main thread (default 65,536: below that, a round trip to a lane, about 0.1 ms on a
   * busy 2-core machine, costs more than the op).
   * Matmul and convolutions always go to lanes. 0 sends every kernel step to a lane.
   */
  readonly inlineBelow?: number;
  /** Matmuls of at least this many flops are split across idle lanes (default 2²⁵). */
  readonly splitMinFlops?: number;
  /**
   * The most tasks a lane has queued at once: a chain of steps goes this far ahead without a
   * round trip through this thread (default 8; 1: none).
   */
  readonly lookahead?: number;
  /**
   * How execution events name each node's ops (node id → name and phase), e.g. a gradient
   * graph's backward nodes as `grad:<forward node>` (`namingTracedOps`); default the node id
   * in the current phase.
   */
  readonly eventNames?: ReadonlyMap<string, EventName>;
}

const DEFAULT_INLINE_BELOW = 65536;
const DEFAULT_SPLIT_MIN_FLOPS = 2 ** 25;
const F32 = 4;
/** Ops heavy enough per element that they always go to a lane. */
const HEAVY_OPS = new Set(['matmul', 'conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter']);

/** Ready steps by index (the plan's topological order), so runs are deterministic. */
export class ReadyQueue {
  private readonly heap: number[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(step: number): void {
    const h = this.heap;
    h.push(step);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]! <= step) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = step;
  }

  pop(): number | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && h[r]! < h[l]! ? r : l;
        if (h[c]! >= last) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function laneTensor(t: Tensor): LaneTensor {
  const s = t.storage!;
  return { ptr: s.id, bytes: s.bytes, shape: t.shape, dtype: t.dtype };
}

/**
 * Row blocks per lane of a split matmul. The lanes share the blocks out as they go, so a lane
 * that starts late or is slowed down does fewer; each block repacks B, so not too many.
 */
const BLOCKS_PER_LANE = 2;

/**
 * Splits matmul a·b → out into WebAssembly matmul calls for `lanes` lanes to share (file
 * comment): whole batch pieces when there are enough, else row blocks on multiples of the
 * micro-tile height `mr`, so that every block makes the same tiles as one call does.
 */
function splitMatmul(
  a: Tensor,
  b: Tensor,
  out: Tensor,
  attrs: MatmulAttrs,
  lanes: number,
  mr: number,
): MatmulParams[] {
  const p = planMatmul(a.shape, b.shape, attrs);
  const base = (offset: number, t: Tensor) => t.storage!.id + offset * F32;
  const call = (piece: (typeof p.pieces)[number], r0: number, r1: number): MatmulParams => ({
    a: base(piece.aOffset + r0 * p.aRowStride, a),
    b: base(piece.bOffset, b),
    c: base(piece.oOffset + r0 * p.n, out),
    m: r1 - r0,
    n: p.n,
    k: p.k,
    aRowStride: p.aRowStride,
    aColStride: p.aColStride,
    bRowStride: p.bRowStride,
    bColStride: p.bColStride,
  });
  if (p.pieces.length >= lanes) return p.pieces.map((piece) => call(piece, 0, p.m));
  const blocks = Math.ceil((lanes * BLOCKS_PER_LANE) / p.pieces.length);
  const rows = Math.ceil(Math.ceil(p.m / blocks) / mr) * mr;
  const parts: MatmulParams[] = [];
  for (const piece of p.pieces)
    for (let r0 = 0; r0 < p.m; r0 += rows) parts.push(call(piece, r0, Math.min(p.m, r0 + rows)));
  return parts;
}

/** Where a step is: waiting for inputs, in the ready queue, dispatched, finished. */
const WAITING = 0;
const READY = 1;
const DISPATCHED = 2;
const FINISHED = 3;
/**
 * The most tasks queued on one lane ahead of its answers (default). A chain runs this far
 * without a round trip through the main thread; more would only hold tensors allocated early.
 */
const DEFAULT_LOOKAHEAD = 8;

/** One run of a plan; see the file comment. */
class Run {
  private readonly values: (Tensor | undefined)[];
  private readonly waiting: Int32Array;
  private readonly uses: Int32Array;
  private readonly where: Uint8Array;
  private readonly ready = new ReadyQueue();
  /** The pool's lanes this run uses. */
  private readonly lanes: number[] = [];
  /** Tasks outstanding per lane (by pool lane index). */
  private readonly busy: Int32Array;
  /**
   * What completes on each lane, in order: whole steps (their index) and, as `~index`, views
   * made early of a value the lane has still to compute, which complete right after the
   * step before them (split matmul parts are not listed).
   */
  private readonly queued: number[][];
  /** The lane a dispatched step or early view completes on (its queue), else -1. */
  private readonly laneOf: Int16Array;
  private readonly laneInfo: { fast: boolean; mr: number };
  private readonly observing = isObserving();
  private finished = 0;
  private inFlight = 0;
  private failure: Error | null = null;
  private settle!: { resolve: () => void; reject: (e: Error) => void };

  constructor(
    private readonly plan: ExecutionPlan,
    private readonly pool: LanePool | null,
    lanes: number,
    private readonly protectedSteps: ReadonlySet<number>,
    private readonly inlineBelow: number,
    private readonly splitMinFlops: number,
    private readonly eventNames: ReadonlyMap<string, EventName> | null = null,
    private readonly lookahead = DEFAULT_LOOKAHEAD,
  ) {
    const n = plan.steps.length;
    this.values = new Array<Tensor | undefined>(n);
    this.waiting = new Int32Array(n);
    this.uses = new Int32Array(n);
    this.where = new Uint8Array(n);
    this.laneOf = new Int16Array(n).fill(-1);
    for (const step of plan.steps) {
      this.waiting[step.index] = new Set(step.inputs).size;
      this.uses[step.index] = plan.consumers[step.index]!.length;
    }
    for (let i = 0; i < lanes; i++) if (pool?.usable(i)) this.lanes.push(i);
    this.busy = new Int32Array(lanes);
    this.queued = Array.from({ length: lanes }, () => []);
    const info = this.lanes.map((i) => pool!.info[i]!);
    this.laneInfo = {
      fast: info.length > 0 && info.every((l) => l.fast),
      mr: info[0]?.mr ?? 1,
    };
  }

  execute(source: (step: PlanStep) => Tensor): Promise<void> {
    const done = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    for (const step of this.plan.steps)
      if (step.kind === 'source') {
        this.values[step.index] = source(step);
        this.complete(step);
      } else if (step.inputs.length === 0) this.makeReady(step.index);
    // (Steps with inputs become ready as their last input completes.)
    this.pump();
    return done;
  }

  /** The outputs' values; the caller owns them. */
  value(step: number): Tensor {
    return this.values[step]!;
  }

  /** Frees every value this run made (after a failure). */
  disposeAll(): void {
    for (const step of this.plan.steps)
      if (step.kind !== 'source') this.values[step.index]?.dispose();
  }

  private makeReady(index: number): void {
    this.where[index] = READY;
    this.ready.push(index);
  }

  private idleLanes(): number[] {
    return this.lanes.filter((l) => this.busy[l] === 0 && this.pool!.usable(l));
  }

  private inline(step: PlanStep): boolean {
    if (this.lanes.length === 0) return true;
    if (step.kind === 'node' || step.def.view || step.inputs.length === 0) return true;
    for (const i of step.inputs) if (this.values[i]!.device !== 'cpu') return true;
    if (HEAVY_OPS.has(step.def.name)) return false;
    // A reduction's work is its input's size, not its output's.
    let elements = sizeOf(step.meta.shape);
    for (const i of step.inputs) elements = Math.max(elements, this.values[i]!.size);
    return elements < this.inlineBelow;
  }

  /**
   * Starts whatever can start: inline steps at once, ready lane steps on idle lanes; then,
   * behind each lane's queued steps, the steps that wait only on them (the lane runs its
   * tasks in order), so a chain of steps does not wait for a round trip through this thread
   * between its links.
   */
  private pump(): void {
    const deferred: number[] = [];
    while (this.failure === null && this.ready.size > 0) {
      const index = this.ready.pop()!;
      const step = this.plan.steps[index]!;
      if (this.inline(step)) this.runInline(step);
      else {
        const idle = this.idleLanes();
        if (idle.length > 0) this.dispatch(step, idle);
        else deferred.push(index); // waits for a lane; inline steps behind it still run
      }
    }
    for (const index of deferred) this.ready.push(index);
    if (this.failure === null) for (const lane of this.lanes) this.chain(lane);
    this.maybeSettle();
  }

  /**
   * Queues on `lane`, behind the last step it will complete, a reader of that step whose
   * other inputs are finished or queued on the same lane, and so on along the chain (at most
   * `lookahead` tasks). A view on the way is made at once (it only shares its input's memory)
   * and completes with its input; steps small enough to run inline wait to do so. Other
   * readers of a step become ready when it finishes, for idle lanes.
   */
  private chain(lane: number): void {
    const queue = this.queued[lane]!;
    while (this.failure === null && queue.length > 0 && this.busy[lane]! < this.lookahead) {
      const tail = queue[queue.length - 1]!;
      const next = this.continuation(tail < 0 ? ~tail : tail, lane);
      if (next === null) return;
      if (next.def.view) this.makeEarlyView(next, lane);
      else this.dispatch(next, [lane]);
      if (this.where[next.index] !== DISPATCHED) return; // it failed
    }
  }

  /** The reader of `host` that `chain` queues on `lane`, if any. */
  private continuation(host: number, lane: number): PlanStep | null {
    const others = this.idleLanes().length > 0;
    for (const c of this.plan.consumers[host]!) {
      if (this.where[c] !== WAITING) continue;
      const step = this.plan.steps[c]!;
      // Composites run whole on this thread; creation ops wait for nothing.
      if (step.kind === 'node' || step.inputs.length === 0) continue;
      let queuedHere = true;
      for (const i of step.inputs) {
        const at = this.where[i];
        if (at !== FINISHED && !(at === DISPATCHED && this.laneOf[i] === lane)) queuedHere = false;
        else if (this.values[i]!.device !== 'cpu') queuedHere = false;
      }
      if (!queuedHere) continue;
      if (step.def.view) {
        // An early view's data is not there yet: a recorder watching it would read it.
        if (this.observing) continue;
      } else if (this.inline(step)) continue; // small enough for this thread, beside the lanes
      // A matmul that could be split waits to become ready instead, unless it would start
      // next on this lane with no other lane idle: queued further ahead, it could not be
      // split when a lane frees up before it starts.
      if (this.splittable(step) && (others || this.busy[lane] !== 1)) continue;
      return step;
    }
    return null;
  }

  /** Makes view `step` of values `lane` has still to compute; it completes with them. */
  private makeEarlyView(step: PlanStep, lane: number): void {
    if (!this.evaluate(step)) return;
    this.where[step.index] = DISPATCHED;
    this.laneOf[step.index] = lane;
    this.queued[lane]!.push(~step.index);
  }

  private maybeSettle(): void {
    if (this.inFlight > 0) return;
    if (this.failure) this.settle.reject(this.failure);
    else if (this.finished === this.plan.steps.length) this.settle.resolve();
  }

  private fail(step: PlanStep, error: unknown): void {
    this.failure ??= atNode(error, step.node);
  }

  private runInline(step: PlanStep): void {
    if (this.evaluate(step)) this.complete(step);
  }

  /** Runs `step` on this thread into its value; false (and the run fails) on an error. */
  private evaluate(step: PlanStep): boolean {
    const inputs = step.inputs.map((i) => this.values[i]!);
    const name = this.eventNames?.get(step.node.id);
    const outer = enterNode(name?.node ?? step.node.id);
    const outerPhase = name ? enterPhase(name.phase) : null;
    state.noGradDepth++;
    try {
      // tidy frees the parts of a composite run whole; its result is ours to free, so a
      // composite that returns an input (an identity) gets a view of it instead.
      this.values[step.index] = keep(
        tidy(() => {
          const value = runOp(step.def.name, inputs, step.attrs);
          return inputs.includes(value) ? runOp('identity', [value]) : value;
        }),
      );
    } catch (e) {
      this.fail(step, e);
      return false;
    } finally {
      state.noGradDepth--;
      enterNode(outer);
      if (outerPhase !== null) enterPhase(outerPhase);
    }
    return true;
  }

  private allocate(step: PlanStep): Tensor {
    const size = sizeOf(step.meta.shape);
    const backend = getBackend('cpu');
    const bytes =
      backend.bytesFor?.(step.meta.dtype, size) ?? size * bytesPerElement(step.meta.dtype);
    return keep(new Tensor(step.meta.shape, step.meta.dtype, backend.allocate(bytes), 'cpu'));
  }

  /** Whether a matmul is big enough, and of the kind, to split into row blocks. */
  private splittable(step: PlanStep): boolean {
    if (step.def.name !== 'matmul' || !this.laneInfo.fast || cpuBackend.variant !== 'fast')
      return false;
    const [a, b] = step.inputs.map((i) => this.values[i]!);
    if (a!.dtype !== 'f32' || b!.dtype !== 'f32' || step.meta.dtype !== 'f32') return false;
    const p = planMatmul(a!.shape, b!.shape, step.attrs as MatmulAttrs);
    return p.k > 0 && 2 * p.m * p.n * p.k * p.pieces.length >= this.splitMinFlops;
  }

  /** How many of the `idle` lanes a ready step takes: all for a split matmul, else one. */
  private lanesFor(step: PlanStep, idle: readonly number[]): number {
    if (idle.length < 2 || this.ready.size > 0 || !this.splittable(step)) return 1;
    const [a, b] = step.inputs.map((i) => this.values[i]!);
    const p = planMatmul(a!.shape, b!.shape, step.attrs as MatmulAttrs);
    return Math.min(idle.length, Math.max(p.pieces.length, Math.ceil(p.m / this.laneInfo.mr)));
  }

  private dispatch(step: PlanStep, lanes: readonly number[]): void {
    const inputs = step.inputs.map((i) => this.values[i]!);
    let out: Tensor;
    try {
      out = this.allocate(step);
    } catch (e) {
      this.fail(step, e);
      return;
    }
    this.values[step.index] = out;
    this.where[step.index] = DISPATCHED;
    const split = this.lanesFor(step, lanes);
    let tasks: LaneTask[] = [
      {
        type: 'run',
        op: step.def.name,
        inputs: inputs.map(laneTensor),
        output: laneTensor(out),
        attrs: step.attrs,
        variant: cpuBackend.variant,
      },
    ];
    /** The claim words of a matmul's blocks shared by several lanes (lanes/protocol.ts). */
    let claims: number | null = null;
    if (split > 1) {
      const parts = splitMatmul(
        inputs[0]!,
        inputs[1]!,
        out,
        step.attrs as MatmulAttrs,
        split,
        this.laneInfo.mr,
      );
      const sharing = Math.min(split, parts.length);
      try {
        if (sharing > 1) claims = cpuBackend.heap.alloc(parts.length * 4);
      } catch (e) {
        this.fail(step, e);
        return;
      }
      if (claims !== null) {
        new Int32Array(cpuBackend.heap.buffer, claims, parts.length).fill(0);
        const task: LaneTask = { type: 'gemm', parts, claims };
        tasks = Array.from({ length: sharing }, () => task);
      } else tasks = [{ type: 'gemm', parts }];
    }
    let left = tasks.length;
    let unanswered = tasks.length;
    /** Frees the claim words once no lane can touch them any more. */
    const answered = (): void => {
      if (--unanswered === 0 && claims !== null) cpuBackend.heap.release(claims);
    };
    const whole = tasks.length === 1;
    if (whole) this.laneOf[step.index] = lanes[0]!;
    tasks.forEach((task, k) => {
      const lane = lanes[k]!;
      this.inFlight++;
      this.busy[lane]!++;
      if (whole) this.queued[lane]!.push(step.index);
      /** Takes the step off its lane's queue, with the early views that complete with it. */
      const finish = (): number[] => {
        this.inFlight--;
        this.busy[lane]!--;
        if (!whole) return [];
        const queue = this.queued[lane]!;
        queue.shift();
        const views: number[] = [];
        while (queue.length > 0 && queue[0]! < 0) views.push(~queue.shift()!);
        return views;
      };
      this.pool!.run(lane, task).then(
        (timing) => {
          answered();
          const views = finish();
          this.record(step, inputs, out, lane, timing);
          if (--left === 0 && this.failure === null) {
            this.complete(step);
            for (const v of views) this.complete(this.plan.steps[v]!);
          }
          this.pump();
        },
        (error: unknown) => {
          answered();
          finish();
          this.fail(step, error);
          this.pump();
        },
      );
    });
  }

  private record(
    step: PlanStep,
    inputs: readonly Tensor[],
    out: Tensor,
    lane: number,
    timing: LaneTiming,
  ): void {
    if (!this.observing) return;
    const name = this.eventNames?.get(step.node.id);
    try {
      recordLaneOp(
        step.def,
        inputs,
        out,
        name?.node ?? step.node.id,
        lane + 1,
        timing.start,
        timing.end,
        name?.phase,
      );
    } catch (e) {
      this.fail(step, e); // a numerics check that found NaN or Inf
    }
  }

  /** A step's value is ready: wake its readers and free inputs nobody reads any more. */
  private complete(step: PlanStep): void {
    this.finished++;
    this.where[step.index] = FINISHED;
    if (this.plan.consumers[step.index]!.length === 0) this.release(step.index); // read by none
    for (const c of this.plan.consumers[step.index]!)
      if (--this.waiting[c]! === 0 && this.where[c] === WAITING) this.makeReady(c);
    for (const i of new Set(step.inputs)) if (--this.uses[i]! === 0) this.release(i);
  }

  /** Frees a step's value once nothing reads it, unless it is a source or an output. */
  private release(index: number): void {
    if (this.plan.steps[index]!.kind === 'source' || this.protectedSteps.has(index)) return;
    this.values[index]?.dispose();
    this.values[index] = undefined;
  }
}

/**
 * Runs `graph` on the lanes of `options.pool` (see the file comment) and resolves with its
 * outputs by name, as `graph.run` returns them. Errors name the node and op; the pool stays
 * usable after one.
 */
export async function runGraphParallel(
  graph: Graph,
  inputs: Readonly<Record<string, Tensor>>,
  options: ParallelRunOptions = {},
): Promise<Record<string, Tensor>> {
  const pool = options.pool ?? null;
  if (pool?.closed)
    throw new WiregradError('the lane pool is closed; start a new one, or pass no pool');
  const lanes = Math.min(options.lanes ?? pool?.size ?? 0, pool?.size ?? 0);
  if (!Number.isInteger(lanes) || lanes < 0)
    throw new WiregradError(`lanes must be an integer >= 0, got ${options.lanes}`);
  const lookahead = options.lookahead ?? DEFAULT_LOOKAHEAD;
  if (!Number.isInteger(lookahead) || lookahead < 1)
    throw new WiregradError(`lookahead must be an integer >= 1, got ${options.lookahead}`);
  const source = graphSources(graph, inputs, options);
  const sources = new Map<string, Tensor>();
  for (const node of graph.nodes)
    if (node.op === 'input' || node.op === 'parameter' || node.op === 'constant')
      sources.set(node.id, source(node));
  const plan = cachedPlan(graph, sources);
  const outputs = new Set(graph.outputs.map((o) => plan.valueOf.get(o.node)!));
  const run = new Run(
    plan,
    pool,
    lanes,
    outputs,
    options.inlineBelow ?? DEFAULT_INLINE_BELOW,
    options.splitMinFlops ?? DEFAULT_SPLIT_MIN_FLOPS,
    options.eventNames ?? null,
    lookahead,
  );
  try {
    await run.execute((step) => sources.get(step.node.id)!);
  } catch (e) {
    run.disposeAll();
    throw e;
  }
  const out: Record<string, Tensor> = {};
  for (const o of graph.outputs) out[o.name] = run.value(plan.valueOf.get(o.node)!);
  return out;
}
