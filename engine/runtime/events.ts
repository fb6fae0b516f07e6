/**
 * Execution events: what ran, where, when and on how many bytes, cheap enough to leave on while
 * training. An `ExecutionRecorder` receives one event per executed op (node id, op, lane,
 * device, start, end, bytes in and out, phase) from the dispatcher's observer hook, keeps the
 * latest ones in a bounded ring, computes tensor statistics for watched nodes, and can stop a
 * run at the first op that makes NaN or Inf from finite inputs (its origin, not where it was
 * noticed). `exportTrace` turns events into Chrome trace-event JSON (Perfetto, chrome://tracing).
 *
 * Attribution: `graph.run` wraps each node in `withNode(id)`, autodiff marks the ops of each
 * gradient rule `grad:<forward node>`, and optimizers run under the `optimizer` phase; ops
 * outside any node are named by op and a counter (`mul_3`). While no recorder runs, nothing is
 * registered with the dispatcher and the hooks cost a field write.
 */

import type { DeviceName } from '../backend/backend.js';
import { CpuBackend } from '../backend/cpu/cpu-backend.js';
import { type TypedArray, bytesPerElement, isFloat } from '../core/dtype.js';
import { NumericsError, WiregradError, formatShape } from '../core/errors.js';
import type { OpDef } from '../ops/registry.js';
import type { Tensor } from '../tensor.js';
import { type OpObserver, state } from './state.js';

/** Which part of a training step an op belongs to. */
export type Phase = 'forward' | 'backward' | 'optimizer';

/** Statistics of one tensor. `l2`, `mean`, `min` and `max` are over its finite values. */
export interface TensorStats {
  readonly l2: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  readonly nanCount: number;
  readonly infCount: number;
  /** Number of elements (finite or not). */
  readonly count: number;
}

/** One executed op. Times are `performance.now()` milliseconds. */
export interface ExecutionEvent {
  /** Position in the recording, from 0. */
  readonly seq: number;
  /** The graph node id, `grad:<node>` for backward ops, else the op name and a counter. */
  readonly node: string;
  readonly op: string;
  /**
   * The executor lane: 0 is the main thread (every op the dispatcher runs); 1, 2 … are the
   * parallel executor's worker lanes (runtime/executor.ts).
   */
  readonly lane: number;
  readonly device: DeviceName;
  /** When the op was dispatched and when it returned (for an asynchronous device: enqueued). */
  readonly start: number;
  readonly end: number;
  /** Logical sizes of the inputs and the output (a view op moves none of them). */
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly phase: Phase;
  /** Statistics of the output, for watched nodes on the CPU; null otherwise. */
  readonly stats: TensorStats | null;
}

/** Chooses watched outputs: by node id, or by a predicate on node id and op. */
export type WatchPredicate = (node: string, op: string) => boolean;

export interface RecorderOptions {
  /** How many events are kept; older ones are overwritten (default 65,536; 0 keeps none). */
  readonly capacity?: number;
  /** Throw a NumericsError at the first op that makes NaN or Inf from finite inputs. */
  readonly checkNumerics?: boolean;
}

// ---- what is executing now ---------------------------------------------------------------

const context = {
  node: null as string | null,
  phase: 'forward' as Phase,
};

/** The graph node each tape tensor was produced for, so backward ops can name it. */
let forwardNode = new WeakMap<Tensor, string>();

/** @internal Sets the executing node (null: none), returning the previous one to restore. */
export function enterNode(node: string | null): string | null {
  const outer = context.node;
  context.node = node;
  return outer;
}

/** @internal Sets the phase, returning the previous one to restore. */
export function enterPhase(phase: Phase): Phase {
  const outer = context.phase;
  context.phase = phase;
  return outer;
}

/** Runs `fn` with its ops attributed to graph node `id`. */
export function withNode<T>(id: string, fn: () => T): T {
  const outer = enterNode(id);
  try {
    return fn();
  } finally {
    context.node = outer;
  }
}

