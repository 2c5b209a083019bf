// A small protobuf reader for the ONNX messages a model file needs, and the
// typed model it produces. Pure: bytes in, validated typed graph out; no GPU,
// no runtime. Hand-written (no dependency) because ONNX needs only a handful of
// messages and fields, and a reader that knows them can say exactly which field
// of which tensor or node is malformed.
//
// Wire format (protobuf): a message is a sequence of (key, value); key = varint
// (field number << 3 | wire type); wire type 0 varint, 1 fixed64, 2 length-
// delimited (bytes, strings, sub-messages, packed repeated scalars), 5 fixed32.
// Groups (3, 4) are not used by ONNX and are refused. Unknown fields are skipped.
//
// Fields read (onnx/onnx.proto3):
//   ModelProto         1 ir_version · 2 producer_name · 7 graph · 8 opset_import
//   OperatorSetIdProto 1 domain · 2 version
//   GraphProto         1 node · 2 name · 5 initializer · 11 input · 12 output · 15 sparse_initializer (refused)
//   NodeProto          1 input · 2 output · 3 name · 4 op_type · 5 attribute · 7 domain
//   AttributeProto     1 name · 2 f · 3 i · 4 s · 5 t · 6 g · 7 floats · 8 ints · 9 strings · 10 tensors · 11 graphs · 20 type
//   TensorProto        1 dims · 2 data_type · 4 float_data · 5 int32_data · 7 int64_data · 8 name · 9 raw_data ·
//                      10 double_data · 11 uint64_data · 13 external_data · 14 data_location
//   ValueInfoProto     1 name · 2 type → TypeProto 1 tensor_type → 1 elem_type · 2 shape → 1 dim → 1 dim_value · 2 dim_param
import { WeightError } from '../errors';

const OP = 'loadOnnx';

/** ONNX TensorProto.DataType values we can hold, by name. */
export type OnnxDtype = 'float32' | 'float64' | 'float16' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool';

const DTYPES: Record<number, OnnxDtype> = { 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64' };
const DTYPE_NAMES: Record<number, string> = { 0: 'UNDEFINED', 8: 'STRING', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16' };
const SIZE: Record<OnnxDtype, number> = { float32: 4, float64: 8, float16: 2, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, bool: 1 };

/** The ONNX elem_type number of a dtype (for messages and for writing). */
export function dtypeCode(d: OnnxDtype): number {
  return Number(Object.keys(DTYPES).find((k) => DTYPES[Number(k)] === d));
}

export function isFloatDtype(d: OnnxDtype): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16';
}

/** A tensor as the file holds it; values widened to float64 (integers exact up to 2^53). */
export interface OnnxTensor {
  name: string;
  dtype: OnnxDtype;
  dims: number[];
  data: Float64Array;
}

export type OnnxAttr =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: OnnxTensor }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'graph' | 'graphs' | 'tensors' | 'other' };

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  /** Input names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Map<string, OnnxAttr>;
}

/** A graph input or output: its name, element type and shape (a number, a symbolic name, or null if unknown). */
export interface OnnxValueInfo {
  name: string;
  dtype: OnnxDtype | null;
  shape: (number | string | null)[] | null;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  /** Graph inputs that are not initializers: what run() must be fed. */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  producer: string;
  /** The default ('' / 'ai.onnx') domain's opset version. */
  opset: number;
  graph: OnnxGraph;
}

