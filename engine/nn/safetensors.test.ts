import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import type { Tensor } from '../index.js';
import { expectClose } from '../../test/helpers/numeric.js';
import { hasTorch, runTorch } from '../../test/helpers/torch.js';
import {
  AvgPool2d,
  BatchNorm2d,
  Conv2d,
  Flatten,
  GELU,
  LayerNorm,
  Linear,
  MaxPool2d,
  ReLU,
  Sequential,
  loadSafetensors,
  readSafetensorsHeader,
  safetensorsMetadata,
  saveSafetensors,
} from './index.js';

function sample(): Map<string, Tensor> {
  return new Map([
    [
      'weights',
      wg.tensor([
        [1.5, -2, 3.25],
        [0, 1e-30, -7],
      ]),
    ],
    ['double', wg.tensor([Math.PI, -1 / 3], { dtype: 'f64' })],
    ['ids', wg.tensor([7, -2147483648, 2147483647], { dtype: 'i32' })],
    [
      'mask',
      wg.tensor([
        [true, false],
        [false, true],
      ]),
    ],
    ['scalar', wg.scalar(42)],
    ['empty', wg.zeros([0, 3])],
  ]);
}

/** A safetensors file from a header (object or raw text) and data bytes, unpadded. */
function craft(header: object | string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(
    typeof header === 'string' ? header : JSON.stringify(header),
  );
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32 = (shape: number[], begin: number, end: number) => ({
  dtype: 'F32',
  shape,
  data_offsets: [begin, end],
});

describe('safetensors', () => {
  it('round-trips every dtype, scalars, empty tensors and metadata', () => {
    const original = sample();
    const bytes = saveSafetensors(original, { format: 'pt', note: 'grüße' });
    const loaded = loadSafetensors(bytes);
    expect([...loaded.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [name, t] of original) {
      const back = loaded.get(name)!;
      expect([back.dtype, back.shape], name).toEqual([t.dtype, t.shape]);
      expect(Array.from(back.dataSync()), name).toEqual(Array.from(t.dataSync()));
    }
    expect(safetensorsMetadata(bytes)).toEqual({ format: 'pt', note: 'grüße' });
  });

  it('pads the header to 8 bytes and aligns every tensor to its element size', () => {
    const bytes = saveSafetensors(sample());
    const header = readSafetensorsHeader(bytes);
    expect(header.dataStart % 8).toBe(0);
    expect(bytes[header.dataStart - 1]).toBe(0x20); // padded with spaces, as the spec allows
    const sizes: Record<string, number> = { F64: 8, F32: 4, I32: 4, BOOL: 1 };
    for (const e of header.entries)
      expect((header.dataStart + e.dataOffsets[0]) % sizes[e.fileDType]!, e.name).toBe(0);
    expect(header.entries.find((e) => e.name === 'double')!.dataOffsets[0]).toBe(0);
  });

  it('widens F16 and BF16 to f32 and narrows I64, I16, I8 and U8 to i32', () => {
    const u16 = (...v: number[]) => new Uint8Array(new Uint16Array(v).buffer);
    const data = new Uint8Array([
      ...u16(0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00), // 1, -2, 65504, 2^-24, +Inf
      ...u16(0x3f80, 0xc0a0), // bf16: 1, -5
      ...new Uint8Array(new BigInt64Array([-3n, 2147483647n]).buffer),
      ...u16(0xfffe), // i16 -2
      0xff, // i8 -1
      0xff, // u8 255
    ]);
    const bytes = craft(
      {
        h: { dtype: 'F16', shape: [5], data_offsets: [0, 10] },
        b: { dtype: 'BF16', shape: [2], data_offsets: [10, 14] },
        l: { dtype: 'I64', shape: [2], data_offsets: [14, 30] },
        s: { dtype: 'I16', shape: [], data_offsets: [30, 32] },
        c: { dtype: 'I8', shape: [1], data_offsets: [32, 33] },
        u: { dtype: 'U8', shape: [1], data_offsets: [33, 34] },
      },
      data,
    );
    const t = loadSafetensors(bytes);
    expect(Array.from(t.get('h')!.dataSync())).toEqual([1, -2, 65504, 2 ** -24, Infinity]);
    expect(Array.from(t.get('b')!.dataSync())).toEqual([1, -5]);
    expect([t.get('l')!.dtype, ...t.get('l')!.dataSync()]).toEqual(['i32', -3, 2147483647]);
    expect([t.get('s')!.item(), t.get('c')!.item(), t.get('u')!.item()]).toEqual([-2, -1, 255]);
    const big = craft(
      { l: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } },
      new Uint8Array(new BigInt64Array([2n ** 40n]).buffer),
    );
    expect(() => loadSafetensors(big)).toThrow(
      /tensor 'l' \(I64\) holds 1099511627776 at element 0, outside the i32 range/,
    );
  });

  it('names what is wrong with a malformed or truncated file', () => {
    const good = saveSafetensors(new Map([['w', wg.tensor([1, 2, 3])]]));
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(5), /5 bytes, too short for the 8-byte header length/],
      [
        good.subarray(0, 20),
        /header length field says \d+ bytes but only 12 follow it; the file is truncated/,
      ],
      [
        good.subarray(0, good.length - 4),
        /tensor 'w': data_offsets \[0, 12\] reach past the data section \(8 bytes\); the file is truncated/,
      ],
      [
        new Uint8Array([...good, 0, 0, 0, 0]),
        /the data section has 16 bytes but the tensors cover 12; there are trailing bytes/,
      ],
      [
        new Uint8Array([255, 255, 255, 255, 0, 0, 0, 0]),
        /header length field says 4294967295 bytes \(over the 100 MB limit\)/,
      ],
      [craft('{"w": '), /the header is not valid JSON/],
      [craft('[1, 2]'), /must be a JSON object starting with '\{', got "\[1, 2\]"/],
      [
        craft({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)),
        /tensor 'w': unsupported dtype "C64" \(wiregrad reads F64, F32/,
      ],
      [
        craft({ w: f32([3], 0, 8) }, new Uint8Array(8)),
        /tensor 'w': data_offsets \[0, 8\] span 8 bytes, but \[3\] of F32 needs 12/,
      ],
      [
        craft({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)),
        /tensor 'w': shape must be an array of non-negative integers, got \[-1\]/,
      ],
      [
        craft({ w: { dtype: 'F32', shape: [1] } }, new Uint8Array(4)),
        /tensor 'w': data_offsets must be \[begin, end\]/,
      ],
      [
        craft({ a: f32([2], 0, 8), b: f32([1], 4, 8) }, new Uint8Array(8)),
        /tensor 'b' overlaps tensor 'a'/,
      ],
      [craft({ a: f32([1], 4, 8) }, new Uint8Array(8)), /4 unused bytes before tensor 'a'/],
      [
        craft({ __metadata__: { n: 1 } }),
        /__metadata__ must be an object whose values are strings/,
      ],
    ];
    for (const [bytes, message] of cases) expect(() => loadSafetensors(bytes)).toThrow(message);
    expect(() => saveSafetensors(new Map([['__metadata__', wg.zeros([1])]]))).toThrow(/reserved/);
    expect(() => saveSafetensors(new Map(), { n: 1 } as unknown as Record<string, string>)).toThrow(
      /metadata 'n' is number; __metadata__ values must be strings/,
    );
  });
});

