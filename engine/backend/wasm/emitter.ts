/**
 * A small WebAssembly binary emitter: the engine generates its CPU kernels at run time, as
 * bytes, instead of shipping a precompiled module, so that tile sizes, unrolling and fused
 * elementwise chains are parameters of TypeScript code rather than of an external toolchain.
 *
 * `ModuleBuilder` assembles a module (types, one imported memory, functions, exports) and
 * `Code` is the instruction builder for one function body: control flow, locals, i32/f32/f64
 * arithmetic, loads and stores with a memory argument, and the 128-bit SIMD instructions
 * (including relaxed SIMD's fused multiply-add, for hosts that validate it). Every method
 * appends the encoding of one instruction and returns the builder, so code reads in stack
 * order: `c.localGet(p).v128Load(16).localGet(q).v128Load().f32x4Add()`.
 *
 * The emitter checks nothing that the engine's own WebAssembly validator will check anyway
 * (stack types, label depths); it only encodes.
 */

/** Value types, by their binary encoding. */
export const ValType = {
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  v128: 0x7b,
} as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

/** N local indices: a tuple when N is a literal (so it destructures), else an array. */
export type Locals<N extends number, R extends number[] = []> = number extends N
  ? number[]
  : R['length'] extends N
    ? R
    : Locals<N, [number, ...R]>;

/** A block's result: nothing, or one value. */
export type BlockType = ValType | 'void';

export interface MemoryImport {
  module: string;
  name: string;
  /** Pages of 64 KiB. */
  initial: number;
  maximum?: number;
  shared?: boolean;
}

// ---- LEB128 and byte helpers ---------------------------------------------------------

