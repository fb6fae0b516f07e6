import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph/builder.js';
import { Graph } from '../graph/graph.js';
import {
  countConfusion,
  gridBounds,
  gridPoints,
  modelIO,
  predictProbabilities,
  summariseProbabilities,
} from './predict.js';

/**
 * A "model" whose logits are its 2-D input (x, y) times 3, so
 * class 1 wins exactly where y > x; with a label input and a loss it is a training graph.
 */
function identityClassifier(): Graph {
  const b = new GraphBuilder('identity classifier');
  const x = b.input('x', [-1, 2], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  const scale = b.op('constant', [], { shape: [], dtype: 'f32', data: [3] }, 'scale');
  const logits = b.op('mul', [x, scale], {}, 'logits');
  b.output('logits', logits);
  b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
  return b.build();
}

describe('decision-boundary grid', () => {
  it('spans a square around the points with a margin', () => {
    const b = gridBounds(Float32Array.from([0, 0, 4, 1, 2, -1]), 0.1);
    // The larger side (x: 0..4) grown by 10% each side; y widened to the same span, centred.
    expect(b.xMin).toBeCloseTo(-0.4, 6);
    expect(b.xMax).toBeCloseTo(4.4, 6);
    expect(b.yMax - b.yMin).toBeCloseTo(4.8, 6);
    expect((b.yMax + b.yMin) / 2).toBeCloseTo(0, 6);
  });

  it('lists cell centres row by row from the top left', () => {
    const p = gridPoints({ xMin: 0, xMax: 4, yMin: 0, yMax: 2 }, 2);
    expect([...p]).toEqual([1, 1.5, 3, 1.5, 1, 0.5, 3, 0.5]);
  });

  it('evaluates a model on the grid: the boundary falls where the model says', () => {
    const graph = identityClassifier();
    const size = 16;
    const grid = gridPoints({ xMin: -1, xMax: 1, yMin: -1, yMax: 1 }, size);
    const { probabilities, classes } = predictProbabilities(
      graph,
      graph.initParameters(),
      grid,
      size * size,
    );
    expect(classes).toBe(2);
    const { predicted, confidence } = summariseProbabilities(probabilities, classes);
    for (let i = 0; i < size * size; i++) {
      const x = grid[2 * i]!;
      const y = grid[2 * i + 1]!;
      expect(predicted[i]).toBe(y > x ? 1 : 0);
      // softmax of (3x, 3y): the winner's probability is 1 / (1 + e^(−3|x−y|)).
      const p = 1 / (1 + Math.exp(-3 * Math.abs(x - y)));
      expect(Math.abs(confidence[i]! - p * 255)).toBeLessThanOrEqual(1);
      expect(probabilities[2 * i]! + probabilities[2 * i + 1]!).toBeCloseTo(1, 5);
    }
  });

  it('refuses inputs that do not fit the data input, saying what it takes', () => {
    const graph = identityClassifier();
    expect(() =>
      predictProbabilities(graph, graph.initParameters(), new Float32Array(784), 1),
    ).toThrow(/takes 2 values per example/);
    expect(() =>
      predictProbabilities(graph, graph.initParameters(), Float32Array.from([0, 1, NaN, 2]), 2),
    ).toThrow(/example 1, value 0 is NaN/);
  });

  it('finds the data and label inputs and the logits', () => {
    const io = modelIO(identityClassifier());
    expect(io.dataShape).toEqual([-1, 2]);
    expect(io.labelDType).toBe('i32');
    expect(io.output).toBe('logits');
  });
});

describe('confusion counting', () => {
  it('counts (true, predicted) pairs row by row', () => {
    const counts = countConfusion([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3);
    expect(counts).toEqual([1, 1, 0, 0, 1, 0, 1, 0, 2]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('refuses classes outside the matrix instead of dropping them', () => {
    expect(() => countConfusion([0, 3], [0, 0], 3)).toThrow(/example 1/);
    expect(() => countConfusion([0], [0, 1], 3)).toThrow(/as many predictions/);
  });
});

describe('summarising probabilities', () => {
  it('picks the most probable class and scales its probability to 0..255', () => {
    const s = summariseProbabilities(Float32Array.from([0.2, 0.8, 1, 0, 0.5, 0.5]), 2);
    expect([...s.predicted]).toEqual([1, 0, 0]);
    expect([...s.confidence]).toEqual([204, 255, 128]);
  });
});
