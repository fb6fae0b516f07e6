/**
 * CPU training on the worker's lanes. `WorkerLanes` holds the engine worker's one lane pool:
 * started on first use, reused by every training session, closed with the worker; when lanes
 * cannot start it says why once and training stays on one thread. `LaneGradients` runs a
 * training step's forward and backward as one graph (`differentiate`, specialised per batch
 * size) on the parallel executor, so independent branches and their gradients run on
 * different lanes, and hands back the loss, the output and every parameter's gradient; the
 * session then applies the optimiser on its own thread.
 *
 * The executor runs the same kernels with the same attributes as the single-thread step, and
 * `differentiate` records the same gradient rules in the same order as the tape's backward, so
 * a step on lanes updates the parameters bitwise as the single-thread step does (tested in
 * train-session-lanes.test.ts).
 */

import { WiregradError } from '../core/errors.js';
import { differentiate } from '../graph/differentiate.js';
import { isSourceOp } from '../graph/ir.js';
import { estimateOpCost } from '../placement/cost-model.js';
import { Graph } from '../graph/graph.js';
import { type EventName, namingTracedOps } from '../runtime/events.js';
import { runGraphParallel } from '../runtime/executor.js';
import type { LanePool } from '../runtime/lanes/pool.js';
import { dispose } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import { type RunningStatsNode, applyRunningStats } from '../train/running-stats.js';
import { startBrowserLanes } from './lanes.js';

/** The "CPU lanes" setting: 'auto' (one per core where shared memory is allowed) or a count. */
export type LaneSetting = number | 'auto';

/** Where a session gets its lanes: a pool once started, or null (one thread) with a note. */
export interface LaneSource {
  /** Resolves with the started pool, or null when lanes could not start (see `note`). */
  pool(): Promise<LanePool | null>;
  /** Why training runs on one thread although lanes were asked for; null while all is well. */
  readonly note: string | null;
}

/** A pool started once on first use and shared; a failed start is reported, not retried. */
export class WorkerLanes implements LaneSource {
  private starting: Promise<LanePool | null> | null = null;
  private started: LanePool | null = null;
  private failure: string | null = null;

  constructor(private readonly start: () => Promise<LanePool>) {}

  get note(): string | null {
    return this.failure;
  }

  pool(): Promise<LanePool | null> {
    this.starting ??= this.start().then(
      (pool) => (this.started = pool),
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        this.failure = `CPU lanes could not start (${reason}); training runs on one thread`;
        return null;
      },
    );
    return this.starting;
  }

  /** Closes the pool (if it started); a later `pool()` starts a fresh one. */
  async close(): Promise<void> {
    const starting = this.starting;
    this.starting = null;
    this.started = null;
    const pool = await starting;
    await pool?.close();
  }
}

/**
 * Whether shared WebAssembly memory works here: a shared memory can be made and its buffer is a
 * SharedArrayBuffer. Tested rather than read from `crossOriginIsolated`, because a host may
 * allow shared memory without isolation (Electron with Chromium's SharedArrayBuffer feature
 * switched on). Where the page is neither, browsers hide the SharedArrayBuffer global.
 */
