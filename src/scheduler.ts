// The scheduler: turns a recurrent stack's forward pass into one command buffer.
//
//   for each layer l, direction d:
//     matmul_bias_forward     xg = x_l · W_ihᵀ + b_ih          (all T steps at once)
//     recurrence              per-step: T dispatches (2T for Keras reset_after=False GRU)
//                             persistent: 1 dispatch, state in workgroup memory
//   x_{l+1} = out_l (B, T, D·H)
//
// Initial states are copied into hs[0] on the GPU and final states copied out of
// hs[T]; nothing is read back to the CPU. Workspace buffers are freed after
// submission (WebGPU keeps them alive until the GPU is done with them), except,
// when recording for training, what the backward pass needs: the tape.
//
// Backward (recurrentBackwardGpu) walks the tape in exact reverse order:
//   for l = L−1 … 0, each direction d:
//     step backward × T (reverse)   dA (T, B, G), dxg (B, T, G), carry (2, B, H)
//                                   (2 dispatches per step for Keras reset_after=False GRU)
//     state_grad_backward           ∂L/∂h0, ∂L/∂c0 rows of (l, d)
//     dW_ih += dxgᵀ·x_l   db_ih += Σ dxg   dW_hhᵀ += hsᵀ·dA   db_hh += Σ dA
//                                   (Keras reset_after=False GRU: dW_hhᵀ in two column
//                                   blocks, [0, 2H) += hsᵀ·dA_rz, [2H, 3H) += (r ⊙ h)ᵀ·dA_n)
//     dx_l (+)= dxg·W_ih                    (the gradient passed to layer l−1)
// Weight gradients accumulate in buffers the layer owns until it zeroes them.
import { LimitError } from './errors';
import type { GpuContext } from './gpu/context';
import type { EncodedOp } from './kernels/common';
import { colsumGrad, matmulBiasForward, matmulGrad } from './kernels/matmul';
import { persistentFloats, recurrenceSeqForward, recurrenceStepBackward, recurrenceStepForward, stateGradBackward, stepGradNorms, type RecurrenceKind } from './kernels/recurrent';
import { directions, gateCount, layerInputSize, type RecurrentConfig } from './weights/types';

export interface GpuCellWeights {
  wih: GPUBuffer; // (G, I_l)
  whhT: GPUBuffer; // (H, G)  W_hhᵀ
  bih: GPUBuffer; // (G)
  bhh: GPUBuffer; // (G)
}

export type RecurrentPath = 'auto' | 'step' | 'persistent';

/**
 * Which (sample, step) pairs run. `valid` (B, T) u32: 1 = the step runs, 0 = it is
 * masked (the state is carried). keras = false: masked steps output 0 (PyTorch
 * packed sequences, from `lengths`: valid = t < lengths[b]); keras = true: a masked
 * step outputs the previous step's output (Keras masking, any mask position).
 */
export interface StepMask {
  valid: Uint32Array; // (B, T)
  keras: boolean;
}

export interface RecurrentRunStats {
  backend: 'webgpu' | 'cpu' | 'wasm';
  path: 'step' | 'persistent' | 'cpu' | 'wasm';
  /** All compute dispatches of the call (input projections included). */
  dispatches: number;
  /** Recurrence dispatches per time step of one layer direction: 1 (2 for the Keras v1 GRU) per-step, 1/T persistent. */
  dispatchesPerStep: number;
}

export interface RecurrentRunArgs {
  x: GPUBuffer; // (B, T, I)
  B: number;
  T: number;
  /** Which steps run: (B, T) u32, 1 = runs, 0 = masked; and how masked steps output (see StepMask). */
  steps: StepMask;
  h0: GPUBuffer | null; // (L·D, B, H)
  c0: GPUBuffer | null; // (L·D, B, H)
  path: RecurrentPath;
  /** Keep what backward needs (a tape) instead of freeing it. */
  record?: boolean;
}

