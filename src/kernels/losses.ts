// Losses and metrics: elementwise or per-row partial kernels, then mean_reduce.wgsl
// into a 1-element buffer (and, for the softmax cross-entropy, grad_scale.wgsl with
// the GPU-computed 1/count). src/training/losses.ts strings them into one submission;
// src/reference/losses.ts holds the float64 twins.
// Bindings a variant does not read take ctx.placeholder; one it does not write takes a
// 1-element scratch buffer freed with the op (Dawn refuses a buffer bound both
// read-only and writable, or writable twice, in one dispatch).
import bceWgsl from '../../shaders/bce_loss.wgsl?raw';
import binaryAccuracyWgsl from '../../shaders/binary_accuracy.wgsl?raw';
import categoricalAccuracyWgsl from '../../shaders/categorical_accuracy.wgsl?raw';
import gradScaleWgsl from '../../shaders/grad_scale.wgsl?raw';
import meanReduceWgsl from '../../shaders/mean_reduce.wgsl?raw';
import mseWgsl from '../../shaders/mse_loss.wgsl?raw';
import xentWgsl from '../../shaders/softmax_xent_loss.wgsl?raw';
import type { GpuContext, KernelDef } from '../gpu/context';
import type { UniformLayout } from '../gpu/uniforms';
import { encodeSingle, ro, rw, seqParams, withCommon, type EncodedOp } from './common';

// Uniform structs, one per family of kernels (the WGSL `struct Params` of each file).
const ELEMENT_PARAMS = [['n', 'u32'], ['gradScale', 'f32'], ['_pad0', 'u32'], ['_pad1', 'u32']] as const satisfies UniformLayout;
const BCE_PARAMS = [['n', 'u32'], ['gradScale', 'f32'], ['nanBits', 'u32'], ['_pad1', 'u32']] as const satisfies UniformLayout;
const COUNT_PARAMS = [['n', 'u32'], ['_pad0', 'u32'], ['_pad1', 'u32'], ['_pad2', 'u32']] as const satisfies UniformLayout;
const ROW_PARAMS = [['R', 'u32'], ['C', 'u32'], ['ignoreIndex', 'i32'], ['_pad0', 'u32']] as const satisfies UniformLayout;
const REDUCE_PARAMS = [['n', 'u32'], ['count', 'f32'], ['_pad0', 'u32'], ['_pad1', 'u32']] as const satisfies UniformLayout;

export const mseLossKernel: KernelDef<'params' | 'pred' | 'target' | 'part' | 'grad'> = {
  name: 'mse_loss',
  wgsl: mseWgsl,
  bindings: { params: seqParams, pred: ro(1), target: ro(2), part: rw(3), grad: rw(4) },
};

export const bceLossKernel: KernelDef<'params' | 'pred' | 'target' | 'part' | 'grad'> = {
  name: 'bce_loss',
  wgsl: withCommon(bceWgsl),
  bindings: { params: seqParams, pred: ro(1), target: ro(2), part: rw(3), grad: rw(4) },
};

export const softmaxXentKernel: KernelDef<'params' | 'logits' | 'labels' | 'mask' | 'part' | 'valid' | 'grad'> = {
  name: 'softmax_xent_loss',
  wgsl: xentWgsl,
  bindings: { params: seqParams, logits: ro(1), labels: ro(2), mask: ro(3), part: rw(4), valid: rw(5), grad: rw(6) },
};

export const meanReduceKernel: KernelDef<'params' | 'values' | 'counts' | 'out' | 'scale'> = {
  name: 'mean_reduce',
  wgsl: meanReduceWgsl,
  bindings: { params: seqParams, values: ro(1), counts: ro(2), out: rw(3), scale: rw(4) },
};

export const gradScaleKernel: KernelDef<'params' | 'scale' | 'grad'> = {
  name: 'grad_scale',
  wgsl: gradScaleWgsl,
  bindings: { params: seqParams, scale: ro(1), grad: rw(2) },
};

export const binaryAccuracyKernel: KernelDef<'params' | 'pred' | 'target' | 'hit'> = {
  name: 'binary_accuracy',
  wgsl: binaryAccuracyWgsl,
  bindings: { params: seqParams, pred: ro(1), target: ro(2), hit: rw(3) },
};

export const categoricalAccuracyKernel: KernelDef<'params' | 'logits' | 'labels' | 'mask' | 'hit' | 'valid'> = {
  name: 'categorical_accuracy',
  wgsl: categoricalAccuracyWgsl,
  bindings: { params: seqParams, logits: ro(1), labels: ro(2), mask: ro(3), hit: rw(4), valid: rw(5) },
};

/** Workgroups of 64 for a grid-stride loop over `n` items (capped at the dispatch limit). */
function strideGroups(ctx: GpuContext, n: number): [number] {
  return [Math.max(1, Math.min(Math.ceil(n / 64), ctx.limits.maxComputeWorkgroupsPerDimension))];
}

/**
 * Encodes with `buf`, or, when it is null (the variant does not write that binding),
 * with a 1-element scratch buffer that the op frees on release.
 */
async function withOutput(ctx: GpuContext, label: string, buf: GPUBuffer | null, encode: (buf: GPUBuffer) => Promise<EncodedOp>): Promise<EncodedOp> {
  if (buf) return encode(buf);
  const unused = ctx.createStorage(`${label}.unused`, 1);
  try {
    const op = await encode(unused);
    return { ...op, release: () => (op.release(), ctx.destroyBuffer(unused)) };
  } catch (e) {
    ctx.destroyBuffer(unused);
    throw e;
  }
}

