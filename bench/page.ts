// The benchmark suite (issue 4). One module, two hosts:
//   - headless Chromium: bench/index.html imports it, runs the matrix from ?config=…
//     and publishes window.__result / window.__done (driven by bench/run.mjs);
//   - Node through Dawn: bench/run.mjs --node loads it with Vite's ssrLoadModule,
//     and tests/bench_quick.test.ts imports it directly (parity only).
//
// For every cell (LSTM, GRU, SimpleRNN) and shape (B, T, I, H) it builds one
// single-layer model with one set of Keras-convention weights (single bias,
// made by our CPU layer with convention 'keras') and runs it on every path:
//   ours-step         our GPU per-step kernels            (path 'step')
//   ours-persistent   our GPU persistent kernel           (path 'persistent', when the shape allows)
//   ours-cpu          our float64 CPU reference           (the parity reference)
//   tfjs-webgpu       TensorFlow.js 4.22 layers, webgpu backend as shipped
//   tfjs-webgpu-packed  the same with WEBGPU_MATMUL_PROGRAM_TYPE = 3 (MatMulPackedProgram)
//   tfjs-cpu, tfjs-wasm  TensorFlow.js's cpu and wasm backends
//   ours-wasm         our float32 wasm SIMD backend (createRuntime({ backend: 'wasm' }));
//                     a row says "not available: <reason>" where this build has none
//   ort-webgpu, ort-wasm  ONNX Runtime Web 1.30 (bench/ort.ts): its WebGPU and wasm
//                     execution providers on a one-node ONNX model built from the
//                     same weights (bench/onnx.ts); inference only, and the provider
//                     that ran each node is read from ONNX Runtime's verbose log
// With timings, the CPU roofline (bench/cpu_roofline.ts: this engine's wasm SIMD
// mul+add peak and streaming bandwidth) and each CPU row's share of it.
// Measures per path: inference latency (forward + read of the output), one
// training step (forward + MSE loss + backward + Adam update, GPU work finished
// inside the timed region), dispatches, GPU memory held (ours), and parity: the
// max abs difference of outputs, and of gradients (ours: from one SGD step with lr 1,
// g = w0 − w1 in Keras layout; tfjs: its first Adam step's own gradients), between
// every pair of paths.
// Cells: 'lstm'; 'gru' = Keras reset_after=False (the only GRU tfjs has: its
// GRUCell throws on resetAfter=true), and 'gru_torch' = PyTorch's GRU (Keras
// reset_after=True), ours only; 'rnn' = SimpleRNN tanh. recurrentActivation is
// 'sigmoid' everywhere (tfjs's default is hard sigmoid).
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { Adam, SGD, createRuntime, mseLoss, type Recurrent, type Runtime, type Tensor } from '../src/index';
import { measureCpuRoofline, rooflineShare, type CpuRoofline, type RooflineShare } from './cpu_roofline';
import { EXPECTED_EP, createOrtSession, installNodeWriteBufferCopy, installOrtLogCapture, ortVersion, type OrtPath } from './ort';

export type Cell = 'lstm' | 'gru' | 'gru_torch' | 'rnn';
export type PathName =
  | 'ours-step'
  | 'ours-persistent'
  | 'ours-cpu'
  | 'tfjs-webgpu'
  | 'tfjs-webgpu-packed'
  | 'tfjs-cpu'
  | 'tfjs-wasm'
  | 'ours-wasm'
  | 'ort-webgpu'
  | 'ort-wasm';
/** (B, T, I, H) */
export type Shape = [number, number, number, number];

export const ALL_CELLS: Cell[] = ['lstm', 'gru', 'gru_torch', 'rnn'];
export const ALL_PATHS: PathName[] = [
  'ours-step',
  'ours-persistent',
  'ours-cpu',
  'ours-wasm',
  'tfjs-webgpu',
  'tfjs-webgpu-packed',
  'tfjs-cpu',
  'tfjs-wasm',
  'ort-webgpu',
  'ort-wasm',
];
/** The paths that run on the CPU: their rows are shown against the CPU roofline. */
export const CPU_PATHS: PathName[] = ['ours-cpu', 'ours-wasm', 'tfjs-cpu', 'tfjs-wasm', 'ort-wasm'];
const ORT_PATHS: PathName[] = ['ort-webgpu', 'ort-wasm'];
export const FULL_SHAPES: Shape[] = [
  [1, 1, 64, 128],
  [1, 256, 64, 128],
  [32, 64, 64, 128],
  [64, 100, 128, 256],
];
/** --quick's shapes (bench/run.mjs QUICK): the full matrix's first, and one short batched sequence. */
export const QUICK_SHAPES: Shape[] = [
  [1, 1, 64, 128],
  [2, 8, 64, 128],
];

export interface BenchConfig {
  cells: Cell[];
  shapes: Shape[];
  paths: PathName[];
  /**
   * Timed repetitions (samples): at most `reps`, at least `minReps`; between the two,
   * sampling stops once the samples of one measurement (a path's inference, or its
   * training step, on one row) have taken `budgetMs`. Every path has already run once
   * untimed before (the parity run; for training also one Adam update with zero
   * gradients), which compiled its shaders; `warmup` more untimed calls follow, except
   * for calls whose parity run took at least `longCallMs` (already warm, and long
   * enough that a warm-up call would cost as much as a sample).
   */
  reps: number;
  minReps: number;
  budgetMs: number;
  warmup: number;
  longCallMs: number;
  /** Time inference / the training step (false: parity only). */
  timings: boolean;
  train: boolean;
  roofline: boolean;
  /** Max abs output difference allowed between two paths (float32 vs float64 and vs float32). */
  tolOutput: number;
  /** Max gradient difference allowed, relative to the largest |gradient| of the pair. */
  tolGradRel: number;
  /** Browser: where the tfjs wasm binaries are served (setWasmPaths prefix). */
  wasmPrefix?: string;
  /** Browser: where ONNX Runtime Web's .wasm/.mjs files are served (env.wasm.wasmPaths). */
  ortPrefix?: string;
  /** Paths that only take part in parity (one untimed run, no timings): e.g. the CPU reference in scripts/gpu-bench.sh. */
  parityOnlyPaths?: PathName[];
  /** Tokens per generate() call in the generation rows (0: no generation rows; only with timings). */
  generateTokens: number;
  /**
   * tfjs-webgpu's GPU-only time is one extra tf.time() run per measurement, each
   * program in a pass of its own (on SwiftShader a training step so takes ~1.5× its
   * wall time): it is taken where the measurement's median is under this many ms.
   * Default 5000 (every run of tfjs-webgpu's GPU-only time where the call is longer
   * would cost ~11 min of the full matrix); 0: none; 1e9: every row.
   */
  tfjsGpuTimeMaxMs: number;
}

export const DEFAULT_CONFIG: BenchConfig = {
  cells: ['lstm', 'gru', 'gru_torch', 'rnn'],
  shapes: FULL_SHAPES,
  paths: ALL_PATHS,
  reps: 5,
  // 1 and 5 s: the full matrix in about half an hour on SwiftShader (2 cores, quiet); every
  // call under 5 s still gets ≥ 2 samples, and each median says how many it has
  minReps: 1,
  budgetMs: 5_000,
  warmup: 1,
  longCallMs: 1_000,
  timings: true,
  train: true,
  roofline: true,
  // Outputs are bounded by 1 (tanh/sigmoid); float32 recurrences over ≤ 256 steps
  // differ from float64 by ~1e-6 in our parity tests: 1e-4 leaves room for tfjs's
  // different summation orders without letting a wrong answer through.
  tolOutput: 1e-4,
  tolGradRel: 1e-3,
  generateTokens: 128,
  tfjsGpuTimeMaxMs: 5_000,
};