/** What one recorded forward pass keeps on the GPU for its backward pass. */
export interface RecurrentTape {
  B: number;
  T: number;
  valid: GPUBuffer; // (B, T) u32 step mask
  kerasMask: boolean;
  inputs: GPUBuffer[]; // [l] (B, T, I_l): a copy of x for l = 0, layer l−1's output above
  dirs: { hs: GPUBuffer; cs: GPUBuffer | null; gates: GPUBuffer | null }[][]; // [l][d]
  /** Every buffer above; the tape owns them. */
  owned: GPUBuffer[];
}

/** Weight gradients of one layer direction, in the GPU layout (whh transposed). */
export interface GpuCellGrads {
  dwih: GPUBuffer; // (G, I_l)
  dwhhT: GPUBuffer; // (H, G)
  dbih: GPUBuffer; // (G)
  dbhh: GPUBuffer | null; // (G); null for single-bias layers (b_hh is not a parameter)
}

export interface RecurrentRunResult {
  out: GPUBuffer; // (B, T, D·H)  owned by the caller
  hN: GPUBuffer; // (L·D, B, H)  owned by the caller
  cN: GPUBuffer | null; // (L·D, B, H) LSTM, owned by the caller
  stats: RecurrentRunStats;
  tape: RecurrentTape | null; // when recording; owned by the caller
}

/**
 * 'auto' picks the single-workgroup persistent kernel for the smallest layers,
 * B·H ≤ 64, and the per-step kernels otherwise. Measured in Chromium on SwiftShader
 * (2 cores), LSTM / GRU / SimpleRNN inference, T = 64: persistent 10–25% faster at
 * B·H = 16…64 ((1, 16), (1, 32), (1, 64), (2, 32), (4, 16)), even at B·H = 96, and
 * slower from B·H = 128 on ((2, 64): 20%; (8, 32), (4, 64): 2×; (16, 64): 3×), where
 * the per-step kernels' batch rows per thread and both cores win.
 */
export const PERSISTENT_MAX_UNITS = 64;

export function choosePath(ctx: GpuContext, kind: RecurrenceKind, B: number, H: number, requested: RecurrentPath, op = 'forward'): 'step' | 'persistent' {
  const bytes = persistentFloats(kind, B, H) * 4;
  const fits = bytes <= ctx.limits.maxComputeWorkgroupStorageSize;
  if (requested === 'persistent') {
    if (!fits) {
      throw new LimitError(
        `${op}: the persistent kernel needs ${bytes} bytes of workgroup memory for B·H = ${B}·${H}, over this adapter's maxComputeWorkgroupStorageSize ${ctx.limits.maxComputeWorkgroupStorageSize}. Hint: use path 'step' or 'auto'.`,
      );
    }
    return 'persistent';
  }
  if (requested === 'step') return 'step';
  return fits && B * H <= PERSISTENT_MAX_UNITS ? 'persistent' : 'step';
}