// ---- interoperability with PyTorch ------------------------------------------------------

/** Reads and writes safetensors by hand (struct, json, torch.frombuffer): no safetensors package. */
const TORCH_SAFETENSORS = `
import sys, json, struct, torch
from torch import nn
inp = json.load(sys.stdin)
DT = {'F32': torch.float32, 'F64': torch.float64, 'I32': torch.int32, 'I64': torch.int64,
      'BOOL': torch.bool, 'F16': torch.float16, 'BF16': torch.bfloat16}

def read(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    header = json.loads(b[8:8 + n])
    meta = header.pop('__metadata__', {})
    out = {}
    for k, v in header.items():
        s, e = v['data_offsets']
        buf = bytearray(b[8 + n + s:8 + n + e])
        t = torch.frombuffer(buf, dtype=DT[v['dtype']]) if e > s else torch.empty(0, dtype=DT[v['dtype']])
        out[k] = t.reshape(v['shape'])
    return out, meta

def write(path, tensors, meta):
    header, chunks, offset = {'__metadata__': meta}, [], 0
    for k, t in tensors.items():
        code = [c for c, d in DT.items() if d == t.dtype][0]
        raw = t.contiguous().view(torch.int16 if t.dtype == torch.bfloat16 else t.dtype).numpy().tobytes()
        header[k] = {'dtype': code, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    open(path, 'wb').write(struct.pack('<Q', len(h)) + h + b''.join(chunks))

def describe(t):
    return {'dtype': str(t.dtype), 'shape': list(t.shape), 'values': t.reshape(-1).double().tolist()}

# 1. PyTorch reads the misc tensors we wrote.
misc, misc_meta = read(inp['misc'])
result = {'misc': {k: describe(t) for k, t in misc.items()}, 'misc_meta': misc_meta}

# 2. Our model's state loads strictly into the same torch.nn model, which then computes.
torch.manual_seed(0)
model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                      nn.AvgPool2d(3, stride=1, padding=1), nn.Flatten(), nn.Linear(36, 6),
                      nn.LayerNorm(6), nn.GELU(), nn.Linear(6, 3))
state, _ = read(inp['model'])
model.load_state_dict(state, strict=True)
x = torch.tensor(inp['x'], dtype=torch.float32).reshape(2, 2, 6, 6)
model.train()
y_train = model(x)
model.eval()
y_eval = model(x)
result['model'] = {'train': y_train.reshape(-1).tolist(), 'eval': y_eval.reshape(-1).tolist(),
                   'running_mean': model[1].running_mean.tolist(), 'running_var': model[1].running_var.tolist(),
                   'num_batches_tracked': int(model[1].num_batches_tracked)}

# 3. PyTorch writes; we read.
ours = {'f32': torch.tensor([[1.5, -2.0], [0.25, 3.0]]), 'f64': torch.tensor([1 / 3], dtype=torch.float64),
        'i64': torch.tensor(-7), 'i32': torch.tensor([1, 2, 3], dtype=torch.int32),
        'bool': torch.tensor([True, False, True]), 'f16': torch.tensor([0.5, -1.25], dtype=torch.float16),
        'bf16': torch.tensor([3.0, -0.0078125], dtype=torch.bfloat16)}
write(inp['fromTorch'], ours, {'framework': 'torch'})
result['fromTorch'] = {k: describe(t) for k, t in ours.items()}
print(json.dumps(result))
`;

