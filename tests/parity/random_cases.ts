// GPU kernels vs the float64 CPU reference on seeded random data, shared by the
// Node (Dawn) test and the headless-Chrome page. One short table entry per case:
// a layer is built on the GPU runtime, its weights are copied into the same layer
// on the CPU runtime (torchStateDict() → loadTorchStateDict()), both run on the
// same float32-representable inputs, and output, h and c are compared.
//
// Also runHeadsFixtureCases(): Dense / Embedding / Softmax on one backend against
// the PyTorch float64 fixtures of tests/fixtures/heads.json.
import type { Runtime, Tensor } from '../../src/index';
import { Rng } from '../../src/weights/random';
import { compare, type Comparison } from './compare';

/** One compared tensor of one case. */
export interface Row extends Comparison {
  /** 'rnn_tanh' | 'rnn_relu' | 'gru' | 'gru_keras_v1' | 'lstm' | 'dense' | 'embedding' | 'softmax' | 'repeat_vector'. */
  group: string;
  /** The case, e.g. 'lstm_odd'; `name` is `${case}[${path}].${tensor}`. */
  case: string;
  /** Recurrent cases: the path that ran (from stats), 'step' or 'persistent'. */
  path?: string;
}

type Path = 'step' | 'persistent';
type Tol = { atol: number; rtol?: number };

// Tolerances, float32 GPU vs float64 CPU with bit-identical float32 weights and
// inputs, so the whole difference is float32 rounding in the kernels. Measured
// maxima (Dawn/SwiftShader in Node and Chrome/SwiftShader, default seed): bounded
// values (tanh/sigmoid outputs, GRU/LSTM h, LSTM c here, softmax) ≤ 5e-7 even at
// H = 129 and through two bidirectional layers, so atol 1e-5 leaves ≥ 20x
// headroom. Unbounded values (relu cells, LSTM c, Dense 'none'/'relu' on |x| ≥ 30
// inputs) reach O(10..100) and their error is relative, a few float32 ulps of the
// largest summand: up to 5e-6 absolute measured, so rtol 1e-5 on top of the atol.
// Embedding copies float32 table rows: exact.
const TOL = {
  bounded: { atol: 1e-5 },
  unbounded: { atol: 1e-5, rtol: 1e-5 },
  exact: { atol: 0 },
} satisfies Record<string, Tol>;

// ---------------------------------------------------------------------------
// Recurrent cases

type CellLabel = 'rnn_tanh' | 'rnn_relu' | 'gru' | 'gru_keras_v1' | 'lstm';
const CELLS: CellLabel[] = ['rnn_tanh', 'rnn_relu', 'gru', 'gru_keras_v1', 'lstm'];

interface RecurrentShape {
  B: number;
  T: number;
  I: number;
  H: number;
  L?: number;
  bidirectional?: boolean;
  /** Valid steps per sample, (B). */
  lengths?: number[];
  /** Random non-zero h0 (and c0 for LSTM). */
  initialState?: boolean;
  /** x = sign(u)·(30 + 10|u|): every input saturates the gates. */
  extreme?: boolean;
  /** Keras step mask (B·T), instead of lengths. */
  mask?: number[];
  /** GRU/LSTM gate activation (SimpleRNN cells ignore it). */
  recurrentActivation?: 'sigmoid' | 'hardSigmoid' | 'hardSigmoidKeras3';
}

