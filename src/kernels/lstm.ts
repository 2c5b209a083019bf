// LSTM kernels: the fused per-step kernel, the persistent one, and the step backward.
import lstmStepWgsl from '../../shaders/lstm_step_forward.wgsl?raw';
import lstmSeqWgsl from '../../shaders/lstm_seq_forward.wgsl?raw';
import lstmStepBackwardWgsl from '../../shaders/lstm_step_backward.wgsl?raw';
import type { KernelDef } from '../gpu/context';
import { ro, rw, seqParams, stepParams, withCommon, type BackwardBindings, type StateBindings } from './common';

export const lstmStepKernel: KernelDef<StateBindings | 'cs' | 'gates'> = {
  name: 'lstm_step_forward',
  wgsl: withCommon(lstmStepWgsl),
  bindings: { params: stepParams, xg: ro(1), whhT: ro(2), bhh: ro(3), valid: ro(4), hs: rw(5), cs: rw(6), out: rw(7), gates: rw(8) },
};

export const lstmSeqKernel: KernelDef<StateBindings | 'cs' | 'gates'> = {
  name: 'lstm_seq_forward',
  wgsl: withCommon(lstmSeqWgsl),
  bindings: { params: seqParams, xg: ro(1), whhT: ro(2), bhh: ro(3), valid: ro(4), hs: rw(5), cs: rw(6), out: rw(7), gates: rw(8) },
};

export const lstmStepBackwardKernel: KernelDef<BackwardBindings | 'cs' | 'gates'> = {
  name: 'lstm_step_backward',
  wgsl: withCommon(lstmStepBackwardWgsl),
  bindings: { params: stepParams, whhT: ro(1), dout: ro(2), valid: ro(3), cs: ro(4), gates: ro(5), dA: rw(6), dxg: rw(7), carry: rw(8) },
};
