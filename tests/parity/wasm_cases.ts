// The wasm kernels, one call per case, against their float64 twins, on seeded random
// data: gemmNT and gemmPk (W as panels) vs matmulBiasRef, the stack forward (gemm + recForward per layer
// direction) vs stackForwardRef, and forward+backward (recBackward + the gradient
// GEMMs) vs stackForwardBackwardRef. Shared by tests/wasm_parity.test.ts (Node) and
// tests/browser/wasm_parity.ts (headless Chromium). Dense runs layer against layer
// (wasm runtime vs the reference runtime), its backward's twin being Dense's loops.
//
// Tolerances (the bars): forward values ≤ 1e-5 absolute; gradients ≤ 1e-4
// relative to the tensor's largest reference magnitude (|got − ref| ≤ 1e-4·max|ref|,
// floor 1e-6): float32 sums of up to T·B·G terms, compared normwise so a gradient
// entry near 0 is not held to a relative bar its float32 rounding cannot meet.
import { matmulBiasRef } from '../../src/reference/matmul';
import { stackForwardBackwardRef, stackForwardRef } from '../../src/reference/stack_backward';
import { Rng } from '../../src/weights/random';
import { initTorch } from '../../src/weights/init';
import { directions, type CellType, type GateActivation, type RecurrentConfig, type StackWeights } from '../../src/weights/types';
import { pad4, type WasmEngine } from '../../src/wasm/engine';
import { freeCell, packCell, wasmStackRun } from '../../src/wasm/recurrent';
import type { Runtime } from '../../src/index';
import { compare } from './compare';

export interface WasmRow {
  kernel: 'gemm' | 'forward' | 'backward';
  name: string;
  ok: boolean;
  maxAbs: number;
  detail: string;
}

const FWD = { atol: 1e-5 };
const gradTol = (ref: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ref[i]));
  return { atol: Math.max(1e-6, 1e-4 * m) };
};

export interface GemmCase {
  name: string;
  M: number;
  N: number;
  K: number;
  bias: boolean;
  act: 'none' | 'relu' | 'sigmoid' | 'tanh';
  scale: number;
  /** W as packPanels' 16-column panels through gemmPk (the forward's kernel), not gemmNT. */
  panels?: boolean;
}

export const gemmCases: GemmCase[] = [
  { name: 'gemm 1x1x1', M: 1, N: 1, K: 1, bias: true, act: 'none', scale: 1 },
  { name: 'gemm odd 7x5x3', M: 7, N: 5, K: 3, bias: true, act: 'none', scale: 1 },
  { name: 'gemm 65x33x17 relu', M: 65, N: 33, K: 17, bias: true, act: 'relu', scale: 1 },
  { name: 'gemm 130x12x64 no bias', M: 130, N: 12, K: 64, bias: false, act: 'none', scale: 1 },
  { name: 'gemm 9x6x10 sigmoid saturated', M: 9, N: 6, K: 10, bias: true, act: 'sigmoid', scale: 30 },
  { name: 'gemm 9x6x10 tanh saturated', M: 9, N: 6, K: 10, bias: true, act: 'tanh', scale: 30 },
  { name: 'gemm 5x8x300 tanh (K in two passes)', M: 5, N: 8, K: 300, bias: true, act: 'tanh', scale: 0.1 },
  { name: 'gemm 70x7x601 (K in three passes, M over two row blocks)', M: 70, N: 7, K: 601, bias: true, act: 'none', scale: 1 },
  // gemmPk: 2-row tiles, an odd last row, M = 1 (the B = 1 step), panels cut short (N % 16 ≠ 0)
  { name: 'panels 1x1x1', M: 1, N: 1, K: 1, bias: true, act: 'none', scale: 1, panels: true },
  { name: 'panels matvec 1x36x130', M: 1, N: 36, K: 130, bias: true, act: 'none', scale: 1, panels: true },
  { name: 'panels 2x16x8', M: 2, N: 16, K: 8, bias: false, act: 'none', scale: 1, panels: true },
  { name: 'panels odd 7x5x3 relu', M: 7, N: 5, K: 3, bias: true, act: 'relu', scale: 1, panels: true },
  { name: 'panels 33x44x70', M: 33, N: 44, K: 70, bias: true, act: 'none', scale: 1, panels: true },
  { name: 'panels 9x24x10 sigmoid saturated', M: 9, N: 24, K: 10, bias: true, act: 'sigmoid', scale: 30, panels: true },
  { name: 'panels 4x12x300 tanh', M: 4, N: 12, K: 300, bias: true, act: 'tanh', scale: 0.1, panels: true },
];

const ACT_CODE = { none: 0, relu: 1, sigmoid: 2, tanh: 3 } as const;

function rand(rng: Rng, n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-scale, scale);
  return a;
}

