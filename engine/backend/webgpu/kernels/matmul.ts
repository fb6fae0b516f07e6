/**
 * WebGPU matmul: batched, batch axes broadcast, transpose flags folded into strides.
 *
 * Two kernels:
 * - f32, register-blocked (`tiledSource`): a workgroup computes a BM×BN block of the output;
 *   each invocation owns TM×TN outputs held in vec4 registers (TM/4 row groups × TN/4 column
 *   groups, interleaved across the workgroup so that shared-memory reads of neighbouring
 *   invocations are neighbouring vec4s). Tiles of op(A) (BM×BK) and op(B) (BK×BN) go through
 *   workgroup memory, stored k-major as vec4s; the next tile's global loads are issued into
 *   registers before the current tile is multiplied, so memory latency overlaps arithmetic.
 *   Global loads are coalesced along whichever axis of the operand is contiguous (the key names
 *   it). Out-of-range rows, columns and k are loaded as zero, so any shape works.
 * - a 16×16 shared-memory tile, one output per invocation (`simpleSource`): i32, and products
 *   too small for the blocked kernel to fill the GPU.
 *
 * The blocked kernel's tile sizes depend on the output's size (`chooseTiling`); benchmarks and
 * tests may force one (`setMatmulTiling`). All sizes and strides travel as parameter words.
 */

import { broadcastStrides, sizeOf } from '../../../core/shape.js';
import { type GpuProgram, bindings, collapseDims, stridedOffsets } from '../program.js';
import type { WebGPUBackend } from '../webgpu-backend.js';
import { wgslType } from '../wgsl.js';

/** Tile sizes of the register-blocked kernel. */
export interface MatmulTiling {
  /** Output rows per workgroup. */
  readonly bm: number;
  /** Output columns per workgroup. */
  readonly bn: number;
  /** Depth of one shared-memory tile. */
  readonly bk: number;
  /** Output rows per invocation (a multiple of 4). */
  readonly tm: number;
  /** Output columns per invocation (a multiple of 4). */
  readonly tn: number;
  /**
   * Two shared-memory tiles per operand, alternating: the next tile is stored while the current
   * one is read, so each step needs one barrier instead of two (twice the workgroup memory).
   */
  readonly double?: boolean;
  /** Store outputs as vec4s when the row length is a multiple of 4 (else one by one). */
  readonly store4?: boolean;
}

/**
 * Candidates, largest first; `chooseTiling` takes the first that fills the GPU. From sweeps on
 * an NVIDIA H100 (docs/gpu-bench.md): 64×128 tiles, 16 deep, 4×8 outputs per invocation were
 * the fastest or near it at every size from 1024 to 8192; the smaller tilings serve products
 * too small to fill the GPU with it. Shaders stay small (128×128 tiles with 8×16 outputs per
 * invocation were no faster there, and take a software adapter such as SwiftShader minutes and
 * gigabytes to compile).
 */
export const MATMUL_TILINGS: readonly MatmulTiling[] = [
  // Vec4 output stores: 20.0 against 18.6 TFLOP/s at 8192 in one sweep on an H100.
  { bm: 64, bn: 128, bk: 16, tm: 4, tn: 8, store4: true },
  { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 },
  { bm: 32, bn: 32, bk: 16, tm: 4, tn: 4 },
];

/**
 * Further candidates that `npm run bench -- gpu --sweep` times against MATMUL_TILINGS (and
 * gpu-check verifies): the first default with scalar stores, double-buffered shared tiles, and
 * 128×128 tiles with 8×8 outputs per invocation. Not chosen automatically until a sweep shows
 * them faster.
 */
export const MATMUL_CANDIDATES: readonly MatmulTiling[] = [
  { bm: 64, bn: 128, bk: 16, tm: 4, tn: 8 },
  { bm: 64, bn: 128, bk: 16, tm: 4, tn: 8, double: true, store4: true },
  { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8, double: true, store4: true },
];

