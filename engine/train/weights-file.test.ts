import { describe, expect, it } from 'vitest';
import type { GraphJSON } from '../graph/ir.js';
import { saveSafetensors } from '../nn/safetensors.js';
import type { TrainSessionConfig } from '../protocol/messages.js';
import { tensor } from '../ops/creation.js';
import { dispose } from '../runtime/scope.js';
import { createInProcessEngineClient } from '../worker/in-process.js';
import { TrainSession } from '../worker/train-session.js';
import {
  WEIGHTS_FORMAT,
  decodeWeights,
  encodeWeights,
  weightsInfo,
  weightsProblems,
} from './weights-file.js';
import { safetensorsMetadata } from '../nn/safetensors.js';
import { spiralJSON } from '../../test/helpers/examples.js';

const config: TrainSessionConfig = {
  optimizer: 'adam',
  lr: 0.02,
  batchSize: 32,
  epochs: 60,
  seed: 0,
};

/** The graph with the first parameter's last dimension changed to `size`. */
function widened(graph: GraphJSON, size: number): { graph: GraphJSON; id: string } {
  const index = graph.nodes.findIndex((n) => n.op === 'parameter');
  const node = graph.nodes[index]!;
  const attrs = node.attrs as unknown as { shape: number[] };
  const shape = [...attrs.shape.slice(0, -1), size];
  const nodes = graph.nodes.map((n, i) =>
    i === index ? { ...n, attrs: { ...n.attrs, shape } as unknown as typeof n.attrs } : n,
  );
  return { graph: { ...graph, nodes }, id: node.id };
}

describe('a weights file', () => {
  it('holds every parameter of a trained session and starts a new session from them', async () => {
    const graph = spiralJSON();
    const trained = new TrainSession(graph, 'spiral', config);
    for (let k = 0; k < 40; k++) trained.step();
    const bytes = await encodeWeights(graph, trained.params, {
      step: trained.stepCount,
      dataset: 'spiral',
    });

    const meta = safetensorsMetadata(bytes);
    expect(meta['format']).toBe(WEIGHTS_FORMAT);
    expect(weightsInfo(bytes)).toEqual({
      step: 40,
      model: graph.name ?? '',
      dataset: 'spiral',
      tensors: trained.params.size,
    });
    expect(weightsProblems(graph, bytes)).toEqual([]);

    const { values } = decodeWeights(graph, bytes);
    const resumed = new TrainSession(graph, 'spiral', config, { weights: values });
    for (const [id, p] of trained.params)
      expect(Array.from(resumed.params.get(id)!.dataSync()), id).toEqual(Array.from(p.dataSync()));
    // It is evaluated at once: the held-out accuracy of the loaded weights, not of fresh ones.
    const fresh = new TrainSession(graph, 'spiral', config);
    fresh.validate();
    trained.validate();
    const shown = resumed.progress('paused').validation;
    expect(shown?.accuracy).toBe(trained.progress('paused').validation?.accuracy);
    expect(shown?.accuracy).not.toBe(fresh.progress('paused').validation?.accuracy);

    // Reset goes back to the seeded values.
    resumed.reset();
    for (const [id, p] of fresh.params)
      expect(Array.from(resumed.params.get(id)!.dataSync()), id).toEqual(Array.from(p.dataSync()));
    for (const s of [trained, resumed, fresh]) s.dispose();
  });

  it('says which parameter does not fit when the model changed', async () => {
    const graph = spiralJSON();
    const session = new TrainSession(graph, 'spiral', config);
    const bytes = await encodeWeights(graph, session.params, { step: 0 });
    const { graph: changed, id } = widened(graph, 7);
    const problems = weightsProblems(changed, bytes);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      new RegExp(`parameter '${id}' is \\[.*\\] in the file but \\[.*7\\]`),
    );
    expect(() => decodeWeights(changed, bytes)).toThrow(/do not fit this model/);
    session.dispose();
  });

  it('refuses a file that is not safetensors, or names no parameter, with the reason', () => {
    const graph = spiralJSON();
    expect(weightsProblems(graph, new TextEncoder().encode('{"cells": []}'))[0]).toMatch(
      /not a readable safetensors file/,
    );
    const foreign = tensor([1, 2, 3]);
    const other = saveSafetensors(new Map([['encoder.0.weight', foreign]]));
    dispose([foreign]);
    expect(weightsProblems(graph, other)).toEqual([
      "none of its 1 tensors ('encoder.0.weight') is named after a parameter of this model",
    ]);
  });

  it('refuses a newer version of the format', async () => {
    const graph = spiralJSON();
    const session = new TrainSession(graph, 'spiral', config);
    const values = new Map(session.params);
    const newer = saveSafetensors(values, { format: WEIGHTS_FORMAT, version: '9', step: '1' });
    expect(weightsProblems(graph, newer)[0]).toMatch(/version 9, newer than this Wiregrad/);
    session.dispose();
  });

  it('travels through the engine protocol: save, check, and start from it', async () => {
    const client = createInProcessEngineClient();
    const graph = spiralJSON();
    await client.startTraining(graph, 'spiral', config, { paused: true });
    for (let k = 0; k < 5; k++) await client.controlTraining('train/step');
    const bytes = await client.saveWeights(graph, 5);
    expect(await client.checkWeights(graph, bytes)).toEqual({
      problem: null,
      step: 5,
      dataset: 'spiral',
    });
    expect((await client.checkWeights(widened(graph, 9).graph, bytes)).problem).toMatch(
      /do not fit this model/,
    );
    const { progress } = await client.startTraining(graph, 'spiral', config, {
      paused: true,
      weights: bytes,
    });
    expect(progress.step).toBe(0);
    expect(progress.validation).toBeTruthy();
    // A file that does not fit is refused and names the parameter.
    await expect(
      client.startTraining(widened(graph, 9).graph, 'spiral', config, {
        paused: true,
        weights: bytes,
      }),
    ).rejects.toThrow(/do not fit this model: parameter/);
    client.close();
  });
});
