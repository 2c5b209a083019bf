// GRU kernels: fused per-step (reset_after=True), the two-dispatch Keras
// reset_after=False step, the persistent kernel for both, and the step backward
// (reset_after=True).
import gruStepWgsl from '../../shaders/gru_step_forward.wgsl?raw';
import gruSeqWgsl from '../../shaders/gru_seq_forward.wgsl?raw';
import gruResetWgsl from '../../shaders/gru_reset_forward.wgsl?raw';
import gruV1StepWgsl from '../../shaders/gru_v1_step_forward.wgsl?raw';
import gruStepBackwardWgsl from '../../shaders/gru_step_backward.wgsl?raw';
import type { KernelDef } from '../gpu/context';
import { ro, rw, seqParams, stepParams, withCommon, type BackwardBindings, type StateBindings } from './common';

export const gruStepKernel: KernelDef<StateBindings | 'gates'> = {
  name: 'gru_step_forward',
  wgsl: withCommon(gruStepWgsl),
  bindings: { params: stepParams, xg: ro(1), whhT: ro(2), bhh: ro(3), lengths: ro(4), hs: rw(5), out: rw(6), gates: rw(7) },
};

export const gruSeqKernel: KernelDef<StateBindings | 'gates'> = {
  name: 'gru_seq_forward',
  wgsl: withCommon(gruSeqWgsl),
  bindings: { params: seqParams, xg: ro(1), whhT: ro(2), bhh: ro(3), lengths: ro(4), hs: rw(5), out: rw(6), gates: rw(7) },
};

export const gruResetKernel: KernelDef<'params' | 'xg' | 'whhT' | 'bhh' | 'hs' | 'rh'> = {
  name: 'gru_reset_forward',
  wgsl: withCommon(gruResetWgsl),
  bindings: { params: stepParams, xg: ro(1), whhT: ro(2), bhh: ro(3), hs: ro(4), rh: rw(5) },
};

export const gruV1StepKernel: KernelDef<StateBindings | 'rh'> = {
  name: 'gru_v1_step_forward',
  wgsl: withCommon(gruV1StepWgsl),
  bindings: { params: stepParams, xg: ro(1), whhT: ro(2), bhh: ro(3), lengths: ro(4), rh: ro(5), hs: rw(6), out: rw(7) },
};

export const gruStepBackwardKernel: KernelDef<BackwardBindings | 'hs' | 'gates'> = {
  name: 'gru_step_backward',
  wgsl: withCommon(gruStepBackwardWgsl),
  bindings: { params: stepParams, whhT: ro(1), dout: ro(2), lengths: ro(3), hs: ro(4), gates: ro(5), dA: rw(6), dxg: rw(7), carry: rw(8) },
};
