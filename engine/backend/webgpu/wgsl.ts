/**
 * WGSL building blocks shared by the WebGPU kernels: the storage type of each dtype, host-side
 * encoding of scalars into parameter words, and a small numerics library that makes the GPU
 * agree with the CPU reference kernels on NaN, ±Inf and accuracy.
 *
 * Why a library at all: WGSL lets implementations assume that no NaN or Inf occurs, and the
 * SwiftShader/Dawn stack that CI runs folds `x != x` to false, returns the non-NaN operand from
 * `max`/`min`, gives `log(NaN) = 89.1`, `log(0) = -88`, `log(-x) = log|x|`, `exp(NaN) = Inf`,
 * `tanh(±Inf) = NaN`, a `tanh` off by 5e-5 relative near 0 and a `cos` off by 1e-5. So NaN is
 * detected from the bit pattern (`bitcast<u32>`), never by comparison, and `log`, `tanh`, `erf`,
 * `pow` and the cosine used by `randomNormal` are computed here from exact range reductions and
 * short polynomials (relative error ≲ 1e-6). Denormals may be flushed to zero on the GPU; the
 * CPU keeps them. Everything else follows the CPU kernels' (JavaScript) semantics.
 */

import type { DType } from '../../core/dtype.js';
import { DTypeError } from '../../core/errors.js';

/** The WGSL element type a dtype is stored as: bool is one u32 per element. */
export function wgslType(dtype: DType, op?: string): 'f32' | 'i32' | 'u32' {
  switch (dtype) {
    case 'f32':
      return 'f32';
    case 'i32':
      return 'i32';
    case 'bool':
      return 'u32';
    case 'f64':
      throw f64Unsupported(op);
    default:
      return dtype satisfies never;
  }
}

export function f64Unsupported(op?: string): DTypeError {
  return new DTypeError(
    "f64 is not supported on device 'webgpu' (WGSL has no 64-bit floats); cast to f32 on the " +
      "CPU first (x.cast('f32')), or keep f64 work (gradient checks) on the CPU",
    { op },
  );
}

const scratch = new DataView(new ArrayBuffer(4));

/**
 * The 32-bit pattern that `value` has when stored in a tensor of `dtype`, with the CPU's
 * typed-array conversions (Float32Array rounding, Int32Array wrapping, Uint8Array for bool).
 */
export function scalarBits(value: number, dtype: DType): number {
  switch (dtype) {
    case 'f32':
      scratch.setFloat32(0, value, true);
      return scratch.getUint32(0, true);
    case 'i32':
      scratch.setInt32(0, value, true); // ToInt32, as an Int32Array store
      return scratch.getUint32(0, true);
    case 'bool':
      return new Uint8Array([value])[0]!;
    case 'f64':
      throw f64Unsupported();
    default:
      return dtype satisfies never;
  }
}

/** The bits of an f32 parameter word. */
export function f32Bits(value: number): number {
  return scalarBits(value, 'f32');
}

/** The bits of an i32 parameter word. */
export function i32Bits(value: number): number {
  return value >>> 0;
}

/**
 * NaN-safe float helpers, included in every kernel that does float arithmetic. `nan_f32` reads
 * its bits from a variable: a constant NaN or Inf is a shader-creation error in WGSL.
 */
