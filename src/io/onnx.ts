// ONNX import: rt.loadOnnx(bytes) → OnnxSession, run(feeds) in ONNX Runtime's shape.
//
// Two steps, as every loader here: parseOnnx (onnx_proto.ts) turns the bytes into
// a validated typed graph without touching a device; then this module checks
// every node can run (refusing unsupported operators and recurrent features, all
// of them listed, before anything is built) and builds our layers for the nodes
// that carry data:
//   LSTM / GRU / RNN                       → a Recurrent layer (fused kernels), weights mapped by weights/onnx.ts
//   MatMul with a constant 2-D B, Gemm     → a Dense layer (matmul kernels)
//   Gather of rows from a constant table   → an Embedding layer
// Everything else (the shape glue torch.onnx.export emits, Add/Mul, activations,
// Softmax) runs on the host in float64 (onnx_graph.ts); `session.nodes` says
// where each node runs. Values travel between nodes on the host: a layer node
// uploads its input, runs on the runtime's backend and reads its result back.
import { backendName, backendOf, type Backend, type RuntimeHandle } from '../backend';
import { DisposedError, ShapeError, ValueError, WeightError, fmtShape } from '../errors';
import { Dense } from '../layers/dense';
import { Embedding } from '../layers/embedding';
import { Recurrent } from '../layers/recurrent';
import { Softmax } from '../layers/softmax';
import { Tensor, type BackendName } from '../tensor';
import { FLOAT32_MAX, assertFloat32, checkElements, describe } from '../validate';
import { onnxToCell } from '../weights/onnx';
import { gateCount, type CellActivation, type CellType, type GateActivation, type StateDict } from '../weights/types';
import {
  HOST_OPS,
  attrFloat,
  attrFloats,
  attrInt,
  attrString,
  attrStrings,
  constantValue,
  fromTensor,
  intsOf,
  nodeLabel,
  runHostOp,
  transpose,
  type HostValue,
} from './onnx_graph';
import { isFloatDtype, parseOnnx, type OnnxDtype, type OnnxModel, type OnnxNode, type OnnxValueInfo } from './onnx_proto';

const OP = 'loadOnnx';
const RUN = 'OnnxSession.run';
const RECURRENT_OPS = ['LSTM', 'GRU', 'RNN'];
/** Opsets whose LSTM/GRU/RNN and glue semantics this loader implements (RNN ops changed at 7, layout came at 14). */
const OPSET_MIN = 7;
const OPSET_MAX = 22;

/** Feed data, as ONNX Runtime takes it (Float64Array too, for float64 inputs or by choice). */
export type OnnxFeedData = Float32Array | Float64Array | Int32Array | BigInt64Array;

/** One input of run(): data and dims, as an onnxruntime Tensor has them. */
export interface OnnxFeed {
  data: OnnxFeedData;
  dims: readonly number[];
}

/** Where a node runs: 'kernel' = one of our layers on the runtime's backend; 'host' = JS on the CPU (glue). */
export type OnnxPlacement = 'kernel' | 'host';

export interface OnnxNodeInfo {
  name: string;
  opType: string;
  runsOn: OnnxPlacement;
  /** The layer a 'kernel' node runs on ('LSTM', 'GRU', 'SimpleRNN', 'Dense', 'Embedding'). */
  layer?: string;
}

/**
 * A graph input's or output's declared type and shape, as ONNX Runtime's
 * `inputMetadata` gives them: dims are numbers, symbolic names ('B', 'T') or null
 * (unknown); shape is null when the model declares none.
 */
export interface OnnxValueMetadata {
  name: string;
  type: OnnxDtype | null;
  shape: readonly (number | string | null)[] | null;
}

type RnnPlan = {
  kind: 'rnn';
  cell: CellType;
  layer: Recurrent;
  I: number;
  H: number;
  D: number;
  reverseOnly: boolean;
  layout: number;
};
/** biasOf: the index of an Add folded into this MatMul as Dense's bias (its output is this node's result), or null. */
type DensePlan = { kind: 'dense'; layer: Dense; K: number; N: number; gemm: boolean; biasOf: number | null };
type EmbeddingPlan = { kind: 'embedding'; layer: Embedding; V: number; dim: number };
type SoftmaxPlan = { kind: 'softmax'; layer: Softmax };
/** A node whose work another node's layer did (an Add folded into the MatMul before it as Dense's bias). */
type FusedPlan = { kind: 'fused'; into: number };
type LayerPlan = RnnPlan | DensePlan | EmbeddingPlan | SoftmaxPlan;
type Plan = LayerPlan | FusedPlan | { kind: 'host' } | { kind: 'constant'; value: HostValue };

function isLayerPlan(p: Plan): p is LayerPlan {
  return p.kind === 'rnn' || p.kind === 'dense' || p.kind === 'embedding' || p.kind === 'softmax';
}

/**
 * A loaded ONNX model. run() takes feeds in ONNX Runtime's shape and returns
 * the graph outputs as Tensors on the runtime's backend (the caller owns them).
 * The session owns the layers it built; dispose() frees them.
 */
