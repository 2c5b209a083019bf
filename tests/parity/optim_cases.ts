// Optimizers and gradient clipping against torch.optim / torch.nn.utils
// (tests/fixtures/optim.json), shared by the Node test (optim.test.ts) and the
// headless-Chrome page (tests/browser/training.ts). Each case runs on one runtime
// (the GPU's sgd/adam/rmsprop_update, sumsq_reduce, clip_scale and clip_value
// kernels, or the CPU backend's loops) and returns one row per compared tensor,
// plus what the Node test asserts about dispatches and readbacks.
//
// Tolerances, per tensor, relative to the largest |value| of the reference (p0 and
// the gradients are O(1), so this is about the f32 resolution of the values):
//  - optimizers, both backends: 1e-6. The CPU backend keeps the parameter as a
//    layer's Float32Array, rounded to f32 after every step (state stays float64):
//    4 roundings of ≤ 2⁻²⁴·|p| ≈ 6e-8 each, a margin of ~4×. The GPU adds f32
//    arithmetic and f32 hyper-parameters; measured ≤ 2.5e-7.
//  - clipping: the CPU's gradients are Float64Array, so 1e-12; the GPU sums squares
//    in f32: 1e-6 (measured ≤ 8e-8).
//  - clipGradValue: inputs and ±clipValue are f32-exact, so exact on both.
import { Adam, AdamW, RMSprop, SGD, clipGradNorm, clipGradValue, type Param, type Runtime } from '../../src/index';
import type { GpuContext } from '../../src/gpu/context';
import { adamStepRef, clipGradNormRef, rmspropStepRef, sgdStepRef } from '../../src/reference/optim';
import { compare } from './compare';

export interface OptConfig {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW' | 'RMSprop';
  kwargs: Record<string, unknown>;
  /** p after each step, (steps, N) */
  steps: number[][];
}

export interface ClipNormCase {
  name: string;
  maxNorm: number;
  totalNorm: number;
  gradsIn: number[][];
  gradsOut: number[][];
}

export interface ClipValueCase {
  clipValue: number;
  gradsIn: number[][];
  gradsOut: number[][];
}

/** The parts of tests/fixtures/optim.json the cases read. */
export interface OptimFixtures {
  /** (N) */
  p0: number[];
  /** one gradient per step, (steps, N) */
  grads: number[][];
  optimizers: OptConfig[];
  clipGradNorm: ClipNormCase[];
  clipGradValue: ClipValueCase;
}

export interface OptimRow {
  /** 'optim' | 'clip' */
  group: string;
  name: string;
  ok: boolean;
  /** max |got − ref| / max |ref| */
  relErr: number;
  detail: string;
}

// wasm: the optimizers and clipping run in JS float64 on host parameters, as on the CPU.
export const OPTIM_TOL = { cpu: 1e-6, webgpu: 1e-6, wasm: 1e-6 };
export const CLIP_TOL = { cpu: 1e-12, webgpu: 1e-6, wasm: 1e-12 };

export type Optim = SGD | Adam | AdamW | RMSprop;
export type GpuParam = Extract<Param, { kind: 'webgpu' }>;
export type CpuParam = Extract<Param, { kind: 'cpu' }>;

/** torch kwargs → our options. */
function options(kw: Record<string, unknown>): Record<string, unknown> {
  const map: Record<string, string> = { weight_decay: 'weightDecay' };
  return Object.fromEntries(Object.entries(kw).map(([k, v]) => [map[k] ?? k, v]));
}

export function makeOptimizer(cfg: OptConfig, params: Param[], runtime: Runtime): Optim {
  const o = { ...options(cfg.kwargs), runtime };
  switch (cfg.optimizer) {
    case 'SGD':
      return new SGD(params, o);
    case 'Adam':
      return new Adam(params, o);
    case 'AdamW':
      return new AdamW(params, o);
    case 'RMSprop':
      return new RMSprop(params, o);
  }
}

