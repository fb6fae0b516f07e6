/**
 * Exports a graph as TypeScript that rebuilds it with the public `GraphBuilder`: one line per
 * node, each bound to a constant named after the node, layers written with the builder's own
 * helpers (`b.linear`, `b.conv2d`, `b.batchNorm`) where the graph holds exactly what they make,
 * other grouped
 * nodes wrapped in `b.grouped`. Parameter seeds follow the builder's counter, written out only
 * where they differ from it, so the rebuilt document equals the original (`Graph.toJSON()`
 * gives the same nodes, attributes, outputs and meta). Every registered op can be written
 * this way, so this target never refuses a graph.
 */

import { batchNormLayerName } from '../graph/builder.js';
import type { Graph, GraphNode } from '../graph/graph.js';
import { nodeToJSON } from '../graph/graph.js';
import type { ParameterAttrs } from '../graph/ir.js';
import { Namer, TS_KEYWORDS, identifier } from './names.js';

export interface TypeScriptExportOptions {
  /** The module the code imports GraphBuilder and Graph from (default `'wiregrad'`). */
  readonly importFrom?: string;
  /** The name of the exported function that returns the graph (default `buildGraph`). */
  readonly functionName?: string;
}

/** A string literal in the project's style (single quotes). */
export function tsString(s: string): string {
  return `'${JSON.stringify(s).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

/** JSON-like data as a TypeScript literal: bare keys where they are identifiers. */
export function tsLiteral(v: unknown, indent = ''): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return tsString(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) {
    const items = v.map((x) => tsLiteral(x, indent + '  '));
    const flat = `[${items.join(', ')}]`;
    return flat.length <= 80 || !items.some((s) => s.includes('{'))
      ? flat
      : `[\n${items.map((s) => `${indent}  ${s},`).join('\n')}\n${indent}]`;
  }
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).map(
      ([k, x]) =>
        `${/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : tsString(k)}: ${tsLiteral(x, indent + '  ')}`,
    );
    if (entries.length === 0) return '{}';
    const flat = `{ ${entries.join(', ')} }`;
    return flat.length <= 80
      ? flat
      : `{\n${entries.map((s) => `${indent}  ${s},`).join('\n')}\n${indent}}`;
  }
  return 'null';
}

function sameKeys(attrs: object, keys: readonly string[]): boolean {
  const own = Object.keys(attrs);
  return own.length === keys.length && keys.every((k) => own.includes(k));
}

const plain = (n: GraphNode, group: string): boolean =>
  n.group === group && n.name === undefined && n.device === undefined;

/** A parameter exactly as GraphBuilder's layer helpers make it (kaiming init, given fan-in). */
function helperParam(
  n: GraphNode | undefined,
  id: string,
  shape: readonly number[],
  fanIn: number,
  seed: number,
  group: string,
): boolean {
  if (!n || n.id !== id || n.op !== 'parameter' || !plain(n, group)) return false;
  const a = n.attrs as unknown as ParameterAttrs;
  return (
    sameKeys(a, ['shape', 'dtype', 'seed', 'init', 'fanIn']) &&
    a.dtype === 'f32' &&
    a.init === 'kaimingUniform' &&
    a.fanIn === fanIn &&
    a.seed === seed &&
    a.shape.length === shape.length &&
    a.shape.every((d, i) => d === shape[i])
  );
}

interface HelperCall {
  /** How many nodes the call stands for. */
  readonly count: number;
  /** The call, given how to name values and the builder's variable. */
  readonly code: (ref: (id: string) => string, b: string) => string;
  readonly output: string;
}

/** `b.linear(x, in, out, id)` when the next nodes are exactly what it makes. */
function linearCall(nodes: readonly GraphNode[], i: number, seed: number): HelperCall | null {
  const out = nodes[i + 2];
  if (!out || out.op !== 'linear' || out.group !== out.id || !plain(out, out.id)) return null;
  if (Object.keys(out.attrs).length !== 0 || out.inputs.length !== 3) return null;
  const g = out.id;
  const w = nodes[i]!;
  const shape = (w.attrs as unknown as ParameterAttrs).shape;
  if (w.op !== 'parameter' || shape.length !== 2) return null;
  const [fout, fin] = shape as [number, number];
  if (!helperParam(w, `${g}.weight`, [fout, fin], fin, seed, g)) return null;
  if (!helperParam(nodes[i + 1], `${g}.bias`, [fout], fin, seed + 1, g)) return null;
  if (out.inputs[1] !== `${g}.weight` || out.inputs[2] !== `${g}.bias`) return null;
  const x = out.inputs[0]!;
  return {
    count: 3,
    output: g,
    code: (ref, b) => `${b}.linear(${ref(x)}, ${fin}, ${fout}, ${tsString(g)})`,
  };
}

/** `b.conv2d(x, cin, cout, k, id, { stride, padding })` when the next nodes are what it makes. */
function conv2dCall(nodes: readonly GraphNode[], i: number, seed: number): HelperCall | null {
  const add = nodes[i + 4];
  if (!add || add.op !== 'add' || add.group !== add.id || !plain(add, add.id)) return null;
  const g = add.id;
  const w = nodes[i]!;
  const shape = (w.attrs as unknown as ParameterAttrs).shape;
  if (w.op !== 'parameter' || shape.length !== 4) return null;
  const [cout, cin, k, k2] = shape as [number, number, number, number];
  if (k !== k2) return null;
  if (!helperParam(w, `${g}.weight`, shape, cin * k * k, seed, g)) return null;
  if (!helperParam(nodes[i + 1], `${g}.bias`, [cout], cin * k * k, seed + 1, g)) return null;
  const conv = nodes[i + 2]!;
  const view = nodes[i + 3]!;
  if (conv.id !== `${g}.conv` || conv.op !== 'conv2d' || !plain(conv, g)) return null;
  if (view.id !== `${g}.bias_view` || view.op !== 'reshape' || !plain(view, g)) return null;
  const c = conv.attrs as {
    stride: number[];
    padding: number[];
    dilation: number[];
    groups: number;
  };
  const [s, s2] = c.stride as [number, number];
  const [p] = c.padding as [number];
  if (s !== s2 || !c.padding.every((q) => q === p) || c.groups !== 1) return null;
  if (!c.dilation.every((d) => d === 1) || conv.inputs[1] !== w.id) return null;
  const vs = (view.attrs as { shape: number[] }).shape;
  if (view.inputs[0] !== `${g}.bias` || vs.join() !== [1, cout, 1, 1].join()) return null;
  if (add.inputs[0] !== conv.id || add.inputs[1] !== view.id) return null;
  const options = [...(s !== 1 ? [`stride: ${s}`] : []), ...(p !== 0 ? [`padding: ${p}`] : [])];
  const x = conv.inputs[0]!;
  return {
    count: 5,
    output: g,
    code: (ref, b) =>
      `${b}.conv2d(${ref(x)}, ${cin}, ${cout}, ${k}, ${tsString(g)}` +
      `${options.length > 0 ? `, { ${options.join(', ')} }` : ''})`,
  };
}

/** A batch-norm statistic or affine parameter as `b.batchNorm` makes it. */
function batchNormParam(
  n: GraphNode | undefined,
  id: string,
  features: number,
  init: 'ones' | 'zeros',
  seed: number,
  state: boolean,
  group: string,
): boolean {
  if (!n || n.id !== id || n.op !== 'parameter' || !plain(n, group)) return false;
  const a = n.attrs as unknown as ParameterAttrs;
  const keys = ['shape', 'dtype', 'seed', 'init', ...(state ? ['trainable'] : [])];
  return (
    sameKeys(a, keys) &&
    a.dtype === 'f32' &&
    a.init === init &&
    a.seed === seed &&
    (!state || a.trainable === false) &&
    a.shape.length === 1 &&
    a.shape[0] === features
  );
}

/**
 * `b.batchNorm(x, features, id, { dims, … })` when the next five nodes are what it makes (the
 * canvas's BatchNorm layer makes the same): weight, bias, running mean and variance (the
 * statistics on the weight's and bias's seeds) and the `batchNorm` node named BatchNorm1d/2d.
 */
function batchNormCall(nodes: readonly GraphNode[], i: number, seed: number): HelperCall | null {
  const out = nodes[i + 4];
  if (!out || out.op !== 'batchNorm' || out.group !== out.id || out.device !== undefined)
    return null;
  const g = out.id;
  const dims = ([1, 2] as const).find((d) => out.name === batchNormLayerName(d));
  if (dims === undefined || out.inputs.length !== 5) return null;
  const a = out.attrs as { training?: unknown; momentum?: unknown; eps?: unknown };
  if (!sameKeys(a, ['training', 'momentum', 'eps']) || typeof a.training !== 'boolean') return null;
  if (typeof a.momentum !== 'number' || typeof a.eps !== 'number') return null;
  const shape = (nodes[i]?.attrs as unknown as ParameterAttrs | undefined)?.shape;
  if (nodes[i]?.op !== 'parameter' || shape?.length !== 1) return null;
  const c = shape[0]!;
  const ids = ['weight', 'bias', 'running_mean', 'running_var'].map((p) => `${g}.${p}`);
  if (
    !batchNormParam(nodes[i], ids[0]!, c, 'ones', seed, false, g) ||
    !batchNormParam(nodes[i + 1], ids[1]!, c, 'zeros', seed + 1, false, g) ||
    !batchNormParam(nodes[i + 2], ids[2]!, c, 'zeros', seed, true, g) ||
    !batchNormParam(nodes[i + 3], ids[3]!, c, 'ones', seed + 1, true, g) ||
    ids.some((id, k) => out.inputs[k + 1] !== id)
  )
    return null;
  // Only what differs from the helper's defaults is written.
  const options = [
    `dims: ${dims}`,
    ...(a.training !== true ? [`training: ${a.training}`] : []),
    ...(a.momentum !== 0.1 ? [`momentum: ${tsLiteral(a.momentum)}`] : []),
    ...(a.eps !== 1e-5 ? [`eps: ${tsLiteral(a.eps)}`] : []),
  ];
  const x = out.inputs[0]!;
  return {
    count: 5,
    output: g,
    code: (ref, b) => `${b}.batchNorm(${ref(x)}, ${c}, ${tsString(g)}, { ${options.join(', ')} })`,
  };
}

/** The TypeScript source of a module exporting `buildGraph(): Graph`. */
export function exportTypeScript(graph: Graph, options: TypeScriptExportOptions = {}): string {
  const from = options.importFrom ?? 'wiregrad';
  const fn = options.functionName ?? 'buildGraph';
  const nodes = graph.nodes;
  // The builder is `b`, unless a node would be called b (a·b + c): then it is `builder`.
  const b = nodes.some((n) => identifier(n.id, 'camel') === 'b') ? 'builder' : 'b';
  const names = new Namer('camel', [...TS_KEYWORDS, b, 'Graph', 'GraphBuilder', 'doc', fn]);
  const params = nodes.filter((n) => n.op === 'parameter');
  const firstSeed = params.length > 0 ? (params[0]!.attrs as unknown as ParameterAttrs).seed : 1;
  let seed = firstSeed;
  const ref = (id: string): string => names.name(id);
  const lines: string[] = [];
  // A value nothing reads is a statement, not an unused constant.
  const read = new Set([...nodes.flatMap((n) => n.inputs), ...graph.outputs.map((o) => o.node)]);
  const bind = (id: string, call: string): string =>
    read.has(id) ? `const ${ref(id)} = ${call};` : `${call};`;
  const details: Record<string, { name?: string; device?: string }> = {};

  for (let i = 0; i < nodes.length;) {
    const helper =
      linearCall(nodes, i, seed) ?? conv2dCall(nodes, i, seed) ?? batchNormCall(nodes, i, seed);
    if (helper) {
      lines.push(bind(helper.output, helper.code(ref, b)));
      seed += 2;
      i += helper.count;
      continue;
    }
    const n = nodes[i++]!;
    const json = nodeToJSON(n);
    if (n.name !== undefined || n.device !== undefined)
      details[n.id] = {
        ...(n.name !== undefined ? { name: n.name } : {}),
        ...(n.device !== undefined ? { device: n.device } : {}),
      };
    let call: string;
    if (n.op === 'input') {
      const a = json.attrs as { shape: number[]; dtype: string; role: string };
      call = `${b}.input(${tsString(n.id)}, ${tsLiteral(a.shape)}, ${tsString(a.dtype)}, ${tsString(a.role)})`;
    } else if (n.op === 'parameter') {
      // The builder numbers seeds itself: write one only where it differs from the count.
      const {
        shape,
        seed: own,
        dtype,
        ...init
      } = json.attrs as Record<string, unknown> & { seed: number };
      const extra = {
        ...init,
        ...(dtype !== 'f32' ? { dtype } : {}),
        ...(own !== seed ? { seed: own } : {}),
      };
      seed++;
      call = `${b}.parameter(${tsString(n.id)}, ${tsLiteral(shape)}, ${tsLiteral(extra)})`;
    } else {
      const args = `[${n.inputs.map(ref).join(', ')}]`;
      call = `${b}.op(${tsString(n.op)}, ${args}, ${tsLiteral(json.attrs)}, ${tsString(n.id)})`;
    }
    if (n.group !== undefined) call = `${b}.grouped(${tsString(n.group)}, () => ${call})`;
    lines.push(bind(n.id, call));
  }
  for (const o of graph.outputs) lines.push(`${b}.output(${tsString(o.name)}, ${ref(o.node)});`);

  const hasDetails = Object.keys(details).length > 0;
  const meta = graph.meta !== undefined ? tsLiteral(graph.meta, '  ') : '';
  const builder = `new GraphBuilder(${tsString(graph.name ?? 'graph')}${firstSeed !== 1 ? `, { seed: ${firstSeed} }` : ''})`;
  const description = typeof graph.meta?.description === 'string' ? graph.meta.description : '';
  const end = hasDetails
    ? [
        `  // Display names and pinned devices, which the builder does not set.`,
        `  const details: Record<string, { name?: string; device?: 'cpu' | 'webgpu' }> = ${tsLiteral(details, '  ')};`,
        `  const doc = ${b}.toJSON(${meta});`,
        `  return Graph.fromJSON({ ...doc, nodes: doc.nodes.map((n) => ({ ...n, ...details[n.id] })) });`,
      ]
    : [`  return ${b}.build(${meta});`];
  return [
    '/**',
    ` * ${graph.name ?? 'A Wiregrad graph'}, rebuilt with Wiregrad's GraphBuilder.`,
    ...(description ? [` * ${description.replace(/\*\//g, '* /')}`] : []),
    ` * Exported by Wiregrad: one line per node; \`${b}.linear\`, \`${b}.conv2d\` and \`${b}.batchNorm\` make a whole layer.`,
    ' */',
    '',
    `import { ${hasDetails ? 'Graph, ' : 'type Graph, '}GraphBuilder } from ${tsString(from)};`,
    '',
    `export function ${fn}(): Graph {`,
    `  const ${b} = ${builder};`,
    ...lines.map((l) => `  ${l}`),
    ...end,
    '}',
    '',
  ].join('\n');
}