export const NUMERICS = /* wgsl */ `
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_inf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn nan_f32() -> f32 { var b = 0x7fc00000u; return bitcast<f32>(b); }
fn inf_f32() -> f32 { var b = 0x7f800000u; return bitcast<f32>(b); }

// NaN propagates (the builtins may return anything for NaN); ±Inf are handled by exp itself.
fn exp_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  return exp(x);
}

// 2·atanh(s) / (2s) as a series in z = s², for |s| <= 0.2: the core of log and log1p.
fn atanh_poly(z: f32) -> f32 {
  return 1.0 + z * (1.0 / 3.0 + z * (0.2 + z * (1.0 / 7.0 + z * (1.0 / 9.0 + z * (1.0 / 11.0)))));
}

// Natural log: x = m·2^e with m in [√½, √2), log m = 2·atanh((m−1)/(m+1)); m−1 is exact.
fn log_(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  if (is_nan(x)) { return x; }
  if ((b & 0x7fffffffu) == 0u) { return -inf_f32(); }
  if ((b >> 31u) != 0u) { return nan_f32(); }
  if (b == 0x7f800000u) { return x; }
  var e: i32;
  var mbits: u32;
  if ((b >> 23u) == 0u) {
    // Subnormal (its value may be flushed to zero here): read the mantissa as an integer.
    let f = bitcast<u32>(f32(b));
    e = i32(f >> 23u) - 127 - 149;
    mbits = f & 0x7fffffu;
  } else {
    e = i32(b >> 23u) - 127;
    mbits = b & 0x7fffffu;
  }
  var m = bitcast<f32>(mbits | 0x3f800000u);
  if (m > 1.4142135) { m = m * 0.5; e = e + 1; }
  let s = (m - 1.0) / (m + 1.0);
  let fe = f32(e);
  // ln 2 split in two so that fe·LN2_HI is exact (fdlibm's constants).
  return fe * 0.693138122559 + (2.0 * s * atanh_poly(s * s) + fe * 9.0580006145e-06);
}

// log(1 + y) for y >= 0, accurate when y is small (softmax's log-sum-exp).
fn log1p_(y: f32) -> f32 {
  if (y < 0.5) {
    let s = y / (2.0 + y);
    return 2.0 * s * atanh_poly(s * s);
  }
  return log_(1.0 + y);
}

fn tanh_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  if (a < 0.3) {
    // Taylor series; the first omitted term is below 1e-9 relative.
    let z = x * x;
    return x * (1.0 + z * (-1.0 / 3.0 + z * (2.0 / 15.0 + z * (-17.0 / 315.0 + z * (62.0 / 2835.0
      + z * (-1382.0 / 155925.0))))));
  }
  // (1 − e)/(1 + e) with e = exp(−2|x|) (0 for |x| = Inf, so tanh(±Inf) = ±1). Where 1 − e is
  // exact (e >= ½) divide as is; beyond, 1 − 2e/(1 + e) rounds correctly near 1, so tanh(9)
  // is 1 − 2^-24 as on the CPU, not 1 (which would zero the gradient 1 − y²).
  let e = exp(-2.0 * a);
  var r = 1.0 - 2.0 * e / (1.0 + e);
  if (e >= 0.5) { r = (1.0 - e) / (1.0 + e); }
  return select(r, -r, x < 0.0);
}

fn sigmoid_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}

// erfc(z) for z >= 0 (Numerical Recipes' erfcc: fractional error < 1.2e-7 for every z >= 0).
fn erfc_pos(z: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223
    + t * 0.17087277))))))));
  return t * exp(-z * z + p);
}

fn erf_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  if (a < 0.5) {
    // Maclaurin series 2/√π Σ (−1)^n x^(2n+1) / (n!(2n+1)), no cancellation for |x| < 0.5.
    let z = x * x;
    return 1.1283791671 * x * (1.0 + z * (-1.0 / 3.0 + z * (1.0 / 10.0 + z * (-1.0 / 42.0
      + z * (1.0 / 216.0 + z * (-1.0 / 1320.0 + z * (1.0 / 9360.0)))))));
  }
  let r = 1.0 - erfc_pos(a);
  return select(r, -r, x < 0.0);
}

// x·Φ(x); for x < 0 through erfc directly, so the small result keeps its relative accuracy.
fn gelu_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (x >= 0.0) { return 0.5 * x * (1.0 + erf_(x * 0.70710678118)); }
  return 0.5 * x * erfc_pos(-x * 0.70710678118); // −Inf·0 = NaN, as on the CPU
}

fn is_odd_integer(b: f32) -> bool {
  let a = abs(b);
  return a < 16777216.0 && floor(a) == a && (u32(a) & 1u) == 1u;
}

// JavaScript's Math.pow (IEEE pow except pow(±1, ±Inf) = NaN), rounded to f32.
fn pow_(a: f32, b: f32) -> f32 {
  if (is_nan(b)) { return b; }
  if (b == 0.0) { return 1.0; }
  if (is_nan(a)) { return a; }
  let aa = abs(a);
  if (is_inf(b)) {
    if (aa == 1.0) { return nan_f32(); }
    if ((aa > 1.0) == (b > 0.0)) { return inf_f32(); }
    return 0.0;
  }
  let negative = bitcast<u32>(a) >> 31u == 1u;
  let odd = is_odd_integer(b);
  if (aa == 0.0 || is_inf(a)) {
    // ±0 and ±Inf: the magnitude is 0 or Inf; the sign survives only for odd integer powers.
    let big = (aa == 0.0) != (b > 0.0);
    var r = select(0.0, inf_f32(), big);
    if (negative && odd) { r = -r; }
    return r;
  }
  let integer = floor(b) == b;
  if (negative && !integer) { return nan_f32(); }
  if (integer && abs(b) <= 64.0) {
    // Square-and-multiply: exact for small results (x², x³ …), a few ulps otherwise.
    var n = u32(abs(b));
    var base = a;
    var r = 1.0;
    loop {
      if ((n & 1u) == 1u) { r = r * base; }
      n = n >> 1u;
      if (n == 0u) { break; }
      base = base * base;
    }
    return select(r, 1.0 / r, b < 0.0);
  }
  let r = exp(b * log_(aa));
  return select(r, -r, negative && odd);
}

// f32 → i32 as the CPU's Math.trunc plus an Int32Array store: truncate, wrap modulo 2^32,
// NaN and ±Inf give 0 (WGSL's i32() saturates instead).
fn f32_to_i32(x: f32) -> i32 {
  let b = bitcast<u32>(x);
  let e = i32((b >> 23u) & 0xffu) - 127;
  if (e == 128) { return 0; }
  if (e < 31) { return i32(x); }
  // |x| >= 2^31 is an integer: the low 32 bits of mantissa·2^(e−23), negated for x < 0.
  let sh = e - 23;
  var low = 0u;
  if (sh < 32) { low = ((b & 0x7fffffu) | 0x800000u) << u32(sh); }
  if ((b >> 31u) != 0u) { low = 0u - low; }
  return bitcast<i32>(low);
}

// Nonzero (NaN included) is true, as the CPU's cast; ±0 is false.
fn f32_to_bool(x: f32) -> u32 { return select(0u, 1u, (bitcast<u32>(x) & 0x7fffffffu) != 0u); }
`;