export async function recurrentForwardGpu(ctx: GpuContext, cfg: RecurrentConfig, weights: GpuCellWeights[][], a: RecurrentRunArgs): Promise<RecurrentRunResult> {
  const { B, T } = a;
  const H = cfg.hiddenSize;
  const D = directions(cfg);
  const L = cfg.numLayers;
  const G = gateCount(cfg.cell) * H;
  const kind: RecurrenceKind = { cell: cfg.cell, nonlinearity: cfg.nonlinearity, resetAfter: cfg.resetAfter, recurrentActivation: cfg.recurrentActivation ?? 'sigmoid' };
  const path = choosePath(ctx, kind, B, H, a.path, `${{ rnn: 'SimpleRNN', gru: 'GRU', lstm: 'LSTM' }[cfg.cell]}.forward`);
  const BH = B * H;

  const temps: GPUBuffer[] = [];
  const kept: GPUBuffer[] = []; // the tape's, when recording
  const temp = (label: string, floats: number) => {
    const b = ctx.createStorage(label, floats);
    temps.push(b);
    return b;
  };
  const keep = (label: string, floats: number) => {
    const b = ctx.createStorage(label, floats);
    (a.record ? kept : temps).push(b);
    return b;
  };
  const tapeInputs: GPUBuffer[] = [];
  const tapeDirs: RecurrentTape['dirs'] = [];
  let xCopy: GPUBuffer | null = null;
  let validBuf: GPUBuffer | null = null;
  const ops: EncodedOp[] = [];
  const stateCopies: { hs: GPUBuffer; cs: GPUBuffer | null; ld: number }[] = [];
  let hN: GPUBuffer | null = null;
  let cN: GPUBuffer | null = null;
  let out: GPUBuffer | null = null;
  try {
    validBuf = ctx.createStorage('valid', a.steps.valid);
    (a.record ? kept : temps).push(validBuf);
    const rh = cfg.cell === 'gru' && !cfg.resetAfter && path === 'step' ? temp('gru.rh', BH) : null;
    let x = a.x;
    if (a.record) {
      xCopy = keep('tape.x', B * T * cfg.inputSize);
      x = xCopy;
    }
    for (let l = 0; l < L; l++) {
      tapeInputs.push(x);
      const layerOut = ctx.createStorage(`out_l${l}`, B * T * D * H);
      if (l < L - 1) (a.record ? kept : temps).push(layerOut);
      else out = layerOut;
      const dirs: RecurrentTape['dirs'][number] = [];
      for (let d = 0; d < D; d++) {
        const w = weights[l][d];
        const xg = temp(`xg_l${l}_d${d}`, B * T * G);
        const hs = keep(`hs_l${l}_d${d}`, (T + 1) * BH);
        const cs = cfg.cell === 'lstm' ? keep(`cs_l${l}_d${d}`, (T + 1) * BH) : null;
        const gates = a.record && cfg.cell !== 'rnn' ? keep(`gates_l${l}_d${d}`, T * B * 4 * H) : null;
        dirs.push({ hs, cs, gates });
        ops.push(await matmulBiasForward(ctx, { x, w: w.wih, bias: w.bih, y: xg, M: B * T, N: G, K: layerInputSize(cfg, l) }));
        const bufs = { xg, whhT: w.whhT, bhh: w.bhh, valid: validBuf, kerasMask: a.steps.keras, hs, cs, out: layerOut, rh, gates };
        const dims = { B, T, H, reverse: d === 1, outStride: D * H, outOffset: d * H };
        ops.push(await (path === 'step' ? recurrenceStepForward(ctx, kind, bufs, dims) : recurrenceSeqForward(ctx, kind, bufs, dims)));
        stateCopies.push({ hs, cs, ld: l * D + d });
      }
      tapeDirs.push(dirs);
      x = layerOut;
    }
    hN = ctx.createStorage('h_n', L * D * BH);
    cN = cfg.cell === 'lstm' ? ctx.createStorage('c_n', L * D * BH) : null;
    const finalH = hN;
    const finalC = cN;
    await ctx.submit(`${cfg.cell}.forward`, (enc) => {
      if (xCopy) enc.copyBufferToBuffer(a.x, 0, xCopy, 0, B * T * cfg.inputSize * 4);
      for (const s of stateCopies) {
        if (a.h0) enc.copyBufferToBuffer(a.h0, s.ld * BH * 4, s.hs, 0, BH * 4);
        if (a.c0 && s.cs) enc.copyBufferToBuffer(a.c0, s.ld * BH * 4, s.cs, 0, BH * 4);
      }
      const pass = enc.beginComputePass(ctx.passDescriptor(`${cfg.cell}.forward`));
      for (const op of ops) op.record(pass);
      pass.end();
      for (const s of stateCopies) {
        enc.copyBufferToBuffer(s.hs, T * BH * 4, finalH, s.ld * BH * 4, BH * 4);
        if (s.cs && finalC) enc.copyBufferToBuffer(s.cs, T * BH * 4, finalC, s.ld * BH * 4, BH * 4);
      }
    });
  } catch (e) {
    for (const op of ops) op.release();
    for (const b of [out, hN, cN, ...kept, ...temps]) ctx.destroyBuffer(b);
    await ctx.releaseDestroyed();
    throw e;
  } finally {
    for (const op of ops) op.release();
    for (const b of temps) ctx.destroyBuffer(b);
  }
  const total = ops.reduce((n, op) => n + op.dispatches, 0);
  const recurrent = total - L * D; // minus the input projections
  return {
    out: out!,
    hN: hN!,
    cN,
    stats: { backend: 'webgpu', path, dispatches: total, dispatchesPerStep: recurrent / (T * L * D) },
    tape: a.record ? { B, T, valid: validBuf!, kerasMask: a.steps.keras, inputs: tapeInputs, dirs: tapeDirs, owned: kept } : null,
  };
}

