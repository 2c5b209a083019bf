// GRU kernels: fused per-step (reset_after=True), the two-dispatch Keras
// reset_after=False step, the persistent kernel for both, and the step backward of
// both (one dispatch per step for reset_after=True, two for reset_after=False).
import gruStepWgsl from '../../shaders/gru_step_forward.wgsl?raw';
import gruSeqWgsl from '../../shaders/gru_seq_forward.wgsl?raw';
import gruResetWgsl from '../../shaders/gru_reset_forward.wgsl?raw';
import gruV1StepWgsl from '../../shaders/gru_v1_step_forward.wgsl?raw';
import gruStepBackwardWgsl from '../../shaders/gru_step_backward.wgsl?raw';
import gruV1StepBackwardWgsl from '../../shaders/gru_v1_step_backward.wgsl?raw';
import gruV1ResetBackwardWgsl from '../../shaders/gru_v1_reset_backward.wgsl?raw';
import type { KernelDef } from '../gpu/context';
import { ro, rw, seqParams, stepParams, withCommon, type BackwardBindings, type StateBindings } from './common';

export const gruStepKernel: KernelDef<StateBindings | 'gates'> = {
  name: 'gru_step_forward',
  wgsl: withCommon(gruStepWgsl),
  bindings: { params: stepParams, xg: ro(1), whhT: ro(2), bhh: ro(3), valid: ro(4), hs: rw(5), out: rw(6), gates: rw(7) },
};

export const gruSeqKernel: KernelDef<StateBindings | 'gates'> = {
  name: 'gru_seq_forward',
  wgsl: withCommon(gruSeqWgsl),
  bindings: { params: seqParams, xg: ro(1), whhT: ro(2), bhh: ro(3), valid: ro(4), hs: rw(5), out: rw(6), gates: rw(7) },
};

export const gruResetKernel: KernelDef<'params' | 'xg' | 'whhT' | 'bhh' | 'hs' | 'rh' | 'gates'> = {
  name: 'gru_reset_forward',
  wgsl: withCommon(gruResetWgsl),
  bindings: { params: stepParams, xg: ro(1), whhT: ro(2), bhh: ro(3), hs: ro(4), rh: rw(5), gates: rw(6) },
};

export const gruV1StepKernel: KernelDef<StateBindings | 'rh' | 'gates'> = {
  name: 'gru_v1_step_forward',
  wgsl: withCommon(gruV1StepWgsl),
  bindings: { params: stepParams, xg: ro(1), whhT: ro(2), bhh: ro(3), valid: ro(4), rh: ro(5), hs: rw(6), out: rw(7), gates: rw(8) },
};

export const gruStepBackwardKernel: KernelDef<BackwardBindings | 'hs' | 'gates'> = {
  name: 'gru_step_backward',
  wgsl: withCommon(gruStepBackwardWgsl),
  bindings: { params: stepParams, whhT: ro(1), dout: ro(2), valid: ro(3), hs: ro(4), gates: ro(5), dA: rw(6), dxg: rw(7), carry: rw(8) },
};

/** Keras reset_after=False backward, first dispatch of a step: gH, dA_z, dA_n, carry = gH·z. */
export const gruV1StepBackwardKernel: KernelDef<BackwardBindings | 'hs' | 'gates'> = {
  name: 'gru_v1_step_backward',
  wgsl: withCommon(gruV1StepBackwardWgsl),
  bindings: { params: stepParams, whhT: ro(1), dout: ro(2), valid: ro(3), hs: ro(4), gates: ro(5), dA: rw(6), dxg: rw(7), carry: rw(8) },
};

/** Keras reset_after=False backward, second dispatch of a step: q = W_hnᵀ·dA_n, dA_r, carry += q·r. */
export const gruV1ResetBackwardKernel: KernelDef<Exclude<BackwardBindings, 'dout'> | 'hs' | 'gates'> = {
  name: 'gru_v1_reset_backward',
  wgsl: withCommon(gruV1ResetBackwardWgsl),
  bindings: { params: stepParams, whhT: ro(1), valid: ro(2), hs: ro(3), gates: ro(4), dA: rw(5), dxg: rw(6), carry: rw(7) },
};