export class OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Each input's declared type and shape (symbolic axes by name), in inputNames' order. */
  readonly inputMetadata: readonly OnnxValueMetadata[];
  /** Each output's declared type and shape, in outputNames' order. */
  readonly outputMetadata: readonly OnnxValueMetadata[];
  /** Where the 'kernel' nodes run: the runtime's backend. */
  readonly backend: BackendName;
  /** Every node in graph order, with where it runs. */
  readonly nodes: readonly OnnxNodeInfo[];
  /** The default domain's opset the model was exported with. */
  readonly opset: number;
  private readonly be: Backend;
  private readonly model: OnnxModel;
  private readonly plans: Plan[];
  private disposed = false;
  private queue: Promise<unknown> = Promise.resolve();

  /** @internal use rt.loadOnnx() */
  static create(be: Backend, model: OnnxModel, plans: Plan[]): OnnxSession {
    return new OnnxSession(be, model, plans);
  }

  private constructor(be: Backend, model: OnnxModel, plans: Plan[]) {
    this.be = be;
    this.backend = backendName(be);
    this.model = model;
    this.plans = plans;
    this.opset = model.opset;
    this.inputNames = Object.freeze(model.graph.inputs.map((v) => v.name));
    this.outputNames = Object.freeze(model.graph.outputs.map((v) => v.name));
    const meta = (v: OnnxValueInfo): OnnxValueMetadata => Object.freeze({ name: v.name, type: v.dtype, shape: v.shape ? Object.freeze([...v.shape]) : null });
    this.inputMetadata = Object.freeze(model.graph.inputs.map(meta));
    this.outputMetadata = Object.freeze(model.graph.outputs.map(meta));
    this.nodes = Object.freeze(
      model.graph.nodes.map((n, i) => {
        const p = plans[i];
        const info: OnnxNodeInfo = { name: n.name, opType: n.opType, runsOn: isLayerPlan(p) || p.kind === 'fused' ? 'kernel' : 'host' };
        if (isLayerPlan(p)) info.layer = p.layer.kind;
        if (p.kind === 'fused') info.layer = `${(plans[p.into] as LayerPlan).layer.kind} (the bias of ${nodeLabel(model.graph.nodes[p.into])})`;
        return Object.freeze(info);
      }),
    );
  }

  /**
   * Runs the graph. `feeds` maps every input name to { data, dims } (Float32Array
   * for float inputs; Int32Array or BigInt64Array for integer ones); returns
   * every output name → Tensor (shape, read()). Calls run one after another.
   */
  run(feeds: Record<string, OnnxFeed>): Promise<Record<string, Tensor>> {
    if (this.disposed) return Promise.reject(new DisposedError(`${RUN}: the session was disposed.`));
    const p = this.queue.then(() => this.runNow(feeds));
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Frees the layers the session built. Further run() calls throw DisposedError. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposePlans(this.plans);
  }

  private async runNow(feeds: Record<string, OnnxFeed>): Promise<Record<string, Tensor>> {
    if (this.disposed) throw new DisposedError(`${RUN}: the session was disposed.`);
    const g = this.model.graph;
    const env = new Map<string, HostValue>();
    for (const [k, t] of g.initializers) env.set(k, fromTensor(t));
    for (const [k, v] of checkFeeds(g.inputs, feeds)) env.set(k, v);
    for (let i = 0; i < g.nodes.length; i++) {
      const n = g.nodes[i];
      const plan = this.plans[i];
      const ins = n.inputs.map((name) => (name === '' ? null : env.get(name)!));
      let outs: HostValue[];
      if (plan.kind === 'fused') continue; // its output was written by the node it is fused into
      if (plan.kind === 'constant') outs = [plan.value];
      else if (plan.kind === 'host') outs = runHostOp(n, ins, this.model.opset);
      else if (plan.kind === 'rnn') outs = await runRecurrent(n, plan, ins);
      else if (plan.kind === 'dense') outs = [await runDense(n, plan, ins)];
      else if (plan.kind === 'softmax') outs = [await runSoftmax(n, plan, ins)];
      else outs = [await runEmbedding(n, plan, ins)];
      if (plan.kind === 'dense' && plan.biasOf !== null) {
        env.set(g.nodes[plan.biasOf].outputs[0], outs[0]); // the fused Add's output
        continue;
      }
      n.outputs.forEach((name, k) => {
        if (name !== '' && outs[k]) env.set(name, outs[k]);
      });
    }
    // All outputs are checked before any tensor is made, so a failure leaks nothing.
    const values = g.outputs.map((o) => {
      const v = env.get(o.name);
      if (!v) throw new ValueError(`${RUN}: output '${o.name}' was not produced (an optional output left empty by its node).`);
      checkElements(RUN, `output '${o.name}' ${fmtShape(v.dims)}`, v.data.length, this.be);
      if (v.data.length === 0) throw new ShapeError(`${RUN}: output '${o.name}' has shape ${fmtShape(v.dims)} with no elements; empty tensors are not supported.`);
      return v;
    });
    const res: Record<string, Tensor> = {};
    g.outputs.forEach((o, k) => (res[o.name] = toTensor(this.be, values[k])));
    return res;
  }
}

function disposePlans(plans: readonly Plan[]): void {
  for (const p of plans) if (isLayerPlan(p)) p.layer.dispose();
}

function toTensor(be: Backend, v: HostValue): Tensor {
  if (be.kind === 'cpu') return Tensor.fromCpu(v.data.slice(), v.dims);
  return Tensor.fromGpu(be.ctx, be.ctx.createStorage('onnx.output', Float32Array.from(v.data)), v.dims);
}