/** Runs `fn` with its ops marked as belonging to `phase`. */
export function withPhase<T>(phase: Phase, fn: () => T): T {
  const outer = enterPhase(phase);
  try {
    return fn();
  } finally {
    context.phase = outer;
  }
}

/** @internal Whether any recorder runs (autodiff names its ops only then). */
export function isObserving(): boolean {
  return hub.sinks.length > 0 || namers > 0;
}

/** How execution events name an op: its node (or `grad:<node>`) and its phase. */
export interface EventName {
  readonly node: string;
  readonly phase: Phase;
}

/** How many `namingTracedOps` calls are running (they turn autodiff's naming on). */
let namers = 0;

/**
 * Runs `fn`, which records ops into a traced graph (`differentiate`, say), and returns with its
 * result the event name each traced node would have had its op run eagerly: the node of
 * `graph.run` for each op of a composite, `grad:<forward node>` in the backward phase for the
 * ops of a gradient rule. The parallel executor gives lane events these names, so backward
 * steps of a gradient graph read as they do on one thread.
 */
export function namingTracedOps<T>(fn: () => T): { result: T; names: Map<string, EventName> } {
  const names = new Map<string, EventName>();
  const namer: OpObserver = {
    onOp(_def, _inputs, out) {
      const id = out.traceNode;
      if (id === null) return;
      const node = context.node ?? id;
      names.set(id, { node, phase: context.phase });
      if (out.producer !== null) forwardNode.set(out, node);
    },
  };
  namers++;
  state.observers.push(namer);
  try {
    return { result: fn(), names };
  } finally {
    namers--;
    state.observers.splice(state.observers.indexOf(namer), 1);
  }
}

/**
 * @internal Records an op that ran outside the dispatcher, on worker lane `lane` of the
 * parallel executor, with its times on this thread's clock (in `phase`, default the current).
 */
export function recordLaneOp(
  def: OpDef,
  inputs: readonly Tensor[],
  out: Tensor,
  node: string,
  lane: number,
  start: number,
  end: number,
  phase: Phase = context.phase,
): void {
  const outer = enterPhase(phase);
  try {
    for (const sink of hub.sinks) sink.record(def, inputs, out, node, start, end, lane);
  } finally {
    context.phase = outer;
  }
}

/** @internal The node name of the ops that differentiate tape tensor `t`. */
export function gradNodeOf(t: Tensor): string {
  return 'grad:' + (forwardNode.get(t) ?? t.producer?.def.name ?? 'tensor');
}

// ---- the one observer -------------------------------------------------------------------

/**
 * Registered with the dispatcher while at least one recorder runs. It names each op once
 * (so every recorder sees the same names) and hands it to the recorders.
 */
class EventHub implements OpObserver {
  readonly sinks: ExecutionRecorder[] = [];
  private counters = new Map<string, number>();

  onOp(def: OpDef, inputs: readonly Tensor[], out: Tensor, _attrs: object, start: number): void {
    if (out.isSymbolic) return; // recorded into a trace: nothing ran
    const end = performance.now();
    const node = context.node ?? this.eagerName(def.name);
    if (out.producer !== null) forwardNode.set(out, node);
    try {
      for (const sink of this.sinks) sink.record(def, inputs, out, node, start, end);
    } catch (e) {
      // The caller never receives the output: free it rather than leave it to a scope.
      out.dispose();
      throw e;
    }
  }

  private eagerName(op: string): string {
    const n = (this.counters.get(op) ?? 0) + 1;
    this.counters.set(op, n);
    return `${op}_${n}`;
  }

  resetNames(): void {
    this.counters = new Map();
    forwardNode = new WeakMap();
  }

  add(sink: ExecutionRecorder): void {
    if (this.sinks.includes(sink)) return;
    if (this.sinks.length === 0) {
      this.resetNames();
      state.observers.push(this);
    }
    this.sinks.push(sink);
  }