// ---------------------------------------------------------------------------
// The wire reader.

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
    readonly where: string,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(what: string): never {
    throw new WeightError(`${OP}: malformed ONNX file: ${what} in ${this.where} at byte ${this.pos}. Hint: the file may be truncated or not an .onnx model.`);
  }

  /** An unsigned varint as a BigInt (up to 10 bytes). */
  varintBig(): bigint {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) this.fail('a varint runs past the end');
      const b = this.buf[this.pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v & 0xffffffffffffffffn;
    }
    this.fail('a varint longer than 10 bytes');
  }

  /** A varint as an int64 in a JS number (two's complement; exact up to 2^53). */
  int64(): number {
    return Number(BigInt.asIntN(64, this.varintBig()));
  }

  /** A small unsigned varint (keys, lengths), as a number. */
  uint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) this.fail('a varint runs past the end');
      const b = this.buf[this.pos++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    this.fail('a length or key varint that is too large');
  }

  key(): { field: number; wire: number } {
    const k = this.uint();
    const field = Math.floor(k / 8);
    const wire = k % 8;
    if (field === 0) this.fail('field number 0');
    return { field, wire };
  }

  /** The bounds of a length-delimited value. */
  bytes(): [number, number] {
    const n = this.uint();
    if (n > this.end - this.pos) this.fail(`a length-delimited field of ${n} bytes with ${this.end - this.pos} left`);
    const s = this.pos;
    this.pos += n;
    return [s, s + n];
  }

  sub(where: string): Reader {
    const [s, e] = this.bytes();
    return new Reader(this.buf, s, e, where);
  }

  string(): string {
    const [s, e] = this.bytes();
    return new TextDecoder('utf-8', { fatal: false }).decode(this.buf.subarray(s, e));
  }

  fixed32(): DataView {
    if (this.end - this.pos < 4) this.fail('a fixed32 runs past the end');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4);
    this.pos += 4;
    return v;
  }

  fixed64(): DataView {
    if (this.end - this.pos < 8) this.fail('a fixed64 runs past the end');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return v;
  }

  skip(wire: number): void {
    if (wire === 0) this.varintBig();
    else if (wire === 1) this.fixed64();
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.fixed32();
    else this.fail(`wire type ${wire} (not used by ONNX)`);
  }

  expect(wire: number, want: number, field: string): void {
    if (wire !== want) this.fail(`field ${field} has wire type ${wire}, expected ${want}`);
  }

  /** A repeated scalar, packed (wire 2) or not: calls `one` for each element. */
  repeated(wire: number, scalarWire: number, field: string, one: (r: Reader) => void): void {
    if (wire === 2) {
      const r = this.sub(this.where);
      while (!r.done) one(r);
      return;
    }
    this.expect(wire, scalarWire, field);
    one(this);
  }
}

// ---------------------------------------------------------------------------
// Messages.

function readTensor(r: Reader, where: string): OnnxTensor {
  const dims: number[] = [];
  let dataType = 0;
  let name = '';
  let raw: [number, number] | null = null;
  const floats: number[] = [];
  const ints: number[] = [];
  let external = false;
  while (!r.done) {
    const { field, wire } = r.key();
    switch (field) {
      case 1:
        r.repeated(wire, 0, 'dims', (q) => dims.push(q.int64()));
        break;
      case 2:
        r.expect(wire, 0, 'data_type');
        dataType = r.uint();
        break;
      case 4:
        r.repeated(wire, 5, 'float_data', (q) => floats.push(q.fixed32().getFloat32(0, true)));
        break;
      case 5:
      case 7:
        r.repeated(wire, 0, field === 5 ? 'int32_data' : 'int64_data', (q) => ints.push(q.int64()));
        break;
      case 8:
        r.expect(wire, 2, 'name');
        name = r.string();
        break;
      case 9:
        r.expect(wire, 2, 'raw_data');
        raw = r.bytes();
        break;
      case 10:
        r.repeated(wire, 1, 'double_data', (q) => floats.push(q.fixed64().getFloat64(0, true)));
        break;
      case 11:
        r.repeated(wire, 0, 'uint64_data', (q) => ints.push(Number(q.varintBig())));
        break;
      case 13:
        r.skip(wire);
        external = true;
        break;
      case 14:
        r.expect(wire, 0, 'data_location');
        if (r.uint() === 1) external = true;
        break;
      default:
        r.skip(wire);
    }
  }
  const label = `tensor '${name}' (${where})`;
  if (external) {
    throw new WeightError(`${OP}: ${label} keeps its data in an external file, which loadOnnx does not read. Hint: save the model with onnx.save(model, path, save_as_external_data=False) (models under 2 GB fit in one file).`);
  }
  const dtype = DTYPES[dataType];
  if (!dtype) throw new WeightError(`${OP}: ${label} has data type ${DTYPE_NAMES[dataType] ?? dataType}, which loadOnnx does not support (float32, float64, float16, integers, bool).`);
  if (dims.some((d) => d < 0 || !Number.isSafeInteger(d))) throw new WeightError(`${OP}: ${label} has dims [${dims.join(', ')}]; every dimension must be a non-negative integer.`);
  const n = dims.reduce((a, b) => a * b, 1);
  if (n > 2 ** 28) throw new WeightError(`${OP}: ${label} has ${n} elements, over the 2^28 one tensor may hold here.`);
  const data = new Float64Array(n);
  if (raw) {
    const bytes = raw[1] - raw[0];
    if (bytes !== n * SIZE[dtype]) {
      throw new WeightError(`${OP}: ${label} has ${bytes} bytes of raw_data, expected ${n} × ${SIZE[dtype]} = ${n * SIZE[dtype]} for dims [${dims.join(', ')}] of ${dtype}.`);
    }
    const dv = new DataView(r.buf.buffer, r.buf.byteOffset + raw[0], bytes);
    for (let i = 0; i < n; i++) data[i] = readRaw(dv, dtype, i);
  } else {
    const src = dtype === 'float32' || dtype === 'float64' ? floats : ints;
    if (src.length !== n) {
      throw new WeightError(`${OP}: ${label} has ${src.length} values, expected ${n} for dims [${dims.join(', ')}] of ${dtype}.`);
    }
    for (let i = 0; i < n; i++) data[i] = dtype === 'float16' ? halfToFloat(src[i]) : src[i];
  }
  return { name, dtype, dims, data };
}