export function runGemmCase(eng: WasmEngine, c: GemmCase): WasmRow {
  const rng = new Rng(c.M * 1000 + c.N * 10 + c.K);
  const x = rand(rng, c.M * c.K, c.scale);
  const w = rand(rng, c.N * c.K, 1);
  const b = c.bias ? rand(rng, c.N, 1) : null;
  const ref = matmulBiasRef(x, w, b, c.M, c.N, c.K, c.act);
  const Kp = pad4(c.K);
  const Np = pad4(c.N);
  const sc = eng.scope();
  try {
    const px = sc.alloc(c.M * Kp);
    const pw = sc.alloc(Np * Kp);
    const pb = b ? sc.alloc(Np) : 0;
    const py = sc.alloc(c.M * Np);
    eng.write(px, Kp, x, c.M, c.K);
    eng.write(pw, Kp, w, c.N, c.K);
    if (b) eng.write(pb, Np, b, 1, c.N);
    if (c.panels) {
      const pp = sc.alloc(Math.ceil(Np / 16) * 16 * Kp);
      eng.k.packPanels(Np, Kp, pw, Kp, pp);
      eng.gemmPanels(c.M, Np, Kp, px, Kp, pp, py, Np, 0, 0, pb, ACT_CODE[c.act]); // split over the threads of a threaded engine
    } else eng.gemm(c.M, Np, Kp, px, Kp, pw, Kp, py, Np, 0, 0, pb, ACT_CODE[c.act]);
    const got = eng.read(py, Np, c.M, c.N, new Float64Array(c.M * c.N));
    const r = compare(c.name, ref, got, FWD, { dims: [c.M, c.N], names: ['m', 'n'] });
    return { kernel: 'gemm', ...r };
  } finally {
    sc.dispose();
  }
}

export interface StackCase {
  name: string;
  cell: CellType;
  B: number;
  T: number;
  I: number;
  H: number;
  layers?: number;
  bidirectional?: boolean;
  resetAfter?: boolean;
  act?: GateActivation;
  relu?: boolean;
  /** The cell activation of GRU/LSTM (Keras `activation`); SimpleRNN's via relu. */
  cellActivation?: 'tanh' | 'relu' | 'sigmoid' | 'linear';
  /** 'lengths': random lengths in [1, T]; 'mask': a random Keras mask; none: all steps. */
  steps?: 'lengths' | 'mask';
  h0?: boolean;
  /** Input magnitude: 30 saturates every gate. */
  scale?: number;
}