// What these shapes are chosen against: per-step kernels take 64 threads over H
// and up to 4 batch rows per thread, with k in chunks of 4 (and a remainder);
// matmuls take 8×8 tiles of vec4 loads when K and rows are multiples of 4 (else 4
// columns per thread); persistent kernels up to 256 threads over B·H units.
const RECURRENT_SHAPES: Record<string, RecurrentShape> = {
  ones: { B: 1, T: 1, I: 1, H: 1 },
  // H = 67 > 64: two workgroups over H and a k remainder; I = 7: the untiled matmuls.
  odd: { B: 3, T: 5, I: 7, H: 67 },
  // B·H = 387 > 256: persistent threads loop over units; three workgroups over H per step.
  h129: { B: 3, T: 3, I: 5, H: 129 },
  extreme: { B: 2, T: 4, I: 3, H: 5, extreme: true },
  h0: { B: 2, T: 4, I: 3, H: 6, L: 2, initialState: true },
  bidir_2layer_lengths: { B: 4, T: 6, I: 3, H: 5, L: 2, bidirectional: true, lengths: [6, 3, 1, 5], initialState: true },
  // per-step kernels take up to 4 batch rows per thread: B = 6 leaves two clamped
  // rows; H = 12 runs the k loop in chunks of 4, H = 7 its remainder too
  batch6: { B: 6, T: 4, I: 8, H: 12, lengths: [4, 2, 4, 1, 3, 4], initialState: true },
  batch5_h7: { B: 5, T: 3, I: 4, H: 7, bidirectional: true },
  // Keras masks: pre-padding, a hole, an empty row; masked steps repeat the previous output
  keras_mask: { B: 5, T: 4, I: 3, H: 6, L: 2, bidirectional: true, initialState: true, mask: [0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1] },
  // the hard sigmoid gates of Keras 2 / TensorFlow.js and of Keras 3
  hard_sigmoid: { B: 4, T: 4, I: 3, H: 5, bidirectional: true, recurrentActivation: 'hardSigmoid' },
  hard_sigmoid_keras3: { B: 3, T: 3, I: 3, H: 5, recurrentActivation: 'hardSigmoidKeras3' },
};

interface RecurrentCase {
  kind: 'recurrent';
  name: string;
  group: CellLabel;
  cell: CellLabel;
  shape: RecurrentShape;
}

// ---------------------------------------------------------------------------
// Head cases

interface DenseCase {
  kind: 'dense';
  name: string;
  group: 'dense';
  M: number;
  K: number;
  N: number;
  activation: 'none' | 'relu' | 'sigmoid' | 'tanh';
  extreme?: boolean;
}

interface EmbeddingCase {
  kind: 'embedding';
  name: string;
  group: 'embedding';
  V: number;
  D: number;
  /** Fixed ids (repeats, both ends of the vocabulary). */
  ids: number[];
  shape: number[];
}

interface SoftmaxCase {
  kind: 'softmax';
  name: string;
  group: 'softmax';
  R: number;
  C: number;
  /** Fixed rows; else normal(0, 3) values. */
  x?: number[];
}

interface RepeatCase {
  kind: 'repeat';
  name: string;
  group: 'repeat_vector';
  B: number;
  n: number;
  F: number;
}

export type RandomCase = RecurrentCase | DenseCase | EmbeddingCase | SoftmaxCase | RepeatCase;

const ACTIVATIONS = ['none', 'relu', 'sigmoid', 'tanh'] as const;

/** The table. Each case draws from its own stream (seeded by its name), so any subset, in any order, sees the same data. */
export const randomCases: readonly RandomCase[] = [
  ...CELLS.flatMap((cell) =>
    Object.entries(RECURRENT_SHAPES).map(([s, shape]): RecurrentCase => ({ kind: 'recurrent', name: `${cell}_${s}`, group: cell, cell, shape })),
  ),
  ...ACTIVATIONS.flatMap((activation): DenseCase[] => [
    { kind: 'dense', name: `dense_${activation}_1x1`, group: 'dense', M: 1, K: 1, N: 1, activation },
    // 5 rows, K = 19 (two K tiles, the second partial), N = 17 (two column tiles).
    { kind: 'dense', name: `dense_${activation}_5x19to17`, group: 'dense', M: 5, K: 19, N: 17, activation },
    // Every dimension crosses a 16-tile boundary.
    { kind: 'dense', name: `dense_${activation}_33x40to35`, group: 'dense', M: 33, K: 40, N: 35, activation },
    { kind: 'dense', name: `dense_${activation}_extreme`, group: 'dense', M: 3, K: 7, N: 5, activation, extreme: true },
  ]),
  // 9·13 = 117 outputs: two workgroups of 64, the second partial; ids repeat and hit 0 and V−1.
  { kind: 'embedding', name: 'embedding_repeats', group: 'embedding', V: 11, D: 13, ids: [3, 0, 10, 3, 7, 3, 1, 10, 0], shape: [3, 3] },
  { kind: 'embedding', name: 'embedding_one', group: 'embedding', V: 1, D: 1, ids: [0, 0], shape: [2] },
  // 67 rows > one workgroup of 64 threads (one thread per row).
  { kind: 'softmax', name: 'softmax_67x5', group: 'softmax', R: 67, C: 5 },
  { kind: 'softmax', name: 'softmax_3x70', group: 'softmax', R: 3, C: 70 },
  { kind: 'softmax', name: 'softmax_2x1', group: 'softmax', R: 2, C: 1 },
  {
    kind: 'softmax',
    name: 'softmax_stability',
    group: 'softmax',
    R: 4,
    C: 3,
    x: [1000, 999, -1000, -1000, -999, -1000, 0, 0, 0, 88, -88, 30],
  },
  // RepeatVector forward (one thread per output) and backward (one thread per (b, f), a loop over n)
  { kind: 'repeat', name: 'repeat_vector_1x1x1', group: 'repeat_vector', B: 1, n: 1, F: 1 },
  // B·n·F = 1005 and B·F = 201: several workgroups of 64, the last partial
  { kind: 'repeat', name: 'repeat_vector_3x5x67', group: 'repeat_vector', B: 3, n: 5, F: 67 },
  // n = 1 (a copy) with B·F = 65, one past a workgroup; and a long n = 130 sum
  { kind: 'repeat', name: 'repeat_vector_13x1x5', group: 'repeat_vector', B: 13, n: 1, F: 5 },
  { kind: 'repeat', name: 'repeat_vector_2x130x3', group: 'repeat_vector', B: 2, n: 130, F: 3 },
];