function readRaw(dv: DataView, dtype: OnnxDtype, i: number): number {
  switch (dtype) {
    case 'float32':
      return dv.getFloat32(i * 4, true);
    case 'float64':
      return dv.getFloat64(i * 8, true);
    case 'float16':
      return halfToFloat(dv.getUint16(i * 2, true));
    case 'int8':
      return dv.getInt8(i);
    case 'uint8':
    case 'bool':
      return dv.getUint8(i);
    case 'int16':
      return dv.getInt16(i * 2, true);
    case 'uint16':
      return dv.getUint16(i * 2, true);
    case 'int32':
      return dv.getInt32(i * 4, true);
    case 'uint32':
      return dv.getUint32(i * 4, true);
    case 'int64':
      return Number(dv.getBigInt64(i * 8, true));
    case 'uint64':
      return Number(dv.getBigUint64(i * 8, true));
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function readAttr(r: Reader, where: string): [string, OnnxAttr] {
  let name = '';
  let type = 0;
  let f = 0;
  let i = 0;
  let s = '';
  let t: OnnxTensor | null = null;
  const floats: number[] = [];
  const ints: number[] = [];
  const strings: string[] = [];
  const seen = new Set<number>();
  while (!r.done) {
    const { field, wire } = r.key();
    seen.add(field);
    switch (field) {
      case 1:
        r.expect(wire, 2, 'name');
        name = r.string();
        break;
      case 2:
        r.expect(wire, 5, 'f');
        f = r.fixed32().getFloat32(0, true);
        break;
      case 3:
        r.expect(wire, 0, 'i');
        i = r.int64();
        break;
      case 4:
        r.expect(wire, 2, 's');
        s = r.string();
        break;
      case 5:
        r.expect(wire, 2, 't');
        t = readTensor(r.sub(`attribute ${name} of ${where}`), `attribute '${name}' of ${where}`);
        break;
      case 7:
        r.repeated(wire, 5, 'floats', (q) => floats.push(q.fixed32().getFloat32(0, true)));
        break;
      case 8:
        r.repeated(wire, 0, 'ints', (q) => ints.push(q.int64()));
        break;
      case 9:
        r.expect(wire, 2, 'strings');
        strings.push(r.string());
        break;
      case 20:
        r.expect(wire, 0, 'type');
        type = r.uint();
        break;
      default:
        r.skip(wire);
    }
  }
  // AttributeType: 1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 5 GRAPH, 6 FLOATS, 7 INTS, 8 STRINGS, 9 TENSORS, 10 GRAPHS.
  // Old writers may leave `type` unset; infer it from the field present.
  if (type === 0) type = seen.has(2) ? 1 : seen.has(3) ? 2 : seen.has(4) ? 3 : seen.has(5) ? 4 : seen.has(6) ? 5 : seen.has(7) ? 6 : seen.has(8) ? 7 : seen.has(9) ? 8 : 0;
  const attr: OnnxAttr =
    type === 1 ? { type: 'float', value: f }
    : type === 2 ? { type: 'int', value: i }
    : type === 3 ? { type: 'string', value: s }
    : type === 4 ? (t ? { type: 'tensor', value: t } : r.fail(`attribute '${name}' of type TENSOR without a tensor`))
    : type === 5 ? { type: 'graph' }
    : type === 6 ? { type: 'floats', value: floats }
    : type === 7 ? { type: 'ints', value: ints }
    : type === 8 ? { type: 'strings', value: strings }
    : type === 9 ? { type: 'tensors' }
    : type === 10 ? { type: 'graphs' }
    : { type: 'other' };
  if (!name) r.fail('an attribute without a name');
  return [name, attr];
}

function readNode(r: Reader, index: number): OnnxNode {
  const node: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attrs: new Map() };
  const where = `node ${index}`;
  while (!r.done) {
    const { field, wire } = r.key();
    if (field >= 1 && field <= 4) r.expect(wire, 2, ['input', 'output', 'name', 'op_type'][field - 1]);
    switch (field) {
      case 1:
        node.inputs.push(r.string());
        break;
      case 2:
        node.outputs.push(r.string());
        break;
      case 3:
        node.name = r.string();
        break;
      case 4:
        node.opType = r.string();
        break;
      case 5: {
        r.expect(wire, 2, 'attribute');
        const [k, v] = readAttr(r.sub(`attribute of ${where}`), `${where} (${node.opType || '?'})`);
        node.attrs.set(k, v);
        break;
      }
      case 7:
        r.expect(wire, 2, 'domain');
        node.domain = r.string();
        break;
      default:
        r.skip(wire);
    }
  }
  if (!node.opType) r.fail(`${where} has no op_type`);
  return node;
}

function readValueInfo(r: Reader): OnnxValueInfo {
  const vi: OnnxValueInfo = { name: '', dtype: null, shape: null };
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 1) {
      r.expect(wire, 2, 'name');
      vi.name = r.string();
    } else if (field === 2) {
      r.expect(wire, 2, 'type');
      const tr = r.sub('a value type');
      while (!tr.done) {
        const k = tr.key();
        if (k.field !== 1) {
          tr.skip(k.wire); // sequence, map, optional types: left unknown
          continue;
        }
        tr.expect(k.wire, 2, 'tensor_type');
        const tt = tr.sub('a tensor type');
        while (!tt.done) {
          const q = tt.key();
          if (q.field === 1) {
            tt.expect(q.wire, 0, 'elem_type');
            vi.dtype = DTYPES[tt.uint()] ?? null;
          } else if (q.field === 2) {
            tt.expect(q.wire, 2, 'shape');
            const sr = tt.sub('a tensor shape');
            vi.shape = [];
            while (!sr.done) {
              const d = sr.key();
              if (d.field !== 1) {
                sr.skip(d.wire);
                continue;
              }
              sr.expect(d.wire, 2, 'dim');
              const dr = sr.sub('a dimension');
              let dim: number | string | null = null;
              while (!dr.done) {
                const e = dr.key();
                if (e.field === 1) {
                  dr.expect(e.wire, 0, 'dim_value');
                  dim = dr.int64();
                } else if (e.field === 2) {
                  dr.expect(e.wire, 2, 'dim_param');
                  dim = dr.string();
                } else dr.skip(e.wire);
              }
              vi.shape.push(dim);
            }
          } else tt.skip(q.wire);
        }
      }
    } else r.skip(wire);
  }
  return vi;
}

