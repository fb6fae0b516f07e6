/**
 * Implicit-GEMM WebGPU kernels for conv2d and its two backward ops (f32). Each op is, per
 * channel group g, a matrix product C = A·B whose operands are never materialised: the kernel
 * reads their elements straight from the tensors (im2col on the fly) into shared-memory tiles,
 * and each invocation accumulates a TM×TN block of C in vec4 registers, as the register-blocked
 * matmul (kernels/matmul.ts) does:
 * - conv2d: y[b, co, oh, ow] = Σ_r w[co, r] · x̂[r, (b, oh, ow)], M = Cout/groups,
 *   N = batch·Ho·Wo, K = Cin/groups·kh·kw (r = (ci, ki, kj); x̂ is x at the tap, 0 in padding);
 * - conv2dBackpropInput: dx[b, ci, ih, iw] = Σ_(co, ki, kj) w[co, ci, ki, kj] · dy[b, co, oh, ow]
 *   over the taps whose (ih + pad − ki·dh) / sh is a whole output row (and likewise for columns),
 *   M = Cin/groups, N = batch·H·W, K = Cout/groups·kh·kw;
 * - conv2dBackpropFilter: dw[co, r] = Σ_(b, oh, ow) dy[b, co, oh, ow] · x̂[r, (b, oh, ow)],
 *   M = Cout/groups, N = Cin/groups·kh·kw, K = batch·Ho·Wo. K is long and M·N small, so K is
 *   split into chunks (split-K), each workgroup writing its partial product to a scratch buffer
 *   that a second pass sums, in a fixed order (deterministic).
 * Geometry travels as parameter words (kernels/conv.ts's convParams, then M, N, K, splits, the
 * chunk length and the tile counts along N and M), so one pipeline per op and tiling serves
 * every shape. Out-of-range rows, columns and k are loaded as zero.
 */

import type { Shape } from '../../../core/shape.js';
import { BufferUsage } from '../buffer-pool.js';
import { bindings, linearKernel, type KernelContext } from '../program.js';
import type { WebGPUBackend } from '../webgpu-backend.js';
import { tileProducts } from './matmul.js';

/** Tile sizes of the implicit-GEMM kernels (see MatmulTiling; tm and tn multiples of 4). */
export interface ConvTiling {
  readonly bm: number;
  readonly bn: number;
  readonly bk: number;
  readonly tm: number;
  readonly tn: number;
}

/**
 * Candidates by the product's rows M (channels per group): 64 rows, or 32 or 16 for M ≤ 32 or
 * ≤ 16, so that layers with few channels do not compute mostly padding.
 */
export const CONV_TILINGS: readonly ConvTiling[] = [
  { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 },
  { bm: 32, bn: 64, bk: 16, tm: 4, tn: 4 },
  { bm: 16, bn: 64, bk: 16, tm: 4, tn: 4 },
];

export function chooseConvTiling(m: number): ConvTiling {
  return CONV_TILINGS[m <= 16 ? 2 : m <= 32 ? 1 : 0]!;
}

export type ConvGemmOp = 'forward' | 'input' | 'filter';

/**
 * WGSL names for a convolution's geometry, parameter words 1…17 (conv.ts's `convParams`): the
 * batch under `batch` (the GEMM kernels keep N for a matrix side), then C, H, W, Cout, cinG,
 * coutG, KH, KW, Ho, Wo, SH, SW, PT, PL, DH, DW.
 */
export function convGeometry(batch: string): string {
  const names = [batch, 'C', 'H', 'W', 'Cout', 'cinG', 'coutG', 'KH', 'KW', 'Ho', 'Wo'];
  names.push('SH', 'SW', 'PT', 'PL', 'DH', 'DW');
  return names.map((name, i) => `  let ${name} = p[${i + 1}];`).join('\n');
}

const NAMES = convGeometry('NB');

