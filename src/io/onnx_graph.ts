// The host side of running an ONNX graph: the glue torch.onnx.export emits
// around recurrent and linear layers (shape arithmetic, transposes, slicing,
// small elementwise ops), as plain loops on the CPU in float64. The recurrent,
// MatMul/Gemm and embedding nodes run on our layers instead (onnx.ts); what is
// here never touches a device.
//
// A value is { dtype, dims, data } with the data row-major in a Float64Array
// (integers exact up to 2^53, which covers every shape and index).
import { ShapeError, ValueError } from '../errors';
import { isFloatDtype, type OnnxAttr, type OnnxDtype, type OnnxNode, type OnnxTensor } from './onnx_proto';

export interface HostValue {
  dtype: OnnxDtype;
  dims: number[];
  data: Float64Array;
}

/** The glue operators the host runs (the recurrent ones and data ops are in onnx.ts). */
export const HOST_OPS = [
  'Constant', 'ConstantOfShape', 'Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Expand', 'Transpose',
  'Reshape', 'Slice', 'MatMul', 'Gemm', 'Add', 'Mul', 'Sigmoid', 'Tanh', 'Relu', 'Softmax', 'Identity', 'Cast',
] as const;

export function nodeLabel(n: OnnxNode): string {
  return `${n.opType}${n.name ? ` '${n.name}'` : ''}`;
}

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

export function fromTensor(t: OnnxTensor): HostValue {
  return { dtype: t.dtype, dims: [...t.dims], data: t.data };
}

// ---------------------------------------------------------------------------
// Attributes.

export function attrInt(n: OnnxNode, name: string, dflt: number): number {
  const a = n.attrs.get(name);
  if (a === undefined) return dflt;
  if (a.type !== 'int') throw new ValueError(`${nodeLabel(n)}: attribute ${name} must be an int, got ${a.type}.`);
  return a.value;
}

export function attrFloat(n: OnnxNode, name: string, dflt: number): number {
  const a = n.attrs.get(name);
  if (a === undefined) return dflt;
  if (a.type !== 'float') throw new ValueError(`${nodeLabel(n)}: attribute ${name} must be a float, got ${a.type}.`);
  return a.value;
}

export function attrInts(n: OnnxNode, name: string): number[] | null {
  const a = n.attrs.get(name);
  if (a === undefined) return null;
  if (a.type !== 'ints') throw new ValueError(`${nodeLabel(n)}: attribute ${name} must be a list of ints, got ${a.type}.`);
  return a.value;
}

export function attrFloats(n: OnnxNode, name: string): number[] | null {
  const a = n.attrs.get(name);
  if (a === undefined) return null;
  if (a.type !== 'floats') throw new ValueError(`${nodeLabel(n)}: attribute ${name} must be a list of floats, got ${a.type}.`);
  return a.value;
}

export function attrString(n: OnnxNode, name: string, dflt: string): string {
  const a = n.attrs.get(name);
  if (a === undefined) return dflt;
  if (a.type !== 'string') throw new ValueError(`${nodeLabel(n)}: attribute ${name} must be a string, got ${a.type}.`);
  return a.value;
}

export function attrStrings(n: OnnxNode, name: string): string[] | null {
  const a: OnnxAttr | undefined = n.attrs.get(name);
  if (a === undefined) return null;
  if (a.type !== 'strings') throw new ValueError(`${nodeLabel(n)}: attribute ${name} must be a list of strings, got ${a.type}.`);
  return a.value;
}

// ---------------------------------------------------------------------------
// Helpers shared with onnx.ts.

/** Values of an integer tensor (shapes, axes, indices), checked to be integers. */
export function intsOf(n: OnnxNode, what: string, v: HostValue | null): number[] {
  if (!v) throw new ValueError(`${nodeLabel(n)}: input ${what} is required.`);
  if (isFloatDtype(v.dtype)) throw new ValueError(`${nodeLabel(n)}: ${what} must be an integer tensor, got ${v.dtype}.`);
  return Array.from(v.data);
}

function normAxis(n: OnnxNode, axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new ValueError(`${nodeLabel(n)}: ${what} ${axis} is out of range for rank ${rank}.`);
  return a;
}

export function transpose(v: HostValue, perm: readonly number[]): HostValue {
  const r = v.dims.length;
  const dims = perm.map((p) => v.dims[p]);
  const inStr = stridesOf(v.dims);
  const out = new Float64Array(v.data.length);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < r; k++) src += idx[k] * inStr[perm[k]];
    out[o] = v.data[src];
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
  return { dtype: v.dtype, dims, data: out };
}

