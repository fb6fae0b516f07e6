/**
 * The protobuf wire format (https://protobuf.dev/programming-guides/encoding/) for exactly the
 * ONNX messages Wiregrad reads and writes, written out by hand so that it runs where generated
 * code cannot (a page whose Content-Security-Policy forbids `Function()`), with no dependency.
 *
 * Encoding follows onnx.proto (proto2): a field is written when it is set (so a zero such as
 * keepdims=0 is kept), fields in field-number order, repeated numbers unpacked, 64-bit integers
 * from JS numbers (values at or past ±2^63 saturate, so "to the end" Slice bounds stay huge).
 * Decoding accepts both packed and unpacked repeated numbers, skips fields it does not model,
 * leaves absent fields and empty repeated fields undefined, returns bytes as views of the input,
 * and turns truncated or malformed input into a WiregradError naming the byte offset.
 */

import { WiregradError } from '../core/errors.js';
import type {
  OnnxAttribute,
  OnnxDimension,
  OnnxGraph,
  OnnxModel,
  OnnxNode,
  OnnxTensor,
  OnnxType,
  OnnxValueInfo,
} from './onnx-proto.js';

// Wire types.
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

const TWO_32 = 4294967296;
const TWO_63 = 2 ** 63;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

/** Collects the bytes of one message; nested messages are appended without copying. */
class Writer {
  private readonly parts: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private pos = 0;
  private flushed = 0;
  private readonly scratch = new DataView(new ArrayBuffer(8));

