/**
 * The workload that proves the engine runs the same in Node and in a browser worker: a seeded
 * MLP trained with Adam on the XOR quadrants, then a `trace` → JSON text → `Graph.fromJSON` →
 * `graph.run` round trip of the trained model. It imports only the engine's public API and
 * returns plain data (structured-clonable), so the browser worker posts it back as is and the
 * Node side of the test calls the same function and compares the numbers.
 */

import * as wg from '../../engine/index.js';

export interface EngineCheckResult {
  readonly description: string;
  /** `globalThis.crossOriginIsolated`; undefined in Node, which has no such notion. */
  readonly crossOriginIsolated: boolean | undefined;
  readonly steps: number;
  readonly firstLoss: number;
  readonly finalLoss: number;
  /** Fraction of the training points classified correctly after training. */
  readonly accuracy: number;
  /** Live tensors after the first step and after the last: equal when nothing leaks. */
  readonly memoryAfterFirstStep: wg.MemoryInfo;
  readonly memoryAfterTraining: wg.MemoryInfo;
  /** The trained model's logits for the first points, eager and through the reloaded graph. */
  readonly eagerLogits: number[];
  readonly graphLogits: number[];
  readonly graphNodeCount: number;
  readonly trainMs: number;
}

export const TRAINING_STEPS = 150;
const POINTS = 256;
const PROBE_POINTS = 8;

export function runEngineChecks(): EngineCheckResult {
  const { x, y } = wg.data.xor(POINTS, { seed: 7 });
  const model = new wg.nn.Sequential(
    new wg.nn.Linear(2, 32, { seed: 1 }),
    new wg.nn.Tanh(),
    new wg.nn.Linear(32, 32, { seed: 2 }),
    new wg.nn.ReLU(),
    new wg.nn.Linear(32, 2, { seed: 3 }),
  );
  const opt = new wg.optim.Adam(model.parameters(), { lr: 0.01 });
  const step = (): number =>
    wg.tidy(() => {
      const loss = wg.ops.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      opt.zeroGrad();
      return loss.item();
    });

  const start = performance.now();
  const firstLoss = step();
  const memoryAfterFirstStep = wg.memory();
  let finalLoss = firstLoss;
  for (let i = 1; i < TRAINING_STEPS; i++) finalLoss = step();
  const trainMs = performance.now() - start;
  const memoryAfterTraining = wg.memory();

  const accuracy = wg.tidy(() =>
    wg.noGrad(() => model.forward(x).argmax(1).cast('i32').equal(y).cast('f32').mean().item()),
  );

  // The graph round trip: trace the trained forward pass, send the document through JSON text
  // (as a file or a postMessage would), load it, and run it with the trained weights.
  const probe = wg.tidy(() => x.slice([0, 0], [PROBE_POINTS, 2]));
  const eagerLogits = wg.tidy(() => wg.noGrad(() => [...model.forward(probe).dataSync()]));
  const traced = wg.trace((input: wg.Tensor) => model.forward(input), [probe], {
    inputNames: ['x'],
  });
  const loaded = wg.Graph.fromJSON(JSON.parse(JSON.stringify(traced.toJSON())));
  const params = traced.initParameters();
  const graphLogits = wg.tidy(() =>
    wg.noGrad(() => [...loaded.run({ x: probe }, { params }).output!.dataSync()]),
  );

  return {
    description: wg.cpuBackend.description,
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated,
    steps: TRAINING_STEPS,
    firstLoss,
    finalLoss,
    accuracy,
    memoryAfterFirstStep,
    memoryAfterTraining,
    eagerLogits,
    graphLogits,
    graphNodeCount: loaded.nodes.length,
    trainMs,
  };
}