export interface RandomCaseOptions {
  /** Run only these case names (default: all). */
  cases?: readonly string[];
  /** Recurrent paths on the GPU (default both). */
  paths?: readonly Path[];
  /** Base seed. Default 2: with seed 1 the 1×1 relu cell clips its one output to 0 (see `nontrivial`). */
  seed?: number;
}

export async function runRandomCases(gpu: Runtime, cpu: Runtime, opts: RandomCaseOptions = {}): Promise<Row[]> {
  if (gpu.backend !== 'webgpu' || cpu.backend !== 'cpu') {
    throw new Error(`runRandomCases: expected (webgpu, cpu) runtimes, got (${gpu.backend}, ${cpu.backend}).`);
  }
  const only = opts.cases ? new Set(opts.cases) : null;
  if (only) {
    const unknown = [...only].filter((n) => !randomCases.some((c) => c.name === n));
    if (unknown.length) throw new Error(`runRandomCases: unknown case(s) ${unknown.join(', ')}.`);
  }
  const paths = opts.paths ?? ['step', 'persistent'];
  const seed = opts.seed ?? 2;
  const rows: Row[] = [];
  for (const c of randomCases) {
    if (only && !only.has(c.name)) continue;
    const rng = new Rng(seed * 2 ** 32 + fnv1a(c.name));
    if (c.kind === 'recurrent') rows.push(...(await runRecurrentCase(gpu, cpu, c, rng, paths)));
    else if (c.kind === 'dense') rows.push(...(await runDenseCase(gpu, cpu, c, rng)));
    else if (c.kind === 'embedding') rows.push(...(await runEmbeddingCase(gpu, cpu, c, rng)));
    else if (c.kind === 'repeat') rows.push(...(await runRepeatCase(gpu, cpu, c, rng)));
    else rows.push(...(await runSoftmaxCase(gpu, cpu, c, rng)));
  }
  return rows;
}

/** 32-bit FNV-1a hash of a case name: its own random stream. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < s.length; k++) h = Math.imul(h ^ s.charCodeAt(k), 0x01000193);
  return h >>> 0;
}

/** float32-representable values: both backends see exactly the same numbers. */
function f32(n: number, draw: () => number): Float32Array {
  return Float32Array.from({ length: n }, draw);
}

/** sign(u)·(30 + 10|u|), u ∈ [−1, 1): |x| ∈ [30, 40). */
function extremeValue(rng: Rng): number {
  const u = rng.uniform(-1, 1);
  return Math.sign(u || 1) * (30 + 10 * Math.abs(u));
}

async function readAndDispose(t: Tensor): Promise<ArrayLike<number>> {
  try {
    return await t.read();
  } finally {
    t.dispose();
  }
}

