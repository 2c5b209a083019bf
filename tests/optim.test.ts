// Optimizers and gradient clipping against torch.optim trajectories
// (tests/fixtures/optim.json), on the float64 twins, the CPU backend and the GPU
// (Node, Dawn on SwiftShader); plus memory, validation, and an LSTM trained one
// step on both backends.
//
// Tolerances, per tensor, relative to the largest |value| of the reference (p0
// and the gradients are O(1), so this is about the f32 resolution of the values):
//  - float64 twins on Float64Array values: 1e-12 (the fixture's numpy re-derivation
//    agrees with torch to 1e-12; the twins are the same formulas in float64).
//  - CPU optimizer classes: the parameter is a layer's Float32Array, rounded to f32
//    after every step (state stays float64): 4 roundings of ≤ 2⁻²⁴·|p| ≈ 6e-8 each,
//    so 1e-6 relative leaves a margin of ~4×.
//  - GPU: f32 arithmetic and f32 hyper-parameters: 1e-6 relative (brief's bound;
//    measured errors are printed in afterAll).
//  - clipping on the CPU: gradients are Float64Array there, so 1e-12; on the GPU
//    f32 sums of squares, 1e-6 relative.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fixtures from './fixtures/optim.json';
import { DisposedError, ValueError, type Runtime } from '../src/index';
import type { GpuContext } from '../src/gpu/context';
import type { Param } from '../src/params';
import { Adam, AdamW, RMSprop, SGD, clipGradNorm, clipGradValue } from '../src/optim';
import { adamStepRef, clipGradNormRef, clipGradValueRef, rmspropStepRef, sgdStepRef } from '../src/reference/optim';
import { compare } from './parity/compare';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';

interface OptConfig {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW' | 'RMSprop';
  kwargs: Record<string, unknown>;
  steps: number[][];
}
const configs = fixtures.optimizers as unknown as OptConfig[];
const p0 = fixtures.p0;
const grads = fixtures.grads;
const N = p0.length;

type Optim = SGD | Adam | AdamW | RMSprop;
type GpuParam = Extract<Param, { kind: 'webgpu' }>;
type CpuParam = Extract<Param, { kind: 'cpu' }>;

/** torch kwargs → our options. */
function options(kw: Record<string, unknown>): Record<string, unknown> {
  const map: Record<string, string> = { weight_decay: 'weightDecay' };
  return Object.fromEntries(Object.entries(kw).map(([k, v]) => [map[k] ?? k, v]));
}

