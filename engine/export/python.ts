/**
 * Writing Python source: literals (numbers that round-trip exactly, strings, lists, dicts from
 * JSON-like data), dtypes, and the small pure-Python helpers the generated files share: a
 * safetensors reader and writer that need nothing beyond PyTorch (Debian's python3-torch has
 * no `safetensors` package), and Wiregrad's counter-based random numbers (core/random.ts), so
 * seeded random ops and dropout draw the same numbers in PyTorch as in the engine.
 */

import type { DType } from '../core/dtype.js';

/** A float literal that Python reads back as the same double. */
export function pyFloat(v: number): string {
  if (Number.isNaN(v)) return "float('nan')";
  if (v === Infinity) return "float('inf')";
  if (v === -Infinity) return "float('-inf')";
  // Python's repr switches to an exponent below 1e-4 and from 1e16, with two exponent digits.
  const magnitude = Math.abs(v);
  if (magnitude !== 0 && (magnitude < 1e-4 || magnitude >= 1e16))
    return v.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

export function pyInt(v: number): string {
  return String(Math.trunc(v));
}

export function pyString(s: string): string {
  // JSON string escapes are valid Python escapes; single quotes read as Python usually does.
  const json = JSON.stringify(s).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'");
  return `'${json}'`;
}

/** A tuple of ints: `(2, 3)`, `(5,)`, `()`. */
export function pyTuple(values: readonly number[]): string {
  return values.length === 1 ? `(${pyInt(values[0]!)},)` : `(${values.map(pyInt).join(', ')})`;
}

/** JSON-like data as a Python literal (dicts, lists, strings, numbers, True/False/None). */
export function pyLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloat(v);
  if (typeof v === 'string') return pyString(v);
  if (Array.isArray(v)) return `[${v.map(pyLiteral).join(', ')}]`;
  if (typeof v === 'object')
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyString(k)}: ${pyLiteral(x)}`)
      .join(', ')}}`;
  return 'None';
}

export function pyDType(dtype: DType): string {
  switch (dtype) {
    case 'f32':
      return 'torch.float32';
    case 'f64':
      return 'torch.float64';
    case 'i32':
      return 'torch.int32';
    case 'bool':
      return 'torch.bool';
    default:
      return dtype satisfies never;
  }
}

/** A scalar of `dtype` as a Python literal. */
export function pyScalar(v: number, dtype: DType): string {
  if (dtype === 'bool') return v !== 0 ? 'True' : 'False';
  return dtype === 'i32' ? pyInt(v) : pyFloat(v);
}

/** Reads and writes safetensors files with nothing but the standard library and torch. */
export const PY_SAFETENSORS = `
_SAFETENSORS_DTYPES = {
    'F64': torch.float64, 'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16,
    'I64': torch.int64, 'I32': torch.int32, 'I16': torch.int16, 'I8': torch.int8,
    'U8': torch.uint8, 'BOOL': torch.bool,
}


def load_safetensors(path, device='cpu'):
    """Reads a .safetensors file (https://github.com/huggingface/safetensors) into a dict of
    tensors, without the safetensors package: an 8-byte little-endian header length, a JSON
    header of {name: {dtype, shape, data_offsets}}, then the raw little-endian bytes."""
    with open(path, 'rb') as f:
        data = f.read()
    (length,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + length])
    header.pop('__metadata__', None)
    start = 8 + length
    tensors = {}
    for name, entry in header.items():
        dtype = _SAFETENSORS_DTYPES[entry['dtype']]
        begin, end = entry['data_offsets']
        if end > begin:
            flat = torch.frombuffer(bytearray(data[start + begin:start + end]), dtype=dtype)
        else:
            flat = torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(entry['shape']).to(device)
    return tensors


def save_safetensors(tensors, path, metadata=None):
    """Writes a dict of tensors as a .safetensors file that Wiregrad (and the safetensors
    package) reads; widest dtypes first, so every tensor is aligned to its element size."""
    codes = {dtype: code for code, dtype in _SAFETENSORS_DTYPES.items()}
    items = sorted(
        ((name, t.detach().to('cpu').contiguous()) for name, t in tensors.items()),
        key=lambda item: (-item[1].element_size(), item[0]),
    )
    header = {'__metadata__': dict(metadata)} if metadata else {}
    blobs = []
    offset = 0
    for name, t in items:
        size = t.numel() * t.element_size()
        blob = bytearray(size)
        if size > 0:
            torch.frombuffer(blob, dtype=t.dtype).copy_(t.reshape(-1))
        header[name] = {'dtype': codes[t.dtype], 'shape': list(t.shape),
                        'data_offsets': [offset, offset + size]}
        blobs.append(blob)
        offset += size
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
`;