/** A tiling's short name, as in kernel keys and benchmark rows: 64x128x16/4x8+db+v4. */
export function tilingName(t: MatmulTiling): string {
  return `${t.bm}x${t.bn}x${t.bk}/${t.tm}x${t.tn}${t.double ? '+db' : ''}${t.store4 ? '+v4' : ''}`;
}

/** Workgroups below which a tiling is considered too coarse for the product. */
const MIN_WORKGROUPS = 120;

let forced: MatmulTiling | 'simple' | null = null;

/**
 * Forces one kernel for every later f32 matmul (a tiling, or 'simple' for the one-output-per-
 * invocation kernel), or restores the automatic choice with `null`. For benchmarks and tests.
 */
export function setMatmulTiling(tiling: MatmulTiling | 'simple' | null): void {
  if (tiling !== null && tiling !== 'simple') checkTiling(tiling);
  forced = tiling;
}

/** Bytes of workgroup memory a tiling uses (tiles padded by one vec4 per row). */
export function tilingSharedBytes(t: MatmulTiling): number {
  return 4 * t.bk * (t.bm + t.bn + 8) * (t.double ? 2 : 1);
}

/**
 * The kernel an f32 product of m×n outputs per batch item, `batch` items, runs with, on a
 * device with `maxShared` bytes of workgroup memory.
 */
export function chooseTiling(
  m: number,
  n: number,
  batch: number,
  maxShared = 16384,
): MatmulTiling | 'simple' {
  if (forced !== null) return forced;
  for (const t of MATMUL_TILINGS)
    if (
      tilingSharedBytes(t) <= maxShared &&
      Math.ceil(m / t.bm) * Math.ceil(n / t.bn) * batch >= MIN_WORKGROUPS
    )
      return t;
  return 'simple';
}

function checkTiling(t: MatmulTiling): void {
  const threads = (t.bm / t.tm) * (t.bn / t.tn);
  const ok =
    t.tm % 4 === 0 &&
    t.tn % 4 === 0 &&
    Number.isInteger(t.bm / t.tm) &&
    Number.isInteger(t.bn / t.tn) &&
    threads <= 256 &&
    Number.isInteger((t.bm * t.bk) / threads) &&
    Number.isInteger((t.bk * t.bn) / threads);
  if (!ok) throw new RangeError(`matmul tiling ${JSON.stringify(t)} is not a valid tiling`);
}

interface MatmulAttrs {
  readonly transposeA: boolean;
  readonly transposeB: boolean;
}

/** Batch z-slices per dispatch (the grid's z limit); larger batches take several dispatches. */
const MAX_Z = 65535;

const SIMPLE_TILE = 16;

/** Parameter words: [m, n, k, aRow, aCol, bRow, bCol, first batch, batch shape, strides…]. */
const HEADER = `@group(0) @binding(0) var<storage, read> p: array<u32>;`;

function simpleSource(type: string, br: number): string {
  const T = SIMPLE_TILE;
  return `${HEADER}
${bindings([
  ['out', type, true],
  ['A', type],
  ['B', type],
])}
var<workgroup> As: array<array<${type}, ${T}>, ${T}>;
var<workgroup> Bs: array<array<${type}, ${T}>, ${T}>;
@compute @workgroup_size(${T}, ${T})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = p[0];
  let N = p[1];
  let K = p[2];
  let z = wid.z + p[7];
${stridedOffsets('z', br, 8, ['aOff', 'bOff'], [8 + br, 8 + 2 * br])}
  let row = wid.y * ${T}u + lid.y;
  let col = wid.x * ${T}u + lid.x;
  var acc = ${type}(0);
  let tiles = (K + ${T - 1}u) / ${T}u;
  for (var t = 0u; t < tiles; t = t + 1u) {
    let ka = t * ${T}u + lid.x;
    var av = ${type}(0);
    if (row < M && ka < K) { av = A[aOff + row * p[3] + ka * p[4]]; }
    As[lid.y][lid.x] = av;
    let kb = t * ${T}u + lid.y;
    var bv = ${type}(0);
    if (kb < K && col < N) { bv = B[bOff + kb * p[5] + col * p[6]]; }
    Bs[lid.y][lid.x] = bv;
    workgroupBarrier();
    for (var q = 0u; q < ${T}u; q = q + 1u) { acc = acc + As[lid.y][q] * Bs[q][lid.x]; }
    workgroupBarrier();
  }
  if (row < M && col < N) { out[(z * M + row) * N + col] = acc; }
}`;
}

