/**
 * Reverse-mode autodiff over the tape. From a root tensor, order the tensors it depends on
 * topologically, then walk them in reverse, calling each producer's gradient rule with (inputs,
 * output, upstream gradient) and summing the contributions of every consumer. Gradient rules
 * are built from ops, so with `createGraph` the backward pass is itself on the tape and can be
 * differentiated again (grad of grad). Without it, backward runs with recording off and frees
 * each intermediate gradient as soon as it has been passed on.
 */

import { WiregradError, formatShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import type { Tensor } from '../tensor.js';
import { state } from '../runtime/state.js';
import { keep } from '../runtime/scope.js';
import { enterNode, enterPhase, gradNodeOf, isObserving } from '../runtime/events.js';
import * as ops from '../ops/index.js';

export interface BackwardOptions {
  /** Record the backward pass on the tape, so its results can be differentiated again. */
  readonly createGraph?: boolean;
}

/** Tensors `root` depends on through the tape, inputs before consumers; stops at `stops`. */
function topoOrder(root: Tensor, stops: ReadonlySet<Tensor>): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: deep graphs (long RNN unrolls, 1000-layer stacks) must not overflow the stack.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.producer && !stops.has(t) ? t.producer.inputs : [];
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

/**
 * Propagates from `root`. Returns the gradient of every tensor in `targets` (those reached);
 * when `targets` is empty, accumulates into `.grad` of every leaf that requires gradients.
 */
function propagate(
  root: Tensor,
  gradient: Tensor | undefined,
  targets: readonly Tensor[],
  createGraph: boolean,
): Map<Tensor, Tensor> {
  root.assertAlive('backward');
  if (!root.requiresGrad)
    throw new WiregradError(
      'backward: the output does not depend on any tensor that requires gradients ' +
        '(create parameters with requiresGrad: true, and do not compute them under noGrad)',
    );
  const stops = new Set(targets);
  const order = topoOrder(root, stops);
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
      if (stops.has(t) || !t.producer) {
        // A target or a leaf: its gradient is a result.
        results.set(t, g);
        protect.add(g);
        continue;
      }
      const { def, inputs, attrs } = t.producer;
      for (const x of inputs) x.assertAlive(`${def.name} (backward)`);
      if (naming) enterNode(gradNodeOf(t));
      const inGrads = def.gradient!(inputs, t, g, attrs);
      for (let i = 0; i < inputs.length; i++) {
        const x = inputs[i]!;
        const gi = inGrads[i];
        if (!x.requiresGrad || !gi) continue;
        if (!shapesEqual(gi.shape, x.shape))
          throw new WiregradError(
            `gradient rule returned ${formatShape(gi.shape)} for input ${i} of shape ` +
              `${formatShape(x.shape)}`,
            { op: def.name },
          );
        const prev = grads.get(x);
        if (prev) {
          const sum = ops.add(prev, gi);
          grads.set(x, sum);
          hold(sum);
          release(prev);
          // A fresh contribution, now summed in: free it unless something else holds it.
          if (!holds.get(gi) && !createGraph && !protect.has(gi)) gi.dispose();
        } else {
          grads.set(x, gi);
          hold(gi);
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
    const results = propagate(root, gradient, [], createGraph);
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
    const results = propagate(output, options.gradient, wrt, options.createGraph ?? false);
    return wrt.map((x) => results.get(x) ?? ops.zerosLike(x));
  } finally {
    enterPhase(outerPhase);
  }
}
