/**
 * What the UI needs to know about each registered op (`OpInfo`): the registry's arity, attribute
 * specs and docs, plus what the registry does not say because only a UI needs it: input port
 * names, how many inputs a variadic op takes, the allowed values of enum-like string attributes,
 * and a palette category. Ops missing from these tables still work, with generic port names
 * and the category 'other', so adding an op never requires touching this file.
 */

// Registers every op definition, so the catalog is complete whoever imports it first.
import '../ops/index.js';
import { INPUT_ROLES, PARAM_INITS } from '../graph/ir.js';
import { type OpDef, listOps } from '../ops/registry.js';
import type { AttrInfo, OpCategory, OpInfo } from '../protocol/messages.js';

const CATEGORIES: Readonly<Record<OpCategory, readonly string[]>> = {
  source: ['input', 'parameter', 'constant'],
  creation: ['fill', 'arange', 'randomUniform', 'randomNormal'],
  activation: ['relu', 'leakyRelu', 'gelu', 'tanh', 'sigmoid', 'softmax', 'logSoftmax'],
  math: ['neg', 'exp', 'log', 'sqrt', 'abs', 'sign', 'erf'],
  arithmetic: ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'],
  comparison: ['equal', 'greater', 'less', 'where'],
  tensor: ['cast', 'identity', 'stopGradient'],
  movement: [
    'reshape',
    'expand',
    'transpose',
    'slice',
    'pad',
    'concat',
    'gather',
    'scatterAdd',
    'oneHot',
  ],
  reduction: ['sum', 'max', 'min', 'argmax'],
  nn: ['matmul', 'linear', 'conv2d', 'maxPool2d', 'avgPool2d', 'dropout'],
  normalization: ['layerNorm', 'batchNorm'],
  loss: ['crossEntropy', 'mseLoss'],
  gradient: [
    'conv2dBackpropInput',
    'conv2dBackpropFilter',
    'maxPool2dGrad',
    'maxPool2dGather',
    'avgPool2dGrad',
  ],
  other: [],
};

const CATEGORY_OF = new Map<string, OpCategory>(
  Object.entries(CATEGORIES).flatMap(([category, ops]) =>
    ops.map((op) => [op, category as OpCategory] as const),
  ),
);

interface PortSpec {
  readonly ports: readonly string[];
  readonly min?: number;
  /** null: the last port repeats without limit. */
  readonly max?: number | null;
}

/** Input names as in the ops' docs and PyTorch's signatures. */
const PORTS: Readonly<Record<string, PortSpec>> = {
  where: { ports: ['cond', 'a', 'b'] },
  pow: { ports: ['base', 'exponent'] },
  gather: { ports: ['x', 'indices'] },
  scatterAdd: { ports: ['x', 'indices', 'updates'] },
  conv2d: { ports: ['x', 'weight'] },
  conv2dBackpropInput: { ports: ['dy', 'weight'] },
  conv2dBackpropFilter: { ports: ['x', 'dy'] },
  maxPool2dGrad: { ports: ['x', 'dy'] },
  maxPool2dGather: { ports: ['x', 'g'] },
  avgPool2dGrad: { ports: ['dy'] },
  crossEntropy: { ports: ['logits', 'labels'] },
  mseLoss: { ports: ['pred', 'target'] },
  linear: { ports: ['x', 'weight', 'bias'], min: 2, max: 3 },
  layerNorm: { ports: ['x', 'gamma', 'beta'], min: 1, max: 3 },
  batchNorm: { ports: ['x', 'weight', 'bias', 'running_mean', 'running_var'] },
  concat: { ports: ['x'], min: 1, max: null },
};

const GENERIC_PORTS = ['a', 'b', 'c', 'd'];

function portsOf(def: OpDef): PortSpec & { min: number; max: number | null } {
  const known = PORTS[def.name];
  if (typeof def.arity === 'number') {
    const ports =
      known?.ports ??
      (def.arity === 1 ? ['x'] : Array.from({ length: def.arity }, (_, i) => GENERIC_PORTS[i]!));
    return { ports, min: def.arity, max: def.arity };
  }
  return { ports: known?.ports ?? ['x'], min: known?.min ?? 1, max: known?.max ?? null };
}

const REDUCTIONS = ['mean', 'sum', 'none'];

/** Allowed values of string attributes that are enums in disguise. */
function choicesOf(op: string, attr: string): readonly string[] | undefined {
  if (op === 'input' && attr === 'role') return INPUT_ROLES;
  if (op === 'parameter' && attr === 'init') return PARAM_INITS;
  if (attr === 'reduction') return REDUCTIONS;
  return undefined;
}

export function describeOp(def: OpDef): OpInfo {
  const { ports, min, max } = portsOf(def);
  const attrs: Record<string, AttrInfo> = {};
  for (const [name, spec] of Object.entries(def.attrs)) {
    const choices = choicesOf(def.name, name);
    attrs[name] = { ...spec, ...(choices ? { choices: [...choices] } : {}) };
  }
  return {
    name: def.name,
    arity: def.arity,
    ports: [...ports],
    minInputs: min,
    maxInputs: max,
    attrs,
    doc: def.doc,
    ...(def.gradientDoc !== undefined ? { gradientDoc: def.gradientDoc } : {}),
    category: CATEGORY_OF.get(def.name) ?? 'other',
  };
}

/** Ops that are never placed by hand (the JIT's, and placeholders for unknown ops). */
const INTERNAL_OPS = new Set(['fusedElementwise', 'placeholder']);

/** Every registered op a user can place, described for the UI, in registration order. */
export function describeOps(): OpInfo[] {
  return listOps()
    .filter((d) => !INTERNAL_OPS.has(d.name))
    .map(describeOp);
}
