/**
 * The example notebooks shipped in this folder, as data: each is a list of markdown and code
 * cells around a graph cell (a lesson graph of the autodiff teacher, or an empty model), written
 * as `.ipynb` with the app's own writers (engine/protocol/notebook.ts for the graph,
 * renderer/notebook/notebook-file.ts for the cells), so the files are always in the current
 * format. `make-notebooks.ts` writes them; `notebooks.test.ts` checks that the files are what
 * this module makes and that every code cell runs.
 *
 * Cell ids are fixed (`<file>-<n>`), so the files do not change unless their content does.
 * Saved outputs are left out: a notebook opened from a file shows code and runs it once
 * trusted.
 */

import { notebookText } from '../engine/protocol/notebook.js';
import { type Cell, makeCell } from '../renderer/notebook/cells.js';
import { writeNotebookCells } from '../renderer/notebook/notebook-file.js';
import { type EditorDocument, documentToFile, emptyDocument } from '../renderer/state/document.js';
import { LESSONS } from '../renderer/state/lessons.js';

type CellSpec = { readonly md: string } | { readonly code: string } | { readonly graph: true };

export interface ExampleNotebook {
  /** The file name in this folder, without `.ipynb`. */
  readonly file: string;
  readonly title: string;
  /** The model of the graph cell. */
  readonly model: () => EditorDocument;
  readonly cells: readonly CellSpec[];
}

function lesson(name: string): () => EditorDocument {
  return () => {
    const found = LESSONS.find((l) => l.name === name);
    if (!found) throw new Error(`no lesson named '${name}'`);
    return found.build();
  };
}

const md = (...lines: string[]): CellSpec => ({ md: lines.join('\n') });
const code = (...lines: string[]): CellSpec => ({ code: lines.join('\n') });
const GRAPH: CellSpec = { graph: true };