// ---------------------------------------------------------------------------
// Feeds.

function checkFeeds(inputs: readonly OnnxValueInfo[], feeds: unknown): Map<string, HostValue> {
  if (feeds === null || typeof feeds !== 'object' || Array.isArray(feeds)) {
    throw new ValueError(`${RUN}: feeds must be an object mapping input names (${inputs.map((v) => `'${v.name}'`).join(', ')}) to { data, dims }, got ${describe(feeds)}.`);
  }
  const f = feeds as Record<string, unknown>;
  const names = new Set(inputs.map((v) => v.name));
  const extra = Object.keys(f).filter((k) => !names.has(k));
  if (extra.length) throw new ValueError(`${RUN}: unknown input(s) ${extra.map((k) => `'${k}'`).join(', ')}; the model's inputs are ${[...names].map((k) => `'${k}'`).join(', ')}.`);
  const sym = new Map<string, { value: number; input: string }>();
  const out = new Map<string, HostValue>();
  for (const vi of inputs) {
    const feed = f[vi.name];
    if (feed === undefined) throw new ValueError(`${RUN}: missing input '${vi.name}'${vi.shape ? ` of shape ${shapeText(vi.shape)}` : ''}.`);
    if (feed === null || typeof feed !== 'object') throw new ValueError(`${RUN}: input '${vi.name}' must be { data, dims }, got ${describe(feed)}.`);
    const { data, dims } = feed as { data: unknown; dims: unknown };
    if (!Array.isArray(dims) || dims.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
      throw new ShapeError(`${RUN}: input '${vi.name}': dims must be an array of non-negative integers, got ${Array.isArray(dims) ? `[${dims.join(', ')}]` : describe(dims)}.`);
    }
    const floatIn = vi.dtype === null || isFloatDtype(vi.dtype);
    const okTypes = floatIn ? 'Float32Array (or Float64Array)' : 'Int32Array or BigInt64Array';
    const ok = floatIn ? data instanceof Float32Array || data instanceof Float64Array : data instanceof Int32Array || data instanceof BigInt64Array;
    if (!ok) throw new ValueError(`${RUN}: input '${vi.name}' is ${vi.dtype ?? 'a float tensor'}, so its data must be a ${okTypes}; got ${describe(data)}.`);
    const arr = data as OnnxFeedData;
    const n = dims.reduce((a: number, b: number) => a * b, 1);
    if (arr.length !== n) throw new ShapeError(`${RUN}: input '${vi.name}' has ${arr.length} values, but dims ${fmtShape(dims)} need ${n}.`);
    if (vi.shape) {
      if (vi.shape.length !== dims.length) throw new ShapeError(`${RUN}: input '${vi.name}' has dims ${fmtShape(dims)}, expected ${shapeText(vi.shape)} (rank ${vi.shape.length}).`);
      vi.shape.forEach((want, i) => {
        if (typeof want === 'number' && want !== dims[i]) throw new ShapeError(`${RUN}: input '${vi.name}' has dims ${fmtShape(dims)}, expected ${shapeText(vi.shape!)}: dimension ${i} must be ${want}.`);
        if (typeof want === 'string' && want !== '') {
          const seen = sym.get(want);
          if (seen && seen.value !== dims[i]) {
            throw new ShapeError(`${RUN}: input '${vi.name}' has dims ${fmtShape(dims)}, expected ${shapeText(vi.shape!)}: '${want}' is ${seen.value} in input '${seen.input}' but ${dims[i]} here.`);
          }
          if (!seen) sym.set(want, { value: dims[i], input: vi.name });
        }
      });
    }
    let values: Float64Array;
    if (arr instanceof BigInt64Array) {
      values = new Float64Array(arr.length);
      for (let i = 0; i < arr.length; i++) {
        const v = arr[i];
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new ValueError(`${RUN}: input '${vi.name}'[${i}] = ${v} is beyond ±2^53.`);
        values[i] = Number(v);
      }
    } else {
      if (floatIn) assertFloat32(RUN, `input '${vi.name}'`, arr);
      values = Float64Array.from(arr);
    }
    out.set(vi.name, { dtype: vi.dtype ?? (floatIn ? 'float32' : 'int64'), dims: [...dims], data: values });
  }
  return out;
}

function shapeText(shape: readonly (number | string | null)[]): string {
  return `(${shape.map((d) => (d === null || d === '' ? '?' : String(d))).join(', ')})`;
}

// ---------------------------------------------------------------------------
// Building: check every node, then make the layers.

export type OnnxSource = Uint8Array | ArrayBuffer;

