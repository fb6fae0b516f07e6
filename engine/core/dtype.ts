/**
 * Data types. `f32` is the working type on every device; `i32` holds indices and labels; `bool`
 * holds comparison results. `f64` exists on the CPU reference kernels only, so that gradient
 * checks can use central differences without float32 round-off swamping the signal.
 */

export type DType = 'f32' | 'f64' | 'i32' | 'bool';

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export const DTYPES: readonly DType[] = ['f32', 'f64', 'i32', 'bool'];

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}

export function bytesPerElement(dtype: DType): number {
  switch (dtype) {
    case 'f32':
    case 'i32':
      return 4;
    case 'f64':
      return 8;
    case 'bool':
      return 1;
    default:
      return dtype satisfies never;
  }
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'f32' || dtype === 'f64';
}

/** Allocates a zeroed typed array of `size` elements of `dtype`. */
export function allocArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'f32':
      return new Float32Array(size);
    case 'f64':
      return new Float64Array(size);
    case 'i32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
    default:
      return dtype satisfies never;
  }
}

/** A typed view of `size` elements of `dtype` over `buffer` starting at byte `offset`. */
export function viewArray(
  dtype: DType,
  buffer: ArrayBufferLike,
  offset: number,
  size: number,
): TypedArray {
  switch (dtype) {
    case 'f32':
      return new Float32Array(buffer, offset, size);
    case 'f64':
      return new Float64Array(buffer, offset, size);
    case 'i32':
      return new Int32Array(buffer, offset, size);
    case 'bool':
      return new Uint8Array(buffer, offset, size);
    default:
      return dtype satisfies never;
  }
}

/** The dtype that two operands of a binary arithmetic op promote to (PyTorch's rules, reduced). */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === 'f64' || b === 'f64') return 'f64';
  if (a === 'f32' || b === 'f32') return 'f32';
  return 'i32';
}
