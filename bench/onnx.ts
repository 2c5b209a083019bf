// A tiny ONNX writer for the benchmark's ONNX Runtime Web paths (issue 12): one
// recurrent layer as the graph torch.onnx.export writes for nn.LSTM / nn.GRU /
// nn.RNN with batch_first=True (opset 14), built from the page's own weights, so
// ONNX Runtime runs exactly the weights every other path runs (no Python at bench
// time, no weight files that could drift from the page's).
//
//   x (B, T, I) ─ Transpose(1,0,2) ─ LSTM | GRU | RNN (W, R, B) ─ Y (T, 1, B, H)
//     ─ Squeeze(axes = [1]) ─ Transpose(1,0,2) ─ y (B, T, H)
//
// torch.onnx.export writes the same nodes plus an explicit zero initial state
// (Shape/Gather/Expand of a zero constant), which ONNX's default (a zero state
// when the input is absent) equals. tests/bench_quick.test.ts checks that a model
// built here runs, in ONNX Runtime, to the same outputs as torch.onnx.export's
// model of the same weights (bench/fixtures/make_onnx.py writes those).
//
// The weights arrive in Keras layout, as every path of bench/page.ts takes them:
// kernel (I, G), recurrent_kernel (H, G), bias (G) — or (2·G) for the GRU with
// reset_after=True: input bias then recurrent bias — with Keras's gate order
// (LSTM i, f, c, o; GRU z, r, h). ONNX wants W (1, G, I), R (1, G, H) and
// B (1, 2·G) = [Wb, Rb], gate order LSTM i, o, f, c; GRU z, r, h; RNN one gate.
// Keras's single bias goes into Wb (Rb = 0).
//
// GRU: linear_before_reset = 1 is PyTorch's GRU (Keras reset_after=True, our
// 'gru_torch' cell, what torch.onnx.export writes); 0 is Keras reset_after=False
// (our 'gru' cell): ONNX defines both, h̃ = tanh(Wh·x + Rh·(r ⊙ h) + Rbh + Wbh).

export type OnnxCell = 'lstm' | 'gru' | 'gru_torch' | 'rnn';

export interface KerasWeights {
  kernel: ArrayLike<number>; // (I, G)
  recurrentKernel: ArrayLike<number>; // (H, G)
  bias: ArrayLike<number>; // (G) or (2·G) for gru_torch
}

/** ONNX-layout weights of one direction: W (1, G, I), R (1, G, H), B (1, 2·G). */
export interface OnnxWeights {
  W: Float32Array;
  R: Float32Array;
  B: Float32Array;
}

const gateCount = (cell: OnnxCell) => (cell === 'lstm' ? 4 : cell === 'rnn' ? 1 : 3);
/** ONNX gate k takes Keras gate ORDER[k]. LSTM: ONNX i,o,f,c from Keras i,f,c,o. */
const gateOrder = (cell: OnnxCell): number[] => (cell === 'lstm' ? [0, 3, 1, 2] : cell === 'rnn' ? [0] : [0, 1, 2]);

/** Keras layout → ONNX layout (transposed, gates reordered, biases split into Wb and Rb). */
export function kerasToOnnx(cell: OnnxCell, I: number, H: number, w: KerasWeights): OnnxWeights {
  const n = gateCount(cell);
  const G = n * H;
  const expectBias = cell === 'gru_torch' ? 2 * G : G;
  if (w.kernel.length !== I * G) throw new Error(`kerasToOnnx(${cell}): kernel has ${w.kernel.length} values, expected I·G = ${I}·${G}`);
  if (w.recurrentKernel.length !== H * G) throw new Error(`kerasToOnnx(${cell}): recurrent_kernel has ${w.recurrentKernel.length} values, expected H·G = ${H}·${G}`);
  if (w.bias.length !== expectBias) throw new Error(`kerasToOnnx(${cell}): bias has ${w.bias.length} values, expected ${expectBias}`);
  const order = gateOrder(cell);
  const W = new Float32Array(G * I); // (G, I)
  const R = new Float32Array(G * H); // (G, H)
  const B = new Float32Array(2 * G); // [Wb (G), Rb (G)]
  for (let k = 0; k < n; k++) {
    const src = order[k];
    for (let j = 0; j < H; j++) {
      const row = k * H + j; // ONNX gate row
      const col = src * H + j; // Keras column
      for (let i = 0; i < I; i++) W[row * I + i] = w.kernel[i * G + col];
      for (let i = 0; i < H; i++) R[row * H + i] = w.recurrentKernel[i * G + col];
      B[row] = w.bias[col];
      if (cell === 'gru_torch') B[G + row] = w.bias[G + col];
    }
  }
  return { W, R, B };
}

// ---------------------------------------------------------------------------
// protobuf encoding (the subset of onnx.proto the model needs)

