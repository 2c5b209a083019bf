// RepeatVector: x (B, F) copied to each of n steps, and its gradient, the sum over the steps.
import repeatForwardWgsl from '../../shaders/repeat_forward.wgsl?raw';
import repeatBackwardWgsl from '../../shaders/repeat_backward.wgsl?raw';
import type { GpuContext, KernelDef } from '../gpu/context';
import { encodeSingle, withCommon, type EncodedOp } from './common';

const PARAMS = [['B', 'u32'], ['n', 'u32'], ['F', 'u32'], ['_pad', 'u32']] as const;

export const repeatForwardKernel: KernelDef<'params' | 'x' | 'y'> = {
  name: 'repeat_forward',
  wgsl: withCommon(repeatForwardWgsl),
  bindings: {
    params: { binding: 0, type: 'uniform' },
    x: { binding: 1, type: 'read-only-storage' },
    y: { binding: 2, type: 'storage' },
  },
};

export const repeatBackwardKernel: KernelDef<'params' | 'dy' | 'dx'> = {
  name: 'repeat_backward',
  wgsl: withCommon(repeatBackwardWgsl),
  bindings: {
    params: { binding: 0, type: 'uniform' },
    dy: { binding: 1, type: 'read-only-storage' },
    dx: { binding: 2, type: 'storage' },
  },
};

/** y (B, n, F) = x (B, F) repeated over n steps. */
export function repeatForward(ctx: GpuContext, a: { x: GPUBuffer; y: GPUBuffer; B: number; n: number; F: number }): Promise<EncodedOp> {
  return encodeSingle(ctx, repeatForwardKernel, {}, PARAMS, { B: a.B, n: a.n, F: a.F, _pad: 0 }, { x: a.x, y: a.y }, [Math.ceil((a.B * a.n * a.F) / 64)]);
}

/** dx (B, F) = Σ_t dy (B, n, F) (overwrites dx). */
export function repeatBackward(ctx: GpuContext, a: { dy: GPUBuffer; dx: GPUBuffer; B: number; n: number; F: number }): Promise<EncodedOp> {
  return encodeSingle(ctx, repeatBackwardKernel, {}, PARAMS, { B: a.B, n: a.n, F: a.F, _pad: 0 }, { dy: a.dy, dx: a.dx }, [Math.ceil((a.B * a.F) / 64)]);
}
