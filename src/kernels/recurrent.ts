// The launchers the scheduler calls for a layer direction's recurrence, one per
// path, choosing the cell's kernels (defined in rnn.ts, gru.ts, lstm.ts):
//   SimpleRNN: rnn_step_forward.wgsl  / rnn_seq_forward.wgsl
//   GRU:       gru_step_forward.wgsl  / gru_seq_forward.wgsl   (reset_after = true)
//              gru_reset_forward.wgsl + gru_v1_step_forward.wgsl (reset_after = false, 2 dispatches)
//   LSTM:      lstm_step_forward.wgsl / lstm_seq_forward.wgsl
// and backward, per step in reverse: <cell>_step_backward.wgsl (1 dispatch), or for
// the reset_after = false GRU gru_v1_step_backward.wgsl + gru_v1_reset_backward.wgsl
// (2 dispatches), then state_grad_backward.wgsl once.
import stateGradWgsl from '../../shaders/state_grad_backward.wgsl?raw';
import stepGradNormsWgsl from '../../shaders/step_grad_norms.wgsl?raw';
import type { GpuContext, KernelDef } from '../gpu/context';
import type { CellActivation, CellType, GateActivation } from '../weights/types';
import { SEQ_PARAMS, encodeSingle, encodeSteps, persistentCapacity, ro, rw, seqParams, withCommon, type EncodedOp, type RecurrenceDims, type StepStage } from './common';
import { gruResetKernel, gruSeqKernel, gruStepBackwardKernel, gruStepKernel, gruV1ResetBackwardKernel, gruV1StepBackwardKernel, gruV1StepKernel } from './gru';
import { lstmSeqKernel, lstmStepBackwardKernel, lstmStepKernel } from './lstm';
import { rnnSeqKernel, rnnStepBackwardKernel, rnnStepKernel } from './rnn';

export interface RecurrenceKind {
  cell: CellType;
  /** The cell activation (the kernels' ACT override, see activate in common.wgsl). */
  nonlinearity: CellActivation;
  resetAfter: boolean;
  /** LSTM/GRU gate activation (the kernels' RACT override, see gate_act in common.wgsl). */
  recurrentActivation: GateActivation;
}

/** RACT of each gate activation. */
const RACT: Record<GateActivation, number> = { sigmoid: 0, hardSigmoid: 1, hardSigmoidKeras3: 2 };

/** ACT of each cell activation (activate / activate_grad in common.wgsl). */
const ACT: Record<CellActivation, number> = { linear: 0, relu: 1, sigmoid: 2, tanh: 3 };

export interface RecurrenceBuffers {
  xg: GPUBuffer; // (B, T, G)  x·W_ihᵀ + b_ih
  whhT: GPUBuffer; // (H, G)
  bhh: GPUBuffer; // (G)
  valid: GPUBuffer; // (B, T) u32: 1 = the step runs, 0 = masked
  /** Masked steps output the previous output (Keras) instead of 0 (PyTorch lengths). */
  kerasMask: boolean;
  hs: GPUBuffer; // (T+1, B, H), hs[0] = initial state
  cs: GPUBuffer | null; // (T+1, B, H), LSTM only
  out: GPUBuffer; // (B, T, outStride)
  rh: GPUBuffer | null; // (B, H) scratch, Keras reset_after=False GRU per-step path only
  gates: GPUBuffer | null; // (T, B, 4H) recorded activations when training (LSTM, GRU; the v1 GRU's block 3 is r ⊙ h)
}

/** Per-step path: one dispatch per time step (two for the reset_after=False GRU). */
export function recurrenceStepForward(ctx: GpuContext, kind: RecurrenceKind, bufs: RecurrenceBuffers, dims: RecurrenceDims): Promise<EncodedOp> {
  const { xg, whhT, bhh, valid, hs, out } = bufs;
  const RECORD = bufs.gates ? 1 : 0;
  const KERAS_MASK = bufs.kerasMask ? 1 : 0;
  const ract = RACT[kind.recurrentActivation];
  const act = ACT[kind.nonlinearity];
  const gates = bufs.gates ?? ctx.placeholder;
  const rows = batchRows(dims.B);
  let stages: StepStage[];
  if (kind.cell === 'lstm') {
    stages = [{ def: lstmStepKernel, constants: { RECORD, ROWS: rows, KERAS_MASK, RACT: ract, ACT: act }, rows, buffers: { xg, whhT, bhh, valid, hs, cs: need(bufs.cs, 'cs'), out, gates } }];
  } else if (kind.cell === 'rnn') {
    stages = [{ def: rnnStepKernel, constants: { ACT: act, ROWS: rows, KERAS_MASK }, rows, buffers: { xg, whhT, bhh, valid, hs, out } }];
  } else if (kind.resetAfter) {
    stages = [{ def: gruStepKernel, constants: { RECORD, ROWS: rows, KERAS_MASK, RACT: ract, ACT: act }, rows, buffers: { xg, whhT, bhh, valid, hs, out, gates } }];
  } else {
    const rh = need(bufs.rh, 'rh');
    stages = [
      { def: gruResetKernel, constants: { RECORD, ROWS: rows, RACT: ract }, rows, buffers: { xg, whhT, bhh, hs, rh, gates } },
      { def: gruV1StepKernel, constants: { RECORD, ROWS: rows, KERAS_MASK, RACT: ract, ACT: act }, rows, buffers: { xg, whhT, bhh, valid, rh, hs, out, gates } },
    ];
  }
  return encodeSteps(ctx, `${kind.cell}.steps`, stages, dims);
}