/** numpy-style broadcast of two shapes. */
function broadcastDims(n: OnnxNode, a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new ShapeError(`${nodeLabel(n)}: shapes (${a.join(', ')}) and (${b.join(', ')}) do not broadcast.`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** The flat source index, in a value of `dims` broadcast to `out`, for each output element. */
function broadcastIndex(dims: readonly number[], out: readonly number[]): Int32Array {
  const r = out.length;
  const str = stridesOf(dims);
  const s = out.map((_, i) => {
    const k = i - (r - dims.length);
    return k < 0 || dims[k] === 1 ? 0 : str[k];
  });
  const n = size(out);
  const res = new Int32Array(n);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let k = 0; k < r; k++) src += idx[k] * s[k];
    res[o] = src;
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k] < out[k]) break;
      idx[k] = 0;
    }
  }
  return res;
}

function binary(n: OnnxNode, a: HostValue, b: HostValue, f: (x: number, y: number) => number): HostValue {
  if (isFloatDtype(a.dtype) !== isFloatDtype(b.dtype)) throw new ValueError(`${nodeLabel(n)}: inputs are ${a.dtype} and ${b.dtype}; ONNX needs one type.`);
  const dims = broadcastDims(n, a.dims, b.dims);
  const ia = broadcastIndex(a.dims, dims);
  const ib = broadcastIndex(b.dims, dims);
  const out = new Float64Array(ia.length);
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[ia[i]], b.data[ib[i]]);
  return { dtype: a.dtype, dims, data: out };
}

function unary(v: HostValue, f: (x: number) => number): HostValue {
  return { dtype: v.dtype, dims: [...v.dims], data: v.data.map(f) };
}

/** numpy matmul (1-D operands promoted and the added axis dropped; batch dims broadcast). */
export function matmul(n: OnnxNode, a: HostValue, b: HostValue): HostValue {
  const ad = a.dims.length === 1 ? [1, a.dims[0]] : a.dims;
  const bd = b.dims.length === 1 ? [b.dims[0], 1] : b.dims;
  const [M, K] = ad.slice(-2);
  const [K2, N] = bd.slice(-2);
  if (K !== K2) throw new ShapeError(`${nodeLabel(n)}: cannot multiply (${a.dims.join(', ')}) by (${b.dims.join(', ')}): inner sizes ${K} and ${K2} differ.`);
  const batch = broadcastDims(n, ad.slice(0, -2), bd.slice(0, -2));
  const ia = broadcastIndex(ad.slice(0, -2), batch);
  const ib = broadcastIndex(bd.slice(0, -2), batch);
  const nb = size(batch);
  const out = new Float64Array(nb * M * N);
  for (let p = 0; p < nb; p++) {
    const ao = ia[p] * M * K;
    const bo = ib[p] * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a.data[ao + i * K + k] * b.data[bo + k * N + j];
        out[p * M * N + i * N + j] = s;
      }
    }
  }
  const dims = [...batch, ...(a.dims.length === 1 ? [] : [M]), ...(b.dims.length === 1 ? [] : [N])];
  return { dtype: a.dtype, dims, data: out };
}

/** Gemm on the host: Y = alpha·A'·B' + beta·C (A', B' transposed by transA/transB). */
function gemm(n: OnnxNode, a: HostValue, b: HostValue, c: HostValue | null): HostValue {
  if (a.dims.length !== 2 || b.dims.length !== 2) throw new ShapeError(`${nodeLabel(n)}: A and B must be 2-D, got (${a.dims.join(', ')}) and (${b.dims.join(', ')}).`);
  const A = attrInt(n, 'transA', 0) ? transpose(a, [1, 0]) : a;
  const B = attrInt(n, 'transB', 0) ? transpose(b, [1, 0]) : b;
  const y = matmul(n, A, B);
  const alpha = attrFloat(n, 'alpha', 1);
  const beta = attrFloat(n, 'beta', 1);
  const scaled = unary(y, (v) => alpha * v);
  return c ? binary(n, scaled, c, (p, q) => p + beta * q) : scaled;
}