  remove(sink: ExecutionRecorder): void {
    const i = this.sinks.indexOf(sink);
    if (i < 0) return;
    this.sinks.splice(i, 1);
    if (this.sinks.length === 0) {
      const j = state.observers.indexOf(this);
      if (j >= 0) state.observers.splice(j, 1);
    }
  }
}

const hub = new EventHub();

// ---- statistics ---------------------------------------------------------------------------

/** A live view of a CPU tensor's data (no copy); null on devices without synchronous reads. */
function cpuView(t: Tensor): TypedArray | null {
  const s = t.storage;
  if (s === null || !(s.backend instanceof CpuBackend)) return null;
  return s.backend.view(s, t.dtype, t.size);
}

function statsOfData(data: TypedArray): TensorStats {
  let sum = 0;
  let squares = 0;
  let min = Infinity;
  let max = -Infinity;
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // v - v is 0 exactly for finite v, NaN for NaN and ±Inf: one test on the common path.
    if (v - v !== 0) {
      if (v !== v) nan++;
      else inf++;
      continue;
    }
    sum += v;
    squares += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const finite = data.length - nan - inf;
  return {
    l2: Math.sqrt(squares),
    mean: finite > 0 ? sum / finite : NaN,
    min: finite > 0 ? min : NaN,
    max: finite > 0 ? max : NaN,
    nanCount: nan,
    infCount: inf,
    count: data.length,
  };
}

function countNonFinite(data: TypedArray): number {
  let bad = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) bad++;
  }
  return bad;
}

/**
 * Statistics of a CPU tensor, in one pass over its data: L2 norm, mean, min and max of the
 * finite values, and the NaN and Inf counts. Other devices cannot be read synchronously: read
 * them with `await t.data()` first.
 */
export function tensorStats(t: Tensor): TensorStats {
  t.assertAlive('tensorStats');
  const data = cpuView(t);
  if (data === null)
    throw new WiregradError(
      `tensorStats reads data synchronously, which device '${t.device}' cannot do; read it ` +
        `with await t.data() and compute from that`,
    );
  return statsOfData(data);
}

// ---- numerics -----------------------------------------------------------------------------

/** What to do about a non-finite value, by the op that made it. */
const NUMERICS_HINTS: Readonly<Record<string, string>> = {
  log: 'log of 0 is -Inf and of a negative number NaN: keep its input positive (clamp it or add a small epsilon)',
  sqrt: 'sqrt of a negative number is NaN: clamp its input at 0 (and note its gradient at 0 is Inf)',
  div: 'a division by zero (or 0/0): add a small epsilon to the divisor',
  pow: 'a negative base with a fractional exponent is NaN, 0 to a negative power Inf: clamp the base',
  exp: 'exp overflows above about 88 in f32: subtract the maximum first (log-sum-exp) or clamp',
};

function describeNonFinite(data: TypedArray): string {
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v !== v) nan++;
    else if (v - v !== 0) inf++;
  }
  return [nan > 0 ? `${nan} NaN` : '', inf > 0 ? `${inf} Inf` : '']
    .filter((s) => s !== '')
    .join(' and ');
}

/** True when every input is finite (inputs the host cannot read are taken as finite). */
function inputsFinite(inputs: readonly Tensor[]): boolean {
  for (const t of inputs) {
    if (!isFloat(t.dtype)) continue;
    const data = cpuView(t);
    if (data !== null && countNonFinite(data) > 0) return false;
  }
  return true;
}

function numericsError(
  def: OpDef,
  inputs: readonly Tensor[],
  out: TypedArray,
  node: string,
): NumericsError {
  const shapes = inputs.map((t) => formatShape(t.shape)).join(' and ');
  const where =
    context.phase === 'backward' && node.startsWith('grad:')
      ? ` (in the backward pass, differentiating '${node.slice(5)}')`
      : '';
  const hint =
    NUMERICS_HINTS[def.name] ??
    'look at the values of its inputs (recorder.watch the nodes that feed it) to see what leads there';
  return new NumericsError(
    `produced ${describeNonFinite(out)} from finite inputs ${shapes}${where}; ${hint}`,
    { node, op: def.name },
  );
}

