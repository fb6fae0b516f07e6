/**
 * The CLI's `export` and `import` commands, and writing an export's files to a folder.
 * `wiregrad export <graph.json> --to pytorch|onnx|typescript [--out dir]` writes what
 * `exportGraph` makes (with `--weights` from `wiregrad train --save` or a trained train.py);
 * `wiregrad import <model.onnx> --out graph.json` reads an ONNX model into a graph document
 * plus its weights, and prints the import report (placeholders included). Files are written
 * atomically; errors name the file, the node or the flag.
 */

import { mkdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { WiregradError, formatShape } from '../core/errors.js';
import {
  EXPORT_TARGETS,
  type ExportResult,
  type ExportTarget,
  SCRIPT_DATASETS,
  type ScriptDataset,
  exportGraph,
  importOnnx,
} from '../export/index.js';
import type { Graph } from '../graph/graph.js';
import type { ParameterAttrs } from '../graph/ir.js';
import { saveSafetensorsAsync } from '../nn/safetensors.js';
import { dispose } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import { type Flags, UsageError, readGraph, rejectUnknownFlags } from './cli.js';
import { loadWeights, writeFileAtomic } from './weights.js';

type Print = (line: string) => void;

/** Writes every file of `result` into `dir` (created if missing); returns the paths. */
export async function writeExport(result: ExportResult, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const file of result.files) {
    const path = join(dir, file.name);
    const bytes =
      typeof file.contents === 'string' ? new TextEncoder().encode(file.contents) : file.contents;
    await writeFileAtomic(path, bytes);
    paths.push(path);
  }
  return paths;
}

/** Weights by parameter node id, checked against the graph's parameters. */
async function readParams(graph: Graph, path: string): Promise<Map<string, Tensor>> {
  const weights = await loadWeights(path);
  for (const [id, t] of weights) {
    const node = graph.hasNode(id) ? graph.node(id) : null;
    if (!node || node.op !== 'parameter') {
      dispose(weights);
      throw new WiregradError(
        `${path}: '${id}' is not a parameter of the graph; the weights file must be keyed by ` +
          `parameter node ids (as 'wiregrad train --save' writes it)`,
      );
    }
    const shape = (node.attrs as unknown as ParameterAttrs).shape;
    if (shape.length !== t.rank || shape.some((d, i) => d !== t.shape[i])) {
      dispose(weights);
      throw new WiregradError(
        `${path}: '${id}' has shape ${formatShape(t.shape)}, but the graph's parameter is ` +
          `${formatShape(shape)}`,
      );
    }
  }
  return weights;
}

const EXPORT_FLAGS = ['to', 'out', 'weights', 'dataset', 'outputs', 'import-from'];

export async function exportCommand(flags: Flags, out: Print): Promise<void> {
  rejectUnknownFlags(flags, EXPORT_FLAGS);
  const path = flags.positional[1];
  if (!path) throw new UsageError('export needs a graph file');
  const to = flags.options.get('to');
  if (typeof to !== 'string' || !(EXPORT_TARGETS as readonly string[]).includes(to))
    throw new UsageError(`export needs --to ${EXPORT_TARGETS.join('|')}`);
  const target = to as ExportTarget;
  const dataset = flags.options.get('dataset');
  if (
    dataset !== undefined &&
    (typeof dataset !== 'string' || !(SCRIPT_DATASETS as readonly string[]).includes(dataset))
  )
    throw new UsageError(`--dataset must be one of ${SCRIPT_DATASETS.join(', ')}`);
  const outputs = flags.options.get('outputs');
  if (outputs === true)
    throw new UsageError('--outputs needs a comma-separated list of output names');
  const importFrom = flags.options.get('import-from');
  if (importFrom === true) throw new UsageError('--import-from needs a module name');
  const dirFlag = flags.options.get('out');
  if (dirFlag === true) throw new UsageError('--out needs a folder');
  const dir = dirFlag ?? `${basename(path, extname(path))}-${target}`;

  const graph = readGraph(path);
  const weightsPath = flags.options.get('weights');
  if (weightsPath === true) throw new UsageError('--weights needs a .safetensors file');
  const params = weightsPath !== undefined ? await readParams(graph, weightsPath) : undefined;
  try {
    const result = await exportGraph(graph, target, {
      ...(params ? { params } : {}),
      ...(outputs !== undefined ? { outputs: outputs.split(',').map((s) => s.trim()) } : {}),
      ...(dataset !== undefined ? { dataset: dataset as ScriptDataset } : {}),
      ...(importFrom !== undefined ? { importFrom } : {}),
    });
    const written = await writeExport(result, dir);
    for (const w of result.warnings) out(`warning: ${w}`);
    out(`wrote ${written.join(', ')}`);
    if (target === 'pytorch' && result.files.some((f) => f.name === 'train.py'))
      out(`train with: cd ${dir} && python train.py   (or: torchrun --nproc_per_node 2 train.py)`);
  } finally {
    if (params) dispose(params);
  }
}

const IMPORT_FLAGS = ['out', 'name'];

export async function importCommand(flags: Flags, out: Print): Promise<void> {
  rejectUnknownFlags(flags, IMPORT_FLAGS);
  const path = flags.positional[1];
  if (!path) throw new UsageError('import needs an .onnx file');
  const name = flags.options.get('name');
  if (name === true) throw new UsageError('--name needs a graph name');
  const outFlag = flags.options.get('out');
  if (outFlag === true) throw new UsageError('--out needs a .json file name');
  const target = outFlag ?? `${basename(path, extname(path))}.json`;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new WiregradError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const result = importOnnx(bytes, name !== undefined ? { name } : {});
  try {
    const weightsPath = target.replace(/\.json$/, '') + '.safetensors';
    await writeFileAtomic(
      target,
      new TextEncoder().encode(JSON.stringify(result.json, null, 2) + '\n'),
    );
    await writeFileAtomic(weightsPath, await saveSafetensorsAsync(result.weights));
    const r = result.report;
    out(
      `imported ${r.onnxNodes} ONNX nodes (opset ${r.opset}, ${r.producer || 'unknown producer'}) as ` +
        `${r.nodes} nodes with ${r.parameters} parameters`,
    );
    for (const p of r.placeholders)
      out(`placeholder '${p.node}' for ONNX ${p.op} '${p.onnxNode}': ${p.reason}`);
    for (const w of r.warnings) out(`warning: ${w}`);
    out(`wrote ${target} and ${weightsPath}`);
  } finally {
    dispose(result.weights);
  }
}