interface Described {
  dtype: string;
  shape: number[];
  values: number[];
}

describe.skipIf(!hasTorch)('safetensors and PyTorch (python3 with torch, parsed by hand)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wiregrad-safetensors-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const model = new Sequential(
    new Conv2d(2, 4, 3, { padding: 1, seed: 1 }),
    new BatchNorm2d(4),
    new ReLU(),
    new MaxPool2d(2),
    new AvgPool2d(3, { stride: 1, padding: 1 }),
    new Flatten(),
    new Linear(36, 6, { seed: 2 }),
    new LayerNorm(6),
    new GELU(),
    new Linear(6, 3, { seed: 3 }),
  );
  const x = wg.rand([2, 2, 6, 6], { seed: 5 }).mul(4).sub(2);
  const misc = sample();
  const paths = {
    misc: join(dir, 'misc.safetensors'),
    model: join(dir, 'model.safetensors'),
    fromTorch: join(dir, 'from-torch.safetensors'),
  };
  writeFileSync(paths.misc, saveSafetensors(misc, { source: 'wiregrad' }));
  writeFileSync(paths.model, saveSafetensors(model.stateDict()));
  const reference = hasTorch
    ? (runTorch(TORCH_SAFETENSORS, { ...paths, x: Array.from(x.dataSync()) }) as {
        misc: Record<string, Described>;
        misc_meta: Record<string, string>;
        model: Record<string, number[] | number>;
        fromTorch: Record<string, Described>;
      })
    : null;

  it('PyTorch reads our tensors with the right dtypes, shapes and values', () => {
    const torchDType = {
      f32: 'torch.float32',
      f64: 'torch.float64',
      i32: 'torch.int32',
      bool: 'torch.bool',
    };
    for (const [name, t] of misc) {
      const r = reference!.misc[name]!;
      expect([r.dtype, r.shape], name).toEqual([torchDType[t.dtype], t.shape]);
      expect(r.values, name).toEqual(Array.from(t.dataSync()));
    }
    expect(reference!.misc_meta).toEqual({ source: 'wiregrad' });
  });

  it('a model’s state dict loads strictly into the same torch.nn model, which computes the same', () => {
    const r = reference!.model;
    const yTrain = model.forward(x);
    model.eval();
    const yEval = model.forward(x);
    const bn = model.at(1) as BatchNorm2d;
    expectClose(
      yTrain.dataSync(),
      r.train as number[],
      { rtol: 1e-5, atol: 1e-6 },
      'train-mode output',
    );
    expectClose(
      yEval.dataSync(),
      r.eval as number[],
      { rtol: 1e-5, atol: 1e-6 },
      'eval-mode output',
    );
    expectClose(bn.runningMean.dataSync(), r.running_mean as number[], { rtol: 1e-5, atol: 1e-7 });
    expectClose(bn.runningVar.dataSync(), r.running_var as number[], { rtol: 1e-5, atol: 1e-7 });
    expect(bn.numBatchesTracked.item()).toBe(r.num_batches_tracked);
  });

  it('we read what PyTorch wrote (unpadded header, I64, F16, BF16)', () => {
    const bytes = readFileSync(paths.fromTorch);
    const loaded = loadSafetensors(bytes);
    expect(safetensorsMetadata(bytes)).toEqual({ framework: 'torch' });
    for (const [name, r] of Object.entries(reference!.fromTorch)) {
      const t = loaded.get(name)!;
      expect(t.shape, name).toEqual(r.shape);
      expect(Array.from(t.dataSync()), name).toEqual(r.values);
    }
    expect(loaded.get('i64')!.dtype).toBe('i32');
    expect(loaded.get('bf16')!.dtype).toBe('f32');
  });
});