// ---- the recorder -------------------------------------------------------------------------

/**
 * Records execution events while started; see the file comment. Several recorders may run at
 * once; each sees every op.
 */
export class ExecutionRecorder {
  private readonly ring: ExecutionEvent[] = [];
  private readonly capacity: number;
  private next = 0;
  private total = 0;
  private checkNumerics: boolean;
  private watchedNodes: Set<string> | null = null;
  private watchPredicates: WatchPredicate[] = [];

  constructor(options: RecorderOptions = {}) {
    const capacity = options.capacity ?? 65536;
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new RangeError(`ExecutionRecorder: capacity must be an integer >= 0, got ${capacity}`);
    this.capacity = capacity;
    this.checkNumerics = options.checkNumerics ?? false;
  }

  /** Starts (or resumes) recording; `checkNumerics` overrides the constructor's option. */
  start(options: { readonly checkNumerics?: boolean } = {}): this {
    if (options.checkNumerics !== undefined) this.checkNumerics = options.checkNumerics;
    hub.add(this);
    return this;
  }

  /** Stops recording; the events stay until `clear()`. */
  stop(): this {
    hub.remove(this);
    return this;
  }

  get recording(): boolean {
    return hub.sinks.includes(this);
  }

  /** How many events since the last `clear()` were overwritten (the ring keeps the latest). */
  get dropped(): number {
    return Math.max(0, this.total - this.capacity);
  }

  /**
   * Drops the events and restarts op-name counters, so that repeated steps name their eager
   * ops alike (the counters are shared by every recorder).
   */
  clear(): this {
    this.ring.length = 0;
    this.next = 0;
    this.total = 0;
    hub.resetNames();
    return this;
  }

  /**
   * Computes statistics for the outputs of the chosen nodes (ids, or a predicate on node id
   * and op). Adds to what is already watched. Only CPU tensors are read; on other devices the
   * event's stats stay null (they cannot be read synchronously).
   */
  watch(target: Iterable<string> | WatchPredicate): this {
    if (typeof target === 'function') this.watchPredicates.push(target);
    else {
      this.watchedNodes ??= new Set();
      for (const id of target) this.watchedNodes.add(id);
    }
    return this;
  }

  unwatch(): this {
    this.watchedNodes = null;
    this.watchPredicates = [];
    return this;
  }