export function sharedMemoryWorks(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return memory.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** Whether this host can share the CPU heap with lane workers (Web Workers + shared memory). */
export function hostAllowsLanes(): boolean {
  const g = globalThis as { Worker?: unknown };
  return typeof g.Worker === 'function' && sharedMemoryWorks();
}

/** The host's core count (navigator.hardwareConcurrency), at least 1. */
export function hostCores(): number {
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency;
  return Math.max(1, n ?? 1);
}

/** How many lanes a setting asks for on a host with `cores` cores (1: the single thread). */
export function laneCount(setting: LaneSetting | undefined, cores: number): number {
  if (setting === undefined || setting === 'auto') return Math.max(1, cores);
  if (!Number.isInteger(setting) || setting < 1)
    throw new WiregradError(`CPU lanes must be 'auto' or a whole number >= 1, got ${setting}`);
  return setting;
}

/**
 * Average forward FLOPs per compute op below which 'auto' keeps training on one thread: handing
 * an op to a lane costs tens of microseconds, about what a small op takes, so lanes only pay
 * when ops are large (measured: a 64-wide two-tower MLP trained about 2× slower on 2 lanes).
 */
export const AUTO_LANES_MIN_FLOPS_PER_OP = 2e6;

/** Average forward FLOPs per compute op of `graph` at `batch` (sources excluded). */
export function flopsPerOp(graph: Graph, batch: number): number {
  const metas = graph.inferShapes({ batch });
  let flops = 0;
  let ops = 0;
  for (const node of graph.nodes) {
    if (isSourceOp(node.op)) continue;
    const inputs = node.inputs.map((id) => metas.get(id)!);
    flops += estimateOpCost(node.op, inputs, metas.get(node.id)!, node.attrs).flops;
    ops++;
  }
  return ops === 0 ? 0 : flops / ops;
}

let workerPool: WorkerLanes | null = null;
/** How this worker starts its lanes when not as Web Workers (see `setWorkerLaneHost`). */
let hostStart: (() => Promise<LanePool>) | null = null;

/**
 * Makes this worker start its lanes with `start` instead of as Web Workers (an engine server
 * hosted in Node starts worker_threads lanes); null goes back to Web Workers. The pool already
 * started, if any, is kept until `closeWorkerLanes`.
 */
export function setWorkerLaneHost(start: (() => Promise<LanePool>) | null): void {
  hostStart = start;
}

/**
 * This worker's lanes for a session asking for `setting`: null when one lane is asked for, or
 * when the host cannot share memory (then training runs on one thread, as it always can).
 */
export function workerLanesFor(setting: LaneSetting | undefined): LaneSource | null {
  if (laneCount(setting, hostCores()) < 2) return null;
  const start = hostStart ?? (hostAllowsLanes() ? () => startBrowserLanes() : null);
  if (start === null) return null;
  return (workerPool ??= new WorkerLanes(start));
}

/**
 * Closes this worker's lane pool, if one was started, and waits until its lanes have ended
 * (the engine server calls it when it closes). A later session starts a fresh pool.
 */
export async function closeWorkerLanes(): Promise<void> {
  const pool = workerPool;
  workerPool = null;
  await pool?.close();
}

/** The gradient graph's output that hands back node `x`'s value for running statistics. */
function statsInputName(x: string): string {
  return `running-stats-input:${x}`;
}

/** What a step on lanes computed; the caller owns every tensor. */
export interface LaneStepOutputs {
  readonly loss: Tensor;
  readonly output: Tensor;
  /** Each parameter's gradient by parameter id (parameters the loss does not reach have none). */
  readonly grads: Map<string, Tensor>;
}

/** A training graph's forward and backward run on lanes; see the file comment. */
export class LaneGradients {
  /**
   * Gradient graphs by batch size (gradient rules build batch-specific shapes), with the names
   * their nodes' events take: a backward node's is `grad:<forward node>`, as on one thread.
   */
  private readonly graphs = new Map<
    number,
    { readonly graph: Graph; readonly names: ReadonlyMap<string, EventName> }
  >();

  /**
   * Kernel steps on fewer elements run on this thread (see `ParallelRunOptions.inlineBelow`).
   * 0 by default: the app's models are small, and with every kernel on a lane, a branch's chain
   * of ops runs on its lane without a round trip through this thread between its links, so
   * independent branches (and their gradients) run side by side.
   */
  inlineBelow = 0;

  /** The graph differentiated: `graph` with each running-statistics input as an output too. */
  private readonly graph: Graph;

  constructor(
    graph: Graph,
    private readonly io: {
      readonly data: string;
      readonly label: string;
      /** Output names of the loss and of the prediction. */
      readonly loss: string;
      readonly output: string;
    },
    /**
     * Batch norm nodes whose running statistics each step blends in from its batch, as the
     * single-thread step does (engine/train/running-stats.ts).
     */
    private readonly runningStats: readonly RunningStatsNode[] = [],
  ) {
    // The gradient graph computes each batch norm's input anyway; as an output, it comes back.
    const outputs = [...graph.outputs];
    for (const x of new Set(runningStats.map((s) => s.x)))
      outputs.push({ name: statsInputName(x), node: x });
    this.graph =
      outputs.length === graph.outputs.length
        ? graph
        : Graph.fromJSON({ ...graph.toJSON(), outputs });
  }

  /**
   * The phase of an event's node in a step on lanes: backward for `grad:<node>`, else forward.
   * (Lane events carry their phase; this is for ops the session runs outside any node.)
   */
  phaseOf(node: string): 'forward' | 'backward' {
    return node.startsWith('grad:') ? 'backward' : 'forward';
  }

  async run(
    pool: LanePool,
    lanes: number,
    x: Tensor,
    y: Tensor,
    params: ReadonlyMap<string, Tensor>,
  ): Promise<LaneStepOutputs> {
    const batch = x.shape[0]!;
    let gradient = this.graphs.get(batch);
    if (!gradient) {
      const { result: graph, names } = namingTracedOps(() =>
        differentiate(this.graph, { loss: this.io.loss, batch }),
      );
      gradient = { graph, names };
      this.graphs.set(batch, gradient);
    }
    const out = await runGraphParallel(
      gradient.graph,
      { [this.io.data]: x, [this.io.label]: y },
      { pool, lanes, params, inlineBelow: this.inlineBelow, eventNames: gradient.names },
    );
    const grads = new Map<string, Tensor>();
    const used = new Set<Tensor>();
    for (const id of params.keys()) {
      const g = out[`grad:${id}`];
      if (g) grads.set(id, g);
      if (g) used.add(g);
    }
    const loss = out[this.io.loss]!;
    const output = out[this.io.output]!;
    used.add(loss).add(output);
    // An output may be a source (a batch norm right on the data): it is not ours to free.
    used.add(x).add(y);
    for (const p of params.values()) used.add(p);
    try {
      const inputs = new Map<string, Tensor>();
      for (const s of this.runningStats) inputs.set(s.x, out[statsInputName(s.x)]!);
      applyRunningStats(this.runningStats, inputs, params);
    } finally {
      dispose(Object.values(out).filter((t) => !used.has(t)));
    }
    return { loss, output, grads };
  }
}