/** rt.loadOnnx: parses, checks and builds; nothing is built if anything is refused. */
export async function loadOnnx(handle: RuntimeHandle, bytes: OnnxSource): Promise<OnnxSession> {
  const be = backendOf(OP, 'rt', handle);
  const buf = bytes instanceof Uint8Array ? bytes : bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : null;
  if (!buf) throw new ValueError(`${OP}: bytes must be a Uint8Array or ArrayBuffer of an .onnx file, got ${describe(bytes)}.`);
  if (buf.length === 0) throw new WeightError(`${OP}: the file is empty.`);
  const model = parseOnnx(buf);
  if (model.opset < OPSET_MIN || model.opset > OPSET_MAX) {
    throw new ValueError(`${OP}: the model uses opset ${model.opset}; loadOnnx implements opsets ${OPSET_MIN}–${OPSET_MAX}. Hint: torch.onnx.export(..., opset_version=14).`);
  }
  checkOperators(model);
  const consts = constants(model);
  const fusions = findBiasFusions(model, consts);
  const specs = model.graph.nodes.map((n, i) => (fusions.byAdd.has(i) ? () => ({ kind: 'fused', into: fusions.byAdd.get(i)! }) as Plan : planNode(n, consts, model.opset, fusions.byMatMul.get(i) ?? null)));
  const plans: Plan[] = [];
  try {
    for (const s of specs) plans.push(s(be));
  } catch (e) {
    disposePlans(plans);
    throw e;
  }
  return OnnxSession.create(be, model, plans);
}

function checkOperators(model: OnnxModel): void {
  const supported = new Set<string>([...HOST_OPS, ...RECURRENT_OPS]);
  const bad = new Map<string, number>();
  for (const n of model.graph.nodes) {
    const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    if (!supported.has(n.opType) || key !== n.opType) bad.set(key, (bad.get(key) ?? 0) + 1);
  }
  if (bad.size) {
    const list = [...bad].sort(([a], [b]) => a.localeCompare(b)).map(([k, c]) => `${k} (${c} node${c > 1 ? 's' : ''})`);
    throw new ValueError(`${OP}: the model uses operators loadOnnx does not run: ${list.join(', ')}. Supported: ${[...RECURRENT_OPS, ...HOST_OPS].join(', ')}.`);
  }
}

/** Values known at load time: initializers and Constant nodes' outputs. */
function constants(model: OnnxModel): Map<string, HostValue> {
  const c = new Map<string, HostValue>();
  for (const [k, t] of model.graph.initializers) c.set(k, fromTensor(t));
  for (const n of model.graph.nodes) if (n.opType === 'Constant' && n.outputs[0]) c.set(n.outputs[0], constantValue(n));
  return c;
}

/**
 * nn.Linear on a 3-D input exports as MatMul(x, Wᵀ) then Add(b, ·): where the
 * MatMul's weight is a constant, its only reader is that Add, the other addend is
 * a constant (N) (or (1, …, 1, N)) and the MatMul's result is no graph output, the
 * Add becomes the Dense layer's bias. Returns MatMul index → { add, bias } and
 * Add index → MatMul index.
 */
function findBiasFusions(model: OnnxModel, consts: Map<string, HostValue>): { byMatMul: Map<number, { add: number; bias: HostValue }>; byAdd: Map<number, number> } {
  const g = model.graph;
  const readers = new Map<string, number[]>();
  g.nodes.forEach((n, i) => n.inputs.forEach((x) => x && readers.set(x, [...(readers.get(x) ?? []), i])));
  const outputs = new Set(g.outputs.map((o) => o.name));
  const byMatMul = new Map<number, { add: number; bias: HostValue }>();
  const byAdd = new Map<number, number>();
  g.nodes.forEach((n, i) => {
    if (n.opType !== 'MatMul') return;
    const B = n.inputs[1] ? consts.get(n.inputs[1]) : undefined;
    if (!B || B.dims.length !== 2 || !isFloatDtype(B.dtype)) return;
    const y = n.outputs[0];
    const r = readers.get(y) ?? [];
    if (outputs.has(y) || r.length !== 1 || g.nodes[r[0]].opType !== 'Add') return;
    const add = g.nodes[r[0]];
    if (add.inputs.length !== 2 || add.inputs.filter((x) => x === y).length !== 1) return;
    const other = add.inputs[0] === y ? add.inputs[1] : add.inputs[0];
    const bias = consts.get(other);
    const N = B.dims[1];
    if (!bias || !isFloatDtype(bias.dtype) || bias.data.length !== N || bias.dims.length < 1 || bias.dims[bias.dims.length - 1] !== N) return;
    // A bias of rank r > 1 broadcasts the result to rank ≥ r: fold it only when it cannot add leading axes (rank 1).
    if (bias.dims.length > 1) return;
    byMatMul.set(i, { add: r[0], bias });
    byAdd.set(r[0], i);
  });
  return { byMatMul, byAdd };
}

type Builder = (be: Backend) => Plan;