  get length(): number {
    return this.flushed + this.pos;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private flush(): void {
    if (this.pos === 0) return;
    this.parts.push(this.buf.subarray(0, this.pos));
    this.flushed += this.pos;
    this.buf = new Uint8Array(256);
    this.pos = 0;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }

  /** An unsigned varint below 2^53. */
  uvarint(n: number): void {
    this.reserve(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  /** A 64-bit two's complement varint (int64, and int32 which protobuf sign-extends). */
  int64(n: number): void {
    if (!Number.isFinite(n)) n = Number.isNaN(n) ? 0 : n;
    if (n >= 0 && n < 2 ** 53) {
      this.uvarint(Math.trunc(n));
      return;
    }
    let v: bigint;
    if (n >= TWO_63) v = (1n << 63n) - 1n;
    else if (n <= -TWO_63) v = -(1n << 63n);
    else v = BigInt(Math.trunc(n));
    let u = BigInt.asUintN(64, v);
    this.reserve(10);
    while (u >= 0x80n) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  tag(field: number, wire: number): void {
    this.uvarint(field * 8 + wire);
  }

  float(n: number): void {
    this.scratch.setFloat32(0, n, true);
    this.reserve(4);
    for (let i = 0; i < 4; i++) this.buf[this.pos++] = this.scratch.getUint8(i);
  }

  double(n: number): void {
    this.scratch.setFloat64(0, n, true);
    this.reserve(8);
    for (let i = 0; i < 8; i++) this.buf[this.pos++] = this.scratch.getUint8(i);
  }

  bytes(b: Uint8Array): void {
    this.uvarint(b.length);
    if (b.length <= 64) {
      this.reserve(b.length);
      this.buf.set(b, this.pos);
      this.pos += b.length;
    } else {
      this.flush();
      this.parts.push(b);
      this.flushed += b.length;
    }
  }

  message(child: Writer): void {
    this.uvarint(child.length);
    this.flush();
    child.flush();
    for (const p of child.parts) this.parts.push(p);
    this.flushed += child.flushed;
  }

  finish(): Uint8Array {
    this.flush();
    const only = this.parts[0];
    if (this.parts.length === 1 && only!.byteLength === only!.buffer.byteLength) return only!;
    const out = new Uint8Array(this.flushed);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  // Typed field writers: each writes nothing when the value is absent.
  int64Field(field: number, n: number | undefined): void {
    if (n === undefined || n === null) return;
    this.tag(field, VARINT);
    this.int64(n);
  }

  floatField(field: number, n: number | undefined): void {
    if (n === undefined || n === null) return;
    this.tag(field, FIXED32);
    this.float(n);
  }

  stringField(field: number, s: string | undefined): void {
    if (s === undefined || s === null) return;
    this.tag(field, LEN);
    this.bytes(utf8Encoder.encode(s));
  }

  bytesField(field: number, b: Uint8Array | undefined): void {
    if (b === undefined || b === null) return;
    this.tag(field, LEN);
    this.bytes(b);
  }

  repeatedInt64(field: number, values: readonly number[] | undefined): void {
    for (const v of values ?? []) this.int64Field(field, v);
  }

  repeatedFloat(field: number, values: readonly number[] | undefined): void {
    for (const v of values ?? []) this.floatField(field, v);
  }

  repeatedDouble(field: number, values: readonly number[] | undefined): void {
    for (const v of values ?? []) {
      this.tag(field, FIXED64);
      this.double(v);
    }
  }

  repeatedString(field: number, values: readonly string[] | undefined): void {
    for (const v of values ?? []) this.stringField(field, v);
  }

  repeatedBytes(field: number, values: readonly Uint8Array[] | undefined): void {
    for (const v of values ?? []) this.bytesField(field, v);
  }

  messageField<T>(field: number, value: T | undefined, encode: (m: T) => Writer): void {
    if (value === undefined || value === null) return;
    this.tag(field, LEN);
    this.message(encode(value));
  }

  repeatedMessage<T>(field: number, values: readonly T[] | undefined, encode: (m: T) => Writer) {
    for (const v of values ?? []) this.messageField(field, v, encode);
  }
}

function writeEntry(e: { key?: string; value?: string }): Writer {
  const w = new Writer();
  w.stringField(1, e.key);
  w.stringField(2, e.value);
  return w;
}

function writeTensor(t: OnnxTensor): Writer {
  const w = new Writer();
  w.repeatedInt64(1, t.dims);
  w.int64Field(2, t.dataType);
  w.repeatedFloat(4, t.floatData);
  w.repeatedInt64(5, t.int32Data);
  w.repeatedBytes(6, t.stringData);
  w.repeatedInt64(7, t.int64Data);
  w.stringField(8, t.name);
  w.bytesField(9, t.rawData);
  w.repeatedDouble(10, t.doubleData);
  w.repeatedInt64(11, t.uint64Data);
  w.stringField(12, t.docString);
  w.repeatedMessage(13, t.externalData, writeEntry);
  w.int64Field(14, t.dataLocation);
  return w;
}

function writeDimension(d: OnnxDimension): Writer {
  const w = new Writer();
  w.int64Field(1, d.dimValue);
  w.stringField(2, d.dimParam);
  w.stringField(3, d.denotation);
  return w;
}

function writeType(t: OnnxType): Writer {
  const w = new Writer();
  w.messageField(1, t.tensorType, (tensor) => {
    const tw = new Writer();
    tw.int64Field(1, tensor.elemType);
    tw.messageField(2, tensor.shape, (shape) => {
      const sw = new Writer();
      sw.repeatedMessage(1, shape.dim, writeDimension);
      return sw;
    });
    return tw;
  });
  w.stringField(6, t.denotation);
  return w;
}

function writeValueInfo(v: OnnxValueInfo): Writer {
  const w = new Writer();
  w.stringField(1, v.name);
  w.messageField(2, v.type, writeType);
  w.stringField(3, v.docString);
  return w;
}

function writeAttribute(a: OnnxAttribute): Writer {
  const w = new Writer();
  w.stringField(1, a.name);
  w.floatField(2, a.f);
  w.int64Field(3, a.i);
  w.bytesField(4, a.s);
  w.messageField(5, a.t, writeTensor);
  w.messageField(6, a.g, writeGraph);
  w.repeatedFloat(7, a.floats);
  w.repeatedInt64(8, a.ints);
  w.repeatedBytes(9, a.strings);
  w.repeatedMessage(10, a.tensors, writeTensor);
  w.repeatedMessage(11, a.graphs, writeGraph);
  w.stringField(13, a.docString);
  w.int64Field(20, a.type);
  w.stringField(21, a.refAttrName);
  return w;
}

function writeNode(n: OnnxNode): Writer {
  const w = new Writer();
  w.repeatedString(1, n.input);
  w.repeatedString(2, n.output);
  w.stringField(3, n.name);
  w.stringField(4, n.opType);
  w.repeatedMessage(5, n.attribute, writeAttribute);
  w.stringField(6, n.docString);
  w.stringField(7, n.domain);
  return w;
}

function writeGraph(g: OnnxGraph): Writer {
  const w = new Writer();
  w.repeatedMessage(1, g.node, writeNode);
  w.stringField(2, g.name);
  w.repeatedMessage(5, g.initializer, writeTensor);
  w.stringField(10, g.docString);
  w.repeatedMessage(11, g.input, writeValueInfo);
  w.repeatedMessage(12, g.output, writeValueInfo);
  w.repeatedMessage(13, g.valueInfo, writeValueInfo);
  return w;
}

function writeModel(m: OnnxModel): Writer {
  const w = new Writer();
  w.int64Field(1, m.irVersion);
  w.stringField(2, m.producerName);
  w.stringField(3, m.producerVersion);
  w.stringField(4, m.domain);
  w.int64Field(5, m.modelVersion);
  w.stringField(6, m.docString);
  w.messageField(7, m.graph, writeGraph);
  w.repeatedMessage(8, m.opsetImport, (o) => {
    const ow = new Writer();
    ow.stringField(1, o.domain);
    ow.int64Field(2, o.version);
    return ow;
  });
  w.repeatedMessage(14, m.metadataProps, writeEntry);
  return w;
}

/** Serialises a ModelProto to the protobuf wire format. */
export function encodeModelWire(model: OnnxModel): Uint8Array {
  return writeModel(model).finish();
}

/** A malformed-input error; `decodeModel` reports it as "not an ONNX model". */
export class WireError extends WiregradError {}

/** Reads fields from a slice of the input; `end` bounds the message being read. */
class Reader {
  pos: number;
  private readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(reason: string): never {
    throw new WireError(`${reason} at byte ${this.pos}`);
  }

  private need(n: number): void {
    if (this.pos + n > this.end) this.fail('the data ends inside a field');
  }

  /** A varint as two 32-bit halves. */
  private varintBits(): [number, number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('the data ends inside a number');
      const b = this.buf[this.pos++]!;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
    }
    return this.fail('a number is longer than 10 bytes');
  }

  /** An unsigned varint that must fit in 53 bits (tags, lengths). */
  uvarint(): number {
    const [lo, hi] = this.varintBits();
    if (hi >= 0x200000) this.fail('a length or tag is too large');
    return hi * TWO_32 + lo;
  }

  int64(): number {
    const [lo, hi] = this.varintBits();
    if (hi & 0x80000000) return -((~hi >>> 0) * TWO_32 + (~lo >>> 0) + 1);
    return hi * TWO_32 + lo;
  }

  uint64(): number {
    const [lo, hi] = this.varintBits();
    return hi * TWO_32 + lo;
  }

  int32(): number {
    const [lo] = this.varintBits();
    return lo | 0;
  }

  float(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** The end of a length-delimited field that starts here. */
  lengthEnd(): number {
    const len = this.uvarint();
    if (this.pos + len > this.end) this.fail(`a field of ${len} bytes runs past the end`);
    return this.pos + len;
  }

  bytes(): Uint8Array {
    const end = this.lengthEnd();
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  string(): string {
    return utf8Decoder.decode(this.bytes());
  }

  sub(): Reader {
    const end = this.lengthEnd();
    const r = new Reader(this.buf, this.pos, end);
    this.pos = end;
    return r;
  }

  skip(wire: number): void {
    switch (wire) {
      case VARINT:
        this.varintBits();
        return;
      case FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case LEN:
        this.pos = this.lengthEnd();
        return;
      case FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      case 3: {
        // A proto2 group: skip fields up to its end-group tag.
        for (;;) {
          if (this.pos >= this.end) this.fail('a group has no end');
          const tag = this.uvarint();
          if ((tag & 7) === 4) return;
          this.skip(tag & 7);
        }
      }
      default:
        this.fail(`unknown wire type ${wire}`);
    }
  }

  /** Calls `field` for each field of the message; it returns false to skip a field. */
  each(field: (id: number, wire: number) => boolean): void {
    while (this.pos < this.end) {
      const tag = this.uvarint();
      const id = Math.floor(tag / 8);
      const wire = tag & 7;
      if (id === 0) this.fail('field number 0');
      if (!field(id, wire)) this.skip(wire);
    }
  }

  /** A repeated number, packed (one LEN field) or not (one value). */
  repeated(wire: number, scalarWire: number, read: (this: Reader) => number, into: number[]): void {
    if (wire === LEN) {
      const r = this.sub();
      while (r.pos < r.end) into.push(read.call(r));
      return;
    }
    if (wire !== scalarWire) this.fail(`a number field has wire type ${wire}`);
    into.push(read.call(this));
  }

  expect(wire: number, want: number): void {
    if (wire !== want) this.fail(`a field has wire type ${wire} where ${want} was expected`);
  }
}

function push<T>(list: T[] | undefined, value: T): T[] {
  if (list) {
    list.push(value);
    return list;
  }
  return [value];
}

/** Reads a repeated number field into `list` (creating it on the first value). */
function numbers(
  r: Reader,
  wire: number,
  scalarWire: number,
  read: (this: Reader) => number,
  list: number[] | undefined,
): number[] {
  const out = list ?? [];
  r.repeated(wire, scalarWire, read, out);
  return out;
}

function readEntry(r: Reader): { key?: string; value?: string } {
  const e: { key?: string; value?: string } = {};
  r.each((id, wire) => {
    if (wire !== LEN) return false;
    if (id === 1) e.key = r.string();
    else if (id === 2) e.value = r.string();
    else return false;
    return true;
  });
  return e;
}

function readTensor(r: Reader): OnnxTensor {
  const t: OnnxTensor = {};
  const R = Reader.prototype;
  r.each((id, wire) => {
    switch (id) {
      case 1:
        t.dims = numbers(r, wire, VARINT, R.int64, t.dims);
        return true;
      case 2:
        r.expect(wire, VARINT);
        t.dataType = r.int32();
        return true;
      case 4:
        t.floatData = numbers(r, wire, FIXED32, R.float, t.floatData);
        return true;
      case 5:
        t.int32Data = numbers(r, wire, VARINT, R.int32, t.int32Data);
        return true;
      case 6:
        r.expect(wire, LEN);
        t.stringData = push(t.stringData, r.bytes());
        return true;
      case 7:
        t.int64Data = numbers(r, wire, VARINT, R.int64, t.int64Data);
        return true;
      case 8:
        r.expect(wire, LEN);
        t.name = r.string();
        return true;
      case 9:
        r.expect(wire, LEN);
        t.rawData = r.bytes();
        return true;
      case 10:
        t.doubleData = numbers(r, wire, FIXED64, R.double, t.doubleData);
        return true;
      case 11:
        t.uint64Data = numbers(r, wire, VARINT, R.uint64, t.uint64Data);
        return true;
      case 12:
        r.expect(wire, LEN);
        t.docString = r.string();
        return true;
      case 13:
        r.expect(wire, LEN);
        t.externalData = push(t.externalData, readEntry(r.sub()));
        return true;
      case 14:
        r.expect(wire, VARINT);
        t.dataLocation = r.int32();
        return true;
      default:
        return false;
    }
  });
  return t;
}

function readDimension(r: Reader): OnnxDimension {
  const d: OnnxDimension = {};
  r.each((id, wire) => {
    if (id === 1) {
      r.expect(wire, VARINT);
      d.dimValue = r.int64();
      delete d.dimParam; // oneof: the last one read wins
    } else if (id === 2) {
      r.expect(wire, LEN);
      d.dimParam = r.string();
      delete d.dimValue;
    } else if (id === 3) {
      r.expect(wire, LEN);
      d.denotation = r.string();
    } else return false;
    return true;
  });
  return d;
}

function readType(r: Reader): OnnxType {
  const t: OnnxType = {};
  r.each((id, wire) => {
    if (id === 1) {
      r.expect(wire, LEN);
      const tensor: NonNullable<OnnxType['tensorType']> = {};
      const tr = r.sub();
      tr.each((tid, twire) => {
        if (tid === 1) {
          tr.expect(twire, VARINT);
          tensor.elemType = tr.int32();
        } else if (tid === 2) {
          tr.expect(twire, LEN);
          const shape: { dim?: OnnxDimension[] } = {};
          const sr = tr.sub();
          sr.each((sid, swire) => {
            if (sid !== 1) return false;
            sr.expect(swire, LEN);
            shape.dim = push(shape.dim, readDimension(sr.sub()));
            return true;
          });
          tensor.shape = shape;
        } else return false;
        return true;
      });
      t.tensorType = tensor;
    } else if (id === 6) {
      r.expect(wire, LEN);
      t.denotation = r.string();
    } else return false;
    return true;
  });
  return t;
}

function readValueInfo(r: Reader): OnnxValueInfo {
  const v: OnnxValueInfo = {};
  r.each((id, wire) => {
    if (wire !== LEN) return false;
    if (id === 1) v.name = r.string();
    else if (id === 2) v.type = readType(r.sub());
    else if (id === 3) v.docString = r.string();
    else return false;
    return true;
  });
  return v;
}

function readAttribute(r: Reader): OnnxAttribute {
  const a: OnnxAttribute = {};
  const R = Reader.prototype;
  r.each((id, wire) => {
    switch (id) {
      case 1:
        r.expect(wire, LEN);
        a.name = r.string();
        return true;
      case 2:
        r.expect(wire, FIXED32);
        a.f = r.float();
        return true;
      case 3:
        r.expect(wire, VARINT);
        a.i = r.int64();
        return true;
      case 4:
        r.expect(wire, LEN);
        a.s = r.bytes();
        return true;
      case 5:
        r.expect(wire, LEN);
        a.t = readTensor(r.sub());
        return true;
      case 6:
        r.expect(wire, LEN);
        a.g = readGraph(r.sub());
        return true;
      case 7:
        a.floats = numbers(r, wire, FIXED32, R.float, a.floats);
        return true;
      case 8:
        a.ints = numbers(r, wire, VARINT, R.int64, a.ints);
        return true;
      case 9:
        r.expect(wire, LEN);
        a.strings = push(a.strings, r.bytes());
        return true;
      case 10:
        r.expect(wire, LEN);
        a.tensors = push(a.tensors, readTensor(r.sub()));
        return true;
      case 11:
        r.expect(wire, LEN);
        a.graphs = push(a.graphs, readGraph(r.sub()));
        return true;
      case 13:
        r.expect(wire, LEN);
        a.docString = r.string();
        return true;
      case 20:
        r.expect(wire, VARINT);
        a.type = r.int32();
        return true;
      case 21:
        r.expect(wire, LEN);
        a.refAttrName = r.string();
        return true;
      default:
        return false;
    }
  });
  return a;
}

function readNode(r: Reader): OnnxNode {
  const n: OnnxNode = {};
  r.each((id, wire) => {
    if (wire !== LEN) return false;
    switch (id) {
      case 1:
        n.input = push(n.input, r.string());
        return true;
      case 2:
        n.output = push(n.output, r.string());
        return true;
      case 3:
        n.name = r.string();
        return true;
      case 4:
        n.opType = r.string();
        return true;
      case 5:
        n.attribute = push(n.attribute, readAttribute(r.sub()));
        return true;
      case 6:
        n.docString = r.string();
        return true;
      case 7:
        n.domain = r.string();
        return true;
      default:
        return false;
    }
  });
  return n;
}

function readGraph(r: Reader): OnnxGraph {
  const g: OnnxGraph = {};
  r.each((id, wire) => {
    if (wire !== LEN) return false;
    switch (id) {
      case 1:
        g.node = push(g.node, readNode(r.sub()));
        return true;
      case 2:
        g.name = r.string();
        return true;
      case 5:
        g.initializer = push(g.initializer, readTensor(r.sub()));
        return true;
      case 10:
        g.docString = r.string();
        return true;
      case 11:
        g.input = push(g.input, readValueInfo(r.sub()));
        return true;
      case 12:
        g.output = push(g.output, readValueInfo(r.sub()));
        return true;
      case 13:
        g.valueInfo = push(g.valueInfo, readValueInfo(r.sub()));
        return true;
      default:
        return false;
    }
  });
  return g;
}

function readModel(r: Reader): OnnxModel {
  const m: OnnxModel = {};
  r.each((id, wire) => {
    switch (id) {
      case 1:
        r.expect(wire, VARINT);
        m.irVersion = r.int64();
        return true;
      case 2:
        r.expect(wire, LEN);
        m.producerName = r.string();
        return true;
      case 3:
        r.expect(wire, LEN);
        m.producerVersion = r.string();
        return true;
      case 4:
        r.expect(wire, LEN);
        m.domain = r.string();
        return true;
      case 5:
        r.expect(wire, VARINT);
        m.modelVersion = r.int64();
        return true;
      case 6:
        r.expect(wire, LEN);
        m.docString = r.string();
        return true;
      case 7:
        r.expect(wire, LEN);
        m.graph = readGraph(r.sub());
        return true;
      case 8: {
        r.expect(wire, LEN);
        const o: { domain?: string; version?: number } = {};
        const or = r.sub();
        or.each((oid, owire) => {
          if (oid === 1 && owire === LEN) o.domain = or.string();
          else if (oid === 2 && owire === VARINT) o.version = or.int64();
          else return false;
          return true;
        });
        m.opsetImport = push(m.opsetImport, o);
        return true;
      }
      case 14:
        r.expect(wire, LEN);
        m.metadataProps = push(m.metadataProps, readEntry(r.sub()));
        return true;
      default:
        return false;
    }
  });
  return m;
}

/** Parses a ModelProto from the wire format; malformed input throws a WireError. */
export function decodeModelWire(bytes: Uint8Array): OnnxModel {
  return readModel(new Reader(bytes, 0, bytes.length));
}