function softmax(n: OnnxNode, v: HostValue, opset: number): HostValue {
  const r = v.dims.length;
  const axis = normAxis(n, attrInt(n, 'axis', opset >= 13 ? -1 : 1), r);
  // opset < 13: the input is coerced to 2-D at `axis` and softmax runs over the flattened tail.
  const inner = opset >= 13 ? v.dims[axis] : size(v.dims.slice(axis));
  const stride = opset >= 13 ? size(v.dims.slice(axis + 1)) : 1;
  const outer = v.data.length / (inner * stride);
  const out = new Float64Array(v.data.length);
  for (let o = 0; o < outer; o++) {
    for (let s = 0; s < stride; s++) {
      const base = o * inner * stride + s;
      let m = -Infinity;
      for (let k = 0; k < inner; k++) m = Math.max(m, v.data[base + k * stride]);
      let sum = 0;
      for (let k = 0; k < inner; k++) sum += out[base + k * stride] = Math.exp(v.data[base + k * stride] - m);
      for (let k = 0; k < inner; k++) out[base + k * stride] /= sum;
    }
  }
  return { dtype: v.dtype, dims: [...v.dims], data: out };
}

export function gather(n: OnnxNode, data: HostValue, indices: HostValue, axisAttr: number): HostValue {
  const r = data.dims.length;
  const axis = normAxis(n, axisAttr, r);
  const idx = intsOf(n, 'indices', indices);
  const len = data.dims[axis];
  const outer = size(data.dims.slice(0, axis));
  const inner = size(data.dims.slice(axis + 1));
  const out = new Float64Array(outer * idx.length * inner);
  idx.forEach((raw, q) => {
    const i = raw < 0 ? raw + len : raw;
    if (i < 0 || i >= len) throw new ValueError(`${nodeLabel(n)}: indices[${q}] = ${raw} is out of range [-${len}, ${len}) for axis ${axis} of size ${len}.`);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < inner; k++) out[(o * idx.length + q) * inner + k] = data.data[(o * len + i) * inner + k];
    }
  });
  return { dtype: data.dtype, dims: [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)], data: out };
}

function concat(n: OnnxNode, vs: HostValue[]): HostValue {
  if (vs.length === 0) throw new ValueError(`${nodeLabel(n)}: needs at least one input.`);
  const r = vs[0].dims.length;
  const axis = normAxis(n, attrInt(n, 'axis', 0), r);
  for (const v of vs) {
    if (v.dims.length !== r || v.dims.some((d, i) => i !== axis && d !== vs[0].dims[i])) {
      throw new ShapeError(`${nodeLabel(n)}: inputs of shapes ${vs.map((x) => `(${x.dims.join(', ')})`).join(', ')} cannot be concatenated on axis ${axis}.`);
    }
  }
  const outer = size(vs[0].dims.slice(0, axis));
  const inner = size(vs[0].dims.slice(axis + 1));
  const total = vs.reduce((a, v) => a + v.dims[axis], 0);
  const out = new Float64Array(outer * total * inner);
  let off = 0;
  for (const v of vs) {
    const w = v.dims[axis] * inner;
    for (let o = 0; o < outer; o++) out.set(v.data.subarray(o * w, (o + 1) * w), o * total * inner + off);
    off += w;
  }
  const dims = [...vs[0].dims];
  dims[axis] = total;
  return { dtype: vs[0].dtype, dims, data: out };
}

function slice(n: OnnxNode, v: HostValue, starts: number[], ends: number[], axesIn: number[] | null, stepsIn: number[] | null): HostValue {
  const r = v.dims.length;
  const axes = (axesIn ?? starts.map((_, i) => i)).map((a) => normAxis(n, a, r, 'axes entry'));
  const steps = stepsIn ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    throw new ShapeError(`${nodeLabel(n)}: starts, ends, axes and steps must have one entry each per sliced axis.`);
  }
  const begin = v.dims.map(() => 0);
  const step = v.dims.map(() => 1);
  const dims = [...v.dims];
  axes.forEach((a, i) => {
    const d = v.dims[a];
    const st = steps[i];
    if (st === 0) throw new ValueError(`${nodeLabel(n)}: steps must not be 0.`);
    const clamp = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);
    let s = starts[i] < 0 ? starts[i] + d : starts[i];
    let e = ends[i] < 0 ? ends[i] + d : ends[i];
    if (st > 0) {
      s = clamp(s, 0, d);
      e = clamp(e, 0, d);
      dims[a] = Math.max(0, Math.ceil((e - s) / st));
    } else {
      s = clamp(s, -1, d - 1);
      e = clamp(e, -1, d - 1);
      dims[a] = Math.max(0, Math.ceil((s - e) / -st));
    }
    begin[a] = s;
    step[a] = st;
  });
  const str = stridesOf(v.dims);
  const out = new Float64Array(size(dims));
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < r; k++) src += (begin[k] + idx[k] * step[k]) * str[k];
    out[o] = v.data[src];
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
  return { dtype: v.dtype, dims, data: out };
}

