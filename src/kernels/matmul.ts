// Y = act(X · Wᵀ + bias): input projection of all time steps at once, and Dense;
// and the gradient matmuls and bias sums of the backward pass. Both launchers hand
// 4-aligned operands (M ≥ 8) to matmul_tiled.wgsl (tiledFits); other shapes run
// matmul_bias_forward.wgsl / matmul_backward.wgsl.
import wgsl from '../../shaders/matmul_bias_forward.wgsl?raw';
import gradWgsl from '../../shaders/matmul_backward.wgsl?raw';
import tiledWgsl from '../../shaders/matmul_tiled.wgsl?raw';
import colsumWgsl from '../../shaders/colsum_backward.wgsl?raw';
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
  const tiled = { a: a.x, b: a.w, c: a.y, M: a.M, N: a.N, K: a.K, transA: false, transB: true, accumulate: false, bias: a.bias, activation: a.activation };
  if (tiledFits(tiled)) return matmulTiled(ctx, tiled);
  return encodeSingle(
    ctx,
    matmulBiasKernel,
    { ACT: ACT[a.activation ?? 'none'] },
    PARAMS,
    { M: a.M, N: a.N, K: a.K, hasBias: a.bias ? 1 : 0 },
    { x: a.x, w: a.w, bias: a.bias ?? a.w, y: a.y },
    [Math.ceil(a.N / 256), a.M],
  );
}

export const matmulGradKernel: KernelDef<'params' | 'a' | 'b' | 'c'> = {
  name: 'matmul_backward',
  wgsl: withCommon(gradWgsl),
  bindings: {
    params: { binding: 0, type: 'uniform' },
    a: { binding: 1, type: 'read-only-storage' },
    b: { binding: 2, type: 'read-only-storage' },
    c: { binding: 3, type: 'storage' },
  },
};

export const colsumKernel: KernelDef<'params' | 'y' | 'out'> = {
  name: 'colsum_backward',
  wgsl: withCommon(colsumWgsl),
  bindings: {
    params: { binding: 0, type: 'uniform' },
    y: { binding: 1, type: 'read-only-storage' },
    out: { binding: 2, type: 'storage' },
  },
};

/** Where a gradient matmul operand sits in its buffer: row stride and first element (floats). */
export interface MatrixView {
  ld?: number; // row stride; default the dense one
  offset?: number; // default 0
}

/**
 * c (M, N) (+)= a (M, K) · b (K, N), or aᵀ·b with a stored (K, M) when transA.
 * aView, bView, cView pick a column block of a wider buffer (defaults: dense).
 */
export function matmulGrad(
  ctx: GpuContext,
  g: {
    a: GPUBuffer;
    b: GPUBuffer;
    c: GPUBuffer;
    M: number;
    N: number;
    K: number;
    transA: boolean;
    accumulate: boolean;
    aView?: MatrixView;
    bView?: MatrixView;
    cView?: MatrixView;
  },
): Promise<EncodedOp> {
  const tiled = { ...g, transB: false };
  if (tiledFits(tiled)) return matmulTiled(ctx, tiled);
  const PARAMS = [
    ['M', 'u32'],
    ['N', 'u32'],
    ['K', 'u32'],
    ['lda', 'u32'],
    ['ldb', 'u32'],
    ['ldc', 'u32'],
    ['offA', 'u32'],
    ['offB', 'u32'],
    ['offC', 'u32'],
    ['_pad0', 'u32'],
    ['_pad1', 'u32'],
    ['_pad2', 'u32'],
  ] as const;
  const values = {
    M: g.M,
    N: g.N,
    K: g.K,
    lda: g.aView?.ld ?? (g.transA ? g.M : g.K),
    ldb: g.bView?.ld ?? g.N,
    ldc: g.cView?.ld ?? g.N,
    offA: g.aView?.offset ?? 0,
    offB: g.bView?.offset ?? 0,
    offC: g.cView?.offset ?? 0,
    _pad0: 0,
    _pad1: 0,
    _pad2: 0,
  };
  return encodeSingle(
    ctx,
    matmulGradKernel,
    { TRANS_A: g.transA ? 1 : 0, ACCUMULATE: g.accumulate ? 1 : 0 },
    PARAMS,
    values,
    { a: g.a, b: g.b, c: g.c },
    [Math.ceil(g.N / 256), g.M],
  );
}

export const matmulTiledKernel: KernelDef<'params' | 'a' | 'b' | 'bias' | 'c'> = {
  name: 'matmul_tiled',
  wgsl: withCommon(tiledWgsl),
  bindings: {
    params: { binding: 0, type: 'uniform' },
    a: { binding: 1, type: 'read-only-storage' },
    b: { binding: 2, type: 'read-only-storage' },
    bias: { binding: 3, type: 'read-only-storage' },
    c: { binding: 4, type: 'storage' },
  },
};