function readGraph(r: Reader): OnnxGraph {
  const nodes: OnnxNode[] = [];
  const inits: OnnxTensor[] = [];
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  let name = '';
  while (!r.done) {
    const { field, wire } = r.key();
    switch (field) {
      case 1:
        r.expect(wire, 2, 'node');
        nodes.push(readNode(r.sub(`node ${nodes.length}`), nodes.length));
        break;
      case 2:
        r.expect(wire, 2, 'name');
        name = r.string();
        break;
      case 5:
        r.expect(wire, 2, 'initializer');
        inits.push(readTensor(r.sub(`initializer ${inits.length}`), `initializer ${inits.length}`));
        break;
      case 11:
        r.expect(wire, 2, 'input');
        inputs.push(readValueInfo(r.sub(`input ${inputs.length}`)));
        break;
      case 12:
        r.expect(wire, 2, 'output');
        outputs.push(readValueInfo(r.sub(`output ${outputs.length}`)));
        break;
      case 15:
        throw new WeightError(`${OP}: the graph has sparse initializers, which loadOnnx does not read. Hint: store them dense.`);
      default:
        r.skip(wire);
    }
  }
  const initializers = new Map<string, OnnxTensor>();
  for (const t of inits) {
    if (!t.name) throw new WeightError(`${OP}: an initializer has no name.`);
    if (initializers.has(t.name)) throw new WeightError(`${OP}: initializer '${t.name}' appears twice.`);
    initializers.set(t.name, t);
  }
  return { name, nodes, initializers, inputs: inputs.filter((v) => !initializers.has(v.name)), outputs };
}