/**
 * Per op, WGSL helpers: the element loader of A (m, k); slotB, the part of B's element address
 * that depends on its column n only (computed once per load slot), and loadB (k) from it; the
 * flat output index of C (m, n) (for the filter gradient, into the split's slice of the scratch
 * buffer). And along which axis each operand is contiguous in memory: its tile is fetched along
 * that axis, so that neighbouring invocations read neighbouring words.
 */
interface OpSpec {
  readonly helpers: string;
  /** A is contiguous along k (else along m); B along k (else along n). */
  readonly aAlongK: boolean;
  readonly bAlongK: boolean;
}

const SPECS: Record<ConvGemmOp, OpSpec> = {
  // A = w [Cout, Cin/groups·kh·kw], B = x at the taps.
  forward: {
    aAlongK: true,
    bAlongK: false,
    helpers: `fn loadA(g: u32, m: u32, k: u32) -> f32 {
  return a[(g * p[7] + m) * p[20] + k];
}
// Column n = (b, oh, ow): the group's first x plane of batch item b, and the top-left tap.
fn slotB(g: u32, n: u32) -> Slot {
${NAMES}
  let hw = Ho * Wo;
  let s = n % hw;
  let ih0 = i32((s / Wo) * SH) - i32(PT);
  let iw0 = i32((s % Wo) * SW) - i32(PL);
  return Slot((n / hw * C + g * cinG) * H * W, ih0, iw0);
}
fn loadB(q: Slot, k: u32) -> f32 {
  let khw = p[8] * p[9];
  let ci = k / khw;
  let t = k % khw;
  let ih = q.i + i32((t / p[9]) * p[16]);
  let iw = q.j + i32((t % p[9]) * p[17]);
  if (ih < 0 || ih >= i32(p[3]) || iw < 0 || iw >= i32(p[4])) { return 0.0; }
  return b[q.base + (ci * p[3] + u32(ih)) * p[4] + u32(iw)];
}
fn outIndex(g: u32, m: u32, n: u32) -> u32 {
  let hw = p[10] * p[11];
  return ((n / hw) * p[5] + g * p[7] + m) * hw + n % hw;
}`,
  },
  // A = w read as [Cin/groups, Cout/groups·kh·kw], B = dy at the taps that reach x.
  input: {
    aAlongK: false,
    bAlongK: false,
    helpers: `fn loadA(g: u32, m: u32, k: u32) -> f32 {
  let khw = p[8] * p[9];
  return a[((g * p[7] + k / khw) * p[6] + m) * khw + k % khw];
}
// Column n = (b, ih, iw): the group's first dy plane of batch item b, and ih + PT, iw + PL.
fn slotB(g: u32, n: u32) -> Slot {
${NAMES}
  let hw = H * W;
  let s = n % hw;
  return Slot((n / hw * Cout + g * coutG) * Ho * Wo, i32(s / W + PT), i32(s % W + PL));
}
fn loadB(q: Slot, k: u32) -> f32 {
${NAMES}
  let khw = KH * KW;
  let co = k / khw;
  let t = k % khw;
  // Output row oh meets input row ih through tap ki when oh·SH = ih + PT − ki·DH.
  let th = q.i - i32((t / KW) * DH);
  let tw = q.j - i32((t % KW) * DW);
  if (th < 0 || tw < 0) { return 0.0; }
  let oh = u32(th) / SH;
  let ow = u32(tw) / SW;
  if (oh * SH != u32(th) || ow * SW != u32(tw) || oh >= Ho || ow >= Wo) { return 0.0; }
  return b[q.base + (co * Ho + oh) * Wo + ow];
}
fn outIndex(g: u32, m: u32, n: u32) -> u32 {
  let hw = p[3] * p[4];
  return ((n / hw) * p[2] + g * p[6] + m) * hw + n % hw;
}`,
  },
  // A = dy [Cout/groups, batch·Ho·Wo], B = x at the taps, read along the batch and space.
  filter: {
    aAlongK: true,
    bAlongK: true,
    helpers: `fn loadA(g: u32, m: u32, k: u32) -> f32 {
  let hw = p[10] * p[11];
  return a[((k / hw) * p[5] + g * p[7] + m) * hw + k % hw];
}
// Column n = (ci, ki, kj): x plane ci of the group, and the tap's offset from the window.
fn slotB(g: u32, n: u32) -> Slot {
${NAMES}
  let khw = KH * KW;
  let t = n % khw;
  let di = i32((t / KW) * DH) - i32(PT);
  let dj = i32((t % KW) * DW) - i32(PL);
  return Slot((g * cinG + n / khw) * H * W, di, dj);
}
fn loadB(q: Slot, k: u32) -> f32 {
${NAMES}
  let hw = Ho * Wo;
  let s = k % hw;
  let ih = i32((s / Wo) * SH) + q.i;
  let iw = i32((s % Wo) * SW) + q.j;
  if (ih < 0 || ih >= i32(H) || iw < 0 || iw >= i32(W)) { return 0.0; }
  return b[(k / hw) * C * H * W + q.base + u32(ih) * W + u32(iw)];
}
fn outIndex(g: u32, m: u32, n: u32) -> u32 {
  // The split's slice: splits × Cout × N, split s at z % splits.
  return ((split * p[5] + g * p[7] + m) * p[19]) + n;
}`,
  },
};