/** Generation rows: model.generate on a character-sized LSTM model (V, embedding, hidden). */
export const GENERATE_MODEL = { vocab: 64, dim: 64, hidden: 128, promptLen: 16, batches: [1, 8] };

/** One generation row: greedy model.generate(prompts, { maxNewTokens }) on one of our backends. */
export interface GenerationResult {
  path: 'ours-gpu' | 'ours-cpu';
  /** Prompts generated together (B). */
  batch: number;
  promptLen: number;
  newTokens: number;
  /** One generate() call: the prompt pass and newTokens steps, tokens read back every step. */
  timing: Timing;
  /** B · newTokens / the median call time. */
  tokensPerSec: number;
  /** The median call time / newTokens: one token step of the whole batch (prompt pass included, spread over the steps). */
  msPerStep: number;
}

export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** (max − min) / median over the repetitions. */
  spread: number;
  /** Samples taken: `config.reps` unless the time budget stopped sampling earlier (never fewer than `config.minReps`). */
  reps: number;
  /** Calls per timed sample (calls shorter than MIN_SAMPLE_MS are repeated; every time here is per call). */
  callsPerSample?: number;
  /** Sampling stopped at the time budget (config.budgetMs) with fewer than config.reps samples. */
  budgetStop?: boolean;
  /** Untimed warm-up calls made before the samples (config.warmup, or 0 for a call whose parity run took ≥ config.longCallMs). */
  warmupRuns?: number;
  /** Wall time of the timed samples together (the calibration call included), ms. */
  sampledMs?: number;
  /**
   * GPU-only time (timestamp queries, where the adapter offers 'timestamp-query'):
   * ours, the median over the same repetitions of the passes' summed time; tfjs-webgpu,
   * tf.time()'s kernelMs of one extra, untimed run after the samples (tfjs times each
   * program in a pass of its own).
   */
  gpuMs?: number;
  /** tfjs-webgpu: no GPU-only time taken, the call being at least config.tfjsGpuTimeMaxMs long. */
  gpuMsSkipped?: boolean;
}

export interface PathResult {
  path: PathName;
  ok: boolean;
  /** Why the path did not run (e.g. the persistent kernel's limits), or its error. */
  note?: string;
  infer?: Timing;
  train?: Timing;
  /** Per-step time of inference, ms / T. */
  perStepMs?: number;
  /** Wall time this path took on this row, everything included (model, parity runs, warm-ups, samples, GPU-only runs), ms. */
  wallMs?: number;
  /** Recurrence dispatches per time step (ours: stats.dispatchesPerStep; tfjs-webgpu: programs run / T). */
  dispatchesPerStep?: number;
  /** All dispatches of one inference call (ours: rt.stats() delta; tfjs-webgpu: runWebGPUProgram calls). */
  dispatchesPerCall?: number;
  trainDispatchesPerCall?: number;
  /** GPU bytes held by our runtime with the model built and one result alive. */
  gpuBytes?: number;
  /** Max abs output difference to the reference (ours-cpu, float64). */
  maxAbsVsRef?: number;
  /** Worst max abs output difference to any other path. */
  maxAbsWorstPair?: number;
  /** Max gradient difference to the reference, relative to max |g|. */
  gradRelVsRef?: number;
  gradRelWorstPair?: number;
  /** Any difference above its tolerance. */
  parityFail?: boolean;
  /** ONNX Runtime: "Op (name)" → the execution provider that ran it (from its verbose log). */
  providers?: Record<string, string>;
  /** ONNX Runtime: the provider of the recurrent node (null: the log did not say). */
  recurrentProvider?: string | null;
  /** ONNX Runtime: the recurrent node did not run on the path's provider (e.g. a CPU fallback under ort-webgpu), or the log did not say. */
  providerMismatch?: boolean;
  /** CPU paths: the row's achieved GFLOP/s and its share of the CPU roofline (bench/cpu_roofline.ts). */
  roofline?: { infer?: RooflineShare; train?: RooflineShare };
}

export interface CaseResult {
  cell: Cell;
  shape: Shape;
  paths: PathResult[];
  /** Max abs output difference per pair "a|b". */
  outputPairs: Record<string, number>;
  /** Relative gradient difference per pair "a|b". */
  gradPairs: Record<string, number>;
  /** Roofline floors on our adapter for this shape: an empty dispatch, and one recurrent-step matvec (B, H)·(H, G). */
  floor?: { emptyDispatchMs: number; matvecMs: number; matvecDispatches?: number };
}

export interface BenchResult {
  host: 'browser' | 'node';
  adapter: string;
  /** Whether our runtime timed its passes with timestamp queries (Timing.gpuMs). */
  timestamps: boolean;
  tfjsVersion: string;
  /** ONNX Runtime Web's version, when an ort path ran. */
  ortVersion?: string;
  /** Our wasm runtime's adapterName (its threads), or why there is none. */
  oursWasm?: string;
  /** Whether the page was cross-origin isolated (SharedArrayBuffer, wasm threads): browsers only. */
  crossOriginIsolated?: boolean;
  /** This engine's single-thread wasm SIMD bounds (with timings and roofline). */
  cpuRoofline?: CpuRoofline;
  config: BenchConfig;
  started: string;
  wallMs: number;
  cases: CaseResult[];
  /** Generation rows (absent when generateTokens is 0 or timings are off). */
  generation?: GenerationResult[];
  /** Parity failures, one line each. */
  failures: string[];
  /** What the paths are and where they differ, for the report. */
  notes: string[];
}