/** The counter-based generator of core/random.ts in u32 arithmetic (bit-identical). */
export const RANDOM = /* wgsl */ `
fn hash32(x0: u32) -> u32 {
  var x = x0;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  x = x ^ (x >> 16u);
  return x;
}
fn random_bits(seed: u32, index: u32) -> u32 {
  let key = hash32(seed ^ 0x9e3779b9u);
  return hash32(hash32(index + key) ^ seed);
}
fn uniform_at(seed: u32, index: u32) -> f32 {
  return f32(random_bits(seed, index) >> 8u) * 5.960464477539063e-8;
}
// cos(2πu) for u in [0, 1) a multiple of 2^-24: exact reduction to an octant, then Taylor
// polynomials on [0, π/4] (the builtin cos is only good to about 1e-5 on SwiftShader).
fn cos_2pi(u: f32) -> f32 {
  let v = u * 4.0;
  let q = floor(v);
  let f = v - q;
  let g = min(f, 1.0 - f);
  let x = g * 1.5707963267948966;
  let z = x * x;
  let s = x * (1.0 + z * (-1.0 / 6.0 + z * (1.0 / 120.0 + z * (-1.0 / 5040.0 + z * (1.0 / 362880.0
    + z * (-1.0 / 39916800.0))))));
  let c = 1.0 + z * (-0.5 + z * (1.0 / 24.0 + z * (-1.0 / 720.0 + z * (1.0 / 40320.0
    + z * (-1.0 / 3628800.0 + z * (1.0 / 479001600.0))))));
  let cos_t = select(s, c, f <= 0.5);
  let sin_t = select(c, s, f <= 0.5);
  let k = u32(q);
  if (k == 0u) { return cos_t; }
  if (k == 1u) { return -sin_t; }
  if (k == 2u) { return -cos_t; }
  return sin_t;
}
fn normal_at(seed: u32, index: u32) -> f32 {
  let u1 = (f32(random_bits(seed, 2u * index) >> 8u) + 1.0) * 5.960464477539063e-8;
  let u2 = f32(random_bits(seed, 2u * index + 1u) >> 8u) * 5.960464477539063e-8;
  return sqrt(-2.0 * log_(u1)) * cos_2pi(u2);
}
`;

/** Conversion of a value of WGSL type `from` (as stored for dtype `src`) to dtype `dst`. */
export function convertExpr(expr: string, src: DType, dst: DType): string {
  if (src === dst) return expr;
  const s = wgslType(src);
  switch (dst) {
    case 'f32':
      return `f32(${expr})`;
    case 'i32':
      return s === 'f32' ? `f32_to_i32(${expr})` : `i32(${expr})`;
    case 'bool':
      return s === 'f32' ? `f32_to_bool(${expr})` : `select(0u, 1u, ${expr} != ${s}(0))`;
    case 'f64':
      throw f64Unsupported('cast');
    default:
      return dst satisfies never;
  }
}