/** How one operand's tile is fetched from global memory. */
interface OperandLoad {
  /** Contiguous along k (A not transposed, B transposed); otherwise along m (A) or n (B). */
  readonly kMajor: boolean;
  /** Fetch 4 contiguous elements at once (bound as array<vec4<f32>>). */
  readonly vec: boolean;
}

/** How a register-blocked tile's inner loop reads shared memory (see `tileProducts`). */
export interface TileLayout {
  readonly rowGroups: number;
  readonly colGroups: number;
  readonly strideA: number;
  readonly strideB: number;
  readonly tx: number;
  readonly ty: number;
  /** Offsets of the shared tile in use (double buffering), e.g. 'sa + '; '' for one tile. */
  readonly sa?: string;
  readonly sb?: string;
}

/**
 * The body of the inner k loop of a register-blocked tile: load the invocation's vec4s of A and
 * B from shared memory and accumulate their outer product into the c<row>_<col> registers.
 * Shared by the matmul and the implicit-GEMM convolution kernels.
 */
export function tileProducts(L: (line: string) => void, t: TileLayout): void {
  const { rowGroups, colGroups, strideA, strideB, tx, ty, sa = '', sb = '' } = t;
  for (let i = 0; i < rowGroups; i++)
    L(`      let a${i} = As[${sa}k * ${strideA}u + lid.y + ${i * ty}u];`);
  for (let j = 0; j < colGroups; j++)
    L(`      let b${j} = Bs[${sb}k * ${strideB}u + lid.x + ${j * tx}u];`);
  const lanes = ['x', 'y', 'z', 'w'];
  for (let i = 0; i < rowGroups; i++)
    for (let r = 0; r < 4; r++)
      for (let j = 0; j < colGroups; j++) {
        const c = `c${i * 4 + r}_${j}`;
        L(`      ${c} = fma(vec4<f32>(a${i}.${lanes[r]}), b${j}, ${c});`);
      }
}

/**
 * The register-blocked f32 kernel. Each operand's tile is fetched along its contiguous axis, in
 * vec4s when that axis's length is a multiple of 4 (`OperandLoad.vec`). Rows of the tiles in
 * workgroup memory are padded by one vec4, so that stores running along k do not all hit one
 * memory bank.
 */