/** The WGSL of one op's implicit-GEMM kernel with tiling `t`. */
export function convGemmSource(op: ConvGemmOp, t: ConvTiling): string {
  const spec = SPECS[op];
  const { bm, bn, bk, tm, tn } = t;
  const tx = bn / tn;
  const ty = bm / tm;
  const threads = tx * ty;
  const rowGroups = tm / 4;
  const colGroups = tn / 4;
  const strideA = bm / 4 + 1;
  const strideB = bn / 4 + 1;
  const lines: string[] = [];
  const L = (s: string) => lines.push(s);

  /** Fetch and store code of one operand's tile (`w` wide along m or n, `bk` deep). */
  const operand = (o: 'a' | 'b', alongK: boolean, w: number) => {
    const loads = (w * bk) / threads;
    const tile = o === 'a' ? 'As' : 'Bs';
    const stride = o === 'a' ? strideA : strideB;
    const [bound, w0] = o === 'a' ? ['M', 'm0'] : ['N', 'n0'];
    const decl: string[] = [];
    const fetch: ((k0: string) => string)[] = [];
    const store: string[] = [];
    for (let l = 0; l < loads; l++) {
      const e = `(tid + ${l * threads}u)`;
      const [kk, ww] = alongK
        ? [`${e} % ${bk}u`, `${e} / ${bk}u`]
        : [`${e} / ${w}u`, `${e} % ${w}u`];
      // Each load slot keeps its row (m) or column (n) for the whole reduction: B's column
      // is decomposed once, here.
      decl.push(`  let ${o}k${l} = ${kk};
  let ${o}w${l} = ${ww};
  let ${o}in${l} = ${w0} + ${o}w${l} < ${bound};
  var ${o}r${l} = 0.0;`);
      if (o === 'b') decl.push(`  let bs${l} = slotB(g, n0 + bw${l});`);
      const call = o === 'a' ? `loadA(g, m0 + aw${l}, kq)` : `loadB(bs${l}, kq)`;
      fetch.push(
        (k0) => `    {
      let kq = ${k0} + ${o}k${l};
      ${o}r${l} = 0.0;
      if (${o}in${l} && kq < kEnd) { ${o}r${l} = ${call}; }
    }`,
      );
      store.push(
        `    ${tile}[${o}k${l} * ${stride}u + ${o}w${l} / 4u][${o}w${l} % 4u] = ${o}r${l};`,
      );
    }
    return { decl, fetch, store };
  };

  L(`@group(0) @binding(0) var<storage, read> p: array<u32>;`);
  L(
    bindings([
      ['out', 'f32', true],
      ['a', 'f32'],
      ['b', 'f32'],
    ]),
  );
  L(`var<workgroup> As: array<vec4<f32>, ${bk * strideA}>;`);
  L(`var<workgroup> Bs: array<vec4<f32>, ${bk * strideB}>;`);
  L(`var<private> split: u32;`);
  L(`struct Slot { base: u32, i: i32, j: i32 }`);
  L(spec.helpers);
  L(`@compute @workgroup_size(${tx}, ${ty})`);
  L(`fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) tid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {`);
  L(`  let tile = wid.x + wid.y * nwg.x;
  if (tile >= p[23] * p[24]) { return; }
  let M = p[18];
  let N = p[19];
  let K = p[20];
  let splits = p[21];
  let chunk = p[22];
  let sp = wid.z % splits;
  split = sp;
  let g = wid.z / splits;
  let kBegin = sp * chunk;
  let kEnd = min(K, kBegin + chunk);
  let m0 = tile / p[23] * ${bm}u;
  let n0 = tile % p[23] * ${bn}u;`);
  const A = operand('a', spec.aAlongK, bm);
  const B = operand('b', spec.bAlongK, bn);
  A.decl.forEach(L);
  B.decl.forEach(L);
  const fetch = (k0: string) => [...A.fetch, ...B.fetch].forEach((f) => L(f(k0)));
  for (let i = 0; i < rowGroups * 4; i++)
    for (let j = 0; j < colGroups; j++) L(`  var c${i}_${j} = vec4<f32>(0.0);`);
  L(`  let tiles = (kEnd - min(kBegin, kEnd) + ${bk - 1}u) / ${bk}u;`);
  fetch('kBegin');
  L(`  for (var t = 0u; t < tiles; t = t + 1u) {`);
  A.store.forEach(L);
  B.store.forEach(L);
  L(`    workgroupBarrier();`);
  L(`    if (t + 1u < tiles) {`);
  L(`    let kn = kBegin + (t + 1u) * ${bk}u;`);
  fetch('kn');
  L(`    }`);
  L(`    for (var k = 0u; k < ${bk}u; k = k + 1u) {`);
  tileProducts(L, { rowGroups, colGroups, strideA, strideB, tx, ty });
  L(`    }`);
  L(`    workgroupBarrier();`);
  L(`  }`);
  for (let i = 0; i < rowGroups; i++)
    for (let r = 0; r < 4; r++) {
      const row = `row${i}_${r}`;
      L(`  let ${row} = m0 + 4u * (lid.y + ${i * ty}u) + ${r}u;`);
      L(`  if (${row} < M) {`);
      for (let j = 0; j < colGroups; j++)
        L(`    {
    let col = n0 + 4u * (lid.x + ${j * tx}u);
    let v = c${i * 4 + r}_${j};
    for (var q = 0u; q < 4u; q = q + 1u) {
      if (col + q < N) { out[outIndex(g, ${row}, col + q)] = v[q]; }
    }
    }`);
      L(`  }`);
    }
  L(`}`);
  return lines.join('\n');
}