export const stackCases: StackCase[] = [
  { name: 'lstm B=T=H=1', cell: 'lstm', B: 1, T: 1, I: 1, H: 1 },
  { name: 'gru B=T=H=1', cell: 'gru', B: 1, T: 1, I: 1, H: 1 },
  { name: 'rnn B=T=H=1', cell: 'rnn', B: 1, T: 1, I: 1, H: 1 },
  { name: 'lstm odd 3x7x5x9 h0 c0', cell: 'lstm', B: 3, T: 7, I: 5, H: 9, h0: true },
  { name: 'lstm 2 layers bidirectional lengths', cell: 'lstm', B: 3, T: 6, I: 4, H: 5, layers: 2, bidirectional: true, steps: 'lengths', h0: true },
  { name: 'lstm saturated |x|=30', cell: 'lstm', B: 2, T: 5, I: 3, H: 6, scale: 30 },
  { name: 'lstm hardSigmoid mask', cell: 'lstm', B: 3, T: 6, I: 3, H: 7, act: 'hardSigmoid', steps: 'mask' },
  { name: 'lstm hardSigmoidKeras3 bidirectional', cell: 'lstm', B: 2, T: 5, I: 3, H: 4, act: 'hardSigmoidKeras3', bidirectional: true },
  { name: 'lstm B=1 T=16 H=16', cell: 'lstm', B: 1, T: 16, I: 8, H: 16 },
  { name: 'lstm T·B = 270 > 256 (weight gradients in K passes), lengths', cell: 'lstm', B: 3, T: 90, I: 3, H: 5, steps: 'lengths' },
  { name: 'gru B=33 (odd batch over two row blocks) T=2', cell: 'gru', B: 33, T: 2, I: 4, H: 6, h0: true },
  { name: 'gru reset_after odd h0', cell: 'gru', B: 3, T: 7, I: 5, H: 9, h0: true },
  { name: 'gru reset_after=false odd h0', cell: 'gru', B: 3, T: 7, I: 5, H: 9, resetAfter: false, h0: true },
  { name: 'gru reset_after=false 2 layers bidirectional mask', cell: 'gru', B: 3, T: 6, I: 4, H: 5, layers: 2, bidirectional: true, resetAfter: false, steps: 'mask' },
  { name: 'gru reset_after lengths hardSigmoid', cell: 'gru', B: 4, T: 5, I: 3, H: 6, steps: 'lengths', act: 'hardSigmoid' },
  { name: 'gru saturated |x|=30', cell: 'gru', B: 2, T: 5, I: 3, H: 6, scale: 30, resetAfter: false },
  { name: 'rnn tanh odd bidirectional lengths', cell: 'rnn', B: 3, T: 7, I: 5, H: 9, bidirectional: true, steps: 'lengths', h0: true },
  { name: 'rnn relu 2 layers mask', cell: 'rnn', B: 2, T: 6, I: 3, H: 5, layers: 2, relu: true, steps: 'mask' },
  { name: 'rnn saturated |x|=30', cell: 'rnn', B: 2, T: 4, I: 3, H: 5, scale: 30 },
  { name: 'lstm activation relu lengths', cell: 'lstm', B: 3, T: 5, I: 3, H: 6, cellActivation: 'relu', steps: 'lengths' },
  { name: 'lstm activation sigmoid bidirectional', cell: 'lstm', B: 2, T: 4, I: 3, H: 5, cellActivation: 'sigmoid', bidirectional: true },
  { name: 'gru activation linear mask', cell: 'gru', B: 3, T: 5, I: 3, H: 6, cellActivation: 'linear', steps: 'mask' },
  { name: 'gru reset_after=false activation sigmoid', cell: 'gru', B: 2, T: 5, I: 3, H: 7, cellActivation: 'sigmoid', resetAfter: false, h0: true },
  { name: 'rnn activation linear', cell: 'rnn', B: 2, T: 4, I: 3, H: 5, cellActivation: 'linear' },
  // B = 1: the one-row matvec tile of gemmPk at every step, masks, saturation, other activations
  { name: 'lstm B=1 2 layers bidirectional mask h0', cell: 'lstm', B: 1, T: 9, I: 5, H: 9, layers: 2, bidirectional: true, steps: 'mask', h0: true },
  { name: 'lstm B=1 saturated |x|=30', cell: 'lstm', B: 1, T: 6, I: 3, H: 6, scale: 30 },
  { name: 'lstm B=1 hardSigmoid activation relu', cell: 'lstm', B: 1, T: 5, I: 4, H: 7, act: 'hardSigmoid', cellActivation: 'relu' },
  { name: 'gru B=1 bidirectional mask h0', cell: 'gru', B: 1, T: 8, I: 5, H: 10, bidirectional: true, steps: 'mask', h0: true },
  { name: 'gru B=1 saturated |x|=30 hardSigmoidKeras3', cell: 'gru', B: 1, T: 5, I: 3, H: 5, scale: 30, act: 'hardSigmoidKeras3' },
  { name: 'gru B=1 H=33, activation sigmoid', cell: 'gru', B: 1, T: 4, I: 6, H: 33, cellActivation: 'sigmoid' },
  { name: 'gru reset_after=false B=1 mask h0', cell: 'gru', B: 1, T: 7, I: 4, H: 6, resetAfter: false, steps: 'mask', h0: true },
];

function configOf(c: StackCase): RecurrentConfig {
  return {
    cell: c.cell,
    inputSize: c.I,
    hiddenSize: c.H,
    numLayers: c.layers ?? 1,
    bidirectional: !!c.bidirectional,
    nonlinearity: c.cellActivation ?? (c.relu ? 'relu' : 'tanh'),
    resetAfter: c.resetAfter ?? true,
    recurrentActivation: c.act ?? 'sigmoid',
    bias: 'double',
  };
}

