// SimpleRNN kernels: the fused per-step kernel, the persistent one, and the step backward.
import rnnStepWgsl from '../../shaders/rnn_step_forward.wgsl?raw';
import rnnSeqWgsl from '../../shaders/rnn_seq_forward.wgsl?raw';
import rnnStepBackwardWgsl from '../../shaders/rnn_step_backward.wgsl?raw';
import type { KernelDef } from '../gpu/context';
import { ro, rw, seqParams, stepParams, withCommon, type BackwardBindings, type StateBindings } from './common';

export const rnnStepKernel: KernelDef<StateBindings> = {
  name: 'rnn_step_forward',
  wgsl: withCommon(rnnStepWgsl),
  bindings: { params: stepParams, xg: ro(1), whhT: ro(2), bhh: ro(3), valid: ro(4), hs: rw(5), out: rw(6) },
};

export const rnnSeqKernel: KernelDef<StateBindings> = {
  name: 'rnn_seq_forward',
  wgsl: withCommon(rnnSeqWgsl),
  bindings: { params: seqParams, xg: ro(1), whhT: ro(2), bhh: ro(3), valid: ro(4), hs: rw(5), out: rw(6) },
};

export const rnnStepBackwardKernel: KernelDef<BackwardBindings | 'hs'> = {
  name: 'rnn_step_backward',
  wgsl: withCommon(rnnStepBackwardWgsl),
  bindings: { params: stepParams, whhT: ro(1), dout: ro(2), valid: ro(3), hs: ro(4), dA: rw(5), dxg: rw(6), carry: rw(7) },
};