/** Helpers for ops PyTorch has no single call for; the generated file includes those it uses. */
export const PY_HELPERS: Readonly<
  Record<string, { readonly needs?: readonly string[]; readonly code: string }>
> = {
  take: {
    code: `
def _take(x, indices, axis):
    """Wiregrad's gather: slices of x along axis, picked by integer indices of any shape."""
    picked = torch.index_select(x, axis, indices.reshape(-1).long())
    return picked.reshape(tuple(x.shape[:axis]) + tuple(indices.shape) + tuple(x.shape[axis + 1:]))
`,
  },
  scatterAdd: {
    code: `
def _scatter_add(x, indices, updates, axis):
    """Wiregrad's scatterAdd: x with updates added at indices along axis (gather's adjoint)."""
    flat = updates.reshape(tuple(x.shape[:axis]) + (-1,) + tuple(x.shape[axis + 1:]))
    return x.index_add(axis, indices.reshape(-1).long(), flat)
`,
  },
  oneHot: {
    code: `
def _one_hot(indices, depth, on_value, off_value, dtype):
    """Wiregrad's oneHot: on_value at each index along a new last axis, off_value elsewhere."""
    hot = F.one_hot(indices.long(), depth).to(dtype)
    return hot * (on_value - off_value) + off_value
`,
  },
  randomBits: {
    code: `
def _mul32(x, c):
    """(x * c) mod 2**32 for 32-bit x and c, in int64 without overflow (c in 16-bit halves)."""
    return (x * (c & 0xFFFF) + (((x * (c >> 16)) & 0xFFFF) << 16)) & 0xFFFFFFFF


def _hash32(x):
    """Wiregrad's 32-bit integer finaliser (core/random.ts hash32), on ints or int64 tensors."""
    x = x ^ (x >> 16)
    x = _mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


def _random_bits(seed, count, device):
    """32 random bits for elements 0..count-1 of Wiregrad's counter-based stream \`seed\`."""
    key = _hash32((seed ^ 0x9E3779B9) & 0xFFFFFFFF)
    index = torch.arange(count, dtype=torch.int64, device=device)
    return _hash32(_hash32((index + key) & 0xFFFFFFFF) ^ seed)
`,
  },
  uniform: {
    needs: ['randomBits'],
    code: `
def _uniform(shape, seed, dtype, device):
    """Wiregrad's randomUniform: the engine's numbers in [0, 1) for the same seed."""
    bits = _random_bits(seed, math.prod(shape), device)
    return ((bits >> 8).double() * 2.0 ** -24).to(dtype).reshape(shape)
`,
  },
  normal: {
    needs: ['randomBits'],
    code: `
def _normal(shape, seed, dtype, device):
    """Wiregrad's randomNormal: Box-Muller on the engine's uniform pairs for the same seed."""
    bits = _random_bits(seed, 2 * math.prod(shape), device).reshape(-1, 2)
    u1 = ((bits[:, 0] >> 8).double() + 1) * 2.0 ** -24
    u2 = (bits[:, 1] >> 8).double() * 2.0 ** -24
    z = torch.sqrt(-2 * torch.log(u1)) * torch.cos(2 * math.pi * u2)
    return z.to(dtype).reshape(shape)
`,
  },
  dropout: {
    needs: ['uniform'],
    code: `
def _dropout(x, p, seed, training):
    """Wiregrad's seeded dropout: the engine's mask for the same seed (the same at every call)."""
    if not training or p == 0:
        return x
    u = _uniform(tuple(x.shape), seed, x.dtype, x.device)
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return x * torch.where(u < p, torch.zeros_like(u), torch.full_like(u, scale))
`,
  },
};

/** The code of the helpers in `used` and of those they need, each once, in a stable order. */
export function helperCode(used: ReadonlySet<string>): string {
  const all = new Set<string>();
  const visit = (name: string): void => {
    if (all.has(name)) return;
    for (const n of PY_HELPERS[name]?.needs ?? []) visit(n);
    all.add(name);
  };
  for (const name of used) visit(name);
  return [...all].map((name) => PY_HELPERS[name]!.code).join('\n');
}