/** Appends `value` (a non-negative integer below 2^32) as unsigned LEB128. */
export function writeU32(out: number[], value: number): void {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

/** Appends a 32-bit signed integer as signed LEB128. */
export function writeI32(out: number[], value: number): void {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

/** Appends a 64-bit signed integer as signed LEB128. */
export function writeI64(out: number[], value: bigint): void {
  let v = BigInt.asIntN(64, value);
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

const scratch = new DataView(new ArrayBuffer(8));

function writeF32(out: number[], value: number): void {
  scratch.setFloat32(0, value, true);
  for (let i = 0; i < 4; i++) out.push(scratch.getUint8(i));
}

function writeF64(out: number[], value: number): void {
  scratch.setFloat64(0, value, true);
  for (let i = 0; i < 8; i++) out.push(scratch.getUint8(i));
}

function writeName(out: number[], name: string): void {
  const bytes = new TextEncoder().encode(name);
  writeU32(out, bytes.length);
  for (const b of bytes) out.push(b);
}

function writeVec(out: number[], items: readonly (readonly number[])[]): void {
  writeU32(out, items.length);
  for (const item of items) for (const b of item) out.push(b);
}

function section(out: number[], id: number, body: readonly number[]): void {
  out.push(id);
  writeU32(out, body.length);
  for (const b of body) out.push(b);
}

// ---- Instruction builder -------------------------------------------------------------

const SIMD = 0xfd;

/** Natural alignment (log2 of bytes) of each memory access width. */
const ALIGN_1 = 0;
const ALIGN_2 = 1;
const ALIGN_4 = 2;
const ALIGN_8 = 3;
const ALIGN_16 = 4;

/**
 * The body of one function. Parameters are locals 0..params-1; `local(type)` declares more.
 * Offsets in memory instructions are constant byte offsets added to the address operand.
 */
export class Code {
  readonly bytes: number[] = [];
  private readonly localTypes: ValType[] = [];

  constructor(readonly params: readonly ValType[]) {}

  /** Declares a local of `type` and returns its index. */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  /** Declares `count` locals of `type`. */
  locals<N extends number>(type: ValType, count: N): Locals<N> {
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(this.local(type));
    return out as Locals<N>;
  }

  /** The function body as it appears in the code section (without its size prefix). */
  encodeBody(): number[] {
    const out: number[] = [];
    // Run-length encode local declarations.
    const groups: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    writeU32(out, groups.length);
    for (const [n, t] of groups) {
      writeU32(out, n);
      out.push(t);
    }
    for (const b of this.bytes) out.push(b);
    out.push(0x0b); // end of function
    return out;
  }

  private op(...bytes: number[]): this {
    for (const b of bytes) this.bytes.push(b);
    return this;
  }

  private u32(v: number): this {
    writeU32(this.bytes, v);
    return this;
  }

  private mem(opcode: number, align: number, offset: number): this {
    this.bytes.push(opcode, align);
    return this.u32(offset);
  }

  private simd(opcode: number): this {
    this.bytes.push(SIMD);
    return this.u32(opcode);
  }

  private simdMem(opcode: number, align: number, offset: number): this {
    this.simd(opcode);
    this.bytes.push(align);
    return this.u32(offset);
  }

  private blockType(t: BlockType): number {
    return t === 'void' ? 0x40 : t;
  }

  // Control flow
  unreachable(): this {
    return this.op(0x00);
  }
  nop(): this {
    return this.op(0x01);
  }
  block(t: BlockType = 'void'): this {
    return this.op(0x02, this.blockType(t));
  }
  loop(t: BlockType = 'void'): this {
    return this.op(0x03, this.blockType(t));
  }
  if(t: BlockType = 'void'): this {
    return this.op(0x04, this.blockType(t));
  }
  else(): this {
    return this.op(0x05);
  }
  end(): this {
    return this.op(0x0b);
  }
  br(depth: number): this {
    return this.op(0x0c).u32(depth);
  }
  brIf(depth: number): this {
    return this.op(0x0d).u32(depth);
  }
  brTable(depths: readonly number[], fallback: number): this {
    this.op(0x0e).u32(depths.length);
    for (const d of depths) this.u32(d);
    return this.u32(fallback);
  }
  return(): this {
    return this.op(0x0f);
  }
  call(func: number): this {
    return this.op(0x10).u32(func);
  }
  drop(): this {
    return this.op(0x1a);
  }
  select(): this {
    return this.op(0x1b);
  }

  // Locals and globals
  localGet(i: number): this {
    return this.op(0x20).u32(i);
  }
  localSet(i: number): this {
    return this.op(0x21).u32(i);
  }
  localTee(i: number): this {
    return this.op(0x22).u32(i);
  }
  globalGet(i: number): this {
    return this.op(0x23).u32(i);
  }
  globalSet(i: number): this {
    return this.op(0x24).u32(i);
  }

  // Memory
  i32Load(offset = 0, align = ALIGN_4): this {
    return this.mem(0x28, align, offset);
  }
  i64Load(offset = 0, align = ALIGN_8): this {
    return this.mem(0x29, align, offset);
  }
  f32Load(offset = 0, align = ALIGN_4): this {
    return this.mem(0x2a, align, offset);
  }
  f64Load(offset = 0, align = ALIGN_8): this {
    return this.mem(0x2b, align, offset);
  }
  i32Load8U(offset = 0): this {
    return this.mem(0x2d, ALIGN_1, offset);
  }
  i32Load16U(offset = 0): this {
    return this.mem(0x2f, ALIGN_2, offset);
  }
  i32Store(offset = 0, align = ALIGN_4): this {
    return this.mem(0x36, align, offset);
  }
  i64Store(offset = 0, align = ALIGN_8): this {
    return this.mem(0x37, align, offset);
  }
  f32Store(offset = 0, align = ALIGN_4): this {
    return this.mem(0x38, align, offset);
  }
  f64Store(offset = 0, align = ALIGN_8): this {
    return this.mem(0x39, align, offset);
  }
  i32Store8(offset = 0): this {
    return this.mem(0x3a, ALIGN_1, offset);
  }
  memorySize(): this {
    return this.op(0x3f, 0x00);
  }
  memoryGrow(): this {
    return this.op(0x40, 0x00);
  }

  // Constants
  i32Const(v: number): this {
    this.op(0x41);
    writeI32(this.bytes, v);
    return this;
  }
  i64Const(v: bigint): this {
    this.op(0x42);
    writeI64(this.bytes, v);
    return this;
  }
  f32Const(v: number): this {
    this.op(0x43);
    writeF32(this.bytes, v);
    return this;
  }
  f64Const(v: number): this {
    this.op(0x44);
    writeF64(this.bytes, v);
    return this;
  }

  // i32 comparisons and arithmetic
  i32Eqz(): this {
    return this.op(0x45);
  }
  i32Eq(): this {
    return this.op(0x46);
  }
  i32Ne(): this {
    return this.op(0x47);
  }
  i32LtS(): this {
    return this.op(0x48);
  }
  i32LtU(): this {
    return this.op(0x49);
  }
  i32GtS(): this {
    return this.op(0x4a);
  }
  i32GtU(): this {
    return this.op(0x4b);
  }
  i32LeS(): this {
    return this.op(0x4c);
  }
  i32LeU(): this {
    return this.op(0x4d);
  }
  i32GeS(): this {
    return this.op(0x4e);
  }
  i32GeU(): this {
    return this.op(0x4f);
  }
  i32Clz(): this {
    return this.op(0x67);
  }
  i32Ctz(): this {
    return this.op(0x68);
  }
  i32Add(): this {
    return this.op(0x6a);
  }
  i32Sub(): this {
    return this.op(0x6b);
  }
  i32Mul(): this {
    return this.op(0x6c);
  }
  i32DivS(): this {
    return this.op(0x6d);
  }
  i32DivU(): this {
    return this.op(0x6e);
  }
  i32RemS(): this {
    return this.op(0x6f);
  }
  i32RemU(): this {
    return this.op(0x70);
  }
  i32And(): this {
    return this.op(0x71);
  }
  i32Or(): this {
    return this.op(0x72);
  }
  i32Xor(): this {
    return this.op(0x73);
  }
  i32Shl(): this {
    return this.op(0x74);
  }
  i32ShrS(): this {
    return this.op(0x75);
  }
  i32ShrU(): this {
    return this.op(0x76);
  }

  // f32 comparisons and arithmetic
  f32Eq(): this {
    return this.op(0x5b);
  }
  f32Ne(): this {
    return this.op(0x5c);
  }
  f32Lt(): this {
    return this.op(0x5d);
  }
  f32Gt(): this {
    return this.op(0x5e);
  }
  f32Le(): this {
    return this.op(0x5f);
  }
  f32Ge(): this {
    return this.op(0x60);
  }
  f32Abs(): this {
    return this.op(0x8b);
  }
  f32Neg(): this {
    return this.op(0x8c);
  }
  f32Ceil(): this {
    return this.op(0x8d);
  }
  f32Floor(): this {
    return this.op(0x8e);
  }
  f32Sqrt(): this {
    return this.op(0x91);
  }
  f32Add(): this {
    return this.op(0x92);
  }
  f32Sub(): this {
    return this.op(0x93);
  }
  f32Mul(): this {
    return this.op(0x94);
  }
  f32Div(): this {
    return this.op(0x95);
  }
  f32Min(): this {
    return this.op(0x96);
  }
  f32Max(): this {
    return this.op(0x97);
  }

  // f64 arithmetic
  f64Add(): this {
    return this.op(0xa0);
  }
  f64Sub(): this {
    return this.op(0xa1);
  }
  f64Mul(): this {
    return this.op(0xa2);
  }
  f64Div(): this {
    return this.op(0xa3);
  }

  // Conversions
  i32TruncF32S(): this {
    return this.op(0xa8);
  }
  f32ConvertI32S(): this {
    return this.op(0xb2);
  }
  f32ConvertI32U(): this {
    return this.op(0xb3);
  }
  f32DemoteF64(): this {
    return this.op(0xb6);
  }
  f64PromoteF32(): this {
    return this.op(0xbb);
  }
  i32ReinterpretF32(): this {
    return this.op(0xbc);
  }
  f32ReinterpretI32(): this {
    return this.op(0xbe);
  }

  // SIMD: memory
  v128Load(offset = 0, align = ALIGN_16): this {
    return this.simdMem(0x00, align, offset);
  }
  v128Load32Splat(offset = 0): this {
    return this.simdMem(0x09, ALIGN_4, offset);
  }
  v128Store(offset = 0, align = ALIGN_16): this {
    return this.simdMem(0x0b, align, offset);
  }
  v128Load32Zero(offset = 0): this {
    return this.simdMem(0x5c, ALIGN_4, offset);
  }
  v128Load64Zero(offset = 0): this {
    return this.simdMem(0x5d, ALIGN_8, offset);
  }
  v128Load32Lane(lane: number, offset = 0): this {
    this.simdMem(0x56, ALIGN_4, offset);
    return this.op(lane);
  }
  v128Store32Lane(lane: number, offset = 0): this {
    this.simdMem(0x5a, ALIGN_4, offset);
    return this.op(lane);
  }
  v128Store64Lane(lane: number, offset = 0): this {
    this.simdMem(0x5b, ALIGN_8, offset);
    return this.op(lane);
  }

  // SIMD: constants, lanes, shuffles
  v128Const(bytes: ArrayLike<number>): this {
    this.simd(0x0c);
    for (let i = 0; i < 16; i++) this.bytes.push(bytes[i] ?? 0);
    return this;
  }
  /** A v128 constant with four f32 lanes (one value repeated when given one). */
  f32x4Const(...lanes: number[]): this {
    const dv = new DataView(new ArrayBuffer(16));
    for (let i = 0; i < 4; i++) dv.setFloat32(i * 4, lanes[lanes.length === 1 ? 0 : i] ?? 0, true);
    return this.v128Const(new Uint8Array(dv.buffer));
  }
  i8x16Shuffle(lanes: readonly number[]): this {
    this.simd(0x0d);
    for (let i = 0; i < 16; i++) this.bytes.push(lanes[i] ?? 0);
    return this;
  }
  i32x4Splat(): this {
    return this.simd(0x11);
  }
  f32x4Splat(): this {
    return this.simd(0x13);
  }
  i32x4ExtractLane(lane: number): this {
    return this.simd(0x1b).op(lane);
  }
  i32x4ReplaceLane(lane: number): this {
    return this.simd(0x1c).op(lane);
  }
  f32x4ExtractLane(lane: number): this {
    return this.simd(0x1f).op(lane);
  }
  f32x4ReplaceLane(lane: number): this {
    return this.simd(0x20).op(lane);
  }

  // SIMD: comparisons (lane masks)
  f32x4Eq(): this {
    return this.simd(0x41);
  }
  f32x4Ne(): this {
    return this.simd(0x42);
  }
  f32x4Lt(): this {
    return this.simd(0x43);
  }
  f32x4Gt(): this {
    return this.simd(0x44);
  }
  f32x4Le(): this {
    return this.simd(0x45);
  }
  f32x4Ge(): this {
    return this.simd(0x46);
  }

  // SIMD: bitwise
  v128Not(): this {
    return this.simd(0x4d);
  }
  v128And(): this {
    return this.simd(0x4e);
  }
  v128AndNot(): this {
    return this.simd(0x4f);
  }
  v128Or(): this {
    return this.simd(0x50);
  }
  v128Xor(): this {
    return this.simd(0x51);
  }
  v128Bitselect(): this {
    return this.simd(0x52);
  }
  v128AnyTrue(): this {
    return this.simd(0x53);
  }

  // SIMD: i32x4
  i32x4Eq(): this {
    return this.simd(0x37);
  }
  i32x4Shl(): this {
    return this.simd(0xab);
  }
  i32x4ShrS(): this {
    return this.simd(0xac);
  }
  i32x4ShrU(): this {
    return this.simd(0xad);
  }
  i32x4Add(): this {
    return this.simd(0xae);
  }
  i32x4Sub(): this {
    return this.simd(0xb1);
  }
  i32x4Mul(): this {
    return this.simd(0xb5);
  }
  i32x4MinS(): this {
    return this.simd(0xb6);
  }
  i32x4MaxS(): this {
    return this.simd(0xb8);
  }
  i32x4TruncSatF32x4S(): this {
    return this.simd(0xf8);
  }
  f32x4ConvertI32x4S(): this {
    return this.simd(0xfa);
  }

  // SIMD: f32x4
  f32x4Ceil(): this {
    return this.simd(0x67);
  }
  f32x4Floor(): this {
    return this.simd(0x68);
  }
  f32x4Abs(): this {
    return this.simd(0xe0);
  }
  f32x4Neg(): this {
    return this.simd(0xe1);
  }
  f32x4Sqrt(): this {
    return this.simd(0xe3);
  }
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  f32x4Sub(): this {
    return this.simd(0xe5);
  }
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  f32x4Div(): this {
    return this.simd(0xe7);
  }
  f32x4Min(): this {
    return this.simd(0xe8);
  }
  f32x4Max(): this {
    return this.simd(0xe9);
  }
  f32x4Pmin(): this {
    return this.simd(0xea);
  }
  f32x4Pmax(): this {
    return this.simd(0xeb);
  }

  // Relaxed SIMD (validate first: see `supportsRelaxedSimd`)
  /** a*b + c, fused or not at the host's choice. Operands in stack order a, b, c. */
  f32x4RelaxedMadd(): this {
    return this.simd(0x105);
  }
  /** -(a*b) + c. */
  f32x4RelaxedNmadd(): this {
    return this.simd(0x106);
  }
}

// ---- Module builder ------------------------------------------------------------------

interface FuncEntry {
  type: number;
  code: Code;
}

interface ExportEntry {
  name: string;
  kind: number;
  index: number;
}

export class ModuleBuilder {
  private readonly types: number[][] = [];
  private readonly typeKeys = new Map<string, number>();
  private readonly funcs: FuncEntry[] = [];
  private readonly exports: ExportEntry[] = [];
  private memory: MemoryImport | null = null;

  /** Returns the index of the function type (deduplicated). */
  addType(params: readonly ValType[], results: readonly ValType[]): number {
    const enc: number[] = [0x60];
    writeVec(
      enc,
      params.map((p) => [p]),
    );
    writeVec(
      enc,
      results.map((r) => [r]),
    );
    const key = enc.join(',');
    const existing = this.typeKeys.get(key);
    if (existing !== undefined) return existing;
    this.types.push(enc);
    this.typeKeys.set(key, this.types.length - 1);
    return this.types.length - 1;
  }

  /** Imports the module's one memory. A shared memory needs a maximum. */
  importMemory(mem: MemoryImport): this {
    if (mem.shared && mem.maximum === undefined) throw new Error('shared memory needs a maximum');
    this.memory = mem;
    return this;
  }

  /**
   * Declares a function and returns its index (usable by `call` before the body is written,
   * so mutually calling functions can be declared first and built later).
   */
  addFunction(params: readonly ValType[], results: readonly ValType[] = []): Code {
    const code = new Code(params);
    this.funcs.push({ type: this.addType(params, results), code });
    return code;
  }

  /** The index `call` uses for a function returned by `addFunction`. */
  funcIndex(code: Code): number {
    const i = this.funcs.findIndex((f) => f.code === code);
    if (i < 0) throw new Error('function not in this module');
    return i; // no function imports, so definitions start at 0
  }

  exportFunction(name: string, code: Code): this {
    this.exports.push({ name, kind: 0x00, index: this.funcIndex(code) });
    return this;
  }

  toBytes(): Uint8Array<ArrayBuffer> {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    if (this.types.length) {
      const body: number[] = [];
      writeVec(body, this.types);
      section(out, 1, body);
    }
    if (this.memory) {
      const m = this.memory;
      const body: number[] = [];
      writeU32(body, 1);
      writeName(body, m.module);
      writeName(body, m.name);
      body.push(0x02); // memory
      const flags = (m.maximum !== undefined ? 1 : 0) | (m.shared ? 2 : 0);
      body.push(flags);
      writeU32(body, m.initial);
      if (m.maximum !== undefined) writeU32(body, m.maximum);
      section(out, 2, body);
    }
    if (this.funcs.length) {
      const body: number[] = [];
      writeU32(body, this.funcs.length);
      for (const f of this.funcs) writeU32(body, f.type);
      section(out, 3, body);
    }
    if (this.exports.length) {
      const body: number[] = [];
      writeU32(body, this.exports.length);
      for (const e of this.exports) {
        writeName(body, e.name);
        body.push(e.kind);
        writeU32(body, e.index);
      }
      section(out, 7, body);
    }
    if (this.funcs.length) {
      const body: number[] = [];
      writeU32(body, this.funcs.length);
      for (const f of this.funcs) {
        const fb = f.code.encodeBody();
        writeU32(body, fb.length);
        for (const b of fb) body.push(b);
      }
      section(out, 10, body);
    }
    return new Uint8Array(out);
  }
}

/** Whether the host validates 128-bit SIMD (v128 locals and f32x4 arithmetic). */
export function supportsSimd(): boolean {
  const m = new ModuleBuilder();
  const f = m.addFunction([], [ValType.v128]);
  f.f32x4Const(1).f32x4Const(2).f32x4Add();
  return validate(m.toBytes());
}

/** Whether the host validates relaxed SIMD (checked on `f32x4.relaxed_madd`). */
export function supportsRelaxedSimd(): boolean {
  const m = new ModuleBuilder();
  const f = m.addFunction([], [ValType.v128]);
  f.f32x4Const(1).f32x4Const(2).f32x4Const(3).f32x4RelaxedMadd();
  return validate(m.toBytes());
}

function validate(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}