function tiledSource(
  t: MatmulTiling,
  br: number,
  la: OperandLoad,
  lb: OperandLoad,
  store4: boolean,
): string {
  const { bm, bn, bk, tm, tn } = t;
  const double = t.double === true;
  const tx = bn / tn; // invocations along n
  const ty = bm / tm; // invocations along m
  const threads = tx * ty;
  const rowGroups = tm / 4;
  const colGroups = tn / 4;
  const strideA = bm / 4 + 1; // vec4s per k row of the A tile, padded
  const strideB = bn / 4 + 1;
  const lines: string[] = [];
  const L = (s: string) => lines.push(s);

  /**
   * Declarations and fetch code of one operand's tile loads. `o` names it ('a' or 'b'), `w` is
   * the tile's width along m or n, `base` the global index of the tile's first element at k 0,
   * `kStep` the global stride of k and `wStep` that of m or n.
   */
  const operand = (o: 'a' | 'b', ld: OperandLoad, w: number, off: string, w0: string) => {
    const W = o === 'a' ? 'M' : 'N';
    const [kStep, wStep] = o === 'a' ? ['aCol', 'aRow'] : ['bRow', 'bCol'];
    const tile = o === 'a' ? 'As' : 'Bs';
    const stride = o === 'a' ? strideA : strideB;
    const buf = o === 'a' ? 'A' : 'B';
    const per = ld.vec ? 4 : 1;
    const loads = (w * bk) / per / threads;
    const decl: string[] = [];
    const fetch: ((k0: string) => string)[] = [];
    const store: ((so: string) => string)[] = [];
    const zero = ld.vec ? 'vec4<f32>(0.0)' : '0.0';
    for (let l = 0; l < loads; l++) {
      const e = `(tid + ${l * threads}u)`;
      // Coordinates of the first element fetched: kk along k, ww along m or n.
      const [kk, ww] = ld.kMajor
        ? [`${e} % ${bk / per}u * ${per}u`, `${e} / ${bk / per}u`]
        : [`${e} / ${w / per}u`, `${e} % ${w / per}u * ${per}u`];
      const v = `${o}r${l}`;
      decl.push(`  let ${o}k${l} = ${kk};
  let ${o}w${l} = ${ww};
  let ${o}p${l} = ${off} + (${w0} + ${o}w${l}) * ${wStep} + ${o}k${l} * ${kStep};
  let ${o}in${l} = ${w0} + ${o}w${l} < ${W};
  var ${v} = ${zero};`);
      const index = ld.vec ? `(${o}p${l} + k0 * ${kStep}) / 4u` : `${o}p${l} + k0 * ${kStep}`;
      fetch.push(
        (k0) =>
          `    ${v} = select(${zero}, ${buf}[${index.replaceAll('k0', k0)}], ` +
          `${o}in${l} && ${k0} + ${o}k${l} < K);`,
      );
      if (!ld.vec) {
        store.push(
          (so) =>
            `    ${tile}[${so}${o}k${l} * ${stride}u + ${o}w${l} / 4u][${o}w${l} % 4u] = ${v};`,
        );
      } else if (ld.kMajor) {
        for (let c = 0; c < 4; c++)
          store.push(
            (so) =>
              `    ${tile}[${so}(${o}k${l} + ${c}u) * ${stride}u + ${o}w${l} / 4u][${o}w${l} % 4u] = ` +
              `${v}.${'xyzw'[c]};`,
          );
      } else {
        store.push((so) => `    ${tile}[${so}${o}k${l} * ${stride}u + ${o}w${l} / 4u] = ${v};`);
      }
    }
    return { decl, fetch, store };
  };

  L(HEADER);
  L(
    bindings([
      ['out', store4 ? 'vec4<f32>' : 'f32', true],
      ['A', la.vec ? 'vec4<f32>' : 'f32'],
      ['B', lb.vec ? 'vec4<f32>' : 'f32'],
    ]),
  );
  const copies = double ? 2 : 1;
  L(`var<workgroup> As: array<vec4<f32>, ${copies * bk * strideA}>;`);
  L(`var<workgroup> Bs: array<vec4<f32>, ${copies * bk * strideB}>;`);
  L(`@compute @workgroup_size(${tx}, ${ty})`);
  L(`fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) tid: u32) {`);
  L(`  let M = p[0];
  let N = p[1];
  let K = p[2];
  let aRow = p[3];
  let aCol = p[4];
  let bRow = p[5];
  let bCol = p[6];
  let z = wid.z + p[7];`);
  L(stridedOffsets('z', br, 8, ['aOff', 'bOff'], [8 + br, 8 + 2 * br]));
  L(`  let m0 = wid.y * ${bm}u;
  let n0 = wid.x * ${bn}u;`);
  const A = operand('a', la, bm, 'aOff', 'm0');
  const B = operand('b', lb, bn, 'bOff', 'n0');
  A.decl.forEach(L);
  B.decl.forEach(L);
  const fetch = (k0: string) => [...A.fetch, ...B.fetch].forEach((f) => L(f(k0)));
  for (let i = 0; i < rowGroups * 4; i++)
    for (let j = 0; j < colGroups; j++) L(`  var c${i}_${j} = vec4<f32>(0.0);`);
  L(`  let tiles = (K + ${bk - 1}u) / ${bk}u;`);
  L(`  {`);
  fetch('0u');
  L(`  }`);
  // Single buffer: store, barrier, fetch the next tile, multiply, barrier. Double buffer:
  // tile t sits in copy t % 2; while it is multiplied the next one is fetched and stored into
  // the other copy, whose last readers finished before the previous step's barrier.
  const stores = (sa: string, sb: string) => {
    A.store.forEach((f) => L(f(sa)));
    B.store.forEach((f) => L(f(sb)));
  };
  if (double) {
    stores('', '');
    L(`  workgroupBarrier();`);
  }
  L(`  for (var t = 0u; t < tiles; t = t + 1u) {`);
  if (!double) {
    stores('', '');
    L(`    workgroupBarrier();`);
  }
  L(`    if (t + 1u < tiles) {`);
  L(`    let kn = (t + 1u) * ${bk}u;`);
  fetch('kn');
  L(`    }`);
  if (double) {
    L(`    let sa = (t % 2u) * ${bk * strideA}u;`);
    L(`    let sb = (t % 2u) * ${bk * strideB}u;`);
  }
  const [sa, sb] = double ? ['sa + ', 'sb + '] : ['', ''];
  L(`    for (var k = 0u; k < ${bk}u; k = k + 1u) {`);
  tileProducts(L, { rowGroups, colGroups, strideA, strideB, tx, ty, sa, sb });
  L(`    }`);
  if (double) {
    L(`    if (t + 1u < tiles) {`);
    L(`    let na = ((t + 1u) % 2u) * ${bk * strideA}u;`);
    L(`    let nb = ((t + 1u) % 2u) * ${bk * strideB}u;`);
    stores('na + ', 'nb + ');
    L(`    }`);
  }
  L(`    workgroupBarrier();`);
  L(`  }`);
  // Row i*4+r of this invocation is m0 + 4·(lid.y + i·ty) + r; column group j starts at
  // n0 + 4·(lid.x + j·tx).
  L(`  let zb = z * M;`);
  for (let i = 0; i < rowGroups; i++)
    for (let r = 0; r < 4; r++) {
      const row = `row${i}_${r}`;
      L(`  let ${row} = m0 + 4u * (lid.y + ${i * ty}u) + ${r}u;`);
      L(`  if (${row} < M) {`);
      for (let j = 0; j < colGroups; j++) {
        if (store4) {
          // N is a multiple of 4, so a column group is wholly in or out of range.
          L(`    {
    let col = n0 + 4u * (lid.x + ${j * tx}u);
    if (col < N) { out[((zb + ${row}) * N + col) / 4u] = c${i * 4 + r}_${j}; }
    }`);
          continue;
        }
        L(`    {
    let col = n0 + 4u * (lid.x + ${j * tx}u);
    let base = (zb + ${row}) * N + col;
    let v = c${i * 4 + r}_${j};
    if (col + 3u < N) {
      out[base] = v.x;
      out[base + 1u] = v.y;
      out[base + 2u] = v.z;
      out[base + 3u] = v.w;
    } else {
      for (var q = 0u; q < 4u; q = q + 1u) { if (col + q < N) { out[base + q] = v[q]; } }
    }
    }`);
      }
      L(`  }`);
    }
  L(`}`);
  return lines.join('\n');
}

