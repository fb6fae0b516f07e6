/**
 * Export and import of graphs: `exportGraph(graph, target, options)` writes a graph as
 * TypeScript that rebuilds it (typescript.ts), as a PyTorch project (pytorch.ts: model.py,
 * weights, pytorch-train.ts: train.py for one process or torchrun) or as an ONNX model
 * (onnx.ts); `importOnnx` reads an ONNX model back (onnx-import.ts). Everything here is pure:
 * the result is a list of files in memory, which engine/node/export.ts writes to disk (and
 * the app offers as downloads). A graph that a target cannot express throws an ExportError
 * naming the node and the op.
 */

import { saveSafetensorsAsync } from '../nn/safetensors.js';
import { tensor } from '../ops/creation.js';
import type { Graph } from '../graph/graph.js';
import type { ConstantAttrs } from '../graph/ir.js';
import type { Tensor } from '../tensor.js';
import { isTrainable } from '../train/running-stats.js';
import { exportOnnx } from './onnx.js';
import { type PyTorchModule, pytorchModule } from './pytorch.js';
import {
  type ScriptDataset,
  defaultDataset,
  exportReadme,
  trainingScript,
} from './pytorch-train.js';
import { exportTypeScript } from './typescript.js';

export { ExportError } from './analysis.js';
export {
  ONNX_OPSET,
  ONNX_IR_VERSION,
  exportOnnx,
  type OnnxExport,
  type OnnxExportOptions,
} from './onnx.js';
export {
  importOnnx,
  type OnnxImport,
  type OnnxImportOptions,
  type OnnxImportReport,
  type PlaceholderEntry,
} from './onnx-import.js';
export {
  pytorchModule,
  type PyTorchModule,
  type ModuleInput,
  type StoredTensor,
} from './pytorch.js';
export { SCRIPT_DATASETS, type ScriptDataset } from './pytorch-train.js';
export { exportTypeScript, type TypeScriptExportOptions } from './typescript.js';

export type ExportTarget = 'typescript' | 'pytorch' | 'onnx';
export const EXPORT_TARGETS: readonly ExportTarget[] = ['typescript', 'pytorch', 'onnx'];

/** A file of an export, named relative to the folder it goes into. */
export interface ExportFile {
  readonly name: string;
  readonly contents: string | Uint8Array;
}

export interface ExportOptions {
  /** Parameter values by node id, e.g. trained weights (default: the graph's own). */
  readonly params?: ReadonlyMap<string, Tensor>;
  /** Export only these outputs (PyTorch, ONNX; default all). */
  readonly outputs?: readonly string[];
  /** PyTorch: the dataset train.py uses by default (default: guessed from the inputs). */
  readonly dataset?: ScriptDataset;
  /** PyTorch: the module's class name (default `Model`). */
  readonly className?: string;
  /** TypeScript: the module the code imports the engine from (default `'wiregrad'`). */
  readonly importFrom?: string;
}

export interface ExportResult {
  readonly target: ExportTarget;
  readonly files: readonly ExportFile[];
  /** Where the export behaves differently from the engine. */
  readonly warnings: readonly string[];
  /** PyTorch: the generated module (inputs, outputs, state-dict names of the weights). */
  readonly module?: PyTorchModule;
}

/** The parameter nodes the `loss` output depends on. */
function paramsReaching(graph: Graph, output: string): Set<string> {
  const found = new Set<string>();
  const seen = new Set<string>();
  const stack = [output];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const n = graph.node(id);
    if (n.op === 'parameter') found.add(id);
    stack.push(...n.inputs);
  }
  return found;
}

async function exportPyTorch(graph: Graph, options: ExportOptions): Promise<ExportResult> {
  const module = pytorchModule(graph, options);
  const warnings: string[] = [];
  const own = graph.parameters.some((p) => !options.params?.has(p.id))
    ? graph.initParameters()
    : null;
  const tensors = new Map<string, Tensor>();
  const made: Tensor[] = [];
  for (const s of module.stored) {
    const node = graph.node(s.node);
    if (s.role === 'batchesTracked') {
      // The engine does not count batches: 0, which PyTorch only reads when momentum is None.
      const t = tensor(Int32Array.of(0), { shape: [], dtype: 'i32' });
      made.push(t);
      tensors.set(s.key, t);
    } else if (node.op === 'parameter') {
      tensors.set(s.key, options.params?.get(s.node) ?? own!.get(s.node)!);
    } else {
      const c = node.attrs as unknown as ConstantAttrs;
      const t = tensor(Float64Array.from(c.data), { shape: c.shape, dtype: c.dtype });
      made.push(t);
      tensors.set(s.key, t);
    }
  }
  let weights: Uint8Array;
  try {
    weights = await saveSafetensorsAsync(tensors, { format: 'pt', producer: 'wiregrad' });
  } finally {
    for (const t of made) t.dispose();
  }
  const files: ExportFile[] = [
    { name: 'model.py', contents: module.code },
    { name: 'weights.safetensors', contents: weights },
  ];
  const loss = graph.outputs.find((o) => o.name === 'loss');
  if (loss && module.outputs.includes('loss')) {
    const dataset = options.dataset ?? defaultDataset(graph, module);
    const reached = paramsReaching(graph, loss.node);
    const unusedParameters = module.stored.some(
      (s) =>
        graph.node(s.node).op === 'parameter' && isTrainable(graph, s.node) && !reached.has(s.node),
    );
    files.push({
      name: 'train.py',
      contents: trainingScript(graph, module, { dataset, unusedParameters }),
    });
    files.push({ name: 'README.md', contents: exportReadme(graph, module, dataset) });
  } else {
    warnings.push("the graph has no 'loss' output, so no training script was written");
  }
  return { target: 'pytorch', files, warnings, module };
}

/**
 * Writes `graph` for another framework: TypeScript code that rebuilds it (`model.ts`), a
 * PyTorch project (`model.py`, `weights.safetensors`, `train.py`, `README.md`) or an ONNX
 * model (`model.onnx`). Throws an ExportError naming the node and op a target cannot express.
 */
export async function exportGraph(
  graph: Graph,
  target: ExportTarget,
  options: ExportOptions = {},
): Promise<ExportResult> {
  switch (target) {
    case 'typescript': {
      const code = exportTypeScript(
        graph,
        options.importFrom ? { importFrom: options.importFrom } : {},
      );
      return { target, files: [{ name: 'model.ts', contents: code }], warnings: [] };
    }
    case 'pytorch':
      return exportPyTorch(graph, options);
    case 'onnx': {
      const out = await exportOnnx(graph, options);
      return {
        target,
        files: [{ name: 'model.onnx', contents: out.bytes }],
        warnings: out.warnings,
      };
    }
    default:
      return target satisfies never;
  }
}