async function runRecurrentCase(gpu: Runtime, cpu: Runtime, c: RecurrentCase, rng: Rng, paths: readonly Path[]): Promise<Row[]> {
  const { B, T, I, H, L = 1, bidirectional = false } = c.shape;
  const D = bidirectional ? 2 : 1;
  const opts = {
    inputSize: I,
    hiddenSize: H,
    numLayers: L,
    bidirectional,
    seed: rng.nextUint32(),
    ...(c.cell === 'rnn_tanh' ? { nonlinearity: 'tanh' as const } : {}),
    ...(c.cell === 'rnn_relu' ? { nonlinearity: 'relu' as const } : {}),
    ...(c.cell === 'gru' || c.cell === 'gru_keras_v1' ? { resetAfter: c.cell === 'gru' } : {}),
    ...(c.shape.recurrentActivation && (c.cell === 'lstm' || c.cell.startsWith('gru')) ? { recurrentActivation: c.shape.recurrentActivation } : {}),
  };
  const make = (rt: Runtime) => (c.cell === 'lstm' ? rt.lstm(opts) : c.cell.startsWith('gru') ? rt.gru(opts) : rt.simpleRNN(opts));
  const x = f32(B * T * I, () => (c.shape.extreme ? extremeValue(rng) : rng.normal()));
  const h0 = c.shape.initialState ? f32(L * D * B * H, () => rng.uniform(-1, 1)) : undefined;
  const c0 = c.shape.initialState && c.cell === 'lstm' ? f32(L * D * B * H, () => rng.uniform(-1, 1)) : undefined;
  const fwd = { batch: B, seqLen: T, h0, c0, lengths: c.shape.lengths, mask: c.shape.mask };

  const gpuLayer = make(gpu);
  const cpuLayer = make(cpu);
  const rows: Row[] = [];
  try {
    // PyTorch's init (±1/√H) with O(1) inputs keeps every gate near its linear
    // region; doubling the weights (exact in float32) drives them into the curved
    // parts, where a wrong formula or a misread weight shows. The extreme case is
    // saturated by its inputs already.
    const sd = gpuLayer.torchStateDict();
    if (!c.shape.extreme) for (const t of Object.values(sd)) for (let k = 0; k < t.data.length; k++) t.data[k] *= 2;
    gpuLayer.loadTorchStateDict(sd);
    cpuLayer.loadTorchStateDict(sd);
    const ref = await cpuLayer.forward(x, fwd);
    const refOut = await readAndDispose(ref.output);
    const refH = await readAndDispose(ref.h);
    const refC = ref.c ? await readAndDispose(ref.c) : null;
    if (Array.prototype.every.call(refOut, (v: number) => v === 0)) {
      // A relu cell can clip everything to 0, and then the case compares nothing.
      rows.push({ name: `${c.name}.nontrivial`, ok: false, maxAbs: NaN, detail: `${c.name}: the reference output is all zeros; pick another seed`, group: c.group, case: c.name });
    }

    // relu outputs and LSTM cell states are unbounded; tanh-squashed values are not.
    const outTol = c.cell === 'rnn_relu' ? TOL.unbounded : TOL.bounded;
    const cTol = TOL.unbounded;
    const outShape = { dims: [B, T, D * H], names: ['b', 't', 'j'] };
    const stShape = { dims: [L * D, B, H], names: ['ld', 'b', 'j'] };
    for (const path of paths) {
      const res = await gpuLayer.forward(x, { ...fwd, path });
      const tag = `${c.name}[${path}]`;
      const add = (cmp: Comparison) => rows.push({ ...cmp, group: c.group, case: c.name, path: res.stats.path });
      if (res.stats.path !== path) {
        rows.push({ name: `${tag}.stats`, ok: false, maxAbs: NaN, detail: `asked for path '${path}', ran '${res.stats.path}'`, group: c.group, case: c.name, path });
      }
      add(compare(`${tag}.output`, refOut, await readAndDispose(res.output), outTol, outShape));
      add(compare(`${tag}.h`, refH, await readAndDispose(res.h), outTol, stShape));
      if (refC) {
        if (!res.c) rows.push({ name: `${tag}.c`, ok: false, maxAbs: NaN, detail: 'the GPU LSTM returned no c', group: c.group, case: c.name, path });
        else add(compare(`${tag}.c`, refC, await readAndDispose(res.c), cTol, stShape));
      } else {
        res.c?.dispose();
      }
    }
  } finally {
    gpuLayer.dispose();
    cpuLayer.dispose();
  }
  return rows;
}