function reshape(n: OnnxNode, v: HostValue, shape: number[]): HostValue {
  const allowzero = attrInt(n, 'allowzero', 0);
  const dims = shape.map((d, i) => (d === 0 && !allowzero ? v.dims[i] : d));
  if (dims.some((d) => d === undefined)) throw new ShapeError(`${nodeLabel(n)}: shape [${shape.join(', ')}] copies a dimension (0) past the input's rank ${v.dims.length}.`);
  const minus = dims.filter((d) => d === -1).length;
  if (minus > 1 || dims.some((d) => d < -1)) throw new ShapeError(`${nodeLabel(n)}: shape [${shape.join(', ')}] is invalid (at most one -1, no other negatives).`);
  if (minus === 1) {
    const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    if (known === 0 || v.data.length % known !== 0) throw new ShapeError(`${nodeLabel(n)}: cannot reshape (${v.dims.join(', ')}) to [${shape.join(', ')}].`);
    dims[dims.indexOf(-1)] = v.data.length / known;
  }
  if (size(dims) !== v.data.length) throw new ShapeError(`${nodeLabel(n)}: cannot reshape (${v.dims.join(', ')}) (${v.data.length} values) to (${dims.join(', ')}).`);
  return { dtype: v.dtype, dims, data: v.data };
}