/** The float64 twin of one config for a parameter of n elements, stepping `theta` in place. */
export function twinStepper(cfg: OptConfig, n: number): (theta: Float64Array, g: ArrayLike<number>, t: number) => void {
  const kw = cfg.kwargs as { lr: number; momentum?: number; nesterov?: boolean; weight_decay?: number };
  const wd = kw.weight_decay ?? 0;
  const s1 = new Float64Array(n);
  const s2 = new Float64Array(n);
  switch (cfg.optimizer) {
    case 'SGD': {
      const h = { lr: kw.lr, momentum: kw.momentum ?? 0, dampening: 0, weightDecay: wd, nesterov: !!kw.nesterov };
      return (th, g, t) => sgdStepRef(th, g, h.momentum ? s1 : null, h, t);
    }
    case 'Adam':
    case 'AdamW': {
      const h = { lr: kw.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: wd, decoupled: cfg.optimizer === 'AdamW' };
      return (th, g, t) => adamStepRef(th, g, s1, s2, h, t);
    }
    case 'RMSprop': {
      const h = { lr: kw.lr, alpha: 0.99, eps: 1e-8, weightDecay: wd, momentum: kw.momentum ?? 0 };
      return (th, g) => rmspropStepRef(th, g, s1, h.momentum ? s2 : null, h);
    }
  }
}

export const maxAbs = (a: ArrayLike<number>): number => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** Largest |got − ref| / max|ref|. */
export function relErr(ref: ArrayLike<number>, got: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < ref.length; i++) d = Math.max(d, Math.abs(got[i] - ref[i]));
  return d / maxAbs(ref);
}

export function gpuCtx(rt: Runtime): GpuContext {
  const be = rt.backendRef;
  if (be.kind !== 'webgpu') throw new Error('expected a webgpu runtime');
  return be.ctx;
}

export function gpuParam(ctx: GpuContext, name: string, value: ArrayLike<number>, grad?: ArrayLike<number>): GpuParam {
  const size = value.length;
  return {
    name,
    size,
    kind: 'webgpu',
    value: ctx.createStorage(`${name}.value`, Float32Array.from(value)),
    grad: grad ? ctx.createStorage(`${name}.grad`, Float32Array.from(grad)) : ctx.createStorage(`${name}.grad`, size),
    ctx,
  };
}

export function cpuParam(name: string, value: ArrayLike<number>, grad?: ArrayLike<number>): CpuParam {
  return { name, size: value.length, kind: 'cpu', value: Float32Array.from(value), grad: grad ? Float64Array.from(grad) : new Float64Array(value.length) };
}

export function freeParams(ctx: GpuContext, params: GpuParam[]): void {
  for (const p of params) for (const b of [p.value, p.grad]) ctx.destroyBuffer(b);
}