/** Sums the splits of the filter gradient: out[i] = Σ_s part[s·p[0] + i], s < p[1]. */
const SUM_SPLITS = `  var acc = 0.0;
  for (var s = 0u; s < p[1]; s = s + 1u) { acc = acc + part[s * p[0] + i]; }
  out[i] = acc;`;

/** Workgroups the split-K filter gradient aims for (enough to fill a large GPU). */
const TARGET_WORKGROUPS = 512;
/** Shortest reduction chunk per split, in elements of K. */
const MIN_CHUNK = 256;

const scratch = new WeakMap<WebGPUBackend, GPUBuffer>();

/**
 * A storage buffer of at least `bytes` for the filter gradient's partial sums, kept per backend
 * and grown by doubling. Reuse is safe: the queue runs dispatches in order, so each sum pass
 * reads its partials before the next filter gradient overwrites them.
 */
function scratchBuffer(gpu: WebGPUBackend, bytes: number): GPUBuffer {
  const have = scratch.get(gpu);
  if (have && have.size >= bytes) return have;
  let size = Math.max(1 << 16, have?.size ?? 0);
  while (size < bytes) size *= 2;
  const buffer = gpu.gpuDevice.createBuffer({
    size,
    usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
  });
  scratch.set(gpu, buffer);
  return buffer;
}