class Writer {
  private parts: Uint8Array[] = [];
  private len = 0;
  private push(b: Uint8Array) {
    this.parts.push(b);
    this.len += b.length;
  }
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x) byte |= 0x80;
      out.push(byte);
    } while (x);
    this.push(Uint8Array.from(out));
    return this;
  }
  private key(field: number, wire: number) {
    return this.varint((field << 3) | wire);
  }
  int(field: number, v: number): this {
    return this.key(field, 0).varint(v);
  }
  bytes(field: number, b: Uint8Array): this {
    this.key(field, 2).varint(b.length);
    this.push(b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  message(field: number, m: Writer): this {
    return this.bytes(field, m.finish());
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.len);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

const FLOAT = 1;
const INT64 = 7;

/** TensorProto: dims (1), data_type (2), name (8), raw_data (9, little-endian). */
function tensor(name: string, dims: number[], type: number, values: Float32Array | BigInt64Array): Writer {
  const t = new Writer();
  for (const d of dims) t.int(1, d);
  t.int(2, type);
  t.string(8, name);
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  // raw_data is little-endian; typed arrays are too on every platform the bench runs on
  t.bytes(9, raw.slice());
  return t;
}

/** AttributeProto: name (1), i (3), ints (8), type (20: INT 2, INTS 7). */
function attrInt(name: string, v: number): Writer {
  return new Writer().string(1, name).int(3, v).int(20, 2);
}
function attrInts(name: string, v: number[]): Writer {
  const a = new Writer().string(1, name);
  for (const x of v) a.int(8, x);
  return a.int(20, 7);
}

/** NodeProto: input (1), output (2), name (3), op_type (4), attribute (5). */
function node(op: string, name: string, inputs: string[], outputs: string[], attrs: Writer[] = []): Writer {
  const n = new Writer();
  for (const i of inputs) n.string(1, i);
  for (const o of outputs) n.string(2, o);
  n.string(3, name).string(4, op);
  for (const a of attrs) n.message(5, a);
  return n;
}

/** ValueInfoProto of a float tensor with fixed dims: name (1), type (2) → tensor_type (1) → elem_type (1), shape (2) → dim (1) → dim_value (1). */
function valueInfo(name: string, dims: number[]): Writer {
  const shape = new Writer();
  for (const d of dims) shape.message(1, new Writer().int(1, d));
  const tensorType = new Writer().int(1, FLOAT).message(2, shape);
  return new Writer().string(1, name).message(2, new Writer().message(1, tensorType));
}

/** The op type of a cell's ONNX node. */
export const onnxOp = (cell: OnnxCell): 'LSTM' | 'GRU' | 'RNN' => (cell === 'lstm' ? 'LSTM' : cell === 'rnn' ? 'RNN' : 'GRU');

/**
 * The model's bytes: input 'x' (B, T, I), output 'y' (B, T, H); the recurrent node
 * is named 'rnn' (the name the provider report looks for).
 */
export function buildOnnxModel(cell: OnnxCell, shape: [number, number, number, number], w: OnnxWeights): Uint8Array {
  const [B, T, I, H] = shape;
  const G = gateCount(cell) * H;
  if (w.W.length !== G * I || w.R.length !== G * H || w.B.length !== 2 * G) {
    throw new Error(`buildOnnxModel(${cell}): W/R/B have ${w.W.length}/${w.R.length}/${w.B.length} values, expected ${G * I}/${G * H}/${2 * G}`);
  }
  const attrs = [attrInt('hidden_size', H)];
  if (cell === 'gru' || cell === 'gru_torch') attrs.push(attrInt('linear_before_reset', cell === 'gru_torch' ? 1 : 0));
  const graph = new Writer();
  graph.message(1, node('Transpose', 'transpose_in', ['x'], ['x_tbi'], [attrInts('perm', [1, 0, 2])]));
  graph.message(1, node(onnxOp(cell), 'rnn', ['x_tbi', 'W', 'R', 'B'], ['y_t1bh'], attrs));
  graph.message(1, node('Squeeze', 'squeeze', ['y_t1bh', 'axes'], ['y_tbh']));
  graph.message(1, node('Transpose', 'transpose_out', ['y_tbh'], ['y'], [attrInts('perm', [1, 0, 2])]));
  graph.string(2, `${cell}_${shape.join('x')}`);
  graph.message(5, tensor('W', [1, G, I], FLOAT, w.W));
  graph.message(5, tensor('R', [1, G, H], FLOAT, w.R));
  graph.message(5, tensor('B', [1, 2 * G], FLOAT, w.B));
  graph.message(5, tensor('axes', [1], INT64, BigInt64Array.from([1n])));
  graph.message(11, valueInfo('x', [B, T, I]));
  graph.message(12, valueInfo('y', [B, T, H]));
  // ModelProto: ir_version (1) 7 as torch 1.13 writes, producer_name (2), graph (7), opset_import (8) → version (2) 14
  return new Writer()
    .int(1, 7)
    .string(2, 'webgpu-rnn bench')
    .message(7, graph)
    .message(8, new Writer().string(1, '').int(2, 14))
    .finish();
}