async function runDenseCase(gpu: Runtime, cpu: Runtime, c: DenseCase, rng: Rng): Promise<Row[]> {
  const opts = { inputSize: c.K, units: c.N, activation: c.activation, seed: rng.nextUint32() };
  const gpuLayer = gpu.dense(opts);
  const cpuLayer = cpu.dense(opts);
  try {
    cpuLayer.loadTorchStateDict(gpuLayer.torchStateDict());
    const x = f32(c.M * c.K, () => (c.extreme ? extremeValue(rng) : rng.normal()));
    const shape = [c.M, c.K];
    const ref = await readAndDispose(await cpuLayer.forward(x, shape));
    const got = await readAndDispose(await gpuLayer.forward(x, shape));
    // sigmoid/tanh are bounded; 'none'/'relu' reach ~|x|·√K·|w| (O(100) on extreme inputs).
    const tol = c.activation === 'sigmoid' || c.activation === 'tanh' ? TOL.bounded : TOL.unbounded;
    const cmp = compare(`${c.name}.y`, ref, got, tol, { dims: [c.M, c.N], names: ['m', 'n'] });
    return [{ ...cmp, group: c.group, case: c.name }];
  } finally {
    gpuLayer.dispose();
    cpuLayer.dispose();
  }
}

async function runEmbeddingCase(gpu: Runtime, cpu: Runtime, c: EmbeddingCase, rng: Rng): Promise<Row[]> {
  const opts = { vocabSize: c.V, dim: c.D, seed: rng.nextUint32() };
  const gpuLayer = gpu.embedding(opts);
  const cpuLayer = cpu.embedding(opts);
  try {
    cpuLayer.loadTorchStateDict(gpuLayer.torchStateDict());
    const ref = await readAndDispose(await cpuLayer.forward(c.ids, c.shape));
    const got = await readAndDispose(await gpuLayer.forward(c.ids, c.shape));
    const cmp = compare(`${c.name}.out`, ref, got, TOL.exact, { dims: [c.ids.length, c.D], names: ['n', 'd'] });
    return [{ ...cmp, group: c.group, case: c.name }];
  } finally {
    gpuLayer.dispose();
    cpuLayer.dispose();
  }
}

async function runSoftmaxCase(gpu: Runtime, cpu: Runtime, c: SoftmaxCase, rng: Rng): Promise<Row[]> {
  const x = c.x ? Float32Array.from(c.x) : f32(c.R * c.C, () => 3 * rng.normal());
  const shape = [c.R, c.C];
  const ref = await readAndDispose(await cpu.softmax().forward(x, shape));
  const got = await readAndDispose(await gpu.softmax().forward(x, shape));
  const cmp = compare(`${c.name}.y`, ref, got, TOL.bounded, { dims: shape, names: ['r', 'c'] });
  return [{ ...cmp, group: c.group, case: c.name }];
}

async function runRepeatCase(gpu: Runtime, cpu: Runtime, c: RepeatCase, rng: Rng): Promise<Row[]> {
  const { B, n, F } = c;
  const x = f32(B * F, () => rng.normal());
  const dy = f32(B * n * F, () => rng.normal());
  const rows: Row[] = [];
  const add = (cmp: Comparison) => rows.push({ ...cmp, group: c.group, case: c.name });
  const run = async (rt: Runtime) => {
    const layer = rt.repeatVector(n);
    const { output, tape } = await layer.record(x, [B, F]);
    const y = await readAndDispose(output);
    const dx = await readAndDispose(await layer.backward(tape, dy));
    return { y, dx };
  };
  const ref = await run(cpu);
  const got = await run(gpu);
  // forward copies float32 values: exact. backward sums n float32 values in step
  // order on both sides: float32 rounding of the running sum, relative to |sum|.
  add(compare(`${c.name}.y`, ref.y, got.y, TOL.exact, { dims: [B, n, F], names: ['b', 't', 'f'] }));
  add(compare(`${c.name}.dx`, ref.dx, got.dx, TOL.unbounded, { dims: [B, F], names: ['b', 'f'] }));
  return rows;
}

