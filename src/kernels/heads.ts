// Embedding lookup and its scatter-add gradient, row softmax, and the gradient
// through an activation (the Dense layer is matmul_bias_forward with an activation).
import embeddingWgsl from '../../shaders/embedding_forward.wgsl?raw';
import softmaxWgsl from '../../shaders/softmax_forward.wgsl?raw';
import embeddingBackwardWgsl from '../../shaders/embedding_backward.wgsl?raw';
import activationBackwardWgsl from '../../shaders/activation_backward.wgsl?raw';
import type { GpuContext, KernelDef } from '../gpu/context';
import { ACT, encodeSingle, withCommon, type Activation, type EncodedOp } from './common';

export const embeddingKernel: KernelDef<'params' | 'ids' | 'table' | 'out'> = {
  name: 'embedding_forward',
  wgsl: withCommon(embeddingWgsl),
  bindings: {
    params: { binding: 0, type: 'uniform' },
    ids: { binding: 1, type: 'read-only-storage' },
    table: { binding: 2, type: 'read-only-storage' },
    out: { binding: 3, type: 'storage' },
  },
};

export const softmaxKernel: KernelDef<'params' | 'x' | 'y'> = {
  name: 'softmax_forward',
  wgsl: withCommon(softmaxWgsl),
  bindings: {
    params: { binding: 0, type: 'uniform' },
    x: { binding: 1, type: 'read-only-storage' },
    y: { binding: 2, type: 'storage' },
  },
};

/** out (N, D) = table[ids] with ids (N) u32 already validated < V. */
export function embeddingForward(ctx: GpuContext, a: { ids: GPUBuffer; table: GPUBuffer; out: GPUBuffer; N: number; D: number; V: number }): Promise<EncodedOp> {
  const PARAMS = [['N', 'u32'], ['D', 'u32'], ['V', 'u32'], ['_pad', 'u32']] as const;
  return encodeSingle(ctx, embeddingKernel, {}, PARAMS, { N: a.N, D: a.D, V: a.V, _pad: 0 }, { ids: a.ids, table: a.table, out: a.out }, [Math.ceil((a.N * a.D) / 64)]);
}

/** y (R, C) = softmax over each row of x (R, C). */
export function softmaxForward(ctx: GpuContext, a: { x: GPUBuffer; y: GPUBuffer; R: number; C: number }): Promise<EncodedOp> {
  const PARAMS = [['R', 'u32'], ['C', 'u32'], ['_pad0', 'u32'], ['_pad1', 'u32']] as const;
  return encodeSingle(ctx, softmaxKernel, {}, PARAMS, { R: a.R, C: a.C, _pad0: 0, _pad1: 0 }, { x: a.x, y: a.y }, [Math.ceil(a.R / 64)]);
}

export const embeddingBackwardKernel: KernelDef<'params' | 'ids' | 'dOut' | 'dTable'> = {
  name: 'embedding_backward',
  wgsl: withCommon(embeddingBackwardWgsl),
  bindings: {
    params: { binding: 0, type: 'uniform' },
    ids: { binding: 1, type: 'read-only-storage' },
    dOut: { binding: 2, type: 'read-only-storage' },
    dTable: { binding: 3, type: 'storage' },
  },
};

export const activationBackwardKernel: KernelDef<'params' | 'y' | 'dy' | 'da'> = {
  name: 'activation_backward',
  wgsl: withCommon(activationBackwardWgsl),
  bindings: {
    params: { binding: 0, type: 'uniform' },
    y: { binding: 1, type: 'read-only-storage' },
    dy: { binding: 2, type: 'read-only-storage' },
    da: { binding: 3, type: 'storage' },
  },
};

/** dTable (V, D) += scatter of dOut (N, D) rows to ids (N). */
export function embeddingBackward(ctx: GpuContext, a: { ids: GPUBuffer; dOut: GPUBuffer; dTable: GPUBuffer; N: number; D: number }): Promise<EncodedOp> {
  const PARAMS = [['N', 'u32'], ['D', 'u32'], ['_pad0', 'u32'], ['_pad1', 'u32']] as const;
  return encodeSingle(ctx, embeddingBackwardKernel, {}, PARAMS, { N: a.N, D: a.D, _pad0: 0, _pad1: 0 }, { ids: a.ids, dOut: a.dOut, dTable: a.dTable }, [Math.ceil(a.D / 64)]);
}

/** da (N) = dy ⊙ act'(·) computed from the activation's output y (N). */
export function activationBackward(ctx: GpuContext, a: { y: GPUBuffer; dy: GPUBuffer; da: GPUBuffer; N: number; activation: Activation }): Promise<EncodedOp> {
  const PARAMS = [['N', 'u32'], ['_pad0', 'u32'], ['_pad1', 'u32'], ['_pad2', 'u32']] as const;
  return encodeSingle(ctx, activationBackwardKernel, { ACT: ACT[a.activation] }, PARAMS, { N: a.N, _pad0: 0, _pad1: 0, _pad2: 0 }, { y: a.y, dy: a.dy, da: a.da }, [Math.ceil(a.N / 64)]);
}
