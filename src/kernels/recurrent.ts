// The launchers the scheduler calls for a layer direction's recurrence, one per
// path, choosing the cell's kernels (defined in rnn.ts, gru.ts, lstm.ts):
//   SimpleRNN: rnn_step_forward.wgsl  / rnn_seq_forward.wgsl
//   GRU:       gru_step_forward.wgsl  / gru_seq_forward.wgsl   (reset_after = true)
//              gru_reset_forward.wgsl + gru_v1_step_forward.wgsl (reset_after = false, 2 dispatches)
//   LSTM:      lstm_step_forward.wgsl / lstm_seq_forward.wgsl
import type { GpuContext } from '../gpu/context';
import type { CellType } from '../weights/types';
import { ACT, SEQ_PARAMS, encodeSingle, encodeSteps, persistentCapacity, type EncodedOp, type RecurrenceDims, type StepStage } from './common';
import { gruResetKernel, gruSeqKernel, gruStepKernel, gruV1StepKernel } from './gru';
import { lstmSeqKernel, lstmStepKernel } from './lstm';
import { rnnSeqKernel, rnnStepKernel } from './rnn';

export interface RecurrenceKind {
  cell: CellType;
  nonlinearity: 'tanh' | 'relu';
  resetAfter: boolean;
}

export interface RecurrenceBuffers {
  xg: GPUBuffer; // (B, T, G)  x·W_ihᵀ + b_ih
  whhT: GPUBuffer; // (H, G)
  bhh: GPUBuffer; // (G)
  lengths: GPUBuffer; // (B) u32
  hs: GPUBuffer; // (T+1, B, H), hs[0] = initial state
  cs: GPUBuffer | null; // (T+1, B, H), LSTM only
  out: GPUBuffer; // (B, T, outStride)
  rh: GPUBuffer | null; // (B, H) scratch, Keras reset_after=False GRU per-step path only
}

/** Per-step path: one dispatch per time step (two for the reset_after=False GRU). */
export function recurrenceStepForward(ctx: GpuContext, kind: RecurrenceKind, bufs: RecurrenceBuffers, dims: RecurrenceDims): Promise<EncodedOp> {
  const { xg, whhT, bhh, lengths, hs, out } = bufs;
  let stages: StepStage[];
  if (kind.cell === 'lstm') {
    stages = [{ def: lstmStepKernel, buffers: { xg, whhT, bhh, lengths, hs, cs: need(bufs.cs, 'cs'), out } }];
  } else if (kind.cell === 'rnn') {
    stages = [{ def: rnnStepKernel, constants: { ACT: ACT[kind.nonlinearity] }, buffers: { xg, whhT, bhh, lengths, hs, out } }];
  } else if (kind.resetAfter) {
    stages = [{ def: gruStepKernel, buffers: { xg, whhT, bhh, lengths, hs, out } }];
  } else {
    const rh = need(bufs.rh, 'rh');
    stages = [
      { def: gruResetKernel, buffers: { xg, whhT, bhh, hs, rh } },
      { def: gruV1StepKernel, buffers: { xg, whhT, bhh, lengths, rh, hs, out } },
    ];
  }
  return encodeSteps(ctx, `${kind.cell}.steps`, stages, dims);
}

/** Workgroup-memory floats the persistent kernel of `kind` needs for B·H units. */
export function persistentFloats(kind: RecurrenceKind, B: number, H: number): number {
  return (kind.cell === 'gru' && !kind.resetAfter ? 3 : 2) * B * H;
}

/** Persistent path: one dispatch for all T steps, state in workgroup memory. */
export function recurrenceSeqForward(ctx: GpuContext, kind: RecurrenceKind, bufs: RecurrenceBuffers, dims: RecurrenceDims): Promise<EncodedOp> {
  const { xg, whhT, bhh, lengths, hs, out } = bufs;
  const CAP = persistentCapacity(persistentFloats(kind, dims.B, dims.H));
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
    return encodeSingle(ctx, lstmSeqKernel, { CAP }, SEQ_PARAMS, values, { xg, whhT, bhh, lengths, hs, cs: need(bufs.cs, 'cs'), out }, [1]);
  }
  if (kind.cell === 'rnn') {
    return encodeSingle(ctx, rnnSeqKernel, { CAP, ACT: ACT[kind.nonlinearity] }, SEQ_PARAMS, values, { xg, whhT, bhh, lengths, hs, out }, [1]);
  }
  return encodeSingle(ctx, gruSeqKernel, { CAP, RESET_AFTER: kind.resetAfter ? 1 : 0 }, SEQ_PARAMS, values, { xg, whhT, bhh, lengths, hs, out }, [1]);
}

function need<T>(v: T | null, name: string): T {
  if (v === null) throw new Error(`recurrent kernel: buffer '${name}' is required for this cell`);
  return v;
}
