/**
 * Semi-supervised node classification: a model maps a whole graph to per-node logits, the loss
 * is cross-entropy over the few labelled nodes only, and the graph's structure carries the
 * labels to the rest (Kipf & Welling's setting). `trainNodeClassifier` runs full-graph Adam
 * steps inside memory scopes; `nodeAccuracy` scores chosen nodes. `TwoLayerGCN` is the classic
 * model: GCNConv → ReLU → GCNConv, whose 2-D output for two classes doubles as an embedding
 * that can be drawn.
 */

import { WiregradError } from '../core/errors.js';
import { noGrad } from '../autograd/grad.js';
import { Module } from '../nn/module.js';
import * as ops from '../ops/index.js';
import { Adam } from '../optim/adam.js';
import { tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import type { GraphData } from './graph-data.js';
import { GCNConv } from './layers.js';

/** A model of a whole graph: node features and edges in, per-node outputs [n, classes] out. */
export interface GraphModel extends Module {
  forward(x: Tensor, edgeIndex: Tensor): Tensor;
}

export interface NodeTrainingOptions {
  /** The nodes whose labels the loss sees. */
  readonly labelled: readonly number[];
  /** Full-graph steps (default 200). */
  readonly epochs?: number;
  /** Adam's learning rate (default 0.01). */
  readonly lr?: number;
  /** L2 penalty (default 5e-4, as Kipf & Welling). */
  readonly weightDecay?: number;
  /** Called after each step with the loss. */
  readonly onEpoch?: (epoch: number, loss: number) => void;
}

/** Trains `model` on the labels of `options.labelled`; returns the loss of every epoch. */
export function trainNodeClassifier(
  model: GraphModel,
  data: GraphData,
  options: NodeTrainingOptions,
): number[] {
  const { labelled, epochs = 200, lr = 0.01, weightDecay = 5e-4 } = options;
  const y = data.y;
  if (!y) throw new WiregradError('trainNodeClassifier: the graph data has no labels y');
  if (labelled.length === 0)
    throw new WiregradError('trainNodeClassifier: give at least one labelled node');
  for (const i of labelled)
    if (!Number.isInteger(i) || i < 0 || i >= data.numNodes)
      throw new WiregradError(
        `trainNodeClassifier: labelled node ${i} is outside [0, ${data.numNodes})`,
      );
  const index = ops.tensor(Int32Array.from(labelled), { dtype: 'i32' });
  const optimizer = new Adam(model.parameters(), { lr, weightDecay });
  const losses: number[] = [];
  model.train();
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const loss = tidy(() => {
        const logits = model.forward(data.x, data.edgeIndex);
        const l = ops.crossEntropy(ops.gather(logits, index, 0), ops.gather(y, index, 0));
        optimizer.zeroGrad();
        l.backward();
        optimizer.step();
        return l.item();
      });
      losses.push(loss);
      options.onEpoch?.(epoch, loss);
    }
  } finally {
    index.dispose();
    model.eval();
  }
  return losses;
}

/** The share of `nodes` whose argmax output equals their label. */
export function nodeAccuracy(logits: Tensor, y: Tensor, nodes: readonly number[]): number {
  if (nodes.length === 0) return NaN;
  const pred = noGrad(() => tidy(() => ops.argmax(logits, 1).dataSync()));
  const labels = y.dataSync();
  return nodes.filter((i) => pred[i] === labels[i]).length / nodes.length;
}

export interface TwoLayerGCNOptions {
  readonly hidden?: number;
  readonly seed?: number;
}

/** GCNConv(in → hidden) → ReLU → GCNConv(hidden → classes). */
export class TwoLayerGCN extends Module implements GraphModel {
  readonly conv1: GCNConv;
  readonly conv2: GCNConv;

  constructor(inFeatures: number, classes: number, options: TwoLayerGCNOptions = {}) {
    super();
    const { hidden = 16, seed = 0 } = options;
    this.conv1 = this.registerModule('conv1', new GCNConv(inFeatures, hidden, { seed }));
    this.conv2 = this.registerModule('conv2', new GCNConv(hidden, classes, { seed: seed + 1 }));
  }

  forward(x: Tensor, edgeIndex: Tensor): Tensor {
    return this.conv2.forward(ops.relu(this.conv1.forward(x, edgeIndex)), edgeIndex);
  }
}