  /** The kept events, oldest first. */
  events(): ExecutionEvent[] {
    if (this.total <= this.capacity) return this.ring.slice();
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  private watches(node: string, op: string): boolean {
    if (this.watchedNodes !== null && this.watchedNodes.has(node)) return true;
    for (const p of this.watchPredicates) if (p(node, op)) return true;
    return false;
  }

  /** @internal Called by the hub for each executed op. */
  record(
    def: OpDef,
    inputs: readonly Tensor[],
    out: Tensor,
    node: string,
    start: number,
    end: number,
    lane = 0,
  ): void {
    let stats: TensorStats | null = null;
    const watched =
      (this.watchedNodes !== null || this.watchPredicates.length > 0) &&
      this.watches(node, def.name);
    // A view shares its input's data, so it cannot be where a NaN starts.
    const check = this.checkNumerics && !def.view && inputs.length > 0 && isFloat(out.dtype);
    const data = watched || check ? cpuView(out) : null;
    if (data !== null && watched) stats = statsOfData(data);

    if (this.capacity > 0) {
      let bytesIn = 0;
      for (const t of inputs) bytesIn += t.size * bytesPerElement(t.dtype);
      const event: ExecutionEvent = {
        seq: this.total,
        node,
        op: def.name,
        lane,
        device: out.device,
        start,
        end,
        bytesIn,
        bytesOut: out.size * bytesPerElement(out.dtype),
        phase: context.phase,
        stats,
      };
      if (this.ring.length < this.capacity) this.ring.push(event);
      else this.ring[this.next] = event;
      this.next = (this.next + 1) % this.capacity;
    }
    this.total++;

    // Ops without inputs (fill, random) make what their attributes ask for, -Inf masks included.
    if (check && data !== null) {
      const bad = stats !== null ? stats.nanCount + stats.infCount : countNonFinite(data);
      if (bad > 0 && inputsFinite(inputs)) throw numericsError(def, inputs, data, node);
    }
  }
}

/**
 * Runs `fn`, stopping at the first op that produces NaN or Inf from finite inputs with a
 * NumericsError naming its node and op. Ops whose inputs already hold NaN or Inf are not
 * blamed, so the error points at the origin, not at where the NaN was noticed.
 */
export function withNumericsCheck<T>(fn: () => T): T {
  const checker = new ExecutionRecorder({ capacity: 0, checkNumerics: true }).start();
  try {
    return fn();
  } finally {
    checker.stop();
  }
}

// ---- Chrome trace-event export ------------------------------------------------------------

/** One entry of the Chrome trace-event format ('X': a complete event, 'M': metadata). */
export interface TraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'M';
  readonly pid: number;
  readonly tid: number;
  /** Microseconds ('X' only). */
  readonly ts?: number;
  readonly dur?: number;
  readonly cat?: string;
  readonly args?: Readonly<Record<string, unknown>>;
}

/** The JSON object format of the trace-event spec, which Perfetto and chrome://tracing open. */
export interface ChromeTrace {
  readonly traceEvents: TraceEvent[];
  readonly displayTimeUnit: 'ms';
}

export interface TraceExportOptions {
  /** The process name shown on the track group (default 'wiregrad'). */
  readonly processName?: string;
}

/** Microseconds with nanosecond resolution, as the format allows fractional timestamps. */
function micros(ms: number): number {
  return Math.round(ms * 1e6) / 1e3;
}

/**
 * Chrome trace-event JSON for `events` (a recorder's, or a list): one 'X' event per op, named
 * by its node, with the phase as category and op, device and bytes as arguments, one thread
 * (track) per lane named "lane N". Timestamps count from the first event.
 */
export function exportTrace(
  events: readonly ExecutionEvent[] | ExecutionRecorder,
  options: TraceExportOptions = {},
): ChromeTrace {
  const list = events instanceof ExecutionRecorder ? events.events() : events;
  const pid = 1;
  let origin = Infinity;
  const lanes = new Set<number>([0]);
  for (const e of list) {
    if (e.start < origin) origin = e.start;
    lanes.add(e.lane);
  }
  const out: TraceEvent[] = [
    {
      name: 'process_name',
      ph: 'M',
      pid,
      tid: 0,
      args: { name: options.processName ?? 'wiregrad' },
    },
  ];
  for (const lane of [...lanes].sort((a, b) => a - b)) {
    out.push({ name: 'thread_name', ph: 'M', pid, tid: lane, args: { name: `lane ${lane}` } });
    out.push({ name: 'thread_sort_index', ph: 'M', pid, tid: lane, args: { sort_index: lane } });
  }
  for (const e of list) {
    const args: Record<string, unknown> = {
      op: e.op,
      device: e.device,
      bytesIn: e.bytesIn,
      bytesOut: e.bytesOut,
      seq: e.seq,
    };
    if (e.stats !== null) args['stats'] = e.stats;
    out.push({
      name: e.node,
      cat: e.phase,
      ph: 'X',
      pid,
      tid: e.lane,
      ts: micros(e.start - origin),
      dur: Math.max(0, micros(e.end - e.start)),
      args,
    });
  }
  return { traceEvents: out, displayTimeUnit: 'ms' };
}
