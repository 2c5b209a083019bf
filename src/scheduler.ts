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
// submission (WebGPU keeps them alive until the GPU is done with them).
import { LimitError } from './errors';
import type { GpuContext } from './gpu/context';
import type { EncodedOp } from './kernels/common';
import { matmulBiasForward } from './kernels/matmul';
import { persistentFloats, recurrenceSeqForward, recurrenceStepForward, type RecurrenceKind } from './kernels/recurrent';
import { directions, gateCount, layerInputSize, type RecurrentConfig } from './weights/types';

export interface GpuCellWeights {
  wih: GPUBuffer; // (G, I_l)
  whhT: GPUBuffer; // (H, G)  W_hhᵀ
  bih: GPUBuffer; // (G)
  bhh: GPUBuffer; // (G)
}

export type RecurrentPath = 'auto' | 'step' | 'persistent';

export interface RecurrentRunStats {
  backend: 'webgpu' | 'cpu';
  path: 'step' | 'persistent' | 'cpu';
  /** All compute dispatches of the call (input projections included). */
  dispatches: number;
  /** Recurrence dispatches per time step of one layer direction: 1 (2 for the Keras v1 GRU) per-step, 1/T persistent. */
  dispatchesPerStep: number;
}

export interface RecurrentRunArgs {
  x: GPUBuffer; // (B, T, I)
  B: number;
  T: number;
  lengths: Uint32Array; // (B)
  h0: GPUBuffer | null; // (L·D, B, H)
  c0: GPUBuffer | null; // (L·D, B, H)
  path: RecurrentPath;
}

export interface RecurrentRunResult {
  out: GPUBuffer; // (B, T, D·H)  owned by the caller
  hN: GPUBuffer; // (L·D, B, H)  owned by the caller
  cN: GPUBuffer | null; // (L·D, B, H) LSTM, owned by the caller
  stats: RecurrentRunStats;
}

/** Largest B·H handled by the single-workgroup persistent kernel under 'auto'. */
export const PERSISTENT_MAX_UNITS = 1024;

export function choosePath(ctx: GpuContext, kind: RecurrenceKind, B: number, H: number, requested: RecurrentPath): 'step' | 'persistent' {
  const bytes = persistentFloats(kind, B, H) * 4;
  const fits = bytes <= ctx.limits.maxComputeWorkgroupStorageSize;
  if (requested === 'persistent') {
    if (!fits) {
      throw new LimitError(
        `forward: the persistent kernel needs ${bytes} bytes of workgroup memory for B·H = ${B}·${H}, over this adapter's maxComputeWorkgroupStorageSize ${ctx.limits.maxComputeWorkgroupStorageSize}. Hint: use path 'step' or 'auto'.`,
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
  const kind: RecurrenceKind = { cell: cfg.cell, nonlinearity: cfg.nonlinearity, resetAfter: cfg.resetAfter };
  const path = choosePath(ctx, kind, B, H, a.path);
  const BH = B * H;

  const temps: GPUBuffer[] = [];
  const temp = (label: string, floats: number) => {
    const b = ctx.createStorage(label, floats);
    temps.push(b);
    return b;
  };
  const ops: EncodedOp[] = [];
  const stateCopies: { hs: GPUBuffer; cs: GPUBuffer | null; ld: number }[] = [];
  let hN: GPUBuffer | null = null;
  let cN: GPUBuffer | null = null;
  let out: GPUBuffer | null = null;
  try {
    const lengths = ctx.createStorage('lengths', a.lengths);
    temps.push(lengths);
    const rh = cfg.cell === 'gru' && !cfg.resetAfter && path === 'step' ? temp('gru.rh', BH) : null;
    let x = a.x;
    for (let l = 0; l < L; l++) {
      const layerOut = ctx.createStorage(`out_l${l}`, B * T * D * H);
      if (l < L - 1) temps.push(layerOut);
      else out = layerOut;
      for (let d = 0; d < D; d++) {
        const w = weights[l][d];
        const xg = temp(`xg_l${l}_d${d}`, B * T * G);
        const hs = temp(`hs_l${l}_d${d}`, (T + 1) * BH);
        const cs = cfg.cell === 'lstm' ? temp(`cs_l${l}_d${d}`, (T + 1) * BH) : null;
        ops.push(await matmulBiasForward(ctx, { x, w: w.wih, bias: w.bih, y: xg, M: B * T, N: G, K: layerInputSize(cfg, l) }));
        const bufs = { xg, whhT: w.whhT, bhh: w.bhh, lengths, hs, cs, out: layerOut, rh };
        const dims = { B, T, H, reverse: d === 1, outStride: D * H, outOffset: d * H };
        ops.push(await (path === 'step' ? recurrenceStepForward(ctx, kind, bufs, dims) : recurrenceSeqForward(ctx, kind, bufs, dims)));
        stateCopies.push({ hs, cs, ld: l * D + d });
      }
      x = layerOut;
    }
    hN = ctx.createStorage('h_n', L * D * BH);
    cN = cfg.cell === 'lstm' ? ctx.createStorage('c_n', L * D * BH) : null;
    const finalH = hN;
    const finalC = cN;
    await ctx.submit(`${cfg.cell}.forward`, (enc) => {
      for (const s of stateCopies) {
        if (a.h0) enc.copyBufferToBuffer(a.h0, s.ld * BH * 4, s.hs, 0, BH * 4);
        if (a.c0 && s.cs) enc.copyBufferToBuffer(a.c0, s.ld * BH * 4, s.cs, 0, BH * 4);
      }
      const pass = enc.beginComputePass({ label: `${cfg.cell}.forward` });
      for (const op of ops) op.record(pass);
      pass.end();
      for (const s of stateCopies) {
        enc.copyBufferToBuffer(s.hs, T * BH * 4, finalH, s.ld * BH * 4, BH * 4);
        if (s.cs && finalC) enc.copyBufferToBuffer(s.cs, T * BH * 4, finalC, s.ld * BH * 4, BH * 4);
      }
    });
  } catch (e) {
    ctx.destroyBuffer(out);
    ctx.destroyBuffer(hN);
    ctx.destroyBuffer(cN);
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
  };
}
