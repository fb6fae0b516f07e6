/**
 * Reverse-mode autodiff over the tape. From a root tensor, order the tensors it depends on
 * topologically, then walk them in reverse, calling each producer's gradient rule with (inputs,
 * output, upstream gradient) and summing the contributions of every consumer. Gradient rules
 * are built from ops, so with `createGraph` the backward pass is itself on the tape and can be
 * differentiated again (grad of grad). Without it, backward runs with recording off and frees
 * each intermediate gradient as soon as it has been passed on. Optional hooks (`onStep`,
 * `onContribution`) report each step and each summed contribution at the point where the walk
 * does that work, so tools that show or measure backward (the autodiff teacher, the training
 * view's edge gradients) see backward's own order and sums rather than a copy of the walk;
 * absent hooks cost a test each, nothing more.
 */

import { WiregradError, formatShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import type { TapeEntry, Tensor } from '../tensor.js';
import { state } from '../runtime/state.js';
import { keep } from '../runtime/scope.js';
import { enterNode, enterPhase, gradNodeOf, isObserving } from '../runtime/events.js';
import * as ops from '../ops/index.js';

/**
 * One step of the walk, in reverse topological order: `tensor`'s gradient is complete. Its
 * tensors are valid only during the call: without `createGraph`, backward frees the upstream
 * and the input gradients right after the step, so a hook must read or copy what it needs then.
 */
export interface WalkStep {
  readonly tensor: Tensor;
  /**
   * The op whose gradient rule just ran on `upstream`; null where the walk stops (a leaf, or
   * one of `targets`), `upstream` then being a result.
   */
  readonly producer: TapeEntry | null;
  /** The gradient of the root with respect to `tensor`: the sum of its contributions. */
  readonly upstream: Tensor;
  /**
   * What the rule returned for each input, in argument order (shapes checked; null or missing
   * where it gives none); empty where `producer` is null. Only inputs that require gradients
   * are summed, each reported to `onContribution`.
   */
  readonly inputGradients: readonly (Tensor | null | undefined)[];
}

/**
 * One contribution summed into an input's gradient, reported right after the sum is made. As
 * for steps, the tensors may be freed when the call returns: read or copy them during it.
 */
export interface WalkContribution {
  /** The tensor whose producer's rule produced the contribution (the step's `tensor`). */
  readonly consumer: Tensor;
  /** Which of the producer's inputs it is for (a value used twice gets two). */
  readonly index: number;
  readonly input: Tensor;
  readonly contribution: Tensor;
  /** `input`'s gradient summed so far, this one included (the contribution itself when first). */
  readonly sum: Tensor;
}

/** Observers of the walk; see `WalkStep` for how long the tensors they see live. */
export interface BackwardHooks {
  /** Called once per step: after the rule ran (before its results are summed), or at a result. */
  readonly onStep?: (step: WalkStep) => void;
  /** Called once per contribution, in the order backward sums them. */
  readonly onContribution?: (contribution: WalkContribution) => void;
}

export interface BackwardOptions extends BackwardHooks {
  /** Record the backward pass on the tape, so its results can be differentiated again. */
  readonly createGraph?: boolean;
}

export interface WalkOptions extends BackwardOptions {
  /** The root's upstream gradient (default: ones, for a scalar root). */
  readonly gradient?: Tensor;
  /** Where to stop: their gradients are the results (default: every leaf reached). */
  readonly targets?: readonly Tensor[];
}

/**
 * Tensors `root` depends on through the tape, inputs before consumers. With targets, the walk
 * goes no further than the targets need: below a target only when another target lies behind
 * it (the gradient of a target is the total one, also through other targets, as in PyTorch).
 */
function topoOrder(root: Tensor, stops: ReadonlySet<Tensor>): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: deep graphs (long RNN unrolls, 1000-layer stacks) must not overflow the stack.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs =
      t.producer && (stops.size === 0 || !stops.has(t) || behind(t, stops))
        ? t.producer.inputs
        : [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const child = inputs[i]!;
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/** Whether some tensor of `stops` lies strictly behind `t` on the tape (memoised per walk). */
function behind(t: Tensor, stops: ReadonlySet<Tensor>, memo = new Map<Tensor, boolean>()): boolean {
  const known = memo.get(t);
  if (known !== undefined) return known;
  // Iterative post-order, like topoOrder: deep graphs must not overflow the stack.
  const stack: [Tensor, number][] = [[t, 0]];
  const open = new Set<Tensor>([t]);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [u, i] = top;
    const inputs = u.producer ? u.producer.inputs : [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const x = inputs[i]!;
      if (x.requiresGrad && !memo.has(x) && !open.has(x)) {
        open.add(x);
        stack.push([x, 0]);
      }
    } else {
      stack.pop();
      memo.set(
        u,
        inputs.some((x) => x.requiresGrad && (stops.has(x) || memo.get(x) === true)),
      );
    }
  }
  return memo.get(t)!;
}

function seedGradient(root: Tensor, gradient: Tensor | undefined): Tensor {
  if (gradient) {
    if (!shapesEqual(gradient.shape, root.shape))
      throw new WiregradError(
        `backward: gradient ${formatShape(gradient.shape)} does not match the output ` +
          `${formatShape(root.shape)}`,
      );
    return gradient;
  }
  if (root.size !== 1)
    throw new WiregradError(
      `backward() without a gradient needs a scalar output, got ${formatShape(root.shape)}; ` +
        `reduce it (e.g. .sum() or .mean()) or pass the upstream gradient`,
    );
  return ops.onesLike(root);
}

const NO_GRADIENTS: readonly Tensor[] = [];

/**
 * Propagates from `root`. Returns the gradient of every tensor in `targets` (those reached);
 * when `targets` is empty, that of every leaf reached that requires gradients.
 */
function propagate(
  root: Tensor,
  gradient: Tensor | undefined,
  targets: readonly Tensor[],
  createGraph: boolean,
  hooks: BackwardHooks,
): Map<Tensor, Tensor> {
  const { onStep, onContribution } = hooks;
  root.assertAlive('backward');
  if (!root.requiresGrad)
    throw new WiregradError(
      'backward: the output does not depend on any tensor that requires gradients ' +
        '(create parameters with requiresGrad: true, and do not compute them under noGrad)',
    );
  const stops = new Set(targets);
  const order = topoOrder(root, stops);
  // Targets with another target behind them: their gradient is a result and flows on.
  const memo = new Map<Tensor, boolean>();
  const through = new Set(targets.filter((t) => t.producer && behind(t, stops, memo)));
  // With targets, only tensors that lead to one are worth propagating through.
  const leads = (t: Tensor): boolean => stops.size === 0 || behind(t, stops, memo);
  const grads = new Map<Tensor, Tensor>();
  // How many map entries hold each gradient tensor: rules may pass `dy` straight through.
  const holds = new Map<Tensor, number>();
  const hold = (t: Tensor): void => void holds.set(t, (holds.get(t) ?? 0) + 1);
  const seed = seedGradient(root, gradient);
  grads.set(root, seed);
  hold(seed);
  const results = new Map<Tensor, Tensor>();
  const protect = new Set<Tensor>(gradient ? [gradient] : []);

  const release = (g: Tensor): void => {
    const n = (holds.get(g) ?? 1) - 1;
    holds.set(g, n);
    if (n === 0 && !createGraph && !protect.has(g)) g.dispose();
  };

  // Execution events name each rule's ops after the forward node it differentiates.
  const naming = isObserving();
  const outerNode = enterNode(null);
  if (!createGraph) state.noGradDepth++;
  try {
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k]!;
      const g = grads.get(t);
      if (!g) continue;
      if (!stops.has(t) && !leads(t)) {
        // With targets: nothing behind this tensor is wanted.
        grads.delete(t);
        release(g);
        continue;
      }
      if ((stops.has(t) && !through.has(t)) || !t.producer) {
        // A target or a leaf: its gradient is a result.
        results.set(t, g);
        protect.add(g);
        if (onStep)
          onStep({ tensor: t, producer: null, upstream: g, inputGradients: NO_GRADIENTS });
        continue;
      }
      if (through.has(t)) {
        results.set(t, g);
        protect.add(g);
      }
      const { producer } = t;
      const { def, inputs, attrs } = producer;
      for (const x of inputs) x.assertAlive(`${def.name} (backward)`);
      if (naming) enterNode(gradNodeOf(t));
      const inGrads = def.gradient!(inputs, t, g, attrs);
      // Checked before anything is summed, so hooks never see a gradient of the wrong shape.
      for (let i = 0; i < inputs.length; i++) {
        const x = inputs[i]!;
        const gi = inGrads[i];
        if (x.requiresGrad && gi && !shapesEqual(gi.shape, x.shape))
          throw new WiregradError(
            `gradient rule returned ${formatShape(gi.shape)} for input ${i} of shape ` +
              `${formatShape(x.shape)}`,
            { op: def.name },
          );
      }
      if (onStep) onStep({ tensor: t, producer, upstream: g, inputGradients: inGrads });
      for (let i = 0; i < inputs.length; i++) {
        const x = inputs[i]!;
        const gi = inGrads[i];
        if (!x.requiresGrad || !gi) continue;
        const prev = grads.get(x);
        if (prev) {
          const sum = ops.add(prev, gi);
          grads.set(x, sum);
          hold(sum);
          if (onContribution)
            onContribution({ consumer: t, index: i, input: x, contribution: gi, sum });
          release(prev);
          // A fresh contribution, now summed in: free it unless something else holds it.
          if (!holds.get(gi) && !createGraph && !protect.has(gi)) gi.dispose();
        } else {
          grads.set(x, gi);
          hold(gi);
          if (onContribution)
            onContribution({ consumer: t, index: i, input: x, contribution: gi, sum: gi });
        }
      }
      grads.delete(t);
      release(g);
    }
  } finally {
    if (!createGraph) state.noGradDepth--;
    enterNode(outerNode);
  }
  return results;
}

