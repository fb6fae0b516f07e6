/**
 * The app's side of the autodiff teacher (the Learn tab): one zustand store per editor with
 * where the lesson stands, and `Teaching`, which drives the engine worker's teacher
 * (`teach/start`, `teach/forward|backward|back|next`, `teach/jump`) for the current document.
 * Moves are queued one after another, so the play timer and the keyboard never race. The store
 * also holds what the canvas draws: for each canvas node, whether it is the current step, has
 * been evaluated or differentiated, with its value and gradient as short text (`marks`).
 * While a lesson is on, clicking a canvas node jumps to it.
 */

import { type StoreApi, createStore } from 'zustand/vanilla';
import type { EngineClient } from '../../engine/protocol/client.js';
import type { GraphCheck, Lesson, TeachMove, TeachState } from '../../engine/protocol/messages.js';
import type { GraphJSON } from '../state/document.js';
import type { Editor } from '../state/editor.js';
import type { DocumentView } from '../state/view.js';
import { formatValue } from './format.js';
import { planTeaching } from './setup.js';

/** How a canvas node is drawn while teaching. */
export interface NodeMark {
  readonly status: 'current' | 'evaluated' | 'differentiated';
  /** The node's output value, once evaluated. */
  readonly value: string | null;
  /** ∂L/∂(the node's output), once its gradient is complete. */
  readonly grad: string | null;
}

export interface TeachingState {
  /** 'idle': no lesson; 'starting': recording one; 'teaching': stepping. */
  readonly status: 'idle' | 'starting' | 'teaching';
  /** Why the lesson could not start or the last move failed, in words. */
  readonly problem: string | null;
  readonly lesson: Lesson | null;
  readonly state: TeachState | null;
  readonly playing: boolean;
  /** The graph the lesson was recorded from (the canvas may have changed since). */
  readonly graph: GraphJSON | null;
  /** Marks by canvas (view) node id. */
  readonly marks: ReadonlyMap<string, NodeMark>;
  /**
   * The L2 norm of ∂L/∂(value) by graph node id, for the values whose gradient is complete:
   * the canvas colours the edges leaving them as it colours trained gradients.
   */
  readonly gradNorms: ReadonlyMap<string, number>;
}

export const IDLE_TEACHING: TeachingState = {
  status: 'idle',
  problem: null,
  lesson: null,
  state: null,
  playing: false,
  graph: null,
  marks: new Map(),
  gradNorms: new Map(),
};

/** The play timer's period (ms). */
export const PLAY_INTERVAL_MS = 900;

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // The worker's message may carry a stack: people need its first line, without prefixes.
  return (text.split('\n')[0] ?? text).replace(/^engine: /, '').replace(/^\w*Error: /, '');
}

/** ‖∂L/∂value‖ for every graph node whose gradient is complete at `state`. */
export function gradientNorms(lesson: Lesson, state: TeachState): Map<string, number> {
  const walked = new Map(
    lesson.backward.slice(0, state.differentiated.length).map((b) => [b.id, b]),
  );
  const norms = new Map<string, number>();
  for (const [node, step] of Object.entries(lesson.nodes)) {
    const b = walked.get(step);
    if (b) norms.set(node, Math.hypot(...b.upstream.values));
  }
  return norms;
}

/** The canvas marks for `state` of `lesson` on the canvas `view`. */
export function canvasMarks(
  lesson: Lesson,
  state: TeachState,
  view: DocumentView,
): Map<string, NodeMark> {
  const marks = new Map<string, NodeMark>();
  const evaluated = new Set(state.evaluated);
  const byId = new Map(lesson.forward.map((s) => [s.id, s]));
  const walked = new Map(
    lesson.backward.slice(0, state.differentiated.length).map((b) => [b.id, b]),
  );
  for (const node of view.nodes) {
    const step = lesson.nodes[node.output];
    if (step === undefined || !evaluated.has(step)) continue;
    const b = walked.get(step);
    marks.set(node.id, {
      status: b ? 'differentiated' : 'evaluated',
      value: formatValue(byId.get(step)!.value),
      grad: b ? formatValue(b.upstream) : null,
    });
  }
  const current = state.current;
  if (current) {
    const graphNode = current.node ?? current.group ?? current.id;
    const owner = view.owner.get(graphNode) ?? (view.byId.has(graphNode) ? graphNode : null);
    if (owner !== null) {
      const mark = marks.get(owner);
      marks.set(owner, {
        status: 'current',
        value: mark?.value ?? formatValue(current.output),
        grad: mark?.grad ?? null,
      });
    }
  }
  return marks;
}

export interface TeachingOptions {
  readonly client: EngineClient;
  readonly editor: Editor;
  readonly playIntervalMs?: number;
}

export class Teaching {
  readonly store: StoreApi<TeachingState>;
  private readonly client: EngineClient;
  private readonly editor: Editor;
  private readonly playIntervalMs: number;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<typeof setInterval> | null = null;
  private unsubscribe: (() => void)[] = [];

