// Optimizer updates and gradient clipping: elementwise kernels over one flat
// parameter (N floats) each, plus the two-pass sum of squares behind the global
// gradient norm. Hyper-parameters and the step travel in the uniform, so one
// pipeline per kernel serves every parameter and every step. These kernels use
// none of common.wgsl's helpers, so it is not joined in.
//
// CPU twins: src/reference/optim.ts. Public classes: src/training/optim.ts.
import sgdWgsl from '../../shaders/sgd_update.wgsl?raw';
import adamWgsl from '../../shaders/adam_update.wgsl?raw';
import rmspropWgsl from '../../shaders/rmsprop_update.wgsl?raw';
import sumsqWgsl from '../../shaders/sumsq_reduce.wgsl?raw';
import clipScaleWgsl from '../../shaders/clip_scale.wgsl?raw';
import clipValueWgsl from '../../shaders/clip_value.wgsl?raw';
import type { GpuContext, KernelDef } from '../gpu/context';
import { encodeSingle, type EncodedOp } from './common';

/** Threads per workgroup of every kernel in this file. */
const WG = 256;
/** Workgroups per parameter in pass 1 of the norm (and so partial sums per parameter). */
export const SUMSQ_MAX_WORKGROUPS = 64;

/** Workgroups of an elementwise dispatch: one thread per element up to the adapter's limit, then grid-stride. */
function elementwiseGrid(ctx: GpuContext, N: number): [number] {
  return [Math.max(1, Math.min(Math.ceil(N / WG), ctx.limits.maxComputeWorkgroupsPerDimension))];
}

// ---- SGD ----------------------------------------------------------------------

export const sgdUpdateKernel: KernelDef<'params' | 'grad' | 'p' | 'buf'> = {
  name: 'sgd_update',
  wgsl: sgdWgsl,
  bindings: {
    params: { binding: 0, type: 'uniform' },
    grad: { binding: 1, type: 'read-only-storage' },
    p: { binding: 2, type: 'storage' },
    buf: { binding: 3, type: 'storage' },
  },
};

const SGD_PARAMS = [
  ['N', 'u32'],
  ['first', 'u32'],
  ['nesterov', 'u32'],
  ['_pad0', 'u32'],
  ['lr', 'f32'],
  ['momentum', 'f32'],
  ['dampening', 'f32'],
  ['weightDecay', 'f32'],
] as const;