// ---------------------------------------------------------------------------
// heads.json: Dense / Embedding / Softmax against PyTorch float64

export interface HeadsFixtures {
  embedding: { weight: { shape: number[]; data: number[] }; ids: number[]; output: number[] };
  linear: {
    activation: 'none' | 'relu' | 'sigmoid' | 'tanh';
    weight: { shape: number[]; data: number[] };
    bias: { shape: number[]; data: number[] };
    x: number[];
    batch: number;
    output: number[];
  }[];
  softmax: { rows: number; cols: number; x: number[]; output: number[] }[];
}

// The bars of tests/parity/torch_cases.ts: float32 GPU within 1e-5 absolute of
// float64 PyTorch, the float64 CPU reference within 1e-6.
const HEADS_TOL: Record<'webgpu' | 'cpu' | 'wasm', Tol> = { webgpu: { atol: 1e-5 }, cpu: { atol: 1e-6 }, wasm: { atol: 1e-5 } };

/** Dense (each activation), Embedding and Softmax on `rt` against heads.json. */
export async function runHeadsFixtureCases(rt: Runtime, heads: HeadsFixtures): Promise<Row[]> {
  const tol = HEADS_TOL[rt.backend];
  const rows: Row[] = [];
  const add = (group: string, name: string, cmp: Comparison) => rows.push({ ...cmp, group, case: name, path: rt.backend });

  const e = heads.embedding;
  const [V, Dim] = e.weight.shape;
  const emb = rt.embedding({ vocabSize: V, dim: Dim });
  try {
    emb.loadTorchStateDict({ weight: e.weight });
    const got = await readAndDispose(await emb.forward(e.ids));
    add('embedding', 'heads_embedding', compare(`heads_embedding[${rt.backend}].out`, e.output, got, tol, { dims: [e.ids.length, Dim], names: ['n', 'd'] }));
  } finally {
    emb.dispose();
  }

  for (const lin of heads.linear) {
    const [N, K] = lin.weight.shape;
    const dense = rt.dense({ inputSize: K, units: N, activation: lin.activation });
    try {
      dense.loadTorchStateDict({ weight: lin.weight, bias: lin.bias });
      const got = await readAndDispose(await dense.forward(lin.x, [lin.batch, K]));
      const name = `heads_linear_${lin.activation}`;
      add('dense', name, compare(`${name}[${rt.backend}].y`, lin.output, got, tol, { dims: [lin.batch, N], names: ['m', 'n'] }));
    } finally {
      dense.dispose();
    }
  }

  for (const [k, s] of heads.softmax.entries()) {
    const got = await readAndDispose(await rt.softmax().forward(s.x, [s.rows, s.cols]));
    const name = `heads_softmax_${k}_${s.rows}x${s.cols}`;
    add('softmax', name, compare(`${name}[${rt.backend}].y`, s.output, got, tol, { dims: [s.rows, s.cols], names: ['r', 'c'] }));
  }
  return rows;
}

/** Max abs error per group and path, for the logs and the closing note. */
export function summarizeRows(rows: readonly Row[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) {
    const k = r.path ? `${r.group} ${r.path}` : r.group;
    out[k] = Math.max(out[k] ?? 0, Number.isNaN(r.maxAbs) ? Infinity : r.maxAbs);
  }
  return out;
}

/** One line per case: its max abs error on each path, e.g. `lstm_odd  step 1.3e-7  persistent 1.3e-7`. */
export function caseTable(rows: readonly Row[]): string {
  const byCase = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const perPath = byCase.get(r.case) ?? new Map<string, number>();
    const k = r.path ?? 'gpu';
    perPath.set(k, Math.max(perPath.get(k) ?? 0, Number.isNaN(r.maxAbs) ? Infinity : r.maxAbs));
    byCase.set(r.case, perPath);
  }
  const width = Math.max(0, ...[...byCase.keys()].map((k) => k.length));
  return [...byCase.entries()]
    .map(([name, perPath]) => `${name.padEnd(width)}  ${[...perPath.entries()].map(([p, v]) => `${p} ${v.toExponential(1)}`).join('  ')}`)
    .join('\n');
}