function makeOptimizer(cfg: OptConfig, params: Param[], runtime: Runtime): Optim {
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
function twinStepper(cfg: OptConfig, n = N): (theta: Float64Array, g: ArrayLike<number>, t: number) => void {
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

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
/** Largest |got − ref| / max|ref|. */
function relErr(ref: ArrayLike<number>, got: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < ref.length; i++) d = Math.max(d, Math.abs(got[i] - ref[i]));
  return d / maxAbs(ref);
}

function gpuCtx(rt: Runtime): GpuContext {
  const be = rt.backendRef;
  if (be.kind !== 'webgpu') throw new Error('expected a webgpu runtime');
  return be.ctx;
}

function gpuParam(ctx: GpuContext, name: string, value: ArrayLike<number>, grad?: ArrayLike<number>): GpuParam {
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

function cpuParam(name: string, value: ArrayLike<number>, grad?: ArrayLike<number>): CpuParam {
  return { name, size: value.length, kind: 'cpu', value: Float32Array.from(value), grad: grad ? Float64Array.from(grad) : new Float64Array(value.length) };
}

function freeParams(ctx: GpuContext, params: GpuParam[]): void {
  for (const p of params) for (const b of [p.value, p.grad]) ctx.destroyBuffer(b);
}

/** Deterministic values in (−scale, scale). */
function lcg(seed: number, n: number, scale = 1): Float32Array<ArrayBuffer> {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

describe('optimizers vs torch.optim (optim.json)', () => {
  let gpu: Runtime;
  let cpu: Runtime;
  const errs: Record<string, number> = {};
  const note = (key: string, e: number) => (errs[key] = Math.max(errs[key] ?? 0, e));

  beforeAll(async () => {
    gpu = await gpuRuntime();
    cpu = await cpuRuntime();
  });
  afterAll(() => {
    console.log('max error / max|ref| vs torch (optimizer, backend):', errs);
    gpu?.dispose();
  });

  for (const cfg of configs) {
    it(`${cfg.name}: float64 twin within 1e-12`, () => {
      const theta = Float64Array.from(p0);
      const step = twinStepper(cfg);
      cfg.steps.forEach((ref, k) => {
        step(theta, grads[k], k + 1);
        const c = compare(`${cfg.name}.p[step ${k + 1}]`, ref, theta, { atol: 1e-12 * maxAbs(ref) });
        note(`${cfg.name} twin`, relErr(ref, theta));
        expect(c.ok, c.detail).toBe(true);
      });
    });

    it(`${cfg.name}: cpu backend within 1e-6 (f32 parameter storage)`, async () => {
      const p = cpuParam('p', p0);
      const opt = makeOptimizer(cfg, [p], cpu);
      for (const [k, ref] of cfg.steps.entries()) {
        p.grad.set(grads[k]);
        await opt.step();
        const c = compare(`${cfg.name}.p[step ${k + 1}]`, ref, p.value, { atol: 1e-6 * maxAbs(ref) });
        note(`${cfg.name} cpu`, relErr(ref, p.value));
        expect(c.ok, c.detail).toBe(true);
      }
      expect(opt.stepCount).toBe(4);
      opt.dispose();
    });

    it(`${cfg.name}: gpu within 1e-6, one submit and no readback per step`, async () => {
      const ctx = gpuCtx(gpu);
      const before = ctx.memory();
      const p = gpuParam(ctx, 'p', p0);
      const opt = makeOptimizer(cfg, [p], gpu);
      const queue = ctx.device.queue;
      const submit = queue.submit;
      let submits = 0;
      try {
        for (const [k, ref] of cfg.steps.entries()) {
          queue.writeBuffer(p.grad, 0, Float32Array.from(grads[k]));
          const stats = gpu.stats();
          queue.submit = (cbs: Iterable<GPUCommandBuffer>) => {
            submits++;
            return submit.call(queue, cbs);
          };
          await opt.step();
          queue.submit = submit;
          expect(gpu.stats().readbacks).toBe(stats.readbacks);
          expect(gpu.stats().dispatches - stats.dispatches).toBe(1);
          const got = await ctx.readback(p.value, N);
          const c = compare(`${cfg.name}.p[step ${k + 1}]`, ref, got, { atol: 1e-6 * maxAbs(ref) });
          note(`${cfg.name} gpu`, relErr(ref, got));
          expect(c.ok, c.detail).toBe(true);
        }
        expect(submits).toBe(4);
      } finally {
        queue.submit = submit;
        opt.dispose();
        freeParams(ctx, [p]);
      }
      expect(ctx.memory()).toEqual(before);
    });
  }

  it('several parameters of awkward sizes: gpu = float64 twin within 1e-6, one dispatch per parameter', async () => {
    const ctx = gpuCtx(gpu);
    const sizes = [1, 255, 257, 70_001];
    for (const cfg of configs.filter((c) => ['sgd_nesterov', 'adamw', 'rmsprop_momentum'].includes(c.name))) {
      const values = sizes.map((n, i) => lcg(11 + i, n));
      const gs = [0, 1, 2].map((k) => sizes.map((n, i) => lcg(100 * k + i, n, 2)));
      const params = sizes.map((_, i) => gpuParam(ctx, `p${i}`, values[i]));
      const opt = makeOptimizer(cfg, params, gpu);
      const twins = sizes.map((n) => twinStepper(cfg, n));
      const theta = values.map((v) => Float64Array.from(v));
      try {
        for (let k = 0; k < 3; k++) {
          params.forEach((p, i) => ctx.device.queue.writeBuffer(p.grad, 0, gs[k][i]));
          const d0 = gpu.stats().dispatches;
          await opt.step();
          expect(gpu.stats().dispatches - d0).toBe(sizes.length);
          theta.forEach((th, i) => twins[i](th, gs[k][i], k + 1));
        }
        for (const [i, p] of params.entries()) {
          const got = await ctx.readback(p.value, p.size);
          const c = compare(`${cfg.name}.p${i}`, theta[i], got, { atol: 1e-6 * maxAbs(theta[i]) });
          note(`${cfg.name} gpu (sizes ${sizes.join('/')})`, relErr(theta[i], got));
          expect(c.ok, c.detail).toBe(true);
        }
      } finally {
        opt.dispose();
        freeParams(ctx, params);
      }
    }
  });
});

describe('gradient clipping vs torch.nn.utils (optim.json)', () => {
  let gpu: Runtime;
  let cpu: Runtime;
  const errs: Record<string, number> = {};
  beforeAll(async () => {
    gpu = await gpuRuntime();
    cpu = await cpuRuntime();
  });
  afterAll(() => {
    console.log('clipping: max error / max|ref| vs torch:', errs);
    gpu?.dispose();
  });

  for (const c of fixtures.clipGradNorm) {
    it(`clipGradNorm ${c.name}: float64 twin within 1e-12`, () => {
      const gs = c.gradsIn.map((g) => Float64Array.from(g));
      const norm = clipGradNormRef(gs, c.maxNorm);
      expect(Math.abs(norm - c.totalNorm)).toBeLessThanOrEqual(1e-12 * c.totalNorm);
      gs.forEach((g, i) => expect(relErr(c.gradsOut[i], g)).toBeLessThanOrEqual(1e-12));
    });

    it(`clipGradNorm ${c.name}: cpu backend within 1e-12, norm returned when asked`, async () => {
      const params = c.gradsIn.map((g, i) => cpuParam(`p${i}`, new Float32Array(g.length), g));
      expect(await clipGradNorm(params, c.maxNorm)).toBeNull();
      for (const [i, p] of params.entries()) {
        const e = relErr(c.gradsOut[i], p.grad);
        errs[`norm ${c.name} cpu`] = Math.max(errs[`norm ${c.name} cpu`] ?? 0, e);
        expect(e).toBeLessThanOrEqual(1e-12);
        p.grad.set(c.gradsIn[i]);
      }
      const norm = await clipGradNorm(params, c.maxNorm, { returnNorm: true });
      expect(Math.abs(norm - c.totalNorm)).toBeLessThanOrEqual(1e-12 * c.totalNorm);
    });

    it(`clipGradNorm ${c.name}: gpu within 1e-6, no readback unless the norm is asked for`, async () => {
      const ctx = gpuCtx(gpu);
      const before = ctx.memory();
      const params = c.gradsIn.map((g, i) => gpuParam(ctx, `p${i}`, new Float32Array(g.length), g));
      try {
        const s0 = gpu.stats();
        expect(await clipGradNorm(params, c.maxNorm, { runtime: gpu })).toBeNull();
        const s1 = gpu.stats();
        expect(s1.readbacks).toBe(s0.readbacks);
        expect(s1.dispatches - s0.dispatches).toBe(2 * params.length + 1);
        for (const [i, p] of params.entries()) {
          const got = await ctx.readback(p.grad, p.size);
          const e = relErr(c.gradsOut[i], got);
          errs[`norm ${c.name} gpu`] = Math.max(errs[`norm ${c.name} gpu`] ?? 0, e);
          const cmp = compare(`clip.${c.name}.grad${i}`, c.gradsOut[i], got, { atol: 1e-6 * maxAbs(c.gradsOut[i]) });
          expect(cmp.ok, cmp.detail).toBe(true);
          ctx.device.queue.writeBuffer(p.grad, 0, Float32Array.from(c.gradsIn[i]));
        }
        const s2 = gpu.stats();
        const norm = await clipGradNorm(params, c.maxNorm, { runtime: gpu, returnNorm: true });
        expect(gpu.stats().readbacks - s2.readbacks).toBe(1);
        errs[`norm ${c.name} gpu (returned norm)`] = Math.abs(norm - c.totalNorm) / c.totalNorm;
        expect(Math.abs(norm - c.totalNorm)).toBeLessThanOrEqual(1e-6 * c.totalNorm);
      } finally {
        freeParams(ctx, params);
      }
      expect(ctx.memory()).toEqual(before); // partials and total freed
    });
  }

  it('clipGradNorm on large awkward sizes: gpu = float64 twin within 1e-6', async () => {
    const ctx = gpuCtx(gpu);
    const sizes = [1, 255, 257, 16_385, 100_003]; // the last needs the grid-stride loop (> 64 workgroups × 256)
    const gs = sizes.map((n, i) => lcg(7 + i, n, 0.01));
    const params = gs.map((g, i) => gpuParam(ctx, `p${i}`, new Float32Array(g.length), g));
    try {
      const ref = gs.map((g) => Float64Array.from(g));
      const refNorm = clipGradNormRef(ref, 1.0);
      expect(refNorm).toBeGreaterThan(1); // clipping happens
      const norm = await clipGradNorm(params, 1.0, { runtime: gpu, returnNorm: true });
      errs['norm large gpu (returned norm)'] = Math.abs(norm - refNorm) / refNorm;
      expect(Math.abs(norm - refNorm)).toBeLessThanOrEqual(1e-6 * refNorm);
      for (const [i, p] of params.entries()) {
        const got = await ctx.readback(p.grad, p.size);
        const cmp = compare(`clip.large.grad${i}`, ref[i], got, { atol: 1e-6 * maxAbs(ref[i]) });
        errs['norm large gpu'] = Math.max(errs['norm large gpu'] ?? 0, relErr(ref[i], got));
        expect(cmp.ok, cmp.detail).toBe(true);
      }
    } finally {
      freeParams(ctx, params);
    }
  });

  it('clipGradValue: twin, cpu and gpu exact', async () => {
    const c = fixtures.clipGradValue;
    const twin = c.gradsIn.map((g) => Float64Array.from(g));
    clipGradValueRef(twin, c.clipValue);
    twin.forEach((g, i) => expect(Array.from(g)).toEqual(c.gradsOut[i]));

    const cpuParams = c.gradsIn.map((g, i) => cpuParam(`p${i}`, new Float32Array(g.length), g));
    await clipGradValue(cpuParams, c.clipValue, { runtime: cpu });
    cpuParams.forEach((p, i) => expect(Array.from(p.grad)).toEqual(c.gradsOut[i]));

    const ctx = gpuCtx(gpu);
    const params = c.gradsIn.map((g, i) => gpuParam(ctx, `p${i}`, new Float32Array(g.length), g));
    try {
      const s0 = gpu.stats();
      await clipGradValue(params, c.clipValue, { runtime: gpu });
      expect(gpu.stats().readbacks).toBe(s0.readbacks);
      for (const [i, p] of params.entries()) {
        // gradsIn and ±0.5 are f32-exact, so the GPU result is exact too.
        expect(Array.from(await ctx.readback(p.grad, p.size))).toEqual(c.gradsOut[i]);
      }
    } finally {
      freeParams(ctx, params);
    }
  });
});

describe('optimizer lifetime and validation', () => {
  let gpu: Runtime;
  let cpu: Runtime;
  beforeAll(async () => {
    gpu = await gpuRuntime();
    cpu = await cpuRuntime();
  });
  afterAll(() => gpu?.dispose());

  it('a thousand Adam steps on the GPU leave the live buffer count unchanged; dispose frees the moments', async () => {
    const ctx = gpuCtx(gpu);
    const params = [gpuParam(ctx, 'a', lcg(1, 7), lcg(2, 7)), gpuParam(ctx, 'b', lcg(3, 300), lcg(4, 300))];
    const base = ctx.memory();
    const opt = new Adam(params, { lr: 1e-3, runtime: gpu });
    expect(opt.stateBuffers).toBe(4);
    const withState = ctx.memory();
    expect(withState.buffers).toBe(base.buffers + 4);
    for (let i = 0; i < 1000; i++) await opt.step();
    expect(ctx.memory()).toEqual(withState);
    expect(opt.stepCount).toBe(1000);
    opt.dispose();
    expect(opt.stateBuffers).toBe(0);
    expect(ctx.memory()).toEqual(base);
    await expect(opt.step()).rejects.toThrow(DisposedError);
    freeParams(ctx, params);
  });

  it('zeroGrad zeroes every gradient on both backends', async () => {
    const ctx = gpuCtx(gpu);
    const gp = [gpuParam(ctx, 'a', lcg(1, 5), lcg(2, 5)), gpuParam(ctx, 'b', lcg(3, 9), lcg(4, 9))];
    const cp = [cpuParam('a', lcg(1, 5), lcg(2, 5)), cpuParam('b', lcg(3, 9), lcg(4, 9))];
    const g = new SGD(gp, { lr: 0.1, momentum: 0.9, runtime: gpu });
    const c = new SGD(cp, { lr: 0.1, momentum: 0.9 });
    expect(g.stateBuffers).toBe(2);
    g.zeroGrad();
    c.zeroGrad();
    for (const p of gp) expect(Array.from(await ctx.readback(p.grad, p.size)).every((v) => v === 0)).toBe(true);
    for (const p of cp) expect(Array.from(p.grad).every((v) => v === 0)).toBe(true);
    // A step on zero gradients leaves the values unchanged.
    const before = await ctx.readback(gp[1].value, 9);
    await g.step();
    expect(Array.from(await ctx.readback(gp[1].value, 9))).toEqual(Array.from(before));
    g.dispose();
    freeParams(ctx, gp);
  });

  it('bad hyper-parameters throw ValueError naming the argument and the range', () => {
    const p = [cpuParam('p', [1, 2, 3])];
    const bad: [() => unknown, RegExp][] = [
      [() => new SGD(p, { lr: 0 }), /SGD: lr must be a finite number > 0, got 0/],
      [() => new SGD(p, { lr: -1 }), /lr must be a finite number > 0/],
      [() => new SGD(p, { lr: NaN }), /lr must be a finite number > 0, got NaN/],
      [() => new SGD(p, { lr: Infinity }), /lr/],
      [() => new SGD(p, { lr: '0.1' as unknown as number }), /lr must be a finite number > 0, got "0.1"/],
      [() => new SGD(p, { momentum: 1 }), /momentum must be a number in \[0, 1\), got 1/],
      [() => new SGD(p, { momentum: -0.1 }), /momentum/],
      [() => new SGD(p, { dampening: 2 }), /dampening must be a number in \[0, 1\]/],
      [() => new SGD(p, { weightDecay: -1e-4 }), /weightDecay must be a finite number ≥ 0/],
      [() => new SGD(p, { nesterov: true }), /nesterov requires momentum > 0 and dampening = 0/],
      [() => new SGD(p, { momentum: 0.9, dampening: 0.1, nesterov: true }), /nesterov requires/],
      [() => new SGD(p, { nesterov: 1 as unknown as boolean }), /nesterov must be true or false/],
      [() => new Adam(p, { betas: [1, 0.999] }), /Adam: betas\[0\] must be a number in \[0, 1\), got 1/],
      [() => new Adam(p, { betas: [0.9, -0.1] }), /betas\[1\] must be a number in \[0, 1\)/],
      [() => new Adam(p, { betas: [0.9] as unknown as [number, number] }), /betas must be an array \[beta1, beta2\]/],
      [() => new Adam(p, { eps: -1e-8 }), /eps must be a finite number ≥ 0/],
      [() => new AdamW(p, { weightDecay: NaN }), /AdamW: weightDecay/],
      [() => new AdamW(p, { lr: 0 }), /AdamW: lr/],
      [() => new RMSprop(p, { alpha: 1 }), /RMSprop: alpha must be a number in \[0, 1\)/],
      [() => new RMSprop(p, { momentum: 1.5 }), /RMSprop: momentum/],
      [() => new Adam(p, { weight_decay: 0.1 } as never), /unknown option 'weight_decay'.*Hint: options are camelCase: weightDecay/],
      [() => new Adam(p, { lr: 1e-3, amsgrad: true } as never), /unknown option 'amsgrad'/],
      [() => new Adam([]), /params must be a non-empty array/],
      [() => new Adam([p[0], p[0]]), /appears more than once/],
    ];
    for (const [f, re] of bad) {
      expect(f).toThrow(ValueError);
      expect(f).toThrow(re);
    }
  });

  it('clipping arguments, mixed backends and a mismatched runtime are ValueErrors', async () => {
    const ctx = gpuCtx(gpu);
    const c = cpuParam('c', [1, 2, 3], [1, 2, 3]);
    const g = gpuParam(ctx, 'g', [1, 2, 3], [1, 2, 3]);
    try {
      await expect(clipGradNorm([c], 0)).rejects.toThrow(/clipGradNorm: maxNorm must be a finite number > 0, got 0/);
      await expect(clipGradNorm([c], NaN)).rejects.toThrow(ValueError);
      await expect(clipGradValue([c], -1)).rejects.toThrow(/clipGradValue: clipValue must be a finite number > 0/);
      await expect(clipGradNorm([c, g], 1)).rejects.toThrow(/params\[1\] \('g'\) is a webgpu parameter but params\[0\] \('c'\) is cpu/);
      await expect(clipGradValue([g, c], 1, { runtime: gpu })).rejects.toThrow(/same backend/);
      expect(() => new Adam([c, g])).toThrow(/same backend/);
      new Adam([g]).dispose(); // GPU parameters carry their device: no runtime needed
      expect(() => new Adam([g], { runtime: cpu })).toThrow(/the parameters are webgpu but runtime is a cpu runtime/);
      expect(() => new Adam([c], { runtime: gpu })).toThrow(/the parameters are cpu but runtime is a webgpu runtime/);
      expect(await clipGradNorm([], 1, { returnNorm: true })).toBe(0);
    } finally {
      freeParams(ctx, [g]);
    }
  });

  it('lr can be changed between steps and is validated', async () => {
    const p = cpuParam('p', [1], [1]);
    const opt = new SGD([p], { lr: 0.5 });
    await opt.step();
    opt.lr = 0.25;
    await opt.step();
    expect(p.value[0]).toBe(1 - 0.5 - 0.25);
    expect(() => (opt.lr = -1)).toThrow(/SGD: lr must be a finite number > 0/);
  });
});

describe('an LSTM trained on both backends', () => {
  let gpu: Runtime;
  let cpu: Runtime;
  beforeAll(async () => {
    gpu = await gpuRuntime();
    cpu = await cpuRuntime();
  });
  afterAll(() => gpu?.dispose());

  const B = 2;
  const T = 4;
  const x = lcg(21, B * T * 2);
  const dOut = [lcg(22, B * T * 3), lcg(23, B * T * 3)];

  const cases: [string, (params: Param[], rt: Runtime) => Optim][] = [
    ['Adam', (params, rt) => new Adam(params, { lr: 0.01, runtime: rt })],
    ['SGD nesterov + clipGradNorm', (params, rt) => new SGD(params, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01, runtime: rt })],
    ['RMSprop momentum', (params, rt) => new RMSprop(params, { lr: 0.01, momentum: 0.5, runtime: rt })],
  ];
  for (const [name, make] of cases) {
    it(`${name}: two steps on the GPU match the CPU backend`, async () => {
      const base = gpu.memory();
      const gl = gpu.lstm({ inputSize: 2, hiddenSize: 3, seed: 5 });
      const cl = cpu.lstm({ inputSize: 2, hiddenSize: 3 });
      const sd0 = gl.torchStateDict();
      cl.loadTorchStateDict(sd0);
      const results: Record<string, Float32Array>[] = [];
      for (const [layer, rt] of [[gl, gpu], [cl, cpu]] as const) {
        const params = layer.parameters();
        expect(params.map((p) => p.name)).toEqual(['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']);
        const opt = make(params, rt);
        for (const d of dOut) {
          opt.zeroGrad();
          const fwd = await layer.forward(x, { batch: B, seqLen: T, record: true });
          const back = await layer.backward(fwd.tape!, { dOutput: d });
          for (const t of [fwd.output, fwd.h, fwd.c, back.dx, back.dh0, back.dc0]) t?.dispose();
          if (name.includes('clip')) await clipGradNorm(params, 0.5, { runtime: rt });
          await opt.step();
        }
        opt.dispose();
        await layer.syncWeights();
        results.push(Object.fromEntries(Object.entries(layer.torchStateDict()).map(([k, v]) => [k, v.data])));
      }
      const [g, c] = results;
      let moved = 0;
      for (const k of Object.keys(sd0)) {
        // Gradients agree to ~1e-6 relative (grad_parity.test.ts); two updates of
        // size ≤ lr move the weights by < 0.05, so 1e-5 absolute is ample.
        const cmp = compare(`lstm.${k}`, c[k], g[k], { atol: 1e-5 });
        expect(cmp.ok, cmp.detail).toBe(true);
        for (let i = 0; i < c[k].length; i++) moved = Math.max(moved, Math.abs(c[k][i] - sd0[k].data[i]));
        console.log(`lstm ${name} ${k}: max |gpu − cpu| = ${cmp.maxAbs.toExponential(2)}`);
      }
      expect(moved).toBeGreaterThan(1e-3); // the optimizer did change the weights
      gl.dispose();
      expect(gpu.memory()).toEqual(base); // layer, gradients, tapes and optimizer state all freed
    });
  }
});