/** Deterministic values in (−scale, scale). */
export function lcg(seed: number, n: number, scale = 1): Float32Array<ArrayBuffer> {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** A row comparing `got` with `ref` at tolerance `tol` relative to max|ref|. */
function relRow(group: string, name: string, ref: ArrayLike<number>, got: ArrayLike<number>, tol: number): OptimRow {
  const c = compare(name, ref, got, { atol: tol * maxAbs(ref) });
  return { group, name, ok: c.ok, relErr: relErr(ref, got), detail: c.detail };
}

/** A row comparing a scalar with its reference, |got − ref| ≤ tol·|ref|. */
function scalarRow(group: string, name: string, ref: number, got: number, tol: number): OptimRow {
  const rel = Math.abs(got - ref) / Math.abs(ref);
  const ok = Math.abs(got - ref) <= tol * Math.abs(ref);
  return { group, name, ok, relErr: rel, detail: `ref ${ref} vs got ${got}: rel ${rel.toExponential(2)}${ok ? '' : ` > ${tol}`}` };
}

/** Lets the Node test count submits and dispatches around each optimizer step. */
export type StepWrapper = (step: () => Promise<void>) => Promise<void>;

/**
 * One optim.json config on `rt`: a parameter p0, the fixture's gradients, one
 * optimizer step each; one row per step against torch's trajectory. Frees the
 * parameter and the optimizer state before returning.
 */
export async function runOptimTrajectory(
  rt: Runtime,
  fx: OptimFixtures,
  cfg: OptConfig,
  aroundStep: StepWrapper = (step) => step(),
): Promise<{ rows: OptimRow[]; stepCount: number }> {
  const rows: OptimRow[] = [];
  const tol = OPTIM_TOL[rt.backend];
  const N = fx.p0.length;
  if (rt.backend !== 'webgpu') {
    const p = cpuParam('p', fx.p0);
    const opt = makeOptimizer(cfg, [p], rt);
    try {
      for (const [k, ref] of cfg.steps.entries()) {
        p.grad.set(fx.grads[k]);
        await aroundStep(() => opt.step());
        rows.push(relRow('optim', `${cfg.name}.p[step ${k + 1}]`, ref, p.value, tol));
      }
      return { rows, stepCount: opt.stepCount };
    } finally {
      opt.dispose();
    }
  }
  const ctx = gpuCtx(rt);
  const p = gpuParam(ctx, 'p', fx.p0);
  const opt = makeOptimizer(cfg, [p], rt);
  try {
    for (const [k, ref] of cfg.steps.entries()) {
      ctx.device.queue.writeBuffer(p.grad, 0, Float32Array.from(fx.grads[k]));
      await aroundStep(() => opt.step());
      const got = await ctx.readback(p.value, N);
      rows.push(relRow('optim', `${cfg.name}.p[step ${k + 1}]`, ref, got, tol));
    }
    return { rows, stepCount: opt.stepCount };
  } finally {
    opt.dispose();
    freeParams(ctx, [p]);
  }
}

/** Parameter sizes around the update kernels' workgroup (256) and grid limits. */
export const AWKWARD_SIZES = [1, 255, 257, 70_001];
export const AWKWARD_CONFIGS = ['sgd_nesterov', 'adamw', 'rmsprop_momentum'];

/**
 * One config on several GPU parameters of awkward sizes, 3 steps on seeded
 * gradients, against the float64 twin; also the dispatches of each step.
 */
export async function runOptimAwkwardSizes(gpu: Runtime, cfg: OptConfig): Promise<{ rows: OptimRow[]; dispatchesPerStep: number[] }> {
  const ctx = gpuCtx(gpu);
  const sizes = AWKWARD_SIZES;
  const values = sizes.map((n, i) => lcg(11 + i, n));
  const gs = [0, 1, 2].map((k) => sizes.map((n, i) => lcg(100 * k + i, n, 2)));
  const params = sizes.map((_, i) => gpuParam(ctx, `p${i}`, values[i]));
  const opt = makeOptimizer(cfg, params, gpu);
  const twins = sizes.map((n) => twinStepper(cfg, n));
  const theta = values.map((v) => Float64Array.from(v));
  const rows: OptimRow[] = [];
  const dispatchesPerStep: number[] = [];
  try {
    for (let k = 0; k < 3; k++) {
      params.forEach((p, i) => ctx.device.queue.writeBuffer(p.grad, 0, gs[k][i]));
      const d0 = gpu.stats().dispatches;
      await opt.step();
      dispatchesPerStep.push(gpu.stats().dispatches - d0);
      theta.forEach((th, i) => twins[i](th, gs[k][i], k + 1));
    }
    for (const [i, p] of params.entries()) {
      const got = await ctx.readback(p.value, p.size);
      rows.push(relRow('optim', `${cfg.name}.p${i} (n=${p.size})`, theta[i], got, OPTIM_TOL.webgpu));
    }
    return { rows, dispatchesPerStep };
  } finally {
    opt.dispose();
    freeParams(ctx, params);
  }
}

function clipParams(rt: Runtime, gradsIn: number[][]): Param[] {
  if (rt.backend !== 'webgpu') return gradsIn.map((g, i) => cpuParam(`p${i}`, new Float32Array(g.length), g));
  const ctx = gpuCtx(rt);
  return gradsIn.map((g, i) => gpuParam(ctx, `p${i}`, new Float32Array(g.length), g));
}

async function readGrad(p: Param): Promise<ArrayLike<number>> {
  return p.kind === 'cpu' ? p.grad : p.ctx.readback(p.grad, p.size);
}

function writeGrad(p: Param, g: ArrayLike<number>): void {
  if (p.kind === 'cpu') p.grad.set(g);
  else p.ctx.device.queue.writeBuffer(p.grad, 0, Float32Array.from(g));
}

function freeAll(rt: Runtime, params: Param[]): void {
  if (rt.backend === 'webgpu') freeParams(gpuCtx(rt), params as GpuParam[]);
}

/**
 * clipGradNorm on one optim.json case: the clipped gradients of a call that does
 * not ask for the norm, then, on fresh gradients, the norm of a call that does.
 */
export async function runClipGradNormCase(
  rt: Runtime,
  c: ClipNormCase,
): Promise<{ rows: OptimRow[]; returned: number | null; plainCall: { readbacks: number; dispatches: number }; normCall: { readbacks: number } }> {
  const tol = CLIP_TOL[rt.backend];
  const params = clipParams(rt, c.gradsIn);
  const rows: OptimRow[] = [];
  try {
    const s0 = rt.stats();
    const returned = await clipGradNorm(params, c.maxNorm, { runtime: rt });
    const s1 = rt.stats();
    for (const [i, p] of params.entries()) {
      rows.push(relRow('clip', `clipGradNorm.${c.name}.grad${i}`, c.gradsOut[i], await readGrad(p), tol));
      writeGrad(p, c.gradsIn[i]);
    }
    const s2 = rt.stats();
    const norm = await clipGradNorm(params, c.maxNorm, { runtime: rt, returnNorm: true });
    const s3 = rt.stats();
    rows.push(scalarRow('clip', `clipGradNorm.${c.name}.totalNorm`, c.totalNorm, norm, tol));
    return {
      rows,
      returned,
      plainCall: { readbacks: s1.readbacks - s0.readbacks, dispatches: s1.dispatches - s0.dispatches },
      normCall: { readbacks: s3.readbacks - s2.readbacks },
    };
  } finally {
    freeAll(rt, params);
  }
}

/** Gradient sizes for the large clipGradNorm case; the last needs the grid-stride loop (> 64 workgroups × 256). */
export const CLIP_LARGE_SIZES = [1, 255, 257, 16_385, 100_003];

/** clipGradNorm(maxNorm 1) on large awkward sizes against the float64 twin: the returned norm and every clipped gradient. */
export async function runClipGradNormLarge(rt: Runtime): Promise<{ rows: OptimRow[]; refNorm: number }> {
  const tol = CLIP_TOL[rt.backend];
  const gs = CLIP_LARGE_SIZES.map((n, i) => Array.from(lcg(7 + i, n, 0.01)));
  const params = clipParams(rt, gs);
  try {
    const ref = gs.map((g) => Float64Array.from(g));
    const refNorm = clipGradNormRef(ref, 1.0);
    const norm = await clipGradNorm(params, 1.0, { runtime: rt, returnNorm: true });
    const rows = [scalarRow('clip', 'clipGradNorm.large.totalNorm', refNorm, norm, tol)];
    for (const [i, p] of params.entries()) rows.push(relRow('clip', `clipGradNorm.large.grad${i} (n=${p.size})`, ref[i], await readGrad(p), tol));
    return { rows, refNorm };
  } finally {
    freeAll(rt, params);
  }
}

/** clipGradValue on optim.json's case: exact on both backends. */
export async function runClipGradValueCase(rt: Runtime, c: ClipValueCase): Promise<{ rows: OptimRow[]; readbacks: number }> {
  const params = clipParams(rt, c.gradsIn);
  try {
    const s0 = rt.stats();
    await clipGradValue(params, c.clipValue, { runtime: rt });
    const readbacks = rt.stats().readbacks - s0.readbacks;
    const rows: OptimRow[] = [];
    for (const [i, p] of params.entries()) {
      // Exact: every element the same value (Object.is, as toEqual), and the same length.
      const ref = c.gradsOut[i];
      const got = Array.from(await readGrad(p));
      const cmp = compare(`clipGradValue.grad${i}`, ref, got, { atol: 0 });
      const same = got.length === ref.length && got.every((v, j) => Object.is(v, ref[j]));
      rows.push({ group: 'clip', name: cmp.name, ok: same, relErr: cmp.maxAbs / maxAbs(ref), detail: same ? 'exact' : cmp.ok ? `${cmp.name}: ±0 differs from the reference` : cmp.detail });
    }
    return { rows, readbacks };
  } finally {
    freeAll(rt, params);
  }
}