/**
 * Parses and validates an ONNX model file: the protobuf structure (every length
 * within its message, no unknown wire types), every tensor's data against its
 * dims and type, the graph's wiring (each node input produced by a graph input,
 * an initializer or an earlier node — ONNX requires topological order — and
 * each graph output produced). Throws WeightError naming the problem.
 */
export function parseOnnx(bytes: Uint8Array): OnnxModel {
  const r = new Reader(bytes, 0, bytes.length, 'the model');
  let irVersion = 0;
  let producer = '';
  let graph: OnnxGraph | null = null;
  let opset: number | null = null;
  while (!r.done) {
    const { field, wire } = r.key();
    switch (field) {
      case 1:
        r.expect(wire, 0, 'ir_version');
        irVersion = r.int64();
        break;
      case 2:
        r.expect(wire, 2, 'producer_name');
        producer = r.string();
        break;
      case 7:
        r.expect(wire, 2, 'graph');
        graph = readGraph(r.sub('the graph'));
        break;
      case 8: {
        r.expect(wire, 2, 'opset_import');
        const q = r.sub('an opset import');
        let domain = '';
        let version = 0;
        while (!q.done) {
          const k = q.key();
          if (k.field === 1) {
            q.expect(k.wire, 2, 'domain');
            domain = q.string();
          } else if (k.field === 2) {
            q.expect(k.wire, 0, 'version');
            version = q.int64();
          } else q.skip(k.wire);
        }
        if (domain === '' || domain === 'ai.onnx') opset = version;
        break;
      }
      default:
        r.skip(wire);
    }
  }
  if (!graph) throw new WeightError(`${OP}: the file has no graph (ModelProto field 7). Hint: pass the bytes of an .onnx model file.`);
  if (opset === null) throw new WeightError(`${OP}: the model imports no opset of the default ONNX domain; cannot tell which operator versions it uses.`);
  if (irVersion < 3) throw new WeightError(`${OP}: ir_version ${irVersion}; loadOnnx reads IR version 3 and later (ONNX 1.1+).`);
  checkWiring(graph);
  return { irVersion, producer, opset, graph };
}

function checkWiring(g: OnnxGraph): void {
  const known = new Set<string>([...g.initializers.keys(), ...g.inputs.map((v) => v.name)]);
  g.nodes.forEach((n, i) => {
    for (const x of n.inputs) {
      if (x !== '' && !known.has(x)) {
        throw new WeightError(`${OP}: node ${i} (${n.opType}${n.name ? ` '${n.name}'` : ''}) reads '${x}', which no graph input, initializer or earlier node produces. Hint: ONNX graphs list nodes in topological order.`);
      }
    }
    for (const y of n.outputs) if (y !== '') known.add(y);
  });
  if (g.outputs.length === 0) throw new WeightError(`${OP}: the graph has no outputs.`);
  for (const o of g.outputs) if (!known.has(o.name)) throw new WeightError(`${OP}: graph output '${o.name}' is produced by no node.`);
}
