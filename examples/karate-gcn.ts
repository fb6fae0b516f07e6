/**
 * Semi-supervised node classification on Zachary's karate club: a 2-layer GCN sees the club's
 * friendships and the faction of only two members (the instructor, 0, and the administrator,
 * 33) and predicts the faction of the other 32. Prints the test accuracy and draws the learned
 * 2-D embedding (the last layer's output) in the terminal; `--svg file.svg` also writes it as
 * a picture.
 *
 *   node --import tsx examples/karate-gcn.ts [--seed 0] [--svg karate.svg]
 */

import { writeFileSync } from 'node:fs';
import * as wg from '../engine/index.js';

const { gnn } = wg;
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const seed = Number(arg('seed') ?? 0);

const data = gnn.karateClub();
const labelled = [0, 33];
const others = Array.from({ length: data.numNodes }, (_, i) => i).filter(
  (i) => !labelled.includes(i),
);
const model = new gnn.TwoLayerGCN(data.numFeatures, 2, { hidden: 16, seed });
const t0 = performance.now();
const losses = gnn.trainNodeClassifier(model, data, { labelled, epochs: 200 });
const seconds = (performance.now() - t0) / 1000;

const embedding = wg.noGrad(() => model.forward(data.x, data.edgeIndex));
const accuracy = gnn.nodeAccuracy(embedding, data.y!, others);
const points = embedding.arraySync() as number[][];
const factions = Array.from(data.y!.dataSync());
const predicted = points.map(([a, b]) => (b! > a! ? 1 : 0));
const wrong = others.filter((i) => predicted[i] !== factions[i]);

console.log(
  `GCN on the karate club: loss ${losses[0]!.toFixed(3)} → ${losses.at(-1)!.toFixed(4)} in ` +
    `200 epochs (${seconds.toFixed(2)} s)`,
);
console.log(
  `test accuracy on the 32 unlabelled members: ${(accuracy * 100).toFixed(1)}% ` +
    `(${32 - wrong.length}/32)` +
    (wrong.length ? `; misclassified: ${wrong.join(', ')}` : ''),
);

// The embedding as a character plot: H = joined Mr. Hi, O = joined the Officer, lower case
// where the prediction is wrong, * for the two labelled members.
const W = 64;
const H = 20;
const xs = points.map((p) => p[0]!);
const ys = points.map((p) => p[1]!);
const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
const grid = Array.from({ length: H }, () => new Array<string>(W).fill(' '));
points.forEach(([x, y], i) => {
  const c = Math.round(((x! - x0) / (x1 - x0 || 1)) * (W - 1));
  const r = H - 1 - Math.round(((y! - y0) / (y1 - y0 || 1)) * (H - 1));
  const mark = factions[i] === 0 ? 'H' : 'O';
  grid[r]![c] = labelled.includes(i) ? '*' : wrong.includes(i) ? mark.toLowerCase() : mark;
});
console.log(`\nlearned 2-D embedding (x: output 0, y: output 1)\n+${'-'.repeat(W)}+`);
for (const row of grid) console.log(`|${row.join('')}|`);
console.log(`+${'-'.repeat(W)}+`);

const svgPath = arg('svg');
if (svgPath) {
  const size = 480;
  const sx = (x: number) => 40 + ((x - x0) / (x1 - x0 || 1)) * (size - 80);
  const sy = (y: number) => size - 40 - ((y - y0) / (y1 - y0 || 1)) * (size - 80);
  const edges = gnn.KARATE_EDGES.map(
    ([a, b]) =>
      `<line x1="${sx(xs[a]!)}" y1="${sy(ys[a]!)}" x2="${sx(xs[b]!)}" y2="${sy(ys[b]!)}" ` +
      `stroke="#ccc"/>`,
  );
  const nodes = points.map(
    ([x, y], i) =>
      `<circle cx="${sx(x!)}" cy="${sy(y!)}" r="${labelled.includes(i) ? 9 : 6}" ` +
      `fill="${factions[i] === 0 ? '#1f77b4' : '#ff7f0e'}" ` +
      `stroke="${wrong.includes(i) ? 'red' : 'black'}"/>` +
      `<text x="${sx(x!) + 8}" y="${sy(y!) - 6}" font-size="10">${i}</text>`,
  );
  writeFileSync(
    svgPath,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">` +
      `<rect width="100%" height="100%" fill="white"/>${edges.join('')}${nodes.join('')}</svg>\n`,
  );
  console.log(`embedding drawn to ${svgPath}`);
}