export const NOTES: string[] = [
  "Every path runs one single-layer model with the same Keras-convention weights (single bias), returnSequences, recurrentActivation 'sigmoid'.",
  "gru = Keras reset_after=False on every path: TensorFlow.js 4.22 has only that GRU (its GRUCell throws on resetAfter=true); ours runs it as gru_reset_forward + gru_v1_step_forward (2 dispatches per step).",
  "gru_torch = PyTorch's GRU (Keras reset_after=True: the reset gate multiplies W_hn·h + b_hn), our default; tfjs cannot build it, so only our paths run.",
  "tfjs-webgpu-packed = tfjs-webgpu with env flag WEBGPU_MATMUL_PROGRAM_TYPE = 3 (MatMulPackedProgram); as shipped (-1) it picks reduce/split-K/small-output matmuls for small outputs.",
  'Timing: up to config.reps samples per measurement (a path\'s inference, or its training step, on one row), at least config.minReps; sampling stops once the samples took config.budgetMs (each Timing says reps and budgetStop). Calls shorter than 20 ms are timed several to a sample. config.warmup untimed calls precede the samples, none where the parity run took at least config.longCallMs (it compiled everything, and a warm-up would cost as much as a sample). The training step\'s samples follow one Adam update with zero gradients (compiles Adam and creates its state without moving the weights) and one untimed real step (ours: the SGD parity step before it).',
  'Training step: forward + MSE loss (mean) + backward + Adam (ours: torch semantics, lr 1e-3, eps 1e-8; tfjs: lr 1e-3, eps 1e-7). Gradients for parity, at the common weights, in Keras layout: ours from one SGD step with lr 1 (g = w0 − w1); tfjs its own, from the first Adam step of the timings (minimize()\'s computeGradients and applyGradients, called one after the other), or tf.variableGrads without timings.',
  'Ours: inputs and targets are uploaded once (rt.tensor), outside the timed region; tfjs likewise (tf.tensor3d). Inference time includes reading the output back.',
  "ort-webgpu / ort-wasm: ONNX Runtime Web 1.30, `onnxruntime-web/webgpu` with executionProviders ['webgpu'] and `onnxruntime-web/wasm` with ['wasm'], env.wasm.numThreads = 1; the model (bench/onnx.ts) is torch.onnx.export's graph for the cell (Transpose, LSTM/GRU/RNN, Squeeze, Transpose) with the page's weights; gru runs as ONNX GRU linear_before_reset = 0, gru_torch as 1. The input is a CPU tensor made once (uploaded inside each run by ort-webgpu); the output is read back. Inference only. 'EP' says which provider ran the recurrent node, from ONNX Runtime's verbose log.",
  'CPU roofline: single-thread wasm SIMD128 f32x4 mul+add peak and streaming-read bandwidth measured on this page (bench/cpu_roofline.ts); a CPU row\'s FLOPs are 2·B·T·G·(I+H) for inference and 3× that for a training step, its bytes 4·(T·G·H + G·I + B·T·(I+H)) (3× for training); "% roofline" is the achieved GFLOP/s over min(peak, FLOPs/bytes · bandwidth), with the cache bandwidth (a 512 KiB buffer) where W_hh (4·G·H bytes) fits in 512 KiB, else the memory bandwidth (64 MiB).',
];

export type Progress = (line: string) => void;

// ---------------------------------------------------------------------------
// helpers

/** Deterministic values in [-1, 1) (an LCG, as demo/cli.mjs). */
export function data(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

const now = (): number => performance.now();
const fmtShape = (s: Shape) => `(${s.join(',')})`;
const message = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

function median(sorted: number[]): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/** A timed sample lasts at least this long: calls shorter than that are repeated back to back within it. */
export const MIN_SAMPLE_MS = 20;

/** How many samples one measurement takes, and when it stops (BenchConfig's fields of the same names). */
export type TimePlan = Pick<BenchConfig, 'reps' | 'minReps' | 'budgetMs' | 'warmup' | 'longCallMs'>;

export interface TimeOptions {
  /** Wall time of the last untimed call of the same work (its parity run), ms: at least plan.longCallMs → no warm-up calls. */
  warmMs?: number;
  /** Returns the GPU-only ms of the work since its last call (null: no timestamps); called outside the timed region. */
  gpu?: () => Promise<number | null>;
  /** The clock, ms (tests pass a fake one). Default performance.now(). */
  clock?: () => number;
}

/**
 * Wall time of `fn` (which finishes its GPU work): `plan.warmup` untimed calls
 * (none when the call's parity run, `warmMs`, took at least `plan.longCallMs`: it
 * is warm, and a warm-up would cost as much as a sample), then samples until there
 * are `plan.reps` of them or, once there are `plan.minReps`, the samples together
 * have taken `plan.budgetMs`; `reps` and `budgetStop` in the result say which.
 * Browsers round performance.now() (Chromium: to 0.1 ms on a page that is not
 * cross-origin isolated), so a call shorter than MIN_SAMPLE_MS is timed as k
 * back-to-back calls per sample (k from the first timed call, the calibration),
 * reported per call. A calibration call of MIN_SAMPLE_MS or more is a sample of
 * one call, timed as every other (after the warm-up or the parity run), and is kept
 * as the first sample.
 */
export async function timeCalls(plan: TimePlan, fn: () => Promise<void>, opts: TimeOptions = {}): Promise<Timing> {
  const clock = opts.clock ?? now;
  const gpu = opts.gpu;
  const reps = Math.max(1, plan.reps);
  const minReps = Math.min(reps, Math.max(1, plan.minReps));
  const warmupRuns = opts.warmMs !== undefined && opts.warmMs >= plan.longCallMs ? 0 : plan.warmup;
  for (let i = 0; i < warmupRuns; i++) await fn();
  await gpu?.(); // restart its sum
  const ms: number[] = [];
  const gpuMs: number[] = [];
  const c0 = clock();
  await fn(); // calibration: how many calls make one sample
  const once = clock() - c0;
  let spent = once;
  let k = 1;
  if (once >= MIN_SAMPLE_MS) {
    ms.push(once);
    const g = gpu ? await gpu() : null;
    if (g !== null) gpuMs.push(g);
  } else {
    k = Math.min(1000, Math.ceil(MIN_SAMPLE_MS / Math.max(once, 0.05)));
    await gpu?.(); // the calibration call is no sample: drop its GPU time
  }
  while (ms.length < reps && (ms.length < minReps || spent < plan.budgetMs)) {
    const t0 = clock();
    for (let j = 0; j < k; j++) await fn();
    const dt = clock() - t0;
    spent += dt;
    ms.push(dt / k);
    const g = gpu ? await gpu() : null;
    if (g !== null) gpuMs.push(g / k);
  }
  ms.sort((a, b) => a - b);
  gpuMs.sort((a, b) => a - b);
  const med = median(ms);
  const out: Timing = {
    medianMs: med,
    minMs: ms[0],
    maxMs: ms[ms.length - 1],
    spread: med > 0 ? (ms[ms.length - 1] - ms[0]) / med : 0,
    reps: ms.length,
    callsPerSample: k,
    budgetStop: ms.length < reps,
    warmupRuns,
    sampledMs: spent,
  };
  if (gpuMs.length === ms.length) out.gpuMs = median(gpuMs);
  return out;
}

/** Timed calls in all that timeCalls made (its samples, and a calibration call that was no sample). */
export const timedCalls = (t: Timing): number => t.reps * (t.callsPerSample ?? 1) + ((t.callsPerSample ?? 1) > 1 ? 1 : 0);

/** "n=3 of 5, budget" / "n=5 ×12 calls" / "n=2, no warm-up": how a median was taken, for the progress lines. */
function repsText(t: Timing, cfg: TimePlan): string {
  const parts = [`n=${t.reps}${t.budgetStop ? ` of ${cfg.reps}, budget` : ''}`];
  if ((t.callsPerSample ?? 1) > 1) parts.push(`×${t.callsPerSample} calls`);
  if (t.warmupRuns === 0 && cfg.warmup > 0) parts.push('no warm-up');
  return parts.join(', ');
}

/** Runs `fn` once and returns how long it took, ms (an untimed run: a parity run, whose duration decides the warm-up). */
async function lasting(fn: () => Promise<void>): Promise<number> {
  const t0 = now();
  await fn();
  return now() - t0;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** max |a − b| / max(|a|, |b|) over the flattened gradients. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]), Math.abs(b[i] ?? 0));
  return maxAbsDiff(a, b) / (scale || 1);
}