/**
 * Batch rows per thread of the per-step kernels that take a ROWS override: 4 when
 * the batch has them (the weights loaded once serve four rows), else the batch.
 */
export function batchRows(B: number): number {
  return B >= 4 ? 4 : B >= 2 ? 2 : 1;
}

/** Workgroup-memory floats the persistent kernel of `kind` needs for B·H units. */
export function persistentFloats(kind: RecurrenceKind, B: number, H: number): number {
  return (kind.cell === 'gru' && !kind.resetAfter ? 3 : 2) * B * H;
}

/** Persistent path: one dispatch for all T steps, state in workgroup memory. */
export function recurrenceSeqForward(ctx: GpuContext, kind: RecurrenceKind, bufs: RecurrenceBuffers, dims: RecurrenceDims): Promise<EncodedOp> {
  const { xg, whhT, bhh, valid, hs, out } = bufs;
  const KERAS_MASK = bufs.kerasMask ? 1 : 0;
  const CAP = persistentCapacity(persistentFloats(kind, dims.B, dims.H));
  // One thread per unit up to 256: idle threads still pay for every step's barrier.
  const WG = Math.min(256, Math.max(32, 2 ** Math.ceil(Math.log2(dims.B * dims.H))));
  const RECORD = bufs.gates ? 1 : 0;
  const gates = bufs.gates ?? ctx.placeholder;
  const values = {
    B: dims.B,
    T: dims.T,
    H: dims.H,
    reverse: dims.reverse ? 1 : 0,
    outStride: dims.outStride,
    outOffset: dims.outOffset,
    _pad0: 0,
    _pad1: 0,
  };
  if (kind.cell === 'lstm') {
    return encodeSingle(ctx, lstmSeqKernel, { CAP, RECORD, WG, KERAS_MASK, RACT: RACT[kind.recurrentActivation], ACT: ACT[kind.nonlinearity] }, SEQ_PARAMS, values, { xg, whhT, bhh, valid, hs, cs: need(bufs.cs, 'cs'), out, gates }, [1]);
  }
  if (kind.cell === 'rnn') {
    return encodeSingle(ctx, rnnSeqKernel, { CAP, ACT: ACT[kind.nonlinearity], WG, KERAS_MASK }, SEQ_PARAMS, values, { xg, whhT, bhh, valid, hs, out }, [1]);
  }
  return encodeSingle(ctx, gruSeqKernel, { CAP, RESET_AFTER: kind.resetAfter ? 1 : 0, RECORD, WG, KERAS_MASK, RACT: RACT[kind.recurrentActivation], ACT: ACT[kind.nonlinearity] }, SEQ_PARAMS, values, { xg, whhT, bhh, valid, hs, out, gates }, [1]);
}

export interface RecurrenceGradBuffers {
  whhT: GPUBuffer; // (H, G)
  dout: GPUBuffer; // (B, T, outStride) gradient of the layer's output
  valid: GPUBuffer; // (B, T) u32 step mask, as in the forward
  kerasMask: boolean;
  hs: GPUBuffer; // (T+1, B, H) recorded
  cs: GPUBuffer | null; // (T+1, B, H) recorded, LSTM
  gates: GPUBuffer | null; // (T, B, 4H) recorded, LSTM and GRU
  dA: GPUBuffer; // (T, B, G) out: gradient of the recurrent pre-activations (W_hh·v + b_hh), by step
  dxg: GPUBuffer; // (B, T, G) out: gradient of xg, by time
  carry: GPUBuffer; // (3, B, H) in: ∂L/∂h_T, ∂L/∂c_T, 0; out: what remains for the initial state ([2]: Keras masks' output gradient in transit)
  /** (3 + T, B, H) carry: also write ∂L/∂h_t of step s to carry[3 + s] (for stepGradNorms). */
  recordDh?: boolean;
}

/**
 * Backward of all T steps of one layer direction, in reverse: one dispatch per step
 * (two for the Keras reset_after=False GRU, whose dA_r needs W_hnᵀ·dA_n of all units).
 */