export interface SgdUpdateArgs {
  p: GPUBuffer; // (N) updated in place
  grad: GPUBuffer; // (N)
  /** Momentum buffer (N), updated in place; null when momentum = 0. */
  buf: GPUBuffer | null;
  N: number;
  /** The optimizer's first step (the momentum buffer starts as g). */
  first: boolean;
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/** p −= lr · (SGD direction of grad), torch.optim.SGD. */
export function sgdUpdate(ctx: GpuContext, a: SgdUpdateArgs): Promise<EncodedOp> {
  return encodeSingle(
    ctx,
    sgdUpdateKernel,
    {},
    SGD_PARAMS,
    {
      N: a.N,
      first: a.first ? 1 : 0,
      nesterov: a.nesterov ? 1 : 0,
      _pad0: 0,
      lr: a.lr,
      momentum: a.momentum,
      dampening: a.dampening,
      weightDecay: a.weightDecay,
    },
    { grad: a.grad, p: a.p, buf: a.buf ?? ctx.placeholder },
    elementwiseGrid(ctx, a.N),
  );
}

// ---- Adam / AdamW -------------------------------------------------------------

export const adamUpdateKernel: KernelDef<'params' | 'grad' | 'p' | 'm' | 'v'> = {
  name: 'adam_update',
  wgsl: adamWgsl,
  bindings: {
    params: { binding: 0, type: 'uniform' },
    grad: { binding: 1, type: 'read-only-storage' },
    p: { binding: 2, type: 'storage' },
    m: { binding: 3, type: 'storage' },
    v: { binding: 4, type: 'storage' },
  },
};

const ADAM_PARAMS = [
  ['N', 'u32'],
  ['step', 'u32'],
  ['_pad0', 'u32'],
  ['_pad1', 'u32'],
  ['beta1', 'f32'],
  ['beta2', 'f32'],
  ['oneMinusBeta1', 'f32'],
  ['oneMinusBeta2', 'f32'],
  ['eps', 'f32'],
  ['weightDecay', 'f32'],
  ['decayFactor', 'f32'],
  ['stepSize', 'f32'],
  ['bc2Sqrt', 'f32'],
] as const;

export interface AdamUpdateArgs {
  p: GPUBuffer; // (N) updated in place
  grad: GPUBuffer; // (N)
  m: GPUBuffer; // (N) first moment, updated in place
  v: GPUBuffer; // (N) second moment, updated in place
  N: number;
  /** t, 1-based: the step being taken. */
  step: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** true: AdamW (p ·= 1 − lr·wd); false: Adam (g += wd·p). */
  decoupled: boolean;
}

/** One Adam (or AdamW) step of one parameter, torch.optim.Adam / AdamW. */
export function adamUpdate(ctx: GpuContext, a: AdamUpdateArgs): Promise<EncodedOp> {
  // The bias corrections in float64 here, rounded once to f32 (see the shader header).
  const bc1 = 1 - a.beta1 ** a.step;
  const bc2 = 1 - a.beta2 ** a.step;
  return encodeSingle(
    ctx,
    adamUpdateKernel,
    {},
    ADAM_PARAMS,
    {
      N: a.N,
      step: a.step,
      _pad0: 0,
      _pad1: 0,
      beta1: a.beta1,
      beta2: a.beta2,
      oneMinusBeta1: 1 - a.beta1,
      oneMinusBeta2: 1 - a.beta2,
      eps: a.eps,
      weightDecay: a.decoupled ? 0 : a.weightDecay,
      decayFactor: a.decoupled ? 1 - a.lr * a.weightDecay : 1,
      stepSize: a.lr / bc1,
      bc2Sqrt: Math.sqrt(bc2),
    },
    { grad: a.grad, p: a.p, m: a.m, v: a.v },
    elementwiseGrid(ctx, a.N),
  );
}

// ---- RMSprop ------------------------------------------------------------------

export const rmspropUpdateKernel: KernelDef<'params' | 'grad' | 'p' | 'v' | 'buf'> = {
  name: 'rmsprop_update',
  wgsl: rmspropWgsl,
  bindings: {
    params: { binding: 0, type: 'uniform' },
    grad: { binding: 1, type: 'read-only-storage' },
    p: { binding: 2, type: 'storage' },
    v: { binding: 3, type: 'storage' },
    buf: { binding: 4, type: 'storage' },
  },
};

const RMSPROP_PARAMS = [
  ['N', 'u32'],
  ['_pad0', 'u32'],
  ['lr', 'f32'],
  ['alpha', 'f32'],
  ['oneMinusAlpha', 'f32'],
  ['eps', 'f32'],
  ['weightDecay', 'f32'],
  ['momentum', 'f32'],
] as const;

export interface RmspropUpdateArgs {
  p: GPUBuffer; // (N) updated in place
  grad: GPUBuffer; // (N)
  v: GPUBuffer; // (N) running mean of g², updated in place
  /** Momentum buffer (N), updated in place; null when momentum = 0. */
  buf: GPUBuffer | null;
  N: number;
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
}

/** One RMSprop step of one parameter, torch.optim.RMSprop (centered = false). */
export function rmspropUpdate(ctx: GpuContext, a: RmspropUpdateArgs): Promise<EncodedOp> {
  return encodeSingle(
    ctx,
    rmspropUpdateKernel,
    {},
    RMSPROP_PARAMS,
    {
      N: a.N,
      _pad0: 0,
      lr: a.lr,
      alpha: a.alpha,
      oneMinusAlpha: 1 - a.alpha,
      eps: a.eps,
      weightDecay: a.weightDecay,
      momentum: a.momentum,
    },
    { grad: a.grad, p: a.p, v: a.v, buf: a.buf ?? ctx.placeholder },
    elementwiseGrid(ctx, a.N),
  );
}

// ---- Global norm: sum of squares, then scale ----------------------------------

export const sumsqReduceKernel: KernelDef<'params' | 'x' | 'out'> = {
  name: 'sumsq_reduce',
  wgsl: sumsqWgsl,
  bindings: {
    params: { binding: 0, type: 'uniform' },
    x: { binding: 1, type: 'read-only-storage' },
    out: { binding: 2, type: 'storage' },
  },
};

const SUMSQ_PARAMS = [
  ['N', 'u32'],
  ['offset', 'u32'],
  ['_pad0', 'u32'],
  ['_pad1', 'u32'],
] as const;

/** Partial sums a parameter of N elements writes in pass 1 (its workgroup count). */
export function sumsqPartials(N: number): number {
  return Math.max(1, Math.min(Math.ceil(N / WG), SUMSQ_MAX_WORKGROUPS));
}

/** Pass 1: partials[offset .. offset + sumsqPartials(N)) = sums of grad² over slices of grad (N). */
export function sumsqPartial(ctx: GpuContext, a: { grad: GPUBuffer; partials: GPUBuffer; offset: number; N: number }): Promise<EncodedOp> {
  return encodeSingle(
    ctx,
    sumsqReduceKernel,
    { SQUARE: 1 },
    SUMSQ_PARAMS,
    { N: a.N, offset: a.offset, _pad0: 0, _pad1: 0 },
    { x: a.grad, out: a.partials },
    [sumsqPartials(a.N)],
  );
}

/** Pass 2: total[0] = Σ partials[0 .. P), in one workgroup. */
export function sumsqTotal(ctx: GpuContext, a: { partials: GPUBuffer; total: GPUBuffer; P: number }): Promise<EncodedOp> {
  return encodeSingle(ctx, sumsqReduceKernel, { SQUARE: 0 }, SUMSQ_PARAMS, { N: a.P, offset: 0, _pad0: 0, _pad1: 0 }, { x: a.partials, out: a.total }, [1]);
}

export const clipScaleKernel: KernelDef<'params' | 'total' | 'grad'> = {
  name: 'clip_scale',
  wgsl: clipScaleWgsl,
  bindings: {
    params: { binding: 0, type: 'uniform' },
    total: { binding: 1, type: 'read-only-storage' },
    grad: { binding: 2, type: 'storage' },
  },
};

const CLIP_SCALE_PARAMS = [
  ['N', 'u32'],
  ['_pad0', 'u32'],
  ['_pad1', 'u32'],
  ['maxNorm', 'f32'],
] as const;

/** grad (N) ·= min(1, maxNorm / (√total[0] + 1e-6)), total read on the GPU. */
export function clipScale(ctx: GpuContext, a: { grad: GPUBuffer; total: GPUBuffer; N: number; maxNorm: number }): Promise<EncodedOp> {
  return encodeSingle(
    ctx,
    clipScaleKernel,
    {},
    CLIP_SCALE_PARAMS,
    { N: a.N, _pad0: 0, _pad1: 0, maxNorm: a.maxNorm },
    { total: a.total, grad: a.grad },
    elementwiseGrid(ctx, a.N),
  );
}

// ---- Clip by value ------------------------------------------------------------

export const clipValueKernel: KernelDef<'params' | 'grad'> = {
  name: 'clip_value',
  wgsl: clipValueWgsl,
  bindings: {
    params: { binding: 0, type: 'uniform' },
    grad: { binding: 1, type: 'storage' },
  },
};

const CLIP_VALUE_PARAMS = [
  ['N', 'u32'],
  ['_pad0', 'u32'],
  ['_pad1', 'u32'],
  ['clipValue', 'f32'],
] as const;

/** grad (N) = clamp(grad, −clipValue, clipValue). */
export function clipValue(ctx: GpuContext, a: { grad: GPUBuffer; N: number; clipValue: number }): Promise<EncodedOp> {
  return encodeSingle(
    ctx,
    clipValueKernel,
    {},
    CLIP_VALUE_PARAMS,
    { N: a.N, _pad0: 0, _pad1: 0, clipValue: a.clipValue },
    { grad: a.grad },
    elementwiseGrid(ctx, a.N),
  );
}
