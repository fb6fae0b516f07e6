/**
 * The `wiregrad` command line. `wiregrad train <graph.json> --dataset <name> --epochs N`
 * trains a graph document on a built-in dataset with a progress bar and ends with one metrics
 * line; `wiregrad info <graph.json>` validates a graph and prints its shapes and parameter
 * count; `wiregrad export` and `wiregrad import` (export.ts) write a graph as PyTorch, ONNX or
 * TypeScript and read ONNX models. Errors are printed as one clear message with exit code 1
 * (2 for bad usage).
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { WiregradError } from '../core/errors.js';
import { Graph } from '../graph/graph.js';
import {
  Trainer,
  trainConfigOf,
  type TrainConfig,
  type OptimizerConfig,
  type EvalResult,
} from '../train/trainer.js';
import { DataLoader, TensorDataset } from '../data/index.js';
import {
  loadDataset,
  loadingProgress,
  graphDataOptions,
  DATASET_NAMES,
  FILE_DATASETS,
} from './datasets.js';
import { saveSafetensors } from '../nn/safetensors.js';
import { tidy } from '../runtime/scope.js';
import { ProgressBar } from './progress.js';
import { ExecutionRecorder, exportTrace } from '../runtime/events.js';
import { writeFileAtomic } from './weights.js';
import { exportCommand, importCommand } from './export.js';

const USAGE = `Usage:
  wiregrad train <graph.json> --dataset <name> [--epochs N] [--batch-size N] [--lr X]
                 [--optimizer sgd|adam|adamw] [--seed N] [--train-limit N] [--test-limit N]
                 [--save weights.safetensors] [--trace trace.json] [--json]
                 [--target COLUMN] [--classes N] [--test-fraction X]
  wiregrad info <graph.json>
  wiregrad export <graph.json> --to pytorch|onnx|typescript [--out DIR]
                 [--weights weights.safetensors] [--dataset NAME] [--outputs a,b]
  wiregrad import <model.onnx> [--out graph.json] [--name NAME]
  wiregrad --help | --version

Datasets: ${DATASET_NAMES.join(', ')}
  or your own files: ${FILE_DATASETS.join(', ')} (--target: the CSV column to predict;
  a graph with f32 labels is a regression; folder images take the graph's input size)`;

export class UsageError extends Error {}

export interface Flags {
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

export function readGraph(path: string): Graph {
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

const TRAIN_FLAGS = [
  'dataset',
  'epochs',
  'batch-size',
  'lr',
  'optimizer',
  'seed',
  'train-limit',
  'test-limit',
  'save',
  'trace',
  'json',
  'target',
  'classes',
  'test-fraction',
];

/** A mistyped flag must not be ignored silently (it would train with the defaults). */
export function rejectUnknownFlags(flags: Flags, known: readonly string[]): void {
  for (const name of flags.options.keys())
    if (!known.includes(name))
      throw new UsageError(
        `unknown option --${name}` +
          (known.some((k) => k.startsWith(name) || name.startsWith(k))
            ? ` (did you mean --${known.find((k) => k.startsWith(name) || name.startsWith(k))}?)`
            : ''),
      );
}

export async function train(flags: Flags, out: Print, err: NodeJS.WriteStream): Promise<void> {
  rejectUnknownFlags(flags, TRAIN_FLAGS);
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
  const traceTo = flags.options.get('trace');
  if (traceTo === true) throw new UsageError('--trace needs a file name, e.g. --trace trace.json');
  const target = flags.options.get('target');
  if (target === true) throw new UsageError('--target needs a column name or position');
  const data = await loadDataset(dataset, {
    seed: config.seed,
    ...limits,
    ...graphDataOptions(graph),
    target,
    classes: numberOption(flags, 'classes', true),
    testFraction: numberOption(flags, 'test-fraction', false),
    onProgress: loadingProgress(err, dataset),
  });
  // Regression graphs (f32 labels) are measured by RMSE, classifiers by accuracy.
  const metric = (ev: EvalResult) =>
    ev.rmse !== undefined
      ? `test_rmse ${ev.rmse.toFixed(4)}`
      : `test_accuracy ${(ev.accuracy * 100).toFixed(2)}%`;
  const trainer = new Trainer(graph, config);
  const loader = new DataLoader(new TensorDataset(data.train.x, data.train.y), {
    batchSize: config.batchSize,
    shuffle: true,
    seed: config.seed,
  });
  const totalSteps = config.epochs * loader.length;
  const bar = new ProgressBar(err, totalSteps);
  // --trace records the last training step (forward, backward, optimizer), once everything is
  // warmed up, with statistics of the graph's outputs (the loss and the logits).
  const recorder = traceTo !== undefined ? new ExecutionRecorder() : null;
  recorder?.watch(graph.outputs.map((o) => o.node));
  const t0 = performance.now();
  let lastLoss = NaN;
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    let sum = 0;
    let count = 0;
    for (const b of loader) {
      const traced = recorder !== null && trainer.stepCount === totalSteps - 1;
      if (traced) recorder.start();
      try {
        lastLoss = trainer.step(b.x, b.y);
      } finally {
        if (traced) recorder.stop();
      }
      sum += lastLoss;
      count++;
      bar.tick(`epoch ${epoch}/${config.epochs} loss ${(sum / count).toFixed(4)}`);
    }
    trainer.endEpoch();
    const ev = trainer.evaluate(data.test.x, data.test.y);
    bar.log(
      `epoch ${epoch}/${config.epochs}  train_loss ${(sum / count).toFixed(4)}  ` +
        `test_loss ${ev.loss.toFixed(4)}  ${metric(ev)}`,
    );
  }
  bar.done();
  const final = trainer.evaluate(data.test.x, data.test.y);
  const seconds = (performance.now() - t0) / 1000;
  const save = flags.options.get('save');
  if (typeof save === 'string') tidy(() => writeFileSync(save, saveSafetensors(trainer.params)));
  if (recorder !== null && traceTo !== undefined) {
    const events = recorder.events();
    const json = JSON.stringify(exportTrace(events));
    await writeFileAtomic(traceTo, new TextEncoder().encode(json));
    err.write(
      `trace: ${events.length} events of step ${trainer.stepCount} written to ${traceTo}\n`,
    );
  }
  const metrics = {
    dataset,
    epochs: config.epochs,
    steps: trainer.stepCount,
    final_batch_loss: lastLoss,
    test_loss: final.loss,
    test_accuracy: final.accuracy,
    test_count: final.count,
    ...(final.rmse !== undefined ? { test_rmse: final.rmse } : {}),
    seconds: Math.round(seconds * 100) / 100,
  };
  if (flags.options.has('json')) out(JSON.stringify(metrics));
  else
    out(
      `final: dataset ${dataset}  epochs ${metrics.epochs}  steps ${metrics.steps}  ` +
        `final_batch_loss ${lastLoss}  test_loss ${final.loss.toFixed(4)}  ` +
        `${metric(final)} (${final.count})  ` +
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
    else if (command === 'export') await exportCommand(flags, out);
    else if (command === 'import') await importCommand(flags, out);
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
