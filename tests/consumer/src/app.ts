// What a TypeScript app does with the installed package (tests/package.test.ts
// copies this folder into a fresh project, installs the packed tarball and runs
// it in Node on the CPU backend and on Dawn, and bundled by Vite in headless
// Chromium, on a page and in a Web Worker). Only the public entry is imported.
//
// runChecks() returns numbers and names; the test asserts on them:
//  - an LSTM and a GRU with fixed weights against a float64 reference written
//    here, independent of the library (PyTorch's equations);
//  - a Sequential (GRU → Dense) trained with fit and Adam: its loss curve, and on
//    the GPU the same curve from the library's CPU backend;
//  - typed errors: instanceof, err.name and String(err) in the built code.
import {
  Adam,
  DisposedError,
  RnnError,
  ShapeError,
  ValueError,
  WeightError,
  createRuntime,
  type BackendName,
  type History,
  type Runtime,
  type StateDict,
} from 'webgpu-rnn';

export interface ErrorCheck {
  /** The class the call must throw. */
  expected: string;
  /** err.name as thrown. */
  name: string;
  /** instanceof the expected class, RnnError and Error. */
  instanceOf: boolean;
  /** String(err), which starts with the name. */
  text: string;
}

export interface Report {
  backend: BackendName;
  adapterName: string;
  /** max |library − reference| over output, h (and c) of the fixed-weight layers. */
  lstmMaxErr: number;
  gruMaxErr: number;
  /** fit's loss per epoch. */
  losses: number[];
  /** On the GPU: max relative difference to the CPU backend's loss curve (0 on the CPU). */
  lossCurveMaxRel: number;
  summaryHasTotal: boolean;
  errors: ErrorCheck[];
  /** GPU buffers still live after every result was disposed. */
  liveBuffers: number;
}

// (B, T, I, H): tiny, WebGPU runs on SwiftShader in CI.
const B = 2;
const T = 3;
const I = 2;
const H = 3;

/** Deterministic weights in about ±0.6. */
function fill(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  for (let k = 0; k < n; k++) a[k] = 0.6 * Math.sin(1.7 * k + seed);
  return a;
}

function stateDict(gates: number): StateDict {
  return {
    weight_ih_l0: fill(gates * H * I, 1),
    weight_hh_l0: fill(gates * H * H, 2),
    bias_ih_l0: fill(gates * H, 3),
    bias_hh_l0: fill(gates * H, 4),
  };
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** Row r of W (rows × cols, row-major) · v. */
function rowDot(w: Float32Array, r: number, cols: number, v: ArrayLike<number>, off = 0): number {
  let s = 0;
  for (let k = 0; k < cols; k++) s += (w[r * cols + k] ?? 0) * (v[off + k] ?? 0);
  return s;
}

interface Ref {
  output: Float64Array; // (B, T, H)
  h: Float64Array; // (1, B, H)
  c: Float64Array; // (1, B, H), LSTM
}

/** PyTorch's nn.LSTM (gates i, f, g, o) or nn.GRU (gates r, z, n), one layer, batch-first. */
function reference(cell: 'lstm' | 'gru', sd: StateDict, x: Float32Array): Ref {
  const [wih, whh, bih, bhh] = (['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'] as const).map(
    (k) => sd[k] as Float32Array,
  ) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const G = (cell === 'lstm' ? 4 : 3) * H;
  const output = new Float64Array(B * T * H);
  const hOut = new Float64Array(B * H);
  const cOut = new Float64Array(B * H);
  for (let b = 0; b < B; b++) {
    let h = new Float64Array(H);
    let c = new Float64Array(H);
    for (let t = 0; t < T; t++) {
      const xo = (b * T + t) * I;
      const gi = new Float64Array(G);
      const gh = new Float64Array(G);
      for (let r = 0; r < G; r++) {
        gi[r] = rowDot(wih, r, I, x, xo) + (bih[r] ?? 0);
        gh[r] = rowDot(whh, r, H, h) + (bhh[r] ?? 0);
      }
      const hn = new Float64Array(H);
      const cn = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const g = (q: number, src: Float64Array): number => src[q * H + j] ?? 0;
        if (cell === 'lstm') {
          const a = (q: number): number => g(q, gi) + g(q, gh);
          cn[j] = sigmoid(a(1)) * (c[j] ?? 0) + sigmoid(a(0)) * Math.tanh(a(2));
          hn[j] = sigmoid(a(3)) * Math.tanh(cn[j] ?? 0);
        } else {
          const r = sigmoid(g(0, gi) + g(0, gh));
          const z = sigmoid(g(1, gi) + g(1, gh));
          const n = Math.tanh(g(2, gi) + r * g(2, gh));
          hn[j] = (1 - z) * n + z * (h[j] ?? 0);
        }
      }
      h = hn;
      c = cn;
      output.set(h, (b * T + t) * H);
    }
    hOut.set(h, b * H);
    cOut.set(c, b * H);
  }
  return { output, h: hOut, c: cOut };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs((a[k] ?? NaN) - (b[k] ?? NaN)));
  return Number.isNaN(m) ? Infinity : m;
}