function planNode(n: OnnxNode, consts: Map<string, HostValue>, opset: number, fusedBias: { add: number; bias: HostValue } | null): Builder {
  const at = `${OP}: ${nodeLabel(n)}`;
  const cst = (i: number): HostValue | null => (n.inputs[i] ? (consts.get(n.inputs[i]) ?? null) : null);
  if (n.opType === 'Constant') {
    const value = consts.get(n.outputs[0]) ?? constantValue(n);
    return () => ({ kind: 'constant', value });
  }
  if (RECURRENT_OPS.includes(n.opType)) return planRecurrent(n, at, cst, opset);
  if (n.opType === 'MatMul') {
    const B = cst(1);
    if (B && B.dims.length === 2 && isFloatDtype(B.dtype)) {
      checkWeightValues(at, 'B', B);
      if (fusedBias) checkWeightValues(at, 'the bias of the Add after it', fusedBias.bias);
      const [K, N] = B.dims;
      const weight = transpose(B, [1, 0]).data; // (N, K)
      const bias = fusedBias ? fusedBias.bias.data : new Float64Array(N);
      return (be) => ({ kind: 'dense', K, N, gemm: false, biasOf: fusedBias?.add ?? null, layer: denseLayer(be, at, K, N, weight, bias) });
    }
  }
  if (n.opType === 'Gemm') {
    const B = cst(1);
    const C = n.inputs[2] ? cst(2) : null;
    const cOk = !n.inputs[2] || (C !== null && isFloatDtype(C.dtype) && (C.dims.length === 1 || (C.dims.length === 2 && C.dims[0] === 1)));
    if (B && B.dims.length === 2 && isFloatDtype(B.dtype) && attrInt(n, 'transA', 0) === 0 && attrFloat(n, 'alpha', 1) === 1 && (attrFloat(n, 'beta', 1) === 1 || !n.inputs[2]) && cOk) {
      const transB = attrInt(n, 'transB', 0) !== 0;
      const [K, N] = transB ? [B.dims[1], B.dims[0]] : B.dims;
      if (!C || C.data.length === N) {
        checkWeightValues(at, 'B', B);
        if (C) checkWeightValues(at, 'C', C);
        const weight = transB ? B.data : transpose(B, [1, 0]).data; // (N, K)
        const bias = C ? C.data : new Float64Array(N);
        return (be) => ({ kind: 'dense', K, N, gemm: true, biasOf: null, layer: denseLayer(be, at, K, N, weight, bias) });
      }
    }
  }
  if (n.opType === 'Gather') {
    const table = cst(0);
    if (table && table.dims.length === 2 && isFloatDtype(table.dtype) && [0, -2].includes(attrInt(n, 'axis', 0)) && !consts.has(n.inputs[1])) {
      checkWeightValues(at, 'data', table);
      const [V, dim] = table.dims;
      return (be) => {
        const layer = Embedding.create(be, { vocabSize: V, dim });
        try {
          layer.loadTorchStateDict({ weight: { data: table.data, shape: [V, dim] } });
        } catch (e) {
          layer.dispose();
          throw e;
        }
        return { kind: 'embedding', layer, V, dim };
      };
    }
  }
  // Softmax over the last axis (axis -1: opset 13's default; before 13, coercing at the last axis is the same) on the Softmax layer.
  if (n.opType === 'Softmax' && attrInt(n, 'axis', opset >= 13 ? -1 : 1) === -1) return (be) => ({ kind: 'softmax', layer: Softmax.create(be) });
  return () => ({ kind: 'host' });
}

/** Weights must be finite and within float32's range (the GPU computes in float32): a WeightError naming the ONNX input. */
function checkWeightValues(at: string, name: string, v: HostValue): void {
  const i = v.data.findIndex((x) => !Number.isFinite(x) || Math.abs(x) > FLOAT32_MAX);
  if (i >= 0) throw new WeightError(`${at}: ${name}[${i}] is ${v.data[i]}; weights must be finite and within float32's range.`);
}

function denseLayer(be: Backend, at: string, K: number, N: number, weight: Float64Array, bias: Float64Array): Dense {
  const layer = Dense.create(be, { inputSize: K, units: N });
  try {
    layer.loadTorchStateDict({ weight: { data: weight, shape: [N, K] }, bias: { data: bias, shape: [N] } });
  } catch (e) {
    layer.dispose();
    throw e instanceof WeightError ? new WeightError(`${at}: ${e.message}`) : e;
  }
  return layer;
}

