// SimpleRNN kernels: the fused per-step kernel and the persistent one.
import rnnStepWgsl from '../../shaders/rnn_step_forward.wgsl?raw';
import rnnSeqWgsl from '../../shaders/rnn_seq_forward.wgsl?raw';
import type { KernelDef } from '../gpu/context';
import { ro, rw, seqParams, stepParams, withCommon, type StateBindings } from './common';

export const rnnStepKernel: KernelDef<StateBindings> = {
  name: 'rnn_step_forward',
  wgsl: withCommon(rnnStepWgsl),
  bindings: { params: stepParams, xg: ro(1), whhT: ro(2), bhh: ro(3), lengths: ro(4), hs: rw(5), out: rw(6) },
};

export const rnnSeqKernel: KernelDef<StateBindings> = {
  name: 'rnn_seq_forward',
  wgsl: withCommon(rnnSeqWgsl),
  bindings: { params: seqParams, xg: ro(1), whhT: ro(2), bhh: ro(3), lengths: ro(4), hs: rw(5), out: rw(6) },
};