async function layerError(rt: Runtime, cell: 'lstm' | 'gru'): Promise<number> {
  const layer = cell === 'lstm' ? rt.lstm({ inputSize: I, hiddenSize: H }) : rt.gru({ inputSize: I, hiddenSize: H });
  const sd = stateDict(cell === 'lstm' ? 4 : 3);
  layer.loadTorchStateDict(sd);
  const x = fill(B * T * I, 5);
  const ref = reference(cell, sd, x);
  const { output, h, c } = await layer.forward(x, { batch: B, seqLen: T });
  let err = Math.max(maxAbsDiff(await output.read(), ref.output), maxAbsDiff(await h.read(), ref.h));
  if (cell === 'lstm') err = c ? Math.max(err, maxAbsDiff(await c.read(), ref.c)) : Infinity;
  output.dispose();
  h.dispose();
  c?.dispose();
  layer.dispose();
  return err;
}

/** GRU → Dense regression on 8 samples, one batch per epoch, Adam. */
async function train(rt: Runtime): Promise<{ history: History; summary: string }> {
  const N = 8;
  const x = fill(N * T * I, 7);
  const y = new Float32Array(N);
  for (let n = 0; n < N; n++) y[n] = 0.5 * Math.tanh((x[n * T * I] ?? 0) + (x[n * T * I + 3] ?? 0));
  const model = rt.sequential([rt.gru({ inputSize: I, hiddenSize: 4, seed: 3 }), rt.dense({ inputSize: 4, units: 1 })]);
  const optimizer = new Adam(model.parameters(), { lr: 0.05 });
  const history = await model.fit({ x, y, seqLen: T }, { loss: 'mse', optimizer, epochs: 12, batchSize: N, shuffle: false });
  const summary = model.summary();
  optimizer.dispose();
  model.dispose();
  return { history, summary };
}

async function expectError(expected: string, cls: abstract new (...args: never[]) => Error, call: () => unknown): Promise<ErrorCheck> {
  try {
    await call();
  } catch (err) {
    const e = err as Error;
    return {
      expected,
      name: e.name,
      instanceOf: err instanceof cls && err instanceof RnnError && err instanceof Error,
      text: String(err),
    };
  }
  return { expected, name: '(nothing thrown)', instanceOf: false, text: '' };
}

async function errorChecks(rt: Runtime): Promise<ErrorCheck[]> {
  const lstm = rt.lstm({ inputSize: I, hiddenSize: H });
  const checks = [
    await expectError('ShapeError', ShapeError, () => lstm.forward(new Float32Array(B * T * I + 1), { batch: B, seqLen: T })),
    await expectError('ValueError', ValueError, () => rt.gru({ inputSize: I, hiddenSize: -1 })),
    await expectError('WeightError', WeightError, () => lstm.loadTorchStateDict({ weight_ih_l0: new Float32Array(1) })),
  ];
  lstm.dispose();
  checks.push(await expectError('DisposedError', DisposedError, () => lstm.forward(fill(B * T * I, 0), { batch: B, seqLen: T })));
  return checks;
}

export async function runChecks(backend: BackendName): Promise<Report> {
  const rt = await createRuntime({ backend });
  const lstmMaxErr = await layerError(rt, 'lstm');
  const gruMaxErr = await layerError(rt, 'gru');
  const { history, summary } = await train(rt);
  const losses = history.history['loss'] ?? [];
  let lossCurveMaxRel = 0;
  if (backend !== 'cpu') {
    const cpu = await createRuntime({ backend: 'cpu' });
    const cpuLosses = (await train(cpu)).history.history['loss'] ?? [];
    cpu.dispose();
    lossCurveMaxRel = cpuLosses.length === losses.length ? 0 : Infinity;
    losses.forEach((l, k) => {
      const ref = cpuLosses[k] ?? NaN;
      lossCurveMaxRel = Math.max(lossCurveMaxRel, Math.abs(l - ref) / Math.abs(ref));
    });
  }
  const errors = await errorChecks(rt);
  const report: Report = {
    backend: rt.backend,
    adapterName: rt.adapterName,
    lstmMaxErr,
    gruMaxErr,
    losses,
    lossCurveMaxRel,
    summaryHasTotal: summary.includes('Total params'),
    errors,
    liveBuffers: rt.memory().buffers,
  };
  rt.dispose();
  return report;
}
