// Y = act(X · Wᵀ + bias): input projection of all time steps at once, and Dense.
import wgsl from '../../shaders/matmul_bias_forward.wgsl?raw';
import type { GpuContext, KernelDef } from '../gpu/context';
import { ACT, encodeSingle, withCommon, type Activation, type EncodedOp } from './common';

export const matmulBiasKernel: KernelDef<'params' | 'x' | 'w' | 'bias' | 'y'> = {
  name: 'matmul_bias_forward',
  wgsl: withCommon(wgsl),
  bindings: {
    params: { binding: 0, type: 'uniform' },
    x: { binding: 1, type: 'read-only-storage' },
    w: { binding: 2, type: 'read-only-storage' },
    bias: { binding: 3, type: 'read-only-storage' },
    y: { binding: 4, type: 'storage' },
  },
};

const PARAMS = [
  ['M', 'u32'],
  ['N', 'u32'],
  ['K', 'u32'],
  ['hasBias', 'u32'],
] as const;

export interface MatmulBiasArgs {
  x: GPUBuffer; // (M, K)
  w: GPUBuffer; // (N, K)
  bias: GPUBuffer | null; // (N)
  y: GPUBuffer; // (M, N)
  M: number;
  N: number;
  K: number;
  activation?: Activation;
}

export function matmulBiasForward(ctx: GpuContext, a: MatmulBiasArgs): Promise<EncodedOp> {
  return encodeSingle(
    ctx,
    matmulBiasKernel,
    { ACT: ACT[a.activation ?? 'none'] },
    PARAMS,
    { M: a.M, N: a.N, K: a.K, hasBias: a.bias ? 1 : 0 },
    { x: a.x, w: a.w, bias: a.bias ?? a.w, y: a.y },
    [Math.ceil(a.N / 16), Math.ceil(a.M / 16)],
  );
}
