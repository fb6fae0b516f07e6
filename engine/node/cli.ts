/**
 * The `wiregrad` command line. `wiregrad train <graph.json> --dataset <name> --epochs N`
 * trains a graph document on a built-in dataset with a progress bar and ends with one metrics
 * line; `wiregrad info <graph.json>` validates a graph and prints its shapes and parameter
 * count. Errors are printed as one clear message with exit code 1 (2 for bad usage).
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { WiregradError } from '../core/errors.js';
import { Graph } from '../graph/graph.js';
import {
  Trainer,
  trainConfigOf,
  type TrainConfig,
  type OptimizerConfig,
} from '../train/trainer.js';
import { DataLoader, TensorDataset } from '../data/index.js';
import { loadDataset, DATASET_NAMES } from './datasets.js';
import { saveSafetensors } from '../nn/safetensors.js';
import { tidy } from '../runtime/scope.js';
import { ProgressBar } from './progress.js';

const USAGE = `Usage:
  wiregrad train <graph.json> --dataset <name> [--epochs N] [--batch-size N] [--lr X]
                 [--optimizer sgd|adam|adamw] [--seed N] [--train-limit N] [--test-limit N]
                 [--save weights.safetensors] [--json]
  wiregrad info <graph.json>
  wiregrad --help | --version

Datasets: ${DATASET_NAMES.join(', ')}`;

export class UsageError extends Error {}

interface Flags {
  readonly positional: string[];
  readonly options: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[]): Flags {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) options.set(a.slice(2, eq), a.slice(eq + 1));
      else {
        const next = argv[i + 1];
        if (next !== undefined && !next.startsWith('--')) {
          options.set(a.slice(2), next);
          i++;
        } else options.set(a.slice(2), true);
      }
    } else positional.push(a);
  }
  return { positional, options };
}

function numberOption(flags: Flags, name: string, integer: boolean): number | undefined {
  const v = flags.options.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v === true || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < 0)
    throw new UsageError(
      `--${name} needs a ${integer ? 'whole ' : ''}number >= 0, got '${String(v)}'`,
    );
  return n;
}

function readGraph(path: string): Graph {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new WiregradError(`cannot read graph file '${path}': ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WiregradError(`'${path}' is not valid JSON: ${(e as Error).message}`);
  }
  return Graph.fromJSON(json);
}

type Print = (line: string) => void;

export async function train(flags: Flags, out: Print, err: NodeJS.WriteStream): Promise<void> {
  const path = flags.positional[1];
  if (!path) throw new UsageError('train needs a graph file');
  const dataset = flags.options.get('dataset');
  if (typeof dataset !== 'string') throw new UsageError('train needs --dataset <name>');
  const graph = readGraph(path);
  graph.inferShapes();

  const overrides: { -readonly [K in keyof TrainConfig]?: TrainConfig[K] } = {};
  const epochs = numberOption(flags, 'epochs', true);
  if (epochs !== undefined) overrides.epochs = epochs;
  const batch = numberOption(flags, 'batch-size', true);
  if (batch !== undefined) overrides.batchSize = batch;
  const seed = numberOption(flags, 'seed', true);
  if (seed !== undefined) overrides.seed = seed;
  const base = trainConfigOf(graph);
  const lr = numberOption(flags, 'lr', false);
  const type = flags.options.get('optimizer');
  if (type !== undefined && type !== 'sgd' && type !== 'adam' && type !== 'adamw')
    throw new UsageError(`--optimizer must be sgd, adam or adamw, got '${String(type)}'`);
  if (lr !== undefined || type !== undefined) {
    const optimizer: OptimizerConfig = {
      ...base.optimizer,
      ...(type !== undefined ? { type } : {}),
      ...(lr !== undefined ? { lr } : {}),
    };
    overrides.optimizer = optimizer;
  }
  const config = trainConfigOf(graph, overrides);
  const limits = {
    train: numberOption(flags, 'train-limit', true),
    test: numberOption(flags, 'test-limit', true),
  };
  const data = await loadDataset(dataset, { seed: config.seed, ...limits });
  const trainer = new Trainer(graph, config);
  const loader = new DataLoader(new TensorDataset(data.train.x, data.train.y), {
    batchSize: config.batchSize,
    shuffle: true,
    seed: config.seed,
  });
  const bar = new ProgressBar(err, config.epochs * loader.length);
  const t0 = performance.now();
  let lastLoss = NaN;
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    let sum = 0;
    let count = 0;
    for (const b of loader) {
      lastLoss = trainer.step(b.x, b.y);
      sum += lastLoss;
      count++;
      bar.tick(`epoch ${epoch}/${config.epochs} loss ${(sum / count).toFixed(4)}`);
    }
    trainer.endEpoch();
    const ev = trainer.evaluate(data.test.x, data.test.y);
    bar.log(
      `epoch ${epoch}/${config.epochs}  train_loss ${(sum / count).toFixed(4)}  ` +
        `test_loss ${ev.loss.toFixed(4)}  test_accuracy ${(ev.accuracy * 100).toFixed(2)}%`,
    );
  }
  bar.done();
  const final = trainer.evaluate(data.test.x, data.test.y);
  const seconds = (performance.now() - t0) / 1000;
  const save = flags.options.get('save');
  if (typeof save === 'string') tidy(() => writeFileSync(save, saveSafetensors(trainer.params)));
  const metrics = {
    dataset,
    epochs: config.epochs,
    steps: trainer.stepCount,
    final_batch_loss: lastLoss,
    test_loss: final.loss,
    test_accuracy: final.accuracy,
    test_count: final.count,
    seconds: Math.round(seconds * 100) / 100,
  };
  if (flags.options.has('json')) out(JSON.stringify(metrics));
  else
    out(
      `final: dataset ${dataset}  epochs ${metrics.epochs}  steps ${metrics.steps}  ` +
        `final_batch_loss ${lastLoss}  test_loss ${final.loss.toFixed(4)}  ` +
        `test_accuracy ${(final.accuracy * 100).toFixed(2)}% (${final.count})  ` +
        `time ${metrics.seconds}s`,
    );
}

function info(flags: Flags, out: Print): void {
  const path = flags.positional[1];
  if (!path) throw new UsageError('info needs a graph file');
  const graph = readGraph(path);
  const shapes = graph.symbolicShapes();
  let params = 0;
  for (const n of graph.nodes) {
    const s = shapes.get(n.id);
    if (n.op === 'parameter' && s)
      params += s.shape.reduce<number>((p, d) => p * (typeof d === 'number' ? d : 1), 1);
    out(
      `${n.id.padEnd(24)} ${n.op.padEnd(20)} [${s ? s.shape.join(', ') : '?'}] ${s?.dtype ?? ''}`,
    );
  }
  out(`${graph.nodes.length} nodes, ${params} parameters`);
}

export async function main(argv: readonly string[]): Promise<number> {
  const flags = parseArgs(argv);
  const out: Print = (line) => process.stdout.write(line + '\n');
  try {
    if (flags.options.has('version')) {
      out('wiregrad 0.1.0');
      return 0;
    }
    const command = flags.positional[0];
    if (!command || flags.options.has('help')) {
      out(USAGE);
      return command || flags.options.has('help') ? 0 : 2;
    }
    if (command === 'train') await train(flags, out, process.stderr);
    else if (command === 'info') info(flags, out);
    else throw new UsageError(`unknown command '${command}'`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`wiregrad: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`wiregrad: ${(e as Error).message}\n`);
    return 1;
  }
}