export const EXAMPLE_NOTEBOOKS: readonly ExampleNotebook[] = [
  {
    file: 'lesson-single-neuron',
    title: 'A single neuron',
    model: lesson('neuron'),
    cells: [
      md(
        '# A single neuron',
        '',
        'A neuron weighs its inputs, adds a bias and squashes the sum: `o = tanh(x1·w1 + x2·w2 + b)`.',
        'Backpropagation asks how much `o` moves when each number moves a little: the chain rule,',
        'applied one operation at a time from `o` back to the inputs.',
      ),
      code(
        'const x1 = wg.tensor(2, { requiresGrad: true });',
        'const x2 = wg.tensor(0, { requiresGrad: true });',
        'const w1 = wg.tensor(-3, { requiresGrad: true });',
        'const w2 = wg.tensor(1, { requiresGrad: true });',
        'const b = wg.tensor(6.881373587, { requiresGrad: true });',
        'const n = x1.mul(w1).add(x2.mul(w2)).add(b);',
        'const o = n.tanh();',
        'o.item()',
      ),
      md(
        '`tanh` has the derivative `1 − tanh²`, so `∂o/∂n = 1 − o² = 0.5`. A product passes the',
        'gradient to each factor times the other factor: `∂o/∂w1 = x1 · 0.5 = 1`, `∂o/∂x1 = w1 · 0.5 = −1.5`.',
      ),
      code(
        'o.backward();',
        'for (const [name, t] of Object.entries({ x1, x2, w1, w2, b }))',
        '  console.log(`∂o/∂${name} =`, t.grad!.item());',
      ),
      md('The same neuron as a graph: **Open as graph** puts it on the canvas.'),
      code(
        'wg.trace(',
        '  (x: wg.Tensor, w: wg.Tensor, bias: wg.Tensor) => x.mul(w).sum().add(bias).tanh(),',
        '  [wg.ones([2]), wg.ones([2]), wg.ones([])],',
        ')',
      ),
      md(
        'The lesson graph below is this neuron: open it in the canvas and use the **Learn** tab to',
        'step forward and backward through it one node at a time.',
      ),
      GRAPH,
      code(
        'const zs = Array.from({ length: 61 }, (_, i) => -3 + i / 10);',
        'plot(',
        '  {',
        '    tanh: zs.map((z) => ({ x: z, y: Math.tanh(z) })),',
        '    "tanh\'": zs.map((z) => ({ x: z, y: 1 - Math.tanh(z) ** 2 })),',
        '  },',
        "  { title: 'tanh and its derivative', xLabel: 'n' },",
        ')',
      ),
    ],
  },
  {
    file: 'lesson-mlp-xor',
    title: 'An MLP on xor',
    model: lesson('xor-mlp'),
    cells: [
      md(
        '# An MLP on xor',
        '',
        'No straight line separates xor’s two classes, so a single linear layer cannot learn it; one',
        'hidden layer with a non-linearity can. Below: a 2 → 8 → 2 network trained with Adam on the',
        'four points. While it trains, `display(progress(step, steps, { metrics }), id)` keeps one',
        'bar under the cell up to date: steps done, time left and the latest loss.',
      ),
      GRAPH,
      code(
        'const X = wg.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);',
        "const Y = wg.tensor([0, 1, 1, 0], { dtype: 'i32' });",
        'const model = new wg.nn.Sequential(',
        '  new wg.nn.Linear(2, 8, { seed: 1 }),',
        '  new wg.nn.Tanh(),',
        '  new wg.nn.Linear(8, 2, { seed: 2 }),',
        ');',
        'const opt = new wg.optim.Adam(model.parameters(), { lr: 0.05 });',
        'const losses: number[] = [];',
        'const steps = 200;',
        'for (let step = 0; step < steps; step++) {',
        '  const loss = wg.ops.crossEntropy(model.forward(X), Y);',
        '  opt.zeroGrad();',
        '  loss.backward();',
        '  opt.step();',
        '  losses.push(loss.item());',
        '  if ((step + 1) % 10 === 0)',
        "    display(progress(step + 1, steps, { title: 'train', metrics: { loss: losses[step]! } }), 'train');",
        '}',
        "plot(losses, { title: 'xor: training loss', xLabel: 'step', yLabel: 'cross-entropy' })",
      ),
      md('The probabilities of class 1 for (0,0), (0,1), (1,0), (1,1): close to 0, 1, 1, 0.'),
      code('wg.noGrad(() => wg.ops.softmax(model.forward(X)))'),
    ],
  },
  {
    file: 'lesson-softmax-cross-entropy',
    title: 'Softmax with cross-entropy',
    model: lesson('softmax-ce'),
    cells: [
      md(
        '# Softmax with cross-entropy',
        '',
        'Softmax turns scores (logits) into probabilities; cross-entropy is −log of the probability',
        'given to the right class. Together their gradient is remarkably simple:',
        '`∂loss/∂logits = softmax(logits) − onehot(label)`.',
      ),
      GRAPH,
      code(
        'const logits = wg.tensor([[2, 1, 0.1]], { requiresGrad: true });',
        "const label = wg.tensor([0], { dtype: 'i32' });",
        'const loss = wg.ops.crossEntropy(logits, label);',
        'loss.backward();',
        "console.log('loss', loss.item());",
        'logits.grad!',
      ),
      md('The same numbers from the formula:'),
      code('wg.ops.softmax(logits.detach()).sub(wg.tensor([[1, 0, 0]]))'),
    ],
  },
  {
    file: 'lesson-convolution-gradient',
    title: "A convolution's gradient on a 4×4 input",
    model: lesson('conv'),
    cells: [
      md(
        "# A convolution's gradient on a 4×4 input",
        '',
        'A 2×2 kernel slides over a 4×4 image and gives a 3×3 output. Each weight touches 9 input',
        'pixels, so its gradient sums 9 products; each input pixel is touched by 1 to 4 windows.',
      ),
      GRAPH,
      code(
        'const x = wg.arange(0, 16).reshape([1, 1, 4, 4]).div(15).detach();',
        'x.requiresGrad = true;',
        'const w = wg.tensor([[[[1, 0], [0, -1]]]], { requiresGrad: true });',
        'const y = wg.ops.conv2d(x, w);',
        'y.sum().backward();',
        "image(x.detach().reshape([4, 4]), { title: 'input' })",
      ),
      md(
        'With the loss `sum(y)`, the gradient of a weight is the sum of the 3×3 input patch it meets;',
        'the gradient of an input pixel is the sum of the weights of the windows that cover it.',
      ),
      code('w.grad!'),
      code('x.grad!.reshape([4, 4])'),
    ],
  },
  {
    file: 'lesson-vanishing-gradients',
    title: 'Why gradients vanish',
    model: lesson('vanishing'),
    cells: [
      md(
        '# Why gradients vanish',
        '',
        "The sigmoid's slope is at most ¼. Backpropagation multiplies one such slope per layer (times",
        'the weights), so in a deep sigmoid stack the gradient shrinks geometrically on its way to',
        'the first layers: they barely learn. `tanh` (slope up to 1) and ReLU (slope 1 where',
        'active) lose orders of magnitude less; an initialisation scaled to the activation (He',
        'for ReLU) keeps them level.',
        '',
        'The lesson graph is a deep sigmoid stack: open it in the canvas and train it to see the edge',
        'colours fade towards the input.',
      ),
      GRAPH,
      code(
        'function layerGradients(activation: (t: wg.Tensor) => wg.Tensor): number[] {',
        '  const layers = Array.from({ length: 10 }, (_, i) => new wg.nn.Linear(16, 16, { seed: i }));',
        '  let h = wg.randn([8, 16], { seed: 42 });',
        '  for (const layer of layers) h = activation(layer.forward(h));',
        '  h.mul(h).mean().backward();',
        '  return layers.map((l) => Math.log10(l.weight.grad!.mul(l.weight.grad!).sum().sqrt().item()));',
        '}',
        'const sigmoid = layerGradients((t) => t.sigmoid());',
        'const tanh = layerGradients((t) => t.tanh());',
        'const relu = layerGradients((t) => t.relu());',
        'plot(',
        '  { sigmoid, tanh, relu },',
        "  { title: 'gradient norm per layer (log10)', xLabel: 'layer (0 = first)', yLabel: 'log10 ‖∂L/∂W‖' },",
        ')',
      ),
      md('How many times smaller the first layer’s gradient is than the last’s:'),
      code(
        'const ratio = (g: number[]) => 10 ** (g[g.length - 1]! - g[0]!);',
        "console.log('sigmoid', ratio(sigmoid).toExponential(2));",
        "console.log('tanh', ratio(tanh).toExponential(2));",
        "console.log('relu', ratio(relu).toExponential(2));",
      ),
    ],
  },
  {
    file: 'gcn-karate-club',
    title: 'GCN on the karate club',
    model: () => emptyDocument('GCN on the karate club'),
    cells: [
      md(
        '# A graph convolutional network on the karate club',
        '',
        "Zachary's karate club: 34 members, 78 friendships, and the faction each member joined",
        'when the club split. A two-layer GCN sees the friendships and the faction of only two',
        'members (the instructor, 0, and the administrator, 33) and predicts the other 32.',
      ),
      code(
        'const data = wg.gnn.karateClub();',
        'const labelled = [0, 33];',
        'const others = Array.from({ length: data.numNodes }, (_, i) => i).filter((i) => !labelled.includes(i));',
        'const model = new wg.gnn.TwoLayerGCN(data.numFeatures, 2, { hidden: 16, seed: 0 });',
        'const losses = wg.gnn.trainNodeClassifier(model, data, { labelled, epochs: 200 });',
        "plot(losses, { title: 'training loss (2 labelled members)', xLabel: 'epoch' })",
      ),
      code(
        'const embedding = wg.noGrad(() => model.forward(data.x, data.edgeIndex));',
        'const accuracy = wg.gnn.nodeAccuracy(embedding, data.y!, others);',
        '`accuracy on the 32 unlabelled members: ${(accuracy * 100).toFixed(1)}%`',
      ),
      md(
        'The learned embedding: the GCN’s two outputs for every member, coloured by the faction',
        'the member actually joined. The factions separate, though only two members had labels.',
      ),
      code(
        'const xy = embedding.dataSync();',
        'const labels = data.y!.dataSync();',
        'const faction = (f: number) =>',
        '  Array.from(labels).flatMap((l, i) => (l === f ? [{ x: xy[2 * i]!, y: xy[2 * i + 1]! }] : []));',
        'plot(',
        "  { 'instructor’s faction': faction(labels[0]!), 'administrator’s faction': faction(labels[33]!) },",
        "  { scatter: true, title: 'learned embedding', xLabel: 'output 0', yLabel: 'output 1' },",
        ')',
      ),
    ],
  },
  {
    file: 'reinforce-cartpole',
    title: 'REINFORCE on CartPole',
    model: () => emptyDocument('REINFORCE on CartPole'),
    cells: [
      md(
        '# REINFORCE on CartPole',
        '',
        'A pole balances on a cart; each step the policy pushes left or right and earns 1 while the',
        'pole stays up (at most 500). REINFORCE with a learned baseline raises the log-probability of',
        'actions in proportion to how much better than expected their episode went.',
        '',
        'CartPole counts as solved when the average return over 100 consecutive episodes reaches',
        '195; training stops there (seed 0 gets there after about 320 episodes, in seconds).',
      ),
      md(
        'Training shows the mean return of each batch of 8 episodes as it goes: `display(value, id)`',
        'shows a value under the cell at once and replaces the earlier one with the same id.',
      ),
      code(
        'const live: { x: number; y: number }[] = [];',
        'const result = wg.rl.reinforce(() => new wg.rl.CartPole(), {',
        '  seed: 0,',
        '  maxEpisodes: 1000,',
        '  onBatch: (s) => {',
        '    live.push({ x: s.episodes, y: s.meanReturn });',
        "    display(plot(live, { title: 'mean return per batch', xLabel: 'episodes' }), 'training');",
        '  },',
        '});',
        'result.solvedAt === null',
        '  ? `not solved in ${result.returns.length} episodes`',
        '  : `solved after ${result.solvedAt} episodes`',
      ),
      md('Every episode’s return, with the average of the last 20:'),
      code(
        'const returns = result.returns;',
        'const average = returns.map((_, i) => {',
        '  const window = returns.slice(Math.max(0, i - 19), i + 1);',
        '  return window.reduce((a, b) => a + b, 0) / window.length;',
        '});',
        'plot(',
        "  { 'episode return': returns, 'average of 20': average },",
        "  { title: 'CartPole: return per episode', xLabel: 'episode', yLabel: 'return' },",
        ')',
      ),
      md('The policy network as a graph (observation → action logits):'),
      code('wg.trace((obs: wg.Tensor) => result.policy.forward(obs), [{ shape: [-1, 4] }])'),
    ],
  },
];

/** The cells of one notebook, with fixed ids. */
export function notebookCells(nb: ExampleNotebook): Cell[] {
  return nb.cells.map((spec, i) =>
    'graph' in spec
      ? makeCell('graph')
      : 'md' in spec
        ? makeCell('markdown', spec.md, `${nb.file}-${i}`)
        : makeCell('code', spec.code, `${nb.file}-${i}`),
  );
}

/** The `.ipynb` text of one notebook. */
export function notebookFileText(nb: ExampleNotebook): string {
  const model = nb.model();
  const doc: EditorDocument = {
    ...model,
    graph: { ...model.graph, name: model.graph.name ?? nb.title },
  };
  return writeNotebookCells(notebookText(documentToFile(doc)), {
    cells: notebookCells(nb),
    outputs: {},
  });
}