/** Both the forward and the backward rows of one case. */
export function runStackCase(eng: WasmEngine, c: StackCase): WasmRow[] {
  const cfg = configOf(c);
  const { B, T, H } = c;
  const LD = cfg.numLayers * directions(cfg);
  const rng = new Rng(B * 7919 + T * 104729 + H * 31 + c.I + c.cell.length);
  const weights: StackWeights = initTorch(cfg, rng.nextUint32());
  const x = rand(rng, B * T * c.I, c.scale ?? 1);
  const lengths = new Uint32Array(B).fill(T);
  let mask: Uint32Array | null = null;
  if (c.steps === 'lengths') for (let b = 0; b < B; b++) lengths[b] = b === 0 ? T : 1 + Math.floor(rng.next() * T);
  if (c.steps === 'mask') {
    mask = new Uint32Array(B * T);
    for (let i = 0; i < B * T; i++) mask[i] = rng.next() < 0.7 ? 1 : 0;
  }
  const h0 = c.h0 ? rand(rng, LD * B * H, 1) : null;
  const c0 = c.h0 && c.cell === 'lstm' ? rand(rng, LD * B * H, 1) : null;
  const dOutput = rand(rng, B * T * directions(cfg) * H, 1);
  const dhN = rand(rng, LD * B * H, 1);
  const dcN = c.cell === 'lstm' ? rand(rng, LD * B * H, 1) : null;
  const valid = new Uint32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) valid[b * T + t] = mask ? mask[b * T + t] : t < lengths[b] ? 1 : 0;

  const cells = weights.map((row, l) => row.map((w) => packCell(eng, cfg, l, w)));
  try {
    const args = { B, T, valid, keras: !!mask, h0, c0 };
    const fwd = wasmStackRun(eng, cfg, cells, x, args, null);
    const ref = stackForwardRef(cfg, weights, x, { B, T, lengths, mask, h0, c0 });
    const rows: WasmRow[] = [];
    const row = (kernel: WasmRow['kernel'], what: string, r: ArrayLike<number>, g: ArrayLike<number>, tol: { atol: number }) =>
      rows.push({ kernel, ...compare(`${c.name} ${what}`, r, g, tol) });
    row('forward', 'output', ref.output, fwd.output, FWD);
    row('forward', 'hN', ref.hN, fwd.hN, FWD);
    if (ref.cN) row('forward', 'cN', ref.cN, fwd.cN!, FWD);

    const bwOpts = { dOutput, dhN, dcN, stepGradNorms: true };
    const got = wasmStackRun(eng, cfg, cells, x, args, bwOpts);
    const rb = stackForwardBackwardRef(cfg, weights, x, { B, T, lengths, mask, h0, c0, ...bwOpts });
    row('backward', 'output (recorded forward)', rb.output, got.output, FWD);
    row('backward', 'dx', rb.dx, got.dx!, gradTol(rb.dx));
    row('backward', 'dh0', rb.dh0, got.dh0!, gradTol(rb.dh0));
    if (rb.dc0) row('backward', 'dc0', rb.dc0, got.dc0!, gradTol(rb.dc0));
    row('backward', 'stepGradNorms', rb.stepNorms!, got.stepNorms!, gradTol(rb.stepNorms!));
    for (let l = 0; l < cfg.numLayers; l++) {
      for (let d = 0; d < directions(cfg); d++) {
        const gr = rb.grads[l][d];
        const gg = got.grads![l][d];
        for (const k of ['dwih', 'dwhh', 'dbih', 'dbhh'] as const) row('backward', `${k} l${l} d${d}`, gr[k], gg[k], gradTol(gr[k]));
      }
    }
    return rows;
  } finally {
    for (const row of cells) for (const p of row) freeCell(eng, p);
  }
}

export interface DenseCase {
  name: string;
  M: number;
  K: number;
  N: number;
  act: 'none' | 'relu' | 'sigmoid' | 'tanh';
  scale: number;
}

export const denseCases: DenseCase[] = [
  { name: 'dense 1x1x1', M: 1, K: 1, N: 1, act: 'none', scale: 1 },
  { name: 'dense odd 7x5x3 tanh', M: 7, K: 5, N: 3, act: 'tanh', scale: 1 },
  { name: 'dense 33x17x9 relu', M: 33, K: 17, N: 9, act: 'relu', scale: 1 },
  { name: 'dense 6x10x5 sigmoid saturated', M: 6, K: 10, N: 5, act: 'sigmoid', scale: 30 },
];

/**
 * Dense forward (gemmNT with the activation fused) and backward (the gradient GEMMs) on
 * the wasm runtime against the same layer on the float64 reference runtime: y, dx, dW, db.
 */
export async function runDenseCase(wasm: Runtime, cpu: Runtime, c: DenseCase): Promise<WasmRow[]> {
  const rng = new Rng(c.M * 31 + c.K * 7 + c.N);
  const x = rand(rng, c.M * c.K, c.scale);
  const dy = rand(rng, c.M * c.N, 1);
  const out: Record<string, Record<string, ArrayLike<number>>> = {};
  for (const rt of [wasm, cpu]) {
    const layer = rt.dense({ inputSize: c.K, units: c.N, activation: c.act, seed: 3 });
    const r = await layer.record(x, [c.M, c.K]);
    const dx = await layer.backward(r.tape, dy);
    const [pw, pb] = layer.parameters();
    out[rt.backend] = { y: await r.output.read(), dx: await dx.read(), dW: Float64Array.from(pw.grad as Float64Array), db: Float64Array.from(pb.grad as Float64Array) };
    layer.dispose();
  }
  const ref = out.cpu;
  const got = out[wasm.backend];
  return [
    { kernel: 'forward', ...compare(`${c.name} y`, ref.y, got.y, FWD) },
    ...(['dx', 'dW', 'db'] as const).map((k) => ({ kernel: 'backward' as const, ...compare(`${c.name} ${k}`, ref[k], got[k], gradTol(ref[k])) })),
  ];
}
