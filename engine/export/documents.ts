/**
 * Export and import for a host that holds graph documents, not graphs (the app's engine
 * worker): `exportDocument` validates a document and exports it with its seeded parameter
 * initialisation or given weights (copies, freed afterwards), returning plain files;
 * `matchingParams` checks that a training session's weights fit the document;
 * `importOnnxDocument` reads ONNX bytes into a graph document, a plain report and the model's
 * weights as a weights file (a document keeps only how its parameters are initialised; the
 * weights travel beside it). Both throw errors whose messages are for the user: an op a target
 * lacks names the node and the op; an unreadable file says it is not an ONNX model.
 */

import { WiregradError } from '../core/errors.js';
import { Graph } from '../graph/graph.js';
import type { GraphJSON, ParameterAttrs } from '../graph/ir.js';
import { tensor } from '../ops/creation.js';
import { dispose } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import { type ExportFile, type ExportTarget, exportGraph } from './index.js';
import { type OnnxImportReport, importOnnx } from './onnx-import.js';
import { encodeWeightsSync } from '../train/weights-file.js';

export interface DocumentExport {
  readonly files: readonly ExportFile[];
  readonly warnings: readonly string[];
}

/**
 * Exports a document. `weights` (by parameter node id, e.g. a training session's) replace the
 * seeded initial values; they are copied before the export starts, so training may go on.
 */
export async function exportDocument(
  json: GraphJSON,
  target: ExportTarget,
  weights?: ReadonlyMap<string, Tensor>,
): Promise<DocumentExport> {
  const graph = Graph.fromJSON(json);
  if (target === 'typescript') {
    const result = await exportGraph(graph, target);
    return { files: result.files, warnings: result.warnings };
  }
  // Made here so that they are freed after the export (a worker exports many times).
  const params = weights ? copyParams(weights) : graph.initParameters();
  try {
    const result = await exportGraph(graph, target, { params });
    return { files: result.files, warnings: result.warnings };
  } finally {
    dispose([...params.values()]);
  }
}

function copyParams(weights: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [id, t] of weights) {
    const data = t.dataSync().slice();
    out.set(id, tensor(data, { shape: [...t.shape], dtype: t.dtype }));
  }
  return out;
}

/**
 * The weights of `params` for the document's parameters, checked: every parameter node must
 * have a value of its shape (so weights trained for another graph are refused, naming the
 * node). Throws an error for the user otherwise.
 */
export function matchingParams(
  json: GraphJSON,
  params: ReadonlyMap<string, Tensor>,
): ReadonlyMap<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const node of json.nodes) {
    if (node.op !== 'parameter') continue;
    const value = params.get(node.id);
    const shape = (node.attrs as unknown as ParameterAttrs).shape;
    if (!value || value.shape.join() !== shape.join())
      throw new WiregradError(
        `the trained weights are for another graph: parameter '${node.id}' ` +
          (value
            ? `is [${value.shape.join(', ')}] in training but [${shape.join(', ')}] here`
            : 'is not in the training session') +
          '; train this model again, or export its initial weights',
      );
    out.set(node.id, value);
  }
  return out;
}

export interface DocumentImport {
  readonly graph: GraphJSON;
  readonly report: OnnxImportReport;
  /** The model's weights as a weights file (engine/train/weights-file.ts), when it has any. */
  readonly weights?: Uint8Array;
}

/** The graph is named after the file (without `.onnx`) unless the model names it. */
export function importOnnxDocument(bytes: Uint8Array, fileName: string): DocumentImport {
  const imported = importOnnx(bytes);
  try {
    const stem = fileName.replace(/\.onnx$/i, '');
    const graph = imported.json.name ? imported.json : { ...imported.json, name: stem };
    const hasParams = graph.nodes.some((n) => n.op === 'parameter');
    return {
      graph,
      report: imported.report,
      ...(hasParams
        ? {
            weights: encodeWeightsSync(graph, matchingParams(graph, imported.weights), { step: 0 }),
          }
        : {}),
    };
  } finally {
    dispose([...imported.weights.values()]);
  }
}