  constructor(options: TeachingOptions) {
    this.client = options.client;
    this.editor = options.editor;
    this.playIntervalMs = options.playIntervalMs ?? PLAY_INTERVAL_MS;
    this.store = createStore<TeachingState>(() => IDLE_TEACHING);
    // Clicking one canvas node while teaching makes it the current step.
    const offSelection = this.editor.selection.subscribe((selection, before) => {
      if (this.store.getState().status !== 'teaching') return;
      if (selection.nodes.length !== 1 || selection.nodes[0] === before.nodes[0]) return;
      void this.jumpToCanvasNode(selection.nodes[0]!);
    });
    // Once the graph changes the lesson's numbers no longer belong on the canvas.
    const offDocument = this.editor.document.subscribe(() => {
      if (this.stale() && this.store.getState().marks.size > 0) {
        this.pause();
        this.store.setState({ marks: new Map(), gradNorms: new Map() });
      }
    });
    this.unsubscribe = [offSelection, offDocument];
  }

  /** Records a lesson for the current document and stands at its start. */
  async start(): Promise<void> {
    this.pause();
    let check: GraphCheck | null;
    try {
      check = await this.editor.whenAnalysed();
    } catch (error) {
      this.store.setState({ ...IDLE_TEACHING, problem: messageOf(error) });
      return;
    }
    const doc = this.editor.doc;
    const plan = planTeaching(doc, check);
    if ('problem' in plan) {
      this.store.setState({ ...IDLE_TEACHING, problem: plan.problem });
      return;
    }
    this.store.setState({ ...IDLE_TEACHING, status: 'starting' });
    await this.enqueue(async () => {
      try {
        const { lesson, state } = await this.client.startTeaching(
          doc.graph,
          plan.setup.inputs,
          plan.setup.root,
        );
        this.store.setState({
          status: 'teaching',
          problem: null,
          lesson,
          state,
          playing: false,
          graph: doc.graph,
          marks: canvasMarks(lesson, state, this.editor.view),
          gradNorms: gradientNorms(lesson, state),
        });
      } catch (error) {
        this.store.setState({ ...IDLE_TEACHING, problem: messageOf(error) });
      }
    });
  }

  /** Ends the lesson (the canvas goes back to normal). */
  stop(): void {
    this.pause();
    this.store.setState(IDLE_TEACHING);
  }

  /** Evaluates the next node. */
  forward(): Promise<void> {
    return this.move('teach/forward');
  }

  /** Differentiates the next node, in reverse topological order (finishing forward first). */
  backward(): Promise<void> {
    return this.move('teach/backward');
  }

  /** Undoes one step. */
  back(): Promise<void> {
    return this.move('teach/back');
  }

  /** One step on: forward while evaluating, then backward. */
  next(): Promise<void> {
    return this.move('teach/next');
  }

  /** Makes a graph node (or lesson step) current, in the current phase. */
  jump(node: string, phase?: 'forward' | 'backward'): Promise<void> {
    return this.apply(() => this.client.teachJump(node, phase));
  }

  /** Back to the start: the lesson is recorded again from the canvas as it is now. */
  restart(): Promise<void> {
    return this.start();
  }

  play(): void {
    const s = this.store.getState();
    if (s.status !== 'teaching' || this.timer !== null) return;
    if (s.state?.phase === 'done') return;
    this.store.setState({ playing: true });
    this.timer = setInterval(() => {
      const st = this.store.getState().state;
      if (!st || st.phase === 'done' || this.store.getState().status !== 'teaching') this.pause();
      else void this.next();
    }, this.playIntervalMs);
    void this.next();
  }

  pause(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.store.getState().playing) this.store.setState({ playing: false });
  }

  togglePlay(): void {
    if (this.store.getState().playing) this.pause();
    else this.play();
  }

  dispose(): void {
    this.pause();
    for (const off of this.unsubscribe.splice(0)) off();
  }

  /** Whether the canvas graph differs from the one the lesson was recorded from. */
  private stale(): boolean {
    const s = this.store.getState();
    return s.status === 'teaching' && s.graph !== this.editor.doc.graph;
  }

  private jumpToCanvasNode(viewId: string): Promise<void> {
    const node = this.editor.view.byId.get(viewId);
    if (!node) return Promise.resolve();
    return this.jump(node.output);
  }

  private move(move: TeachMove): Promise<void> {
    return this.apply(() => this.client.teach(move));
  }

  private apply(request: () => Promise<TeachState>): Promise<void> {
    return this.enqueue(async () => {
      const s = this.store.getState();
      if (s.status !== 'teaching' || !s.lesson) return;
      try {
        const state = await request();
        const stale = this.stale();
        this.store.setState({
          state,
          problem: null,
          marks: stale ? new Map() : canvasMarks(s.lesson, state, this.editor.view),
          gradNorms: stale ? new Map() : gradientNorms(s.lesson, state),
        });
        if (state.phase === 'done') this.pause();
      } catch (error) {
        this.store.setState({ problem: messageOf(error) });
      }
    });
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task, task);
    this.queue = run;
    return run;
  }
}