/** Operands of matmul_tiled.wgsl: c (M, N) (+)= act(op(a)·op(b) + bias). */
export interface TiledMatmulArgs {
  a: GPUBuffer; // (M, K), or (K, M) when transA
  b: GPUBuffer; // (K, N), or (N, K) when transB
  c: GPUBuffer; // (M, N)
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  accumulate: boolean;
  bias?: GPUBuffer | null; // (N)
  activation?: Activation;
  aView?: MatrixView;
  bView?: MatrixView;
  cView?: MatrixView;
}

/**
 * Rows of output below which the 8×8 tiles waste more than they save: at M < 8
 * each thread's clamped rows repeat work, and matmul_bias_forward.wgsl's one row
 * per thread is as fast.
 */
export const TILED_MIN_ROWS = 8;

function lda(g: TiledMatmulArgs): number {
  return g.aView?.ld ?? (g.transA ? g.M : g.K);
}
function ldb(g: TiledMatmulArgs): number {
  return g.bView?.ld ?? (g.transB ? g.K : g.N);
}

/** Whether matmul_tiled.wgsl can take these operands: vec4 loads need 4-aligned rows and blocks. */
export function tiledFits(g: TiledMatmulArgs): boolean {
  const four = (n: number) => n % 4 === 0;
  return (
    g.M >= TILED_MIN_ROWS &&
    four(g.K) &&
    four(lda(g)) &&
    four(ldb(g)) &&
    four(g.aView?.offset ?? 0) &&
    four(g.bView?.offset ?? 0) &&
    (!g.transA || four(g.M)) &&
    (g.transB || four(g.N))
  );
}

/** c (M, N) (+)= act(op(a)·op(b) + bias) on operands that pass tiledFits(). */
export function matmulTiled(ctx: GpuContext, g: TiledMatmulArgs): Promise<EncodedOp> {
  if (!tiledFits(g)) throw new Error(`matmulTiled: operands not 4-aligned (M ${g.M}, N ${g.N}, K ${g.K}); use the untiled kernels`);
  const PARAMS = [
    ['M', 'u32'],
    ['N', 'u32'],
    ['K', 'u32'],
    ['lda4', 'u32'],
    ['ldb4', 'u32'],
    ['ldc', 'u32'],
    ['offA4', 'u32'],
    ['offB4', 'u32'],
    ['offC', 'u32'],
    ['tilesN', 'u32'],
    ['hasBias', 'u32'],
    ['_pad', 'u32'],
  ] as const;
  const tilesN = Math.ceil(g.N / 8);
  const groups = Math.ceil((Math.ceil(g.M / 8) * tilesN) / 64);
  const x = Math.min(groups, ctx.limits.maxComputeWorkgroupsPerDimension);
  const values = {
    M: g.M,
    N: g.N,
    K: g.K,
    lda4: lda(g) / 4,
    ldb4: ldb(g) / 4,
    ldc: g.cView?.ld ?? g.N,
    offA4: (g.aView?.offset ?? 0) / 4,
    offB4: (g.bView?.offset ?? 0) / 4,
    offC: g.cView?.offset ?? 0,
    tilesN,
    hasBias: g.bias ? 1 : 0,
    _pad: 0,
  };
  return encodeSingle(
    ctx,
    matmulTiledKernel,
    { TRANS_A: g.transA ? 1 : 0, TRANS_B: g.transB ? 1 : 0, ACCUMULATE: g.accumulate ? 1 : 0, ACT: ACT[g.activation ?? 'none'] },
    PARAMS,
    values,
    { a: g.a, b: g.b, bias: g.bias ?? g.b, c: g.c },
    [x, Math.ceil(groups / x)],
  );
}

/** out (N) (+)= column sums of y (M, N). */
export function colsumGrad(ctx: GpuContext, g: { y: GPUBuffer; out: GPUBuffer; M: number; N: number; accumulate: boolean }): Promise<EncodedOp> {
  const PARAMS = [['M', 'u32'], ['N', 'u32'], ['_pad0', 'u32'], ['_pad1', 'u32']] as const;
  return encodeSingle(ctx, colsumKernel, { ACCUMULATE: g.accumulate ? 1 : 0 }, PARAMS, { M: g.M, N: g.N, _pad0: 0, _pad1: 0 }, { y: g.y, out: g.out }, [Math.ceil(g.N / 64)]);
}
