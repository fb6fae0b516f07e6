/**
 * A model's trained weights as a file: safetensors with one tensor per parameter node, named by
 * the node's id, and `__metadata__` saying what it is (`format`, `version`), the step it was
 * saved at and the model's name. The app writes it beside a notebook (`model.ipynb` →
 * `model.safetensors`) and reads it back when the notebook opens; PyTorch's
 * `safetensors.torch.load_file` reads it too.
 *
 * Reading checks the file against the graph it is meant for and says, in words, every way it
 * does not fit (a parameter missing, a shape or dtype that differs), so a stale or foreign file
 * is refused with a reason instead of loading half a model.
 */

import { WiregradError } from '../core/errors.js';
import type { GraphJSON, ParameterAttrs } from '../graph/ir.js';
import {
  loadSafetensors,
  readSafetensorsHeader,
  saveSafetensors,
  saveSafetensorsAsync,
} from '../nn/safetensors.js';
import { dispose } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';

export const WEIGHTS_FORMAT = 'wiregrad.weights';
export const WEIGHTS_VERSION = 1;

/** What a weights file says about itself. */
export interface WeightsInfo {
  /** The training step the weights were saved at (0 for untrained or imported weights). */
  readonly step: number;
  /** The model's name when saved. */
  readonly model: string;
  /** The data set it was trained on, where known ('' otherwise). */
  readonly dataset: string;
  /** How many parameter tensors it holds. */
  readonly tensors: number;
}

/** Thrown when a weights file cannot be read or does not fit the graph. */
export class WeightsFileError extends WiregradError {
  constructor(message: string) {
    super(message);
    this.name = 'WeightsFileError';
  }
}

interface ParamDecl {
  readonly id: string;
  readonly shape: readonly number[];
  readonly dtype: string;
}

function parameterDecls(graph: GraphJSON): ParamDecl[] {
  return graph.nodes
    .filter((n) => n.op === 'parameter')
    .map((n) => {
      const a = n.attrs as unknown as ParameterAttrs;
      return { id: n.id, shape: a.shape, dtype: a.dtype ?? 'f32' };
    });
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/**
 * Safetensors bytes of `params` (one per parameter node of `graph`, any device: check them with
 * engine/export/documents.ts's `matchingParams` first), with the weights file's metadata.
 */
export async function encodeWeights(
  graph: GraphJSON,
  params: ReadonlyMap<string, Tensor>,
  info: { readonly step: number; readonly dataset?: string },
): Promise<Uint8Array> {
  return saveSafetensorsAsync(params, weightsMetadata(graph, info));
}

/** `encodeWeights` for CPU tensors, at once. */
export function encodeWeightsSync(
  graph: GraphJSON,
  params: ReadonlyMap<string, Tensor>,
  info: { readonly step: number; readonly dataset?: string },
): Uint8Array {
  return saveSafetensors(params, weightsMetadata(graph, info));
}

function weightsMetadata(
  graph: GraphJSON,
  info: { readonly step: number; readonly dataset?: string },
): Record<string, string> {
  return {
    format: WEIGHTS_FORMAT,
    version: String(WEIGHTS_VERSION),
    step: String(Math.max(0, Math.floor(info.step))),
    model: graph.name ?? '',
    dataset: info.dataset ?? '',
  };
}

/**
 * What is wrong with `bytes` as the weights of `graph`, as a list of sentences (empty when they
 * fit). Reads only the header.
 */
export function weightsProblems(graph: GraphJSON, bytes: Uint8Array): string[] {
  let header: ReturnType<typeof readSafetensorsHeader>;
  try {
    header = readSafetensorsHeader(bytes);
  } catch (error) {
    const why = error instanceof Error ? error.message.replace(/^safetensors: /, '') : '';
    return [`it is not a readable safetensors file (${why})`];
  }
  const version = Number(header.metadata['version'] ?? '1');
  if (header.metadata['format'] === WEIGHTS_FORMAT && version > WEIGHTS_VERSION)
    return [
      `it is weights file version ${version}, newer than this Wiregrad reads ` +
        `(${WEIGHTS_VERSION}); update Wiregrad to open it`,
    ];
  const entries = new Map(header.entries.map((e) => [e.name, e]));
  const problems: string[] = [];
  const decls = parameterDecls(graph);
  for (const p of decls) {
    const e = entries.get(p.id);
    if (!e) problems.push(`it has no tensor for parameter '${p.id}'`);
    else if (e.shape.join() !== p.shape.join())
      problems.push(
        `parameter '${p.id}' is ${shapeText(e.shape)} in the file but ` +
          `${shapeText(p.shape)} in the model`,
      );
  }
  if (decls.length === 0) problems.push('the model has no parameters to load');
  const missing = problems.filter((p) => p.startsWith('it has no tensor')).length;
  if (missing > 0 && missing === decls.length && header.entries.length > 0) {
    const names = header.entries
      .slice(0, 4)
      .map((e) => `'${e.name}'`)
      .join(', ');
    return [
      `none of its ${header.entries.length} tensors (${names}` +
        `${header.entries.length > 4 ? ', …' : ''}) is named after a parameter of this model`,
    ];
  }
  return problems;
}

/** What `bytes` say about themselves (step, model name), without checking them against a graph. */
export function weightsInfo(bytes: Uint8Array): WeightsInfo {
  const header = readSafetensorsHeader(bytes);
  const step = Number(header.metadata['step'] ?? '0');
  return {
    step: Number.isSafeInteger(step) && step >= 0 ? step : 0,
    model: header.metadata['model'] ?? '',
    dataset: header.metadata['dataset'] ?? '',
    tensors: header.entries.length,
  };
}

/**
 * The parameter values in `bytes` for `graph` (new CPU tensors, owned by the caller), with what
 * the file says about itself. Throws WeightsFileError naming every misfit; tensors of the file
 * that are not parameters of the graph are ignored.
 */
export function decodeWeights(
  graph: GraphJSON,
  bytes: Uint8Array,
): { readonly values: Map<string, Tensor>; readonly info: WeightsInfo } {
  const problems = weightsProblems(graph, bytes);
  if (problems.length > 0) throw new WeightsFileError(describeProblems(problems));
  const all = loadSafetensors(bytes);
  const values = new Map<string, Tensor>();
  const unused: Tensor[] = [];
  const decls = new Map(parameterDecls(graph).map((p) => [p.id, p]));
  for (const [name, t] of all) {
    const decl = decls.get(name);
    if (!decl) {
      unused.push(t);
      continue;
    }
    if (t.dtype !== decl.dtype) {
      dispose([...all.values()]);
      throw new WeightsFileError(
        `the weights do not fit this model: parameter '${name}' is ${t.dtype} in the file ` +
          `but ${decl.dtype} in the model`,
      );
    }
    values.set(name, t);
  }
  dispose(unused);
  return { values, info: weightsInfo(bytes) };
}

/** The problems as one message for people. */
export function describeProblems(problems: readonly string[]): string {
  const shown = problems.slice(0, 3).join('; ');
  const more = problems.length > 3 ? `; and ${problems.length - 3} more` : '';
  return `the weights do not fit this model: ${shown}${more}`;
}