/** `root.backward()`: accumulates gradients into `.grad` of the leaves that require them. */
export function backward(root: Tensor, gradient?: Tensor, options: BackwardOptions = {}): void {
  const createGraph = options.createGraph ?? false;
  const outerPhase = enterPhase('backward');
  try {
    const results = propagate(root, gradient, [], createGraph, options);
    for (const [leaf, g] of results) {
      const old = leaf.grad;
      if (old) {
        leaf.grad = keep(createGraph ? ops.add(old, g) : noGradAdd(old, g));
        if (!createGraph) {
          old.dispose();
          if (g !== gradient) g.dispose();
        }
      } else {
        // The leaf owns its gradient; never hand it the caller's own tensor.
        leaf.grad = keep(g === gradient ? ops.identity(g) : g);
      }
    }
  } finally {
    enterPhase(outerPhase);
  }
}

function noGradAdd(a: Tensor, b: Tensor): Tensor {
  state.noGradDepth++;
  try {
    return ops.add(a, b);
  } finally {
    state.noGradDepth--;
  }
}

/**
 * The gradients of `output` with respect to each of `wrt` (zeros where it does not depend on
 * one), without touching `.grad`. With `createGraph` they are themselves differentiable.
 */
export function gradients(
  output: Tensor,
  wrt: readonly Tensor[],
  options: BackwardOptions & { readonly gradient?: Tensor } = {},
): Tensor[] {
  for (const x of wrt)
    if (!x.requiresGrad)
      throw new WiregradError(`gradients: tensor ${x.toString()} does not require gradients`);
  const outerPhase = enterPhase('backward');
  try {
    const results = propagate(output, options.gradient, wrt, options.createGraph ?? false, options);
    return wrt.map((x) => results.get(x) ?? ops.zerosLike(x));
  } finally {
    enterPhase(outerPhase);
  }
}

/**
 * The backward walk itself, for tools that watch it: propagates from `root` as `backward()`
 * does, calling the hooks, and returns the gradient of each tensor where it stopped (each of
 * `targets` reached, else each leaf reached that requires gradients), touching no `.grad`. The
 * caller owns the returned gradients (the caller's own `gradient` may be among them).
 */
export function walkBackward(root: Tensor, options: WalkOptions = {}): Map<Tensor, Tensor> {
  const outerPhase = enterPhase('backward');
  try {
    return propagate(
      root,
      options.gradient,
      options.targets ?? [],
      options.createGraph ?? false,
      options,
    );
  } finally {
    enterPhase(outerPhase);
  }
}