const DEFAULT_ACTS: Record<string, string[]> = { LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'], RNN: ['Tanh'] };
// ONNX's activation functions that take activation_alpha / activation_beta: the
// lists are consumed in the order of the activations that use them (as ONNX
// Runtime reads them), with these defaults where a list runs short.
const ALPHA_DEFAULT: Record<string, number> = { hardsigmoid: 0.2, leakyrelu: 0.01, thresholdedrelu: 1, elu: 1, affine: 1, scaledtanh: 1 };
const BETA_DEFAULT: Record<string, number> = { hardsigmoid: 0.5, affine: 0, scaledtanh: 1 };

/**
 * A recurrent node's `activations` (f, g, h per direction for LSTM; f, g for GRU;
 * f for RNN) mapped onto our kernel parameters: the gate activation f is Sigmoid or
 * HardSigmoid (alpha 0.2 = Keras 2's, alpha 1/6 = Keras 3's; beta 0.5), the cell
 * activation g (= h for LSTM) Tanh, Relu, Sigmoid or Affine(1, 0) (linear), the same
 * in both directions. Anything else is a ValueError naming what arrived.
 */
function recurrentActivations(n: OnnxNode, at: string, cell: CellType, D: number): { activation: CellActivation; recurrentActivation: GateActivation } {
  const names = attrStrings(n, 'activations');
  const alphas = attrFloats(n, 'activation_alpha') ?? [];
  const betas = attrFloats(n, 'activation_beta') ?? [];
  const per = DEFAULT_ACTS[n.opType].length;
  if (!names) {
    if (alphas.length || betas.length) throw new ValueError(`${at}: activation_alpha/activation_beta are given without activations.`);
    return { activation: 'tanh', recurrentActivation: 'sigmoid' };
  }
  if (names.length !== per * D) throw new ValueError(`${at}: activations [${names.join(', ')}] has ${names.length} entries, expected ${per * D} (${per} per direction).`);
  let ia = 0;
  let ib = 0;
  const fns = names.map((name) => {
    const k = name.toLowerCase();
    const alpha = k in ALPHA_DEFAULT ? (alphas[ia++] ?? ALPHA_DEFAULT[k]) : null;
    const beta = k in BETA_DEFAULT ? (betas[ib++] ?? BETA_DEFAULT[k]) : null;
    return { name, k, alpha, beta };
  });
  if (ia < alphas.length || ib < betas.length) throw new ValueError(`${at}: activation_alpha has ${alphas.length} and activation_beta ${betas.length} values, but the activations [${names.join(', ')}] use ${ia} and ${ib}.`);
  const near = (a: number | null, b: number) => a !== null && Math.abs(a - b) <= 1e-6;
  const label = (f: (typeof fns)[number]) => (f.alpha === null ? f.name : `${f.name}(${f.alpha}${f.beta === null ? '' : `, ${f.beta}`})`);
  const refuse = (why: string): never => {
    throw new ValueError(`${at}: activations [${fns.map(label).join(', ')}] are not supported: ${why}`);
  };
  const gateOf = (f: (typeof fns)[number]): GateActivation => {
    if (f.k === 'sigmoid') return 'sigmoid';
    if (f.k === 'hardsigmoid' && near(f.beta, 0.5) && near(f.alpha, 0.2)) return 'hardSigmoid';
    if (f.k === 'hardsigmoid' && near(f.beta, 0.5) && near(f.alpha, 1 / 6)) return 'hardSigmoidKeras3';
    return refuse(`the gate activation must be Sigmoid or HardSigmoid with alpha 0.2 or 1/6 and beta 0.5, got ${label(f)}.`);
  };
  const cellOf = (f: (typeof fns)[number]): CellActivation => {
    if (f.k === 'tanh' || f.k === 'relu' || f.k === 'sigmoid') return f.k;
    if (f.k === 'affine' && near(f.alpha, 1) && near(f.beta, 0)) return 'linear';
    return refuse(`the cell activation must be Tanh, Relu, Sigmoid or Affine(1, 0), got ${label(f)}.`);
  };
  const dirs = Array.from({ length: D }, (_, d) => fns.slice(d * per, (d + 1) * per));
  const picked = dirs.map((fs) => {
    if (cell === 'rnn') return { activation: cellOf(fs[0]), recurrentActivation: 'sigmoid' as GateActivation };
    const activation = cellOf(fs[1]);
    if (cell === 'lstm' && label(fs[2]) !== label(fs[1])) refuse(`our LSTM applies one cell activation to the candidate and the cell state (g = h), got ${label(fs[1])} and ${label(fs[2])}.`);
    return { activation, recurrentActivation: gateOf(fs[0]) };
  });
  if (picked.some((p) => p.activation !== picked[0].activation || p.recurrentActivation !== picked[0].recurrentActivation)) refuse('both directions must use the same activations.');
  return picked[0];
}

function planRecurrent(n: OnnxNode, at: string, cst: (i: number) => HostValue | null, opset: number): Builder {
  const cell: CellType = n.opType === 'LSTM' ? 'lstm' : n.opType === 'GRU' ? 'gru' : 'rnn';
  const direction = attrString(n, 'direction', 'forward');
  if (!['forward', 'reverse', 'bidirectional'].includes(direction)) throw new ValueError(`${at}: direction must be forward, reverse or bidirectional, got '${direction}'.`);
  const D = direction === 'bidirectional' ? 2 : 1;
  const layout = attrInt(n, 'layout', 0);
  if (layout !== 0 && layout !== 1) throw new ValueError(`${at}: layout must be 0 or 1, got ${layout}.`);
  if (layout === 1 && opset < 14) throw new ValueError(`${at}: layout 1 needs opset 14 or later; the model uses opset ${opset}.`);
  // Features our fused kernels do not have: refused, each with its own message.
  if (n.attrs.has('clip')) throw new ValueError(`${at}: clip = ${attrFloat(n, 'clip', 0)} is not supported (our cells do not clip their pre-activations). Hint: export without clipping.`);
  if (cell === 'lstm' && attrInt(n, 'input_forget', 0) !== 0) throw new ValueError(`${at}: input_forget = 1 (coupled input and forget gates) is not supported.`);
  if (cell === 'lstm' && n.inputs[7]) throw new ValueError(`${at}: peephole weights (input P '${n.inputs[7]}') are not supported; our LSTM has no peepholes.`);
  const { activation, recurrentActivation } = recurrentActivations(n, at, cell, D);
  const lbr = cell === 'gru' ? attrInt(n, 'linear_before_reset', 0) : 0;
  if (lbr !== 0 && lbr !== 1) throw new ValueError(`${at}: linear_before_reset must be 0 or 1, got ${lbr}.`);
  // Weights must be known at load time.
  const weight = (i: number, name: string): HostValue | null => {
    if (!n.inputs[i]) return null;
    const v = cst(i);
    if (!v) throw new ValueError(`${at}: ${name} ('${n.inputs[i]}') must be an initializer or a Constant; weights computed at run time are not supported.`);
    if (!isFloatDtype(v.dtype)) throw new WeightError(`${at}: ${name} is ${v.dtype}, expected a float tensor.`);
    checkWeightValues(at, name, v);
    return v;
  };
  const W = weight(1, 'W');
  const R = weight(2, 'R');
  const Bv = weight(3, 'B');
  if (!W || !R) throw new WeightError(`${at}: inputs W and R are required.`);
  const nG = gateCount(cell);
  if (W.dims.length !== 3 || W.dims[0] !== D || W.dims[1] % nG !== 0) throw new WeightError(`${at}: W has shape ${fmtShape(W.dims)}, expected (num_directions, ${nG}·hidden_size, input_size) with num_directions = ${D}.`);
  const H = W.dims[1] / nG;
  const I = W.dims[2];
  const hs = attrInt(n, 'hidden_size', H);
  if (hs !== H) throw new WeightError(`${at}: hidden_size = ${hs} but W has shape ${fmtShape(W.dims)} (${nG}·hidden_size = ${W.dims[1]}).`);
  const G = nG * H;
  const same = (v: HostValue, want: number[]) => v.dims.length === want.length && v.dims.every((d, i) => d === want[i]);
  if (!same(R, [D, G, H])) throw new WeightError(`${at}: R has shape ${fmtShape(R.dims)}, expected (num_directions, ${nG}·hidden_size, hidden_size) = ${fmtShape([D, G, H])}.`);
  if (Bv && !same(Bv, [D, 2 * G])) throw new WeightError(`${at}: B has shape ${fmtShape(Bv.dims)}, expected (num_directions, 2·${nG}·hidden_size) = ${fmtShape([D, 2 * G])}.`);
  const sd: StateDict = {};
  for (let d = 0; d < D; d++) {
    const w = onnxToCell(
      cell,
      { W: W.data.subarray(d * G * I, (d + 1) * G * I), R: R.data.subarray(d * G * H, (d + 1) * G * H), B: Bv ? Bv.data.subarray(d * 2 * G, (d + 1) * 2 * G) : null },
      { inputSize: I, hiddenSize: H },
      at,
    );
    const s = D === 2 && d === 1 ? '_l0_reverse' : '_l0';
    sd['weight_ih' + s] = { data: w.wih, shape: [G, I] };
    sd['weight_hh' + s] = { data: w.whh, shape: [G, H] };
    sd['bias_ih' + s] = { data: w.bih, shape: [G] };
    sd['bias_hh' + s] = { data: w.bhh, shape: [G] };
  }
  return (be) => {
    const layer = Recurrent.create(be, cell, {
      inputSize: I,
      hiddenSize: H,
      bidirectional: D === 2,
      activation,
      ...(cell === 'rnn' ? {} : { recurrentActivation }),
      ...(cell === 'gru' ? { resetAfter: lbr === 1 } : {}),
    });
    try {
      layer.loadTorchStateDict(sd);
    } catch (e) {
      layer.dispose();
      throw e instanceof WeightError ? new WeightError(`${at}: ${e.message}`) : e;
    }
    return { kind: 'rnn', cell, layer, I, H, D, reverseOnly: direction === 'reverse', layout };
  };
}

// ---------------------------------------------------------------------------
// Running the layer nodes.

async function readAll(t: Tensor): Promise<Float64Array> {
  try {
    const v = await t.read();
    return v instanceof Float64Array ? v : Float64Array.from(v);
  } finally {
    t.dispose();
  }
}

/** Reverses each sample's first lengths[b] steps of a (B, T, F) array (padding stays in place). */
function flipValid(x: Float64Array, B: number, T: number, F: number, lengths: Uint32Array): Float64Array {
  const out = x.slice();
  for (let b = 0; b < B; b++) {
    const L = lengths[b];
    for (let t = 0; t < L; t++) out.set(x.subarray((b * T + t) * F, (b * T + t + 1) * F), (b * T + (L - 1 - t)) * F);
  }
  return out;
}

async function runRecurrent(n: OnnxNode, p: RnnPlan, ins: (HostValue | null)[]): Promise<HostValue[]> {
  const at = `${RUN}: ${nodeLabel(n)}`;
  const X = ins[0];
  if (!X) throw new ValueError(`${at}: input X is required.`);
  if (!isFloatDtype(X.dtype)) throw new ValueError(`${at}: X is ${X.dtype}, expected a float tensor.`);
  if (X.dims.length !== 3 || X.dims[2] !== p.I) {
    throw new ShapeError(`${at}: X has shape ${fmtShape(X.dims)}, expected ${p.layout ? '(batch, seq_length, input_size)' : '(seq_length, batch, input_size)'} with input_size = ${p.I}.`);
  }
  const [T, B] = p.layout ? [X.dims[1], X.dims[0]] : [X.dims[0], X.dims[1]];
  if (T === 0 || B === 0) throw new ShapeError(`${at}: X has shape ${fmtShape(X.dims)}; empty batches and sequences are not supported.`);
  const { D, H } = p;
  // ours: x (B, T, I), h0/c0 (D, B, H)
  const x = p.layout ? X.data : transpose(X, [1, 0, 2]).data;
  const lengths = new Uint32Array(B).fill(T);
  if (ins[4]) {
    const sl = intsOf(n, 'sequence_lens', ins[4]);
    if (ins[4].dims.length !== 1 || sl.length !== B) throw new ShapeError(`${at}: sequence_lens has shape ${fmtShape(ins[4].dims)}, expected (batch) = (${B}).`);
    sl.forEach((v, b) => {
      if (v < 1 || v > T) throw new ValueError(`${at}: sequence_lens[${b}] = ${v} is out of range; each must be in [1, seq_length] = [1, ${T}].`);
      lengths[b] = v;
    });
  }
  const state = (v: HostValue | null, name: string): Float64Array | undefined => {
    if (!v) return undefined;
    const want = p.layout ? [B, D, H] : [D, B, H];
    if (v.dims.length !== 3 || v.dims.some((d, i) => d !== want[i])) {
      throw new ShapeError(`${at}: ${name} has shape ${fmtShape(v.dims)}, expected ${p.layout ? '(batch, num_directions, hidden_size)' : '(num_directions, batch, hidden_size)'} = ${fmtShape(want)}.`);
    }
    return p.layout ? transpose(v, [1, 0, 2]).data : v.data;
  };
  const h0 = state(ins[5] ?? null, 'initial_h');
  const c0 = p.cell === 'lstm' ? state(ins[6] ?? null, 'initial_c') : undefined;
  const input = p.reverseOnly ? flipValid(x, B, T, p.I, lengths) : x;
  const res = await p.layer.forward(input, { batch: B, seqLen: T, h0, c0, lengths: ins[4] ? lengths : undefined });
  let y: Float64Array;
  let h: Float64Array;
  let c: Float64Array | null = null;
  try {
    y = await readAll(res.output); // (B, T, D·H)
    h = await readAll(res.h); // (D, B, H)
    c = res.c ? await readAll(res.c) : null;
  } finally {
    res.output.dispose();
    res.h.dispose();
    res.c?.dispose();
  }
  if (p.reverseOnly) y = flipValid(y, B, T, H, lengths);
  const Y: HostValue = { dtype: 'float32', dims: [B, T, D, H], data: y };
  const toOnnxState = (s: Float64Array): HostValue => {
    const v: HostValue = { dtype: 'float32', dims: [D, B, H], data: s };
    return p.layout ? transpose(v, [1, 0, 2]) : v;
  };
  return [p.layout ? Y : transpose(Y, [1, 2, 0, 3]), toOnnxState(h), ...(c ? [toOnnxState(c)] : [])];
}

async function runDense(n: OnnxNode, p: DensePlan, ins: (HostValue | null)[]): Promise<HostValue> {
  const at = `${RUN}: ${nodeLabel(n)}`;
  const A = ins[0];
  if (!A) throw new ValueError(`${at}: input A is required.`);
  if (!isFloatDtype(A.dtype)) throw new ValueError(`${at}: A is ${A.dtype}, expected a float tensor.`);
  const okRank = p.gemm ? A.dims.length === 2 : A.dims.length >= 1;
  if (!okRank || A.dims[A.dims.length - 1] !== p.K) {
    throw new ShapeError(`${at}: A has shape ${fmtShape(A.dims)}, expected ${p.gemm ? `(M, K) with K = ${p.K}` : `(..., K) with K = ${p.K}`}.`);
  }
  const M = A.data.length / p.K;
  if (M === 0) throw new ShapeError(`${at}: A has shape ${fmtShape(A.dims)} with no rows; empty tensors are not supported.`);
  const y = await readAll(await p.layer.forward(A.data, [M, p.K]));
  return { dtype: 'float32', dims: [...A.dims.slice(0, -1), p.N], data: y };
}

/** Softmax over the last axis on the Softmax layer (other axes run on the host: planNode). */
async function runSoftmax(n: OnnxNode, p: SoftmaxPlan, ins: (HostValue | null)[]): Promise<HostValue> {
  const at = `${RUN}: ${nodeLabel(n)}`;
  const x = ins[0];
  if (!x) throw new ValueError(`${at}: input is required.`);
  if (!isFloatDtype(x.dtype)) throw new ValueError(`${at}: input is ${x.dtype}, expected a float tensor.`);
  if (x.dims.length === 0 || x.data.length === 0) throw new ShapeError(`${at}: input has shape ${fmtShape(x.dims)}; softmax needs at least one axis and one element.`);
  const y = await readAll(await p.layer.forward(x.data, x.dims));
  return { dtype: x.dtype, dims: [...x.dims], data: y };
}

async function runEmbedding(n: OnnxNode, p: EmbeddingPlan, ins: (HostValue | null)[]): Promise<HostValue> {
  const at = `${RUN}: ${nodeLabel(n)}`;
  const idxV = ins[1];
  const idx = intsOf(n, 'indices', idxV);
  if (idx.length === 0) throw new ShapeError(`${at}: indices are empty; empty tensors are not supported.`);
  const ids = idx.map((v, q) => {
    const i = v < 0 ? v + p.V : v;
    if (i < 0 || i >= p.V) throw new ValueError(`${at}: indices[${q}] = ${v} is out of range [-${p.V}, ${p.V}) (the table has ${p.V} rows).`);
    return i;
  });
  const y = await readAll(await p.layer.forward(ids, [ids.length]));
  return { dtype: 'float32', dims: [...idxV!.dims, p.dim], data: y };
}

export type { OnnxDtype };