export interface RecurrentBackwardArgs {
  dOut: GPUBuffer; // (B, T, D·H) gradient of the output
  dhN: GPUBuffer | null; // (L·D, B, H) gradient of the final hidden states
  dcN: GPUBuffer | null; // (L·D, B, H) LSTM
  /** Also compute ‖∂L/∂h_t‖ of every step, per layer and direction (result.norms). */
  stepGradNorms?: boolean;
}

export interface RecurrentBackwardResult {
  dx: GPUBuffer; // (B, T, I), owned by the caller
  dh0: GPUBuffer; // (L·D, B, H), owned by the caller
  dc0: GPUBuffer | null; // LSTM, owned by the caller
  norms: GPUBuffer | null; // (L·D, T) ‖∂L/∂h_t‖ in time order, with stepGradNorms; owned by the caller
  dispatches: number;
}

/** Backpropagation through time over a recorded tape; accumulates into `grads`. */
export async function recurrentBackwardGpu(
  ctx: GpuContext,
  cfg: RecurrentConfig,
  weights: GpuCellWeights[][],
  grads: GpuCellGrads[][],
  tape: RecurrentTape,
  a: RecurrentBackwardArgs,
): Promise<RecurrentBackwardResult> {
  const { B, T } = tape;
  const H = cfg.hiddenSize;
  const D = directions(cfg);
  const L = cfg.numLayers;
  const G = gateCount(cfg.cell) * H;
  const BH = B * H;
  const kind: RecurrenceKind = { cell: cfg.cell, nonlinearity: cfg.nonlinearity, resetAfter: cfg.resetAfter, recurrentActivation: cfg.recurrentActivation ?? 'sigmoid' };
  // Keras reset_after=False GRU: its n rows of W_hh multiply r ⊙ h (block 3 of the
  // recorded gates), not h; their h term reaches carry inside the step backward.
  const v1 = cfg.cell === 'gru' && !cfg.resetAfter;
  const temps: GPUBuffer[] = [];
  const temp = (label: string, floats: number) => {
    const b = ctx.createStorage(label, floats);
    temps.push(b);
    return b;
  };
  const ops: EncodedOp[] = [];
  const carryInits: { carry: GPUBuffer; ld: number }[] = [];
  let dx: GPUBuffer | null = null;
  let dh0: GPUBuffer | null = null;
  let dc0: GPUBuffer | null = null;
  let norms: GPUBuffer | null = null;
  try {
    dh0 = ctx.createStorage('dh0', L * D * BH);
    norms = a.stepGradNorms ? ctx.createStorage('step_grad_norms', L * D * T) : null;
    dc0 = cfg.cell === 'lstm' ? ctx.createStorage('dc0', L * D * BH) : null;
    let dOut = a.dOut;
    for (let l = L - 1; l >= 0; l--) {
      const I = layerInputSize(cfg, l);
      const dIn = ctx.createStorage(`dx_l${l}`, B * T * I);
      if (l > 0) temps.push(dIn);
      else dx = dIn;
      for (let d = 0; d < D; d++) {
        const w = weights[l][d];
        const g = grads[l][d];
        const rec = tape.dirs[l][d];
        const ld = l * D + d;
        const dA = temp(`dA_l${l}_d${d}`, T * B * G);
        const dxg = temp(`dxg_l${l}_d${d}`, B * T * G);
        // dh, dc, Keras masks' output gradient; with stepGradNorms, then ∂L/∂h_t of every step
        const carry = temp(`carry_l${l}_d${d}`, (3 + (norms ? T : 0)) * BH);
        carryInits.push({ carry, ld });
        const dims = { B, T, H, reverse: d === 1, outStride: D * H, outOffset: d * H };
        ops.push(
          await recurrenceStepBackward(ctx, kind, { whhT: w.whhT, dout: dOut, valid: tape.valid, kerasMask: tape.kerasMask, hs: rec.hs, cs: rec.cs, gates: rec.gates, dA, dxg, carry, recordDh: !!norms }, dims),
        );
        if (norms) ops.push(await stepGradNorms(ctx, { carry, out: norms, B, T, H, ld, reverse: d === 1 }));
        ops.push(await stateGradBackward(ctx, { whhT: w.whhT, dA, carry, dh0, dc0, B, H, G, cols: v1 ? 2 * H : G, ld }));
        const x = tape.inputs[l];
        ops.push(await matmulGrad(ctx, { a: dxg, b: x, c: g.dwih, M: G, N: I, K: B * T, transA: true, accumulate: true }));
        ops.push(await colsumGrad(ctx, { y: dxg, out: g.dbih, M: B * T, N: G, accumulate: true }));
        if (v1 && rec.gates) {
          // dW_hhᵀ (H, G) in two column blocks of dA (T·B, G): r, z pair with h, n with r ⊙ h.
          const rz = { ld: G, offset: 0 };
          const n = { ld: G, offset: 2 * H };
          const rh = { ld: 4 * H, offset: 3 * H }; // block 3 of gates (T·B, 4H)
          ops.push(await matmulGrad(ctx, { a: rec.hs, b: dA, c: g.dwhhT, M: H, N: 2 * H, K: T * B, transA: true, accumulate: true, bView: rz, cView: rz }));
          ops.push(await matmulGrad(ctx, { a: rec.gates, b: dA, c: g.dwhhT, M: H, N: H, K: T * B, transA: true, accumulate: true, aView: rh, bView: n, cView: n }));
        } else {
          ops.push(await matmulGrad(ctx, { a: rec.hs, b: dA, c: g.dwhhT, M: H, N: G, K: T * B, transA: true, accumulate: true }));
        }
        if (g.dbhh) ops.push(await colsumGrad(ctx, { y: dA, out: g.dbhh, M: T * B, N: G, accumulate: true }));
        ops.push(await matmulGrad(ctx, { a: dxg, b: w.wih, c: dIn, M: B * T, N: I, K: G, transA: false, accumulate: d > 0 }));
      }
      dOut = dIn;
    }
    const done = { dx: dx!, dh0, dc0, norms };
    await ctx.submit(`${cfg.cell}.backward`, (enc) => {
      for (const c of carryInits) {
        if (a.dhN) enc.copyBufferToBuffer(a.dhN, c.ld * BH * 4, c.carry, 0, BH * 4);
        if (a.dcN) enc.copyBufferToBuffer(a.dcN, c.ld * BH * 4, c.carry, BH * 4, BH * 4);
      }
      const pass = enc.beginComputePass(ctx.passDescriptor(`${cfg.cell}.backward`));
      for (const op of ops) op.record(pass);
      pass.end();
    });
    return { ...done, dispatches: ops.reduce((n, op) => n + op.dispatches, 0) };
  } catch (e) {
    for (const op of ops) op.release();
    for (const b of [dx, dh0, dc0, norms, ...temps]) ctx.destroyBuffer(b);
    await ctx.releaseDestroyed();
    throw e;
  } finally {
    for (const op of ops) op.release();
    for (const b of temps) ctx.destroyBuffer(b);
  }
}

export function disposeTape(ctx: GpuContext, tape: RecurrentTape): void {
  for (const b of tape.owned) ctx.destroyBuffer(b);
  tape.owned.length = 0;
}