export interface ConvGemmArgs {
  readonly op: ConvGemmOp;
  /** Parameter words 0…17 (kernels/conv.ts's convParams). */
  readonly geometry: readonly number[];
  readonly out: GPUBuffer;
  /** Element count of the op's output. */
  readonly outSize: number;
  readonly a: GPUBuffer;
  readonly b: GPUBuffer;
  readonly tiling?: ConvTiling;
}

/** The product's M, N, K and group count for an op, from x, w and y shapes. */
export function gemmDims(op: ConvGemmOp, x: Shape, w: Shape, y: Shape, groups: number) {
  const [nb, cin, h, wd] = x as [number, number, number, number];
  const [cout, cinG, kh, kw] = w as [number, number, number, number];
  const [ho, wo] = [y[2]!, y[3]!];
  const coutG = cout / groups;
  switch (op) {
    case 'forward':
      return { m: coutG, n: nb * ho * wo, k: cinG * kh * kw };
    case 'input':
      return { m: cin / groups, n: nb * h * wd, k: coutG * kh * kw };
    case 'filter':
      return { m: coutG, n: cinG * kh * kw, k: nb * ho * wo };
  }
}

/** Records one op as implicit GEMM (plus the sum of splits for the filter gradient). */
export function dispatchConvGemm(
  gpu: WebGPUBackend,
  ctx: KernelContext,
  args: ConvGemmArgs,
  dims: { m: number; n: number; k: number },
  groups: number,
): void {
  const t = args.tiling ?? chooseConvTiling(dims.m);
  const [nTiles, mTiles] = [Math.ceil(dims.n / t.bn), Math.ceil(dims.m / t.bm)];
  const tiles = nTiles * mTiles * groups;
  let splits = 1;
  if (args.op === 'filter') {
    const want = Math.ceil(TARGET_WORKGROUPS / tiles);
    splits = Math.max(1, Math.min(want, Math.floor(dims.k / MIN_CHUNK)));
    // At most 65535 z-slices per dispatch.
    splits = Math.max(1, Math.min(splits, Math.floor(65535 / groups)));
  }
  const chunk = Math.ceil(Math.ceil(dims.k / splits) / t.bk) * t.bk;
  splits = Math.max(1, Math.ceil(dims.k / chunk));
  const params = [...args.geometry, dims.m, dims.n, dims.k, splits, chunk, nTiles, mTiles];
  const [gx, gy] = gpu.grid(nTiles * mTiles);
  const target = splits > 1 ? scratchBuffer(gpu, splits * args.outSize * 4) : args.out;
  ctx.dispatch({
    key: `conv2d:gemm:${args.op}:${t.bm}x${t.bn}x${t.bk}/${t.tm}x${t.tn}`,
    source: () => convGemmSource(args.op, t),
    params,
    buffers: [{ buffer: target, write: true }, { buffer: args.a }, { buffer: args.b }],
    workgroups: [gx, gy, groups * splits],
  });
  if (splits > 1)
    ctx.dispatch({
      key: 'conv2d:gemm:sumSplits',
      source: () =>
        linearKernel(
          bindings([
            ['out', 'f32', true],
            ['part', 'f32'],
          ]),
          SUM_SPLITS,
        ),
      params: [args.outSize, splits],
      buffers: [{ buffer: args.out, write: true }, { buffer: target }],
      threads: args.outSize,
    });
}