export function registerMatmulKernel(gpu: WebGPUBackend): void {
  gpu.registerKernel<MatmulAttrs>('matmul', (ctx, [a, b], out, attrs) => {
    // 1-D operands are promoted as in the op definition: a [k] → [1, k], b [k] → [k, 1].
    const aShape = a!.shape.length === 1 ? [1, a!.shape[0]!] : a!.shape;
    const bShape = b!.shape.length === 1 ? [b!.shape[0]!, 1] : b!.shape;
    const tA = attrs.transposeA && a!.shape.length > 1;
    const tB = attrs.transposeB && b!.shape.length > 1;
    const [aRows, aCols] = aShape.slice(-2) as [number, number];
    const [bRows, bCols] = bShape.slice(-2) as [number, number];
    const [m, k] = tA ? [aCols, aRows] : [aRows, aCols];
    const n = tB ? bRows : bCols;
    // Element strides of op(A) (m×k) and op(B) (k×n) within one stored matrix.
    const [aRow, aCol] = tA ? [1, aCols] : [aCols, 1];
    const [bRow, bCol] = tB ? [1, bCols] : [bCols, 1];
    const aBatch = aShape.slice(0, -2);
    const bBatch = bShape.slice(0, -2);
    const batchRank = Math.max(aBatch.length, bBatch.length);
    const batch = Array.from({ length: batchRank }, (_, i) => {
      const da = aBatch[aBatch.length - batchRank + i] ?? 1;
      return da === 1 ? (bBatch[bBatch.length - batchRank + i] ?? 1) : da;
    });
    const collapsed = collapseDims(batch, [
      broadcastStrides(aBatch, batch).map((s) => s * aRows * aCols),
      broadcastStrides(bBatch, batch).map((s) => s * bRows * bCols),
    ]);
    const br = collapsed.shape.length;
    const type = wgslType(out.dtype, 'matmul');
    const count = sizeOf(batch);
    if (count === 0 || m === 0 || n === 0) return;
    const maxShared = gpu.gpuDevice.limits.maxComputeWorkgroupStorageSize;
    const tiling = type === 'f32' ? chooseTiling(m, n, count, maxShared) : 'simple';
    for (let z0 = 0; z0 < count; z0 += MAX_Z) {
      const base: Omit<GpuProgram, 'key' | 'source' | 'workgroups'> = {
        params: [
          m,
          n,
          k,
          aRow,
          aCol,
          bRow,
          bCol,
          z0,
          ...collapsed.shape,
          ...collapsed.strides[0]!,
          ...collapsed.strides[1]!,
        ],
        buffers: [
          { buffer: out.buffer, write: true },
          { buffer: a!.buffer },
          { buffer: b!.buffer },
        ],
      };
      const zs = Math.min(MAX_Z, count - z0);
      if (tiling === 'simple') {
        ctx.dispatch({
          ...base,
          key: `matmul:${out.dtype}:${br}`,
          source: () => simpleSource(type, br),
          workgroups: [Math.ceil(n / SIMPLE_TILE), Math.ceil(m / SIMPLE_TILE), zs],
        });
      } else {
        const t = tiling;
        const threads = (t.bm / t.tm) * (t.bn / t.tn);
        // vec4 fetches need the contiguous axis's length to be a multiple of 4 (so every
        // fetch is aligned and wholly in or out of range) and whole vec4s per invocation.
        const la: OperandLoad = {
          kMajor: aCol === 1,
          vec: (aCol === 1 ? k : m) % 4 === 0 && ((t.bm * t.bk) / 4) % threads === 0,
        };
        const lb: OperandLoad = {
          kMajor: bRow === 1,
          vec: (bRow === 1 ? k : n) % 4 === 0 && ((t.bn * t.bk) / 4) % threads === 0,
        };
        const flags = (l: OperandLoad) => `${l.kMajor ? 'k' : 'w'}${l.vec ? '4' : '1'}`;
        const store4 = t.store4 === true && n % 4 === 0;
        ctx.dispatch({
          ...base,
          key: `matmul:tiled:${tilingName(t)}:${br}:${flags(la)}${flags(lb)}${store4 ? ':o4' : ''}`,
          source: () => tiledSource(t, br, la, lb, store4),
          workgroups: [Math.ceil(n / t.bn), Math.ceil(m / t.bm), zs],
        });
      }
    }
  });
}