function cast(n: OnnxNode, v: HostValue): HostValue {
  const to = attrInt(n, 'to', 0);
  const names: Record<number, OnnxDtype> = { 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64' };
  const dtype = names[to];
  if (!dtype) throw new ValueError(`${nodeLabel(n)}: cast to type ${to} is not supported (numeric and bool types only).`);
  if (isFloatDtype(dtype)) return { dtype, dims: [...v.dims], data: dtype === 'float32' ? v.data.map(Math.fround) : v.data.slice() };
  if (dtype === 'bool') return { dtype, dims: [...v.dims], data: v.data.map((x) => (x !== 0 ? 1 : 0)) };
  return { dtype, dims: [...v.dims], data: v.data.map(Math.trunc) };
}

function axesInput(n: OnnxNode, ins: (HostValue | null)[], opset: number): number[] | null {
  if (opset >= 13) return ins[1] ? intsOf(n, 'axes', ins[1]) : null;
  return attrInts(n, 'axes');
}

function need(n: OnnxNode, ins: (HostValue | null)[], i: number, what: string): HostValue {
  const v = ins[i];
  if (!v) throw new ValueError(`${nodeLabel(n)}: input ${i} (${what}) is required.`);
  return v;
}

/**
 * Runs one glue node on the host. `ins` are the node's inputs in order (null
 * for omitted optional ones); returns its outputs in order.
 */
export function runHostOp(n: OnnxNode, ins: (HostValue | null)[], opset: number): HostValue[] {
  const x = () => need(n, ins, 0, 'input');
  switch (n.opType) {
    case 'Constant':
      return [constantValue(n)];
    case 'ConstantOfShape': {
      const dims = intsOf(n, 'shape', need(n, ins, 0, 'shape'));
      if (dims.some((d) => d < 0)) throw new ShapeError(`${nodeLabel(n)}: shape [${dims.join(', ')}] has a negative dimension.`);
      const a = n.attrs.get('value');
      const fill = a?.type === 'tensor' ? a.value : null;
      return [{ dtype: fill?.dtype ?? 'float32', dims, data: new Float64Array(size(dims)).fill(fill?.data[0] ?? 0) }];
    }
    case 'Shape': {
      const d = x().dims;
      const start = attrInt(n, 'start', 0);
      const end = attrInt(n, 'end', d.length);
      const s = Math.min(Math.max(start < 0 ? start + d.length : start, 0), d.length);
      const e = Math.min(Math.max(end < 0 ? end + d.length : end, 0), d.length);
      const vals = d.slice(s, Math.max(s, e));
      return [{ dtype: 'int64', dims: [vals.length], data: Float64Array.from(vals) }];
    }
    case 'Gather':
      return [gather(n, x(), need(n, ins, 1, 'indices'), attrInt(n, 'axis', 0))];
    case 'Unsqueeze': {
      const v = x();
      const axes = axesInput(n, ins, opset);
      if (!axes) throw new ValueError(`${nodeLabel(n)}: axes are required.`);
      const r = v.dims.length + axes.length;
      const norm = axes.map((a) => normAxis(n, a, r, 'axes entry')).sort((a, b) => a - b);
      if (new Set(norm).size !== norm.length) throw new ValueError(`${nodeLabel(n)}: axes [${axes.join(', ')}] repeat an axis.`);
      const dims = [...v.dims];
      for (const a of norm) dims.splice(a, 0, 1);
      return [{ dtype: v.dtype, dims, data: v.data }];
    }
    case 'Squeeze': {
      const v = x();
      const axes = axesInput(n, ins, opset);
      const drop = new Set((axes ?? v.dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normAxis(n, a, v.dims.length, 'axes entry')));
      for (const a of drop) if (v.dims[a] !== 1) throw new ShapeError(`${nodeLabel(n)}: cannot squeeze axis ${a} of size ${v.dims[a]} (shape (${v.dims.join(', ')})).`);
      return [{ dtype: v.dtype, dims: v.dims.filter((_, i) => !drop.has(i)), data: v.data }];
    }
    case 'Concat':
      return [concat(n, ins.filter((v): v is HostValue => v !== null))];
    case 'Expand': {
      const v = x();
      const shape = intsOf(n, 'shape', need(n, ins, 1, 'shape'));
      const dims = broadcastDims(n, v.dims, shape);
      const idx = broadcastIndex(v.dims, dims);
      return [{ dtype: v.dtype, dims, data: Float64Array.from(idx, (i) => v.data[i]) }];
    }
    case 'Transpose': {
      const v = x();
      const perm = attrInts(n, 'perm') ?? v.dims.map((_, i) => v.dims.length - 1 - i);
      if (perm.length !== v.dims.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
        throw new ValueError(`${nodeLabel(n)}: perm [${perm.join(', ')}] is not a permutation of the input's ${v.dims.length} axes.`);
      }
      return [transpose(v, perm)];
    }
    case 'Reshape':
      return [reshape(n, x(), intsOf(n, 'shape', need(n, ins, 1, 'shape')))];
    case 'Slice': {
      if (opset < 10) return [slice(n, x(), attrInts(n, 'starts') ?? [], attrInts(n, 'ends') ?? [], attrInts(n, 'axes'), null)];
      return [slice(n, x(), intsOf(n, 'starts', need(n, ins, 1, 'starts')), intsOf(n, 'ends', need(n, ins, 2, 'ends')), ins[3] ? intsOf(n, 'axes', ins[3]) : null, ins[4] ? intsOf(n, 'steps', ins[4]) : null)];
    }
    case 'MatMul':
      return [matmul(n, x(), need(n, ins, 1, 'B'))];
    case 'Gemm':
      return [gemm(n, x(), need(n, ins, 1, 'B'), ins[2] ?? null)];
    case 'Add':
      return [binary(n, x(), need(n, ins, 1, 'B'), (a, b) => a + b)];
    case 'Mul':
      return [binary(n, x(), need(n, ins, 1, 'B'), (a, b) => a * b)];
    case 'Sigmoid':
      return [unary(x(), (v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))))];
    case 'Tanh':
      return [unary(x(), Math.tanh)];
    case 'Relu':
      return [unary(x(), (v) => (v > 0 ? v : 0))];
    case 'Softmax':
      return [softmax(n, x(), opset)];
    case 'Identity':
      return [x()];
    case 'Cast':
      return [cast(n, x())];
    default:
      throw new ValueError(`${nodeLabel(n)}: not a host operator.`);
  }
}

/** The value of a Constant node (value tensor, or value_float(s)/value_int(s)). */
export function constantValue(n: OnnxNode): HostValue {
  const a = n.attrs.get('value');
  if (a?.type === 'tensor') return fromTensor(a.value);
  const f = n.attrs.get('value_float');
  if (f?.type === 'float') return { dtype: 'float32', dims: [], data: Float64Array.of(f.value) };
  const fs = n.attrs.get('value_floats');
  if (fs?.type === 'floats') return { dtype: 'float32', dims: [fs.value.length], data: Float64Array.from(fs.value) };
  const i = n.attrs.get('value_int');
  if (i?.type === 'int') return { dtype: 'int64', dims: [], data: Float64Array.of(i.value) };
  const is = n.attrs.get('value_ints');
  if (is?.type === 'ints') return { dtype: 'int64', dims: [is.value.length], data: Float64Array.from(is.value) };
  throw new ValueError(`${nodeLabel(n)}: a Constant needs a value, value_float(s) or value_int(s) attribute (sparse and string constants are not supported).`);
}
