import { describe, expect, it } from 'vitest';
import { spiralJSON } from '../../test/helpers/examples.js';
import type { TrainProgress, TrainSessionConfig } from '../protocol/messages.js';
import { dispose } from '../runtime/scope.js';
import { CSV_VALIDATION_FRACTION, csvTrainingSets } from './csv-training.js';
import { createInProcessEngineClient } from './in-process.js';

/** Three well-separated blobs in 2-D, as a CSV with a header and a class-name target. */
function blobsCsv(rows: number): string {
  const centres: Record<string, [number, number]> = { a: [-3, 0], b: [3, 0], c: [0, 4] };
  const names = Object.keys(centres);
  const lines = ['x,y,kind'];
  let seed = 7;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  for (let i = 0; i < rows; i++) {
    const kind = names[i % 3]!;
    const [cx, cy] = centres[kind]!;
    lines.push(`${(cx + rand()).toFixed(3)},${(cy + rand()).toFixed(3)},${kind}`);
  }
  return lines.join('\n') + '\n';
}

const config: TrainSessionConfig = {
  optimizer: 'adam',
  lr: 0.02,
  batchSize: 16,
  epochs: 10,
  seed: 0,
};

describe('training on an uploaded CSV', () => {
  it('splits it 80/20 into normalised training and validation sets with its classes', () => {
    const sets = csvTrainingSets(spiralJSON(), { name: 'blobs.csv', text: blobsCsv(150) }, 0);
    expect(sets.train.x.shape).toEqual([150 * (1 - CSV_VALIDATION_FRACTION), 2]);
    expect(sets.validation.x.shape).toEqual([150 * CSV_VALIDATION_FRACTION, 2]);
    expect(sets.train.classes).toBe(3);
    expect(sets.train.y.dtype).toBe('i32');
    // Standardised with the training rows' statistics.
    const column = Array.from(sets.train.x.dataSync()).filter((_, i) => i % 2 === 0);
    const mean = column.reduce((a, b) => a + b, 0) / column.length;
    expect(Math.abs(mean)).toBeLessThan(1e-5);
    dispose([sets.train.x, sets.train.y, sets.validation.x, sets.validation.y]);
  });

  it('says what to change when the file does not fit the model', () => {
    const wide =
      'a,b,c,d,kind\n' + Array.from({ length: 20 }, (_, i) => `1,2,3,${i},k${i % 2}`).join('\n');
    expect(() => csvTrainingSets(spiralJSON(), { name: 'wide.csv', text: wide }, 0)).toThrow(
      "wide.csv has 4 features per row (a, b, c, d) but the model's input 'x' takes 2: set its shape to [N, 4]",
    );
    const many = 'x,y,kind\n' + Array.from({ length: 30 }, (_, i) => `${i},1,k${i % 5}`).join('\n');
    expect(() => csvTrainingSets(spiralJSON(), { name: 'many.csv', text: many }, 0)).toThrow(
      /has 5 classes \(k0, k1, k2, k3, …\) but the model's 'logits' has 3 outputs per example: give its last layer 5 outputs/,
    );
    const numbers =
      'x,y,price\n' + Array.from({ length: 20 }, (_, i) => `${i},1,${i * 1.5}`).join('\n');
    expect(() => csvTrainingSets(spiralJSON(), { name: 'prices.csv', text: numbers }, 0)).toThrow(
      /target column 'price' holds numbers \(a regression\), but the model is a classifier.*an MSE loss \(mseLoss\)/,
    );
    expect(() =>
      csvTrainingSets(spiralJSON(), { name: 'ragged.csv', text: 'a,b,c\n1,2,x\n1,2,3,y\n' }, 0),
    ).toThrow(/ragged\.csv, line 3/);
  });

  it('trains through the engine protocol to a held-out accuracy far above chance', async () => {
    const client = createInProcessEngineClient();
    const done = new Promise<TrainProgress>((resolve) => {
      client.onTrainProgress((p) => {
        if (p.status === 'done') resolve(p);
      });
    });
    await client.startTraining(spiralJSON(), 'spiral', config, {
      csv: { name: 'blobs.csv', text: blobsCsv(150) },
    });
    const last = await done;
    expect(last.validation?.accuracy).toBeGreaterThan(0.9);
    await expect(
      client.startTraining(spiralJSON(), 'spiral', config, {
        csv: { name: 'prices.csv', text: 'x,y,p\n1,2,3.5\n2,3,4.5\n' },
      }),
    ).rejects.toThrow(/holds numbers \(a regression\), but the model is a classifier/);
    client.close();
  });
});
