// LSTM kernels: the fused per-step kernel and the persistent one.
import lstmStepWgsl from '../../shaders/lstm_step_forward.wgsl?raw';
import lstmSeqWgsl from '../../shaders/lstm_seq_forward.wgsl?raw';
import type { KernelDef } from '../gpu/context';
import { ro, rw, seqParams, stepParams, withCommon, type StateBindings } from './common';

export const lstmStepKernel: KernelDef<StateBindings | 'cs'> = {
  name: 'lstm_step_forward',
  wgsl: withCommon(lstmStepWgsl),
  bindings: { params: stepParams, xg: ro(1), whhT: ro(2), bhh: ro(3), lengths: ro(4), hs: rw(5), cs: rw(6), out: rw(7) },
};

export const lstmSeqKernel: KernelDef<StateBindings | 'cs'> = {
  name: 'lstm_seq_forward',
  wgsl: withCommon(lstmSeqWgsl),
  bindings: { params: seqParams, xg: ro(1), whhT: ro(2), bhh: ro(3), lengths: ro(4), hs: rw(5), cs: rw(6), out: rw(7) },
};