/** part (n) = (pred − target)², grad (n) = 2·(pred − target)/n. */
export function mseLossPartials(ctx: GpuContext, a: { pred: GPUBuffer; target: GPUBuffer; part: GPUBuffer; grad: GPUBuffer; n: number }): Promise<EncodedOp> {
  return encodeSingle(ctx, mseLossKernel, {}, ELEMENT_PARAMS, { n: a.n, gradScale: 2 / a.n, _pad0: 0, _pad1: 0 }, { pred: a.pred, target: a.target, part: a.part, grad: a.grad }, strideGroups(ctx, a.n));
}

/** part (n) = BCE terms, grad (n) = ∂(mean)/∂pred, on probabilities or (fromLogits) logits. */
export function bceLossPartials(
  ctx: GpuContext,
  a: { pred: GPUBuffer; target: GPUBuffer; part: GPUBuffer; grad: GPUBuffer; n: number; fromLogits: boolean },
): Promise<EncodedOp> {
  return encodeSingle(
    ctx,
    bceLossKernel,
    { FROM_LOGITS: a.fromLogits ? 1 : 0 },
    BCE_PARAMS,
    { n: a.n, gradScale: 1 / a.n, nanBits: 0x7fc00000, _pad1: 0 },
    { pred: a.pred, target: a.target, part: a.part, grad: a.grad },
    strideGroups(ctx, a.n),
  );
}

/**
 * Per row of logits (R, C): part (R) = −log softmax at the label, valid (R) = kept flag,
 * grad (R, C) = softmax − onehot (not yet divided by the count; null: not written).
 * labels (R) i32 are already checked; mask (R) null means no mask.
 */
export function softmaxXentPartials(
  ctx: GpuContext,
  a: { logits: GPUBuffer; labels: GPUBuffer; mask: GPUBuffer | null; part: GPUBuffer; valid: GPUBuffer; grad: GPUBuffer | null; R: number; C: number; ignoreIndex: number },
): Promise<EncodedOp> {
  return withOutput(ctx, softmaxXentKernel.name, a.grad, (grad) =>
    encodeSingle(
      ctx,
      softmaxXentKernel,
      { HAS_MASK: a.mask ? 1 : 0, WRITE_GRAD: a.grad ? 1 : 0 },
      ROW_PARAMS,
      { R: a.R, C: a.C, ignoreIndex: a.ignoreIndex, _pad0: 0 },
      { logits: a.logits, labels: a.labels, mask: a.mask ?? ctx.placeholder, part: a.part, valid: a.valid, grad },
      strideGroups(ctx, a.R),
    ),
  );
}

/**
 * out (1) = Σ values / count, where count is Σ counts (when given) or `count`; 0 when
 * count is 0. exp: out = exp(mean). scale (1), when given, receives 1/count (or 0).
 */
export function meanReduce(
  ctx: GpuContext,
  a: { values: GPUBuffer; counts: GPUBuffer | null; out: GPUBuffer; scale: GPUBuffer | null; n: number; count: number; exp: boolean },
): Promise<EncodedOp> {
  return withOutput(ctx, meanReduceKernel.name, a.scale, (scale) =>
    encodeSingle(
      ctx,
      meanReduceKernel,
      { HAS_COUNTS: a.counts ? 1 : 0, WRITE_SCALE: a.scale ? 1 : 0, EXP: a.exp ? 1 : 0 },
      REDUCE_PARAMS,
      { n: a.n, count: a.count, _pad0: 0, _pad1: 0 },
      { values: a.values, counts: a.counts ?? ctx.placeholder, out: a.out, scale },
      [1],
    ),
  );
}

/** grad (n) ·= scale[0], in place. */
export function gradScale(ctx: GpuContext, a: { scale: GPUBuffer; grad: GPUBuffer; n: number }): Promise<EncodedOp> {
  return encodeSingle(ctx, gradScaleKernel, {}, COUNT_PARAMS, { n: a.n, _pad0: 0, _pad1: 0, _pad2: 0 }, { scale: a.scale, grad: a.grad }, strideGroups(ctx, a.n));
}

/** hit (n) = 1 where the thresholded prediction matches the 0/1 target. */
export function binaryAccuracyPartials(ctx: GpuContext, a: { pred: GPUBuffer; target: GPUBuffer; hit: GPUBuffer; n: number; fromLogits: boolean }): Promise<EncodedOp> {
  return encodeSingle(
    ctx,
    binaryAccuracyKernel,
    { FROM_LOGITS: a.fromLogits ? 1 : 0 },
    COUNT_PARAMS,
    { n: a.n, _pad0: 0, _pad1: 0, _pad2: 0 },
    { pred: a.pred, target: a.target, hit: a.hit },
    strideGroups(ctx, a.n),
  );
}

/** hit (R) = kept and argmax = label, valid (R) = kept, per row of logits (R, C). */
export function categoricalAccuracyPartials(
  ctx: GpuContext,
  a: { logits: GPUBuffer; labels: GPUBuffer; mask: GPUBuffer | null; hit: GPUBuffer; valid: GPUBuffer; R: number; C: number; ignoreIndex: number },
): Promise<EncodedOp> {
  return encodeSingle(
    ctx,
    categoricalAccuracyKernel,
    { HAS_MASK: a.mask ? 1 : 0 },
    ROW_PARAMS,
    { R: a.R, C: a.C, ignoreIndex: a.ignoreIndex, _pad0: 0 },
    { logits: a.logits, labels: a.labels, mask: a.mask ?? ctx.placeholder, hit: a.hit, valid: a.valid },
    strideGroups(ctx, a.R),
  );
}