function concat(parts: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------
// our paths

function makeLayer(rt: Runtime, cell: Cell, I: number, H: number): Recurrent {
  const opts = { inputSize: I, hiddenSize: H, convention: 'keras' as const, seed: 1, returnSequences: true };
  if (cell === 'lstm') return rt.lstm(opts);
  if (cell === 'rnn') return rt.simpleRNN({ ...opts, nonlinearity: 'tanh' });
  return rt.gru({ ...opts, resetAfter: cell === 'gru_torch' });
}

/** Keras weights [kernel, recurrent_kernel, bias] flattened, for gradients as w0 − w1. */
function kerasFlat(layer: Recurrent): Float64Array {
  const w = layer.kerasWeights()[0][0];
  return concat([w.kernel, w.recurrentKernel, w.bias]);
}

interface Run {
  output: Float32Array | Float64Array;
  grad: Float64Array | null;
  result: PathResult;
}

async function finish(rt: Runtime): Promise<void> {
  const dev = rt.device;
  if (dev) await dev.queue.onSubmittedWorkDone();
}

async function runOurs(
  rt: Runtime,
  path: 'ours-step' | 'ours-persistent' | 'ours-cpu' | 'ours-wasm',
  cell: Cell,
  shape: Shape,
  weights: { kernel: Float32Array; recurrentKernel: Float32Array; bias: Float32Array },
  x: Float32Array,
  target: Float32Array,
  cfg: BenchConfig,
): Promise<Run> {
  const [B, T, I, H] = shape;
  // the path option is the GPU's; the CPU and wasm backends get none
  const gpuPath = rt.backend !== 'webgpu' ? undefined : path === 'ours-persistent' ? 'persistent' : 'step';
  const result: PathResult = { path, ok: false };
  const mem0 = rt.memory().bytes;
  const layer = makeLayer(rt, cell, I, H);
  const xT = rt.tensor(x, [B, T, I]);
  const yT = rt.tensor(target, [B, T, H]);
  try {
    layer.loadKerasWeights([weights]);
    const fwd = () => layer.forward(xT, { batch: B, seqLen: T, path: gpuPath });
    // parity run (also the warm-up that compiles the pipelines)
    const d0 = rt.stats().dispatches;
    const p0 = now();
    const first = await fwd();
    const output = await first.output.read();
    const warmInfer = now() - p0;
    result.dispatchesPerCall = rt.stats().dispatches - d0;
    result.dispatchesPerStep = rt.backend === 'webgpu' ? first.stats.dispatchesPerStep : undefined;
    result.gpuBytes = rt.backend === 'webgpu' ? rt.memory().bytes - mem0 : undefined;
    first.output.dispose();
    first.h.dispose();
    first.c?.dispose();

    // gradient parity: one SGD step with lr 1 from the common weights, g = w0 − w1 (Keras layout)
    let grad: Float64Array | null = null;
    let warmTrain: number | undefined;
    if (cfg.train) {
      const w0 = kerasFlat(layer);
      const sgd = new SGD(layer.parameters(), { lr: 1, runtime: rt });
      warmTrain = await lasting(() => trainStep(rt, layer, xT, yT, B, T, gpuPath, sgd));
      await layer.syncWeights();
      const w1 = kerasFlat(layer);
      grad = w0.map((v, i) => v - w1[i]);
      sgd.dispose();
      layer.loadKerasWeights([weights]);
    }

    if (cfg.timings && !cfg.parityOnlyPaths?.includes(path)) {
      const gpuMs = rt.timestamps ? async () => (await rt.gpuTime())?.ms ?? null : undefined;
      result.infer = await timeCalls(
        cfg,
        async () => {
          const r = await fwd();
          await r.output.read();
          r.output.dispose();
          r.h.dispose();
          r.c?.dispose();
        },
        { warmMs: warmInfer, gpu: gpuMs },
      );
      result.perStepMs = result.infer.medianMs / T;
      if (cfg.train) {
        const adam = new Adam(layer.parameters(), { lr: 1e-3, runtime: rt });
        try {
          // Adam's first update with zero gradients: compiles its kernels and touches
          // its state without moving the weights (m = v = 0, so the update is 0); the
          // forward and backward were compiled by the parity step
          layer.zeroGrad();
          await adam.step();
          await finish(rt);
          // dispatches per training step: the runtime counts them anyway, so over the timed calls
          const d1 = rt.stats().dispatches;
          result.train = await timeCalls(cfg, () => trainStep(rt, layer, xT, yT, B, T, gpuPath, adam), { warmMs: warmTrain, gpu: gpuMs });
          const calls = timedCalls(result.train) + (result.train.warmupRuns ?? 0);
          result.trainDispatchesPerCall = (rt.stats().dispatches - d1) / calls;
        } finally {
          adam.dispose();
        }
      }
    }
    result.ok = true;
    return { output, grad, result };
  } finally {
    xT.dispose();
    yT.dispose();
    layer.dispose();
  }
}

/** forward(record) → MSE → backward → optimizer step; the GPU work is finished when it returns. */
async function trainStep(
  rt: Runtime,
  layer: Recurrent,
  xT: Tensor,
  yT: Tensor,
  B: number,
  T: number,
  path: 'step' | 'persistent' | undefined,
  opt: SGD | Adam,
): Promise<void> {
  layer.zeroGrad();
  const r = await layer.forward(xT, { batch: B, seqLen: T, path, record: true });
  const { loss, grad } = await mseLoss(rt, r.output, yT);
  const bw = await layer.backward(r.tape!, { dOutput: grad });
  await opt.step();
  await finish(rt);
  for (const t of [r.output, r.h, r.c, loss, grad, bw.dx, bw.dh0, bw.dc0]) t?.dispose();
}

// ---------------------------------------------------------------------------
// tfjs paths

let wasmReady = false;
/** The wasm build tfjs picked (SIMD, threads), once the wasm backend ran. */
let wasmFlags = '';

async function useTfBackend(path: PathName, cfg: BenchConfig): Promise<void> {
  const name = path === 'tfjs-cpu' ? 'cpu' : path === 'tfjs-wasm' ? 'wasm' : 'webgpu';
  if (name === 'wasm' && !wasmReady) {
    if (cfg.wasmPrefix) setWasmPaths(cfg.wasmPrefix);
    wasmReady = true;
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
  if (name === 'wasm' && !wasmFlags) {
    const flag = async (f: string) => String(await tf.env().getAsync(f)); // async flags
    wasmFlags = `SIMD ${await flag('WASM_HAS_SIMD_SUPPORT')}, threads ${await flag('WASM_HAS_MULTITHREAD_SUPPORT')}`;
  }
  if (name === 'webgpu') tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', path === 'tfjs-webgpu-packed' ? 3 : -1);
}

function makeTfModel(cell: Cell, shape: Shape): tf.Sequential {
  const [, T, I, H] = shape;
  // zeros, not tfjs's default orthogonal initialiser (about a minute per model on
  // SwiftShader): the weights are set right after.
  const common = {
    units: H,
    inputShape: [T, I],
    returnSequences: true,
    kernelInitializer: 'zeros' as const,
    recurrentInitializer: 'zeros' as const,
    biasInitializer: 'zeros' as const,
  };
  const layer =
    cell === 'lstm'
      ? tf.layers.lstm({ ...common, recurrentActivation: 'sigmoid', unitForgetBias: false })
      : cell === 'gru'
        ? // always Keras reset_after=False: tfjs's GRUCell throws on resetAfter=true
          tf.layers.gru({ ...common, recurrentActivation: 'sigmoid' })
        : tf.layers.simpleRNN({ ...common, activation: 'tanh' });
  return tf.sequential({ layers: [layer] });
}

async function tfFlat(model: tf.Sequential): Promise<Float64Array> {
  // async reads: tfjs-webgpu's readSync goes through an OffscreenCanvas (none in Node)
  return concat(await Promise.all(model.getWeights().map((w) => w.data())));
}

/** Counts tfjs-webgpu program runs (its dispatches) while fn runs. */
async function countPrograms(fn: () => Promise<void>): Promise<number | undefined> {
  const be = tf.backend() as unknown as { runWebGPUProgram?: (...a: unknown[]) => unknown };
  if (tf.getBackend() !== 'webgpu' || typeof be.runWebGPUProgram !== 'function') {
    await fn();
    return undefined;
  }
  const orig = be.runWebGPUProgram;
  let n = 0;
  be.runWebGPUProgram = function (this: unknown, ...a: unknown[]) {
    n++;
    return orig.apply(this, a);
  };
  try {
    await fn();
  } finally {
    be.runWebGPUProgram = orig;
  }
  return n;
}

async function runTf(
  path: PathName,
  cell: Cell,
  shape: Shape,
  weights: { kernel: Float32Array; recurrentKernel: Float32Array; bias: Float32Array },
  x: Float32Array,
  target: Float32Array,
  cfg: BenchConfig,
): Promise<Run> {
  const [B, T, I, H] = shape;
  const result: PathResult = { path, ok: false };
  if (cell === 'gru_torch') return { output: new Float32Array(0), grad: null, result: { ...result, note: 'tfjs GRU has no reset_after=True' } };
  await useTfBackend(path, cfg);
  const G = weights.kernel.length / I;
  const model = makeTfModel(cell, shape);
  model.setWeights([tf.tensor2d(weights.kernel, [I, G]), tf.tensor2d(weights.recurrentKernel, [H, G]), tf.tensor1d(weights.bias)]);
  const xT = tf.tensor3d(x, [B, T, I]);
  const yT = tf.tensor3d(target, [B, T, H]);
  try {
    let output: Float32Array = new Float32Array(0);
    const timings = cfg.timings && !cfg.parityOnlyPaths?.includes(path);
    // tfjs-webgpu's GPU-only time: tf.time()'s kernelMs (each program in a pass of its
    // own, timestamps around it) of one more, untimed run after the samples. Not of the
    // first run: there (Dawn on SwiftShader, an LSTM (4, 48, 64, 128)) kernelMs came out
    // 15–25 % above the warm runs'.
    const timed = timings && tfTimestamps();
    const gpuTimeOf = (t: Timing) => timed && t.medianMs < cfg.tfjsGpuTimeMaxMs;
    // parity run, also the warm-up that compiles tfjs's shaders, and the program count
    const p0 = now();
    result.dispatchesPerCall = await countPrograms(async () => {
      const y = model.predict(xT) as tf.Tensor;
      output = (await y.data()) as Float32Array;
      y.dispose();
    });
    const warmInfer = now() - p0;
    if (result.dispatchesPerCall !== undefined) result.dispatchesPerStep = result.dispatchesPerCall / T;

    const lossOf = () => tf.losses.meanSquaredError(yT, model.apply(xT) as tf.Tensor) as tf.Scalar;
    const step = async (opt: tf.Optimizer) => {
      const loss = opt.minimize(lossOf, true);
      await loss!.data(); // the update is queued before the loss: reading it waits for the step
      loss!.dispose();
    };
    // gradients for parity, in Keras layout (kernel, recurrent kernel, bias), from the
    // common weights: tfjs's own gradients of the same loss, read directly
    const names = model.trainableWeights.map((w) => (w.read() as tf.Variable).name);
    const readGrads = async (grads: tf.NamedTensorMap) => {
      const g = concat(await Promise.all(names.map((n) => grads[n].data())));
      tf.dispose(Object.values(grads));
      return g;
    };
    let grad: Float64Array | null = null;
    if (cfg.train && !timings) {
      const { value, grads } = tf.variableGrads(lossOf);
      value.dispose();
      grad = await readGrads(grads);
    }

    if (timings) {
      result.infer = await timeCalls(
        cfg,
        async () => {
          const y = model.predict(xT) as tf.Tensor;
          await y.data();
          y.dispose();
        },
        { warmMs: warmInfer },
      );
      result.perStepMs = result.infer.medianMs / T;
      if (gpuTimeOf(result.infer)) result.infer.gpuMs = await tfKernelMs(() => (model.predict(xT) as tf.Tensor).dispose());
      else if (timed) result.infer.gpuMsSkipped = true;
      if (cfg.train) {
        // Keras's defaults; tfjs's Adam adds epsilon after the bias correction as torch does.
        const adam = tf.train.adam(1e-3, 0.9, 0.999, 1e-7);
        try {
          // Adam's first update with zero gradients: creates its moment variables and
          // compiles its kernels without moving the weights (m = v = 0, so the update is 0)
          const zeros = model.trainableWeights.map((w) => {
            const v = w.read() as tf.Variable;
            return { name: v.name, tensor: tf.zerosLike(v) };
          });
          adam.applyGradients(zeros);
          tf.dispose(zeros.map((z) => z.tensor));
          await tfFlat(model); // waits for the update
          // The first real step, untimed, from the common weights: minimize()'s own two
          // halves (computeGradients, applyGradients), so its gradients are kept for
          // parity; it compiles the backward and counts tfjs-webgpu's programs.
          let grads: tf.NamedTensorMap | undefined;
          const firstStep = () => {
            const r = adam.computeGradients(lossOf);
            adam.applyGradients(r.grads as unknown as Parameters<typeof adam.applyGradients>[0]); // as minimize() passes them
            r.value.dispose();
            grads = r.grads;
          };
          const p0 = now();
          if (tf.getBackend() === 'webgpu') result.trainDispatchesPerCall = await countPrograms(async () => firstStep());
          else firstStep();
          grad = await readGrads(grads!);
          await tfFlat(model); // waits for the update
          const warmTrain = now() - p0;
          result.train = await timeCalls(cfg, () => step(adam), { warmMs: warmTrain });
          if (gpuTimeOf(result.train)) result.train.gpuMs = await tfKernelMs(() => adam.minimize(lossOf, true)!.dispose());
          else if (timed) result.train.gpuMsSkipped = true;
        } finally {
          adam.dispose();
        }
      }
    }
    result.ok = true;
    return { output, grad, result };
  } finally {
    xT.dispose();
    yT.dispose();
    model.dispose();
    if (path === 'tfjs-webgpu-packed') tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', -1);
  }
}

// ---------------------------------------------------------------------------
// ONNX Runtime paths (inference only)

async function runOrt(
  path: OrtPath,
  cell: Cell,
  shape: Shape,
  weights: { kernel: Float32Array; recurrentKernel: Float32Array; bias: Float32Array },
  x: Float32Array,
  cfg: BenchConfig,
): Promise<Run> {
  const [, T] = shape;
  const session = await createOrtSession(path, cell, shape, weights, x, cfg.ortPrefix);
  try {
    const result: PathResult = { path, ok: false, providers: session.placement.nodes, recurrentProvider: session.placement.recurrent };
    result.providerMismatch = !session.placement.recurrent || !EXPECTED_EP[path].includes(session.placement.recurrent);
    const notes: string[] = [];
    if (result.providerMismatch) {
      notes.push(
        session.placement.recurrent
          ? `the ${cell} node ran on ${session.placement.recurrent}, not ${EXPECTED_EP[path][0]}`
          : "ONNX Runtime's log did not say where the recurrent node ran",
      );
    }
    notes.push(...session.warnings.filter((w) => !/Rerunning with verbose output|Some nodes were not assigned/.test(w)).map((w) => w.replace(/^.*?\] /, '')));
    if (notes.length) result.note = notes.join('; ');
    const p0 = now();
    const output = await session.run(); // parity run, also the warm-up
    const parityMs = now() - p0;
    if (cfg.timings && !cfg.parityOnlyPaths?.includes(path)) {
      result.infer = await timeCalls(cfg, () => session.runOnly(), { warmMs: parityMs });
      result.perStepMs = result.infer.medianMs / T;
    }
    result.ok = true;
    return { output, grad: null, result };
  } finally {
    await session.release();
  }
}

/** Whether tfjs's current backend is webgpu on a device with timestamp queries. */
function tfTimestamps(): boolean {
  if (tf.getBackend() !== 'webgpu') return false;
  const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
  return !!device?.features.has('timestamp-query');
}

/** tf.time()'s GPU kernel time of `f` (webgpu with timestamps: each program timed in a pass of its own). */
async function tfKernelMs(f: () => void): Promise<number | undefined> {
  const info = await tf.time(f);
  return typeof info.kernelMs === 'number' ? info.kernelMs : undefined;
}

// ---------------------------------------------------------------------------
// roofline: an empty dispatch and one recurrent-step matvec on our adapter

const EMPTY_WGSL = /* wgsl */ `
@compute @workgroup_size(64) fn main() {}
`;

// y (B, G) = h (B, H) · W_hhᵀ, W_hhᵀ stored (H, G); one thread per output, as a
// fused step kernel's W_hh·h part (no gates, no state update).
const MATVEC_WGSL = /* wgsl */ `
struct Dims { B: u32, H: u32, G: u32, pad: u32 }
@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> h: array<f32>;      // (B, H)
@group(0) @binding(2) var<storage, read> whhT: array<f32>;   // (H, G)
@group(0) @binding(3) var<storage, read_write> y: array<f32>; // (B, G)
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= dims.B * dims.G) { return; }
  let b = i / dims.G;
  let g = i % dims.G;
  var acc = 0.0;
  for (var k = 0u; k < dims.H; k++) { acc += h[b * dims.H + k] * whhT[k * dims.G + g]; }
  y[i] = acc;
}
`;

/** A floor's sample (one pass of back-to-back dispatches) is about this long, with at least 4 and at most nMax dispatches. */
const FLOOR_SAMPLE_MS = 200;

/**
 * Per-dispatch time of back-to-back dispatches in one compute pass (the per-step
 * kernels' pattern), median of reps: nMax dispatches per pass, or fewer where one
 * dispatch is long (as many as make FLOOR_SAMPLE_MS, at least 4: the submit's
 * overhead is spread thin either way), from one untimed pass of 4 that also warms up.
 */
async function floorOf(dev: GPUDevice, B: number, H: number, G: number, nMax: number, reps: number): Promise<{ emptyDispatchMs: number; matvecMs: number; matvecDispatches: number }> {
  const empty = dev.createComputePipeline({ layout: 'auto', compute: { module: dev.createShaderModule({ code: EMPTY_WGSL }), entryPoint: 'main' } });
  const mv = dev.createComputePipeline({ layout: 'auto', compute: { module: dev.createShaderModule({ code: MATVEC_WGSL }), entryPoint: 'main' } });
  const buf = (size: number, usage: number) => dev.createBuffer({ size: Math.max(16, size), usage });
  const u = buf(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  dev.queue.writeBuffer(u, 0, new Uint32Array([B, H, G, 0]));
  const h = buf(B * H * 4, GPUBufferUsage.STORAGE);
  const w = buf(H * G * 4, GPUBufferUsage.STORAGE);
  const y = buf(B * G * 4, GPUBufferUsage.STORAGE);
  const bg = dev.createBindGroup({
    layout: mv.getBindGroupLayout(0),
    entries: [u, h, w, y].map((b, i) => ({ binding: i, resource: { buffer: b } })),
  });
  const run = async (pipe: GPUComputePipeline, groups: number, bind: GPUBindGroup | null, n: number) => {
    const enc = dev.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipe);
    if (bind) pass.setBindGroup(0, bind);
    for (let i = 0; i < n; i++) pass.dispatchWorkgroups(groups);
    pass.end();
    dev.queue.submit([enc.finish()]);
    await dev.queue.onSubmittedWorkDone();
  };
  const per = async (pipe: GPUComputePipeline, groups: number, bind: GPUBindGroup | null) => {
    const once = (await lasting(() => run(pipe, groups, bind, 4))) / 4;
    const n = Math.max(4, Math.min(nMax, Math.ceil(FLOOR_SAMPLE_MS / Math.max(once, 1e-3))));
    const t = await timeCalls({ reps, minReps: reps, budgetMs: Infinity, warmup: 0, longCallMs: Infinity }, () => run(pipe, groups, bind, n));
    return { ms: t.medianMs / n, n };
  };
  try {
    const e = await per(empty, 1, null);
    const m = await per(mv, Math.ceil((B * G) / 64), bg);
    return { emptyDispatchMs: e.ms, matvecMs: m.ms, matvecDispatches: m.n };
    // (many dispatches per submit and ≥ 5 repetitions: one submit's overhead would swamp a single short dispatch)
  } finally {
    for (const b of [u, h, w, y]) b.destroy();
  }
}

// ---------------------------------------------------------------------------
// the matrix

const gates = (cell: Cell) => (cell === 'lstm' ? 4 : cell === 'rnn' ? 1 : 3);

/** Node: expose Dawn as navigator.gpu so our runtime and tfjs-webgpu share one GPU instance. */
async function ensureNodeGpu(): Promise<void> {
  const g = globalThis as { navigator?: { gpu?: GPU }; process?: { versions?: { node?: string } } };
  if (g.navigator?.gpu || !g.process?.versions?.node) return;
  const name = 'webgpu'; // a variable keeps Vite from bundling Dawn into the page
  const mod = (await import(/* @vite-ignore */ name)) as { create: (flags: string[]) => GPU; globals: object };
  Object.assign(globalThis, mod.globals);
  const gpu = mod.create([]);
  const nav = { ...(g.navigator ?? {}), gpu, userAgent: 'node' };
  Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
  installNodeWriteBufferCopy(); // ONNX Runtime's shared wasm memory (bench/ort.ts)
}

function checkConfig(cfg: BenchConfig): void {
  const bad = (what: string, got: unknown, hint: string) => {
    throw new Error(`runBench: ${what} is ${JSON.stringify(got)}, expected ${hint}.`);
  };
  for (const c of cfg.cells) if (!ALL_CELLS.includes(c)) bad('a cell', c, `one of ${ALL_CELLS.join(', ')}`);
  for (const p of cfg.paths) if (!ALL_PATHS.includes(p)) bad('a path', p, `one of ${ALL_PATHS.join(', ')}`);
  for (const p of cfg.parityOnlyPaths ?? []) if (!ALL_PATHS.includes(p)) bad('a parity-only path', p, `one of ${ALL_PATHS.join(', ')}`);
  for (const s of cfg.shapes) if (s.length !== 4 || s.some((n) => !Number.isInteger(n) || n < 1)) bad('a shape', s, '(B, T, I, H), positive integers');
  if (!Number.isInteger(cfg.reps) || cfg.reps < 1) bad('reps', cfg.reps, 'an integer ≥ 1');
  if (!Number.isInteger(cfg.minReps) || cfg.minReps < 1) bad('minReps', cfg.minReps, 'an integer ≥ 1 (more than reps means reps)');
  if (!(cfg.budgetMs >= 0)) bad('budgetMs', cfg.budgetMs, 'a number of ms ≥ 0 (0: minReps samples only)');
  if (!(cfg.longCallMs >= 0)) bad('longCallMs', cfg.longCallMs, 'a number of ms ≥ 0');
  if (!Number.isInteger(cfg.warmup) || cfg.warmup < 0) bad('warmup', cfg.warmup, 'an integer ≥ 0');
  if (!(cfg.tfjsGpuTimeMaxMs >= 0)) bad('tfjsGpuTimeMaxMs', cfg.tfjsGpuTimeMaxMs, 'a number of ms ≥ 0');
  if (!Number.isInteger(cfg.generateTokens) || cfg.generateTokens < 0) bad('generateTokens', cfg.generateTokens, 'an integer ≥ 0');
}

/**
 * Tokens per second of greedy generation (Sequential.generate): Embedding (V, 64) →
 * LSTM (64 → 128) → Dense (128 → V), V = 64, default (seeded) weights, a 16-token
 * prompt per sequence, B = 1 and 8, on our GPU ('auto' path) and CPU. The tokens of
 * the two backends must be the same (temperature 0): a mismatch is a parity failure.
 */
async function runGeneration(gpu: Runtime, cpu: Runtime, cfg: BenchConfig, failures: string[], progress: Progress): Promise<GenerationResult[]> {
  const { vocab: V, dim, hidden, promptLen, batches } = GENERATE_MODEL;
  const n = cfg.generateTokens;
  const rows: GenerationResult[] = [];
  for (const B of batches) {
    const prompts = Array.from({ length: B }, (_, b) => Array.from(data(promptLen, 31 + b), (v) => Math.floor(((v + 1) / 2) * V) % V));
    const tokens: Record<string, number[][]> = {};
    for (const [path, rt] of [['ours-gpu', gpu], ['ours-cpu', cpu]] as const) {
      const model = rt.sequential([
        rt.embedding({ vocabSize: V, dim, seed: 1 }),
        rt.lstm({ inputSize: dim, hiddenSize: hidden, returnSequences: true, seed: 2 }),
        rt.dense({ inputSize: hidden, units: V, seed: 3 }),
      ]);
      try {
        const p0 = now();
        tokens[path] = await model.generate(prompts, { maxNewTokens: n }); // also compiles the pipelines
        const timing = await timeCalls(cfg, async () => void (await model.generate(prompts, { maxNewTokens: n })), { warmMs: now() - p0 });
        const row = { path, batch: B, promptLen, newTokens: n, timing, tokensPerSec: (B * n * 1000) / timing.medianMs, msPerStep: timing.medianMs / n };
        rows.push(row);
        progress(`generate B=${B} ${path}: ${row.tokensPerSec.toFixed(0)} tokens/s (${row.msPerStep.toFixed(2)} ms per step)`);
      } finally {
        model.dispose();
      }
    }
    const g = tokens['ours-gpu'];
    const c = tokens['ours-cpu'];
    if (JSON.stringify(g) !== JSON.stringify(c)) failures.push(`generate B=${B}: greedy tokens differ between ours-gpu and ours-cpu`);
  }
  return rows;
}

export async function runBench(partial: Partial<BenchConfig> = {}, progress: Progress = () => {}): Promise<BenchResult> {
  const cfg: BenchConfig = { ...DEFAULT_CONFIG, ...partial };
  checkConfig(cfg);
  const t0 = now();
  const host = typeof window === 'undefined' ? 'node' : 'browser';
  await ensureNodeGpu();
  // after navigator.gpu exists: the backend registers itself only if it does
  await import('@tensorflow/tfjs-backend-webgpu');
  // timestamps: GPU-only time of our passes, where the adapter offers 'timestamp-query'
  const gpu = await createRuntime({ timestamps: true });
  const cpu = await createRuntime({ backend: 'cpu' });
  // our wasm SIMD backend (issue 12), where this build has it; otherwise every
  // ours-wasm row says why not
  let wasm: Runtime | null = null;
  let oursWasm: string | undefined;
  if (cfg.paths.includes('ours-wasm')) {
    try {
      wasm = await createRuntime({ backend: 'wasm' });
      oursWasm = wasm.adapterName;
    } catch (e) {
      oursWasm = `not available: ${message(e)}`;
    }
  }
  if (cfg.paths.some((p) => ORT_PATHS.includes(p))) await installOrtLogCapture(); // before ONNX Runtime loads
  let cpuRoofline: CpuRoofline | undefined;
  if (cfg.timings && cfg.roofline && cfg.paths.some((p) => CPU_PATHS.includes(p))) {
    cpuRoofline = measureCpuRoofline();
    progress(
      `CPU roofline (wasm SIMD, 1 thread): ${cpuRoofline.peakGflops.toFixed(1)} GFLOP/s mul+add, ${cpuRoofline.bandwidthGBs.toFixed(1)} GB/s streaming read from memory, ${cpuRoofline.cacheBandwidthGBs.toFixed(1)} GB/s from cache`,
    );
  }
  let ortVer: string | undefined;
  const cases: CaseResult[] = [];
  const failures: string[] = [];
  let generation: GenerationResult[] | undefined;
  progress(`adapter: ${gpu.adapterName} (timestamp queries: ${gpu.timestamps ? 'yes' : 'no'}); tfjs ${tf.version.tfjs}; ${cfg.cells.length} cells × ${cfg.shapes.length} shapes × ${cfg.paths.length} paths`);
  try {
    let k = 0;
    const total = cfg.cells.length * cfg.shapes.length;
    for (const shape of cfg.shapes) {
      for (const cell of cfg.cells) {
        k++;
        const [B, T, I, H] = shape;
        const label = `${cell} ${fmtShape(shape)}`;
        // one set of weights for every path, Keras layout, from our CPU layer (convention 'keras')
        const src = makeLayer(cpu, cell, I, H);
        const weights = src.kerasWeights()[0][0];
        src.dispose();
        const x = data(B * T * I, 7);
        const target = data(B * T * H, 11).map((v) => v * 0.5);
        const runs = new Map<PathName, Run>();
        const c: CaseResult = { cell, shape, paths: [], outputPairs: {}, gradPairs: {} };
        for (const path of cfg.paths) {
          const p0 = now();
          let run: Run;
          try {
            if (path === 'ours-wasm' && !wasm) {
              run = { output: new Float32Array(0), grad: null, result: { path, ok: false, note: oursWasm } };
            } else if (path.startsWith('ours-')) {
              const rt = path === 'ours-cpu' ? cpu : path === 'ours-wasm' ? wasm! : gpu;
              run = await runOurs(rt, path as 'ours-step', cell, shape, weights, x, target, cfg);
            } else if (path === 'ort-webgpu' || path === 'ort-wasm') {
              run = await runOrt(path, cell, shape, weights, x, cfg);
              ortVer ??= await ortVersion(path);
            } else {
              run = await runTf(path, cell, shape, weights, x, target, cfg);
            }
          } catch (e) {
            run = { output: new Float32Array(0), grad: null, result: { path, ok: false, note: message(e) } };
          }
          if (run.result.ok) runs.set(path, run);
          run.result.wallMs = now() - p0;
          c.paths.push(run.result);
          const r = run.result;
          const timingText = (what: string, t: Timing) => `${what} ${t.medianMs.toFixed(2)} ms (${repsText(t, cfg)})`;
          progress(
            `[${k}/${total}] ${label} ${path}: ` +
              (r.ok ? (r.infer ? timingText('infer', r.infer) + (r.train ? `, ${timingText('train', r.train)}` : '') : 'ok') : `skipped (${r.note})`) +
              (r.recurrentProvider !== undefined ? ` [${cell} node on ${r.recurrentProvider ?? 'an unknown provider'}${r.providerMismatch ? ': NOT the path\'s provider' : ''}]` : '') +
              ` [${((now() - p0) / 1000).toFixed(1)} s]`,
          );
        }
        // parity between every pair of paths that ran
        const names = [...runs.keys()];
        for (let i = 0; i < names.length; i++) {
          for (let j = i + 1; j < names.length; j++) {
            const a = runs.get(names[i])!;
            const b = runs.get(names[j])!;
            c.outputPairs[`${names[i]}|${names[j]}`] = maxAbsDiff(a.output, b.output);
            if (a.grad && b.grad) c.gradPairs[`${names[i]}|${names[j]}`] = relDiff(a.grad, b.grad);
          }
        }
        const ref: PathName = runs.has('ours-cpu') ? 'ours-cpu' : names[0];
        for (const r of c.paths) {
          if (!r.ok) continue;
          const pairs = (m: Record<string, number>) => Object.entries(m).filter(([key]) => key.split('|').includes(r.path));
          const vsRef = (m: Record<string, number>) => (r.path === ref ? 0 : pairs(m).find(([key]) => key.split('|').includes(ref))?.[1]);
          const worst = (m: Record<string, number>) => pairs(m).reduce((w, [, v]) => Math.max(w, v), 0);
          r.maxAbsVsRef = vsRef(c.outputPairs);
          r.maxAbsWorstPair = worst(c.outputPairs);
          if (cfg.train) {
            r.gradRelVsRef = vsRef(c.gradPairs);
            r.gradRelWorstPair = worst(c.gradPairs);
          }
          r.parityFail = !(r.maxAbsWorstPair <= cfg.tolOutput) || (cfg.train && !((r.gradRelWorstPair ?? 0) <= cfg.tolGradRel));
        }
        for (const [key, v] of Object.entries(c.outputPairs)) if (!(v <= cfg.tolOutput)) failures.push(`${label} output ${key}: max |Δ| ${v.toExponential(2)} > ${cfg.tolOutput}`);
        for (const [key, v] of Object.entries(c.gradPairs)) if (!(v <= cfg.tolGradRel)) failures.push(`${label} gradient ${key}: rel |Δ| ${v.toExponential(2)} > ${cfg.tolGradRel}`);
        if (cfg.roofline && cfg.timings && gpu.device) {
          c.floor = await floorOf(gpu.device, B, H, gates(cell) * H, Math.max(T, 64), Math.max(cfg.reps, 5));
        }
        cases.push(c);
      }
    }
    if (cfg.timings && cfg.generateTokens > 0) generation = await runGeneration(gpu, cpu, cfg, failures, progress);
    if (cpuRoofline) {
      // measured again at the end, the best of both kept: other processes on the
      // machine can only lower a measured peak, never raise it
      const again = measureCpuRoofline();
      cpuRoofline = {
        ...cpuRoofline,
        peakGflops: Math.max(cpuRoofline.peakGflops, again.peakGflops),
        bandwidthGBs: Math.max(cpuRoofline.bandwidthGBs, again.bandwidthGBs),
        cacheBandwidthGBs: Math.max(cpuRoofline.cacheBandwidthGBs, again.cacheBandwidthGBs),
        cacheBandwidthRuns: [...cpuRoofline.cacheBandwidthRuns, ...again.cacheBandwidthRuns],
        gflopsRuns: [...cpuRoofline.gflopsRuns, ...again.gflopsRuns],
        bandwidthRuns: [...cpuRoofline.bandwidthRuns, ...again.bandwidthRuns],
        method: `${cpuRoofline.method}; measured at the start and at the end of the run, the best kept`,
      };
      progress(`CPU roofline at the end: ${again.peakGflops.toFixed(1)} GFLOP/s, ${again.bandwidthGBs.toFixed(1)} GB/s; kept ${cpuRoofline.peakGflops.toFixed(1)} GFLOP/s, ${cpuRoofline.bandwidthGBs.toFixed(1)} GB/s`);
      for (const c of cases) {
        for (const r of c.paths) {
          if (!r.ok || !CPU_PATHS.includes(r.path)) continue;
          r.roofline = {};
          if (r.infer) r.roofline.infer = rooflineShare(cpuRoofline, c.cell, c.shape, 'infer', r.infer.medianMs);
          if (r.train) r.roofline.train = rooflineShare(cpuRoofline, c.cell, c.shape, 'train', r.train.medianMs);
        }
      }
    }
  } finally {
    gpu.dispose();
    wasm?.dispose();
  }
  return {
    host,
    adapter: gpu.adapterName,
    timestamps: gpu.timestamps,
    tfjsVersion: tf.version.tfjs,
    ortVersion: ortVer,
    oursWasm,
    crossOriginIsolated: typeof window === 'undefined' ? undefined : !!(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated,
    cpuRoofline,
    config: cfg,
    started: new Date(Date.now() - (now() - t0)).toISOString(),
    wallMs: now() - t0,
    cases,
    generation,
    failures,
    notes: [...NOTES, ...(wasmFlags ? [`tfjs-wasm: ${wasmFlags}`] : [])],
  };
}

// ---------------------------------------------------------------------------
// browser entry (bench/index.html): ?config=<JSON of Partial<BenchConfig>>

declare global {
  interface Window {
    __done?: boolean;
    __result?: unknown;
  }
}

if (typeof window !== 'undefined' && document.querySelector('#bench-status')) {
  const status = document.querySelector('#bench-status')!;
  const log: Progress = (line) => {
    console.log(`[bench] ${line}`);
    status.textContent += `${line}\n`;
  };
  const raw = new URLSearchParams(location.search).get('config');
  const partial = raw ? (JSON.parse(raw) as Partial<BenchConfig>) : {};
  partial.wasmPrefix ??= '/node_modules/@tensorflow/tfjs-backend-wasm/dist/';
  partial.ortPrefix ??= '/node_modules/onnxruntime-web/dist/';
  runBench(partial, log)
    .then((r) => (window.__result = r))
    .catch((e: unknown) => (window.__result = { error: message(e), stack: e instanceof Error ? e.stack : undefined }))
    .finally(() => (window.__done = true));
}