export function recurrenceStepBackward(ctx: GpuContext, kind: RecurrenceKind, bufs: RecurrenceGradBuffers, dims: RecurrenceDims): Promise<EncodedOp> {
  const { whhT, dout, valid, hs, dA, dxg, carry } = bufs;
  const KERAS_MASK = bufs.kerasMask ? 1 : 0;
  const ract = RACT[kind.recurrentActivation];
  const act = ACT[kind.nonlinearity];
  const RECORD_DH = bufs.recordDh ? 1 : 0;
  const rows = batchRows(dims.B);
  let stages: StepStage[];
  if (kind.cell === 'lstm') {
    stages = [{ def: lstmStepBackwardKernel, constants: { ROWS: rows, KERAS_MASK, RACT: ract, ACT: act, RECORD_DH }, rows, buffers: { whhT, dout, valid, cs: need(bufs.cs, 'cs'), gates: need(bufs.gates, 'gates'), dA, dxg, carry } }];
  } else if (kind.cell === 'rnn') {
    stages = [{ def: rnnStepBackwardKernel, constants: { ACT: act, ROWS: rows, KERAS_MASK, RECORD_DH }, rows, buffers: { whhT, dout, valid, hs, dA, dxg, carry } }];
  } else if (kind.resetAfter) {
    stages = [{ def: gruStepBackwardKernel, constants: { ROWS: rows, KERAS_MASK, RACT: ract, ACT: act, RECORD_DH }, rows, buffers: { whhT, dout, valid, hs, gates: need(bufs.gates, 'gates'), dA, dxg, carry } }];
  } else {
    const gates = need(bufs.gates, 'gates');
    stages = [
      { def: gruV1StepBackwardKernel, constants: { ROWS: rows, KERAS_MASK, RACT: ract, ACT: act, RECORD_DH }, rows, buffers: { whhT, dout, valid, hs, gates, dA, dxg, carry } },
      { def: gruV1ResetBackwardKernel, constants: { ROWS: rows, RACT: ract }, rows, buffers: { whhT, valid, hs, gates, dA, dxg, carry } },
    ];
  }
  return encodeSteps(ctx, `${kind.cell}.steps.backward`, stages, dims, 'backward');
}

/**
 * ∂L/∂h0 (and ∂L/∂c0) of one layer direction, into rows `ld` of (L·D, B, H) buffers.
 * `cols`: the gate columns of dA summed, G (2H for the Keras reset_after=False GRU).
 */
export function stateGradBackward(
  ctx: GpuContext,
  a: { whhT: GPUBuffer; dA: GPUBuffer; carry: GPUBuffer; dh0: GPUBuffer; dc0: GPUBuffer | null; B: number; H: number; G: number; cols: number; ld: number },
): Promise<EncodedOp> {
  const PARAMS = [
    ['B', 'u32'],
    ['H', 'u32'],
    ['G', 'u32'],
    ['offset', 'u32'],
    ['cols', 'u32'],
    ['_pad0', 'u32'],
    ['_pad1', 'u32'],
    ['_pad2', 'u32'],
  ] as const;
  return encodeSingle(
    ctx,
    stateGradKernel,
    { HAS_C: a.dc0 ? 1 : 0 },
    PARAMS,
    { B: a.B, H: a.H, G: a.G, offset: a.ld * a.B * a.H, cols: a.cols, _pad0: 0, _pad1: 0, _pad2: 0 },
    { whhT: a.whhT, dA: a.dA, carry: a.carry, dh0: a.dh0, dc0: a.dc0 ?? ctx.placeholder },
    [Math.ceil(a.H / 64), a.B],
  );
}

/**
 * ‖∂L/∂h_t‖ (over B·H) of every step of one layer direction, in time order, into
 * row `ld` of out (L·D, T), from the carry the step-backward kernels filled with
 * RECORD_DH. CPU twin: the norms recurrenceBackwardRef returns (reference/recurrent_backward.ts).
 */
export function stepGradNorms(ctx: GpuContext, a: { carry: GPUBuffer; out: GPUBuffer; B: number; T: number; H: number; ld: number; reverse: boolean }): Promise<EncodedOp> {
  const PARAMS = [
    ['T', 'u32'],
    ['n', 'u32'],
    ['offset', 'u32'],
    ['reverse', 'u32'],
  ] as const;
  return encodeSingle(ctx, stepGradNormsKernel, {}, PARAMS, { T: a.T, n: a.B * a.H, offset: a.ld * a.T, reverse: a.reverse ? 1 : 0 }, { carry: a.carry, out: a.out }, [a.T]);
}

export const stepGradNormsKernel: KernelDef<'params' | 'carry' | 'out'> = {
  name: 'step_grad_norms',
  wgsl: stepGradNormsWgsl,
  bindings: { params: seqParams, carry: ro(1), out: rw(2) },
};

export const stateGradKernel: KernelDef<'params' | 'whhT' | 'dA' | 'carry' | 'dh0' | 'dc0'> = {
  name: 'state_grad_backward',
  wgsl: withCommon(stateGradWgsl),
  bindings: { params: seqParams, whhT: ro(1), dA: ro(2), carry: ro(3), dh0: rw(4), dc0: rw(5) },
};

function need<T>(v: T | null, name: string): T {
  if (v === null) throw new Error(`recurrent kernel: buffer '${name}' is required for this cell`);
  return v;
}
