// Optimizers and gradient clipping against torch.optim trajectories
// (tests/fixtures/optim.json), on the float64 twins, the CPU backend and the GPU
// (Node, Dawn on SwiftShader); plus memory, validation, and an LSTM trained one
// step on both backends. The fixture cases live in parity/optim_cases.ts, shared
// with the headless-Chrome page (browser_training.test.ts); this file adds what
// only Node checks: submits, dispatches, readbacks and GPU memory.
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
// (OPTIM_TOL and CLIP_TOL in parity/optim_cases.ts hold these numbers.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fixtures from './fixtures/optim.json';
import { DisposedError, ValueError, type Runtime } from '../src/index';
import type { Param } from '../src/training/params';
import { Adam, AdamW, RMSprop, SGD, clipGradNorm, clipGradValue } from '../src/training/optim';
import { clipGradNormRef, clipGradValueRef } from '../src/reference/optim';
import { compare } from './parity/compare';
import {
  AWKWARD_CONFIGS,
  AWKWARD_SIZES,
  cpuParam,
  freeParams,
  gpuCtx,
  gpuParam,
  lcg,
  maxAbs,
  relErr,
  runClipGradNormCase,
  runClipGradNormLarge,
  runClipGradValueCase,
  runOptimAwkwardSizes,
  runOptimTrajectory,
  twinStepper,
  type OptConfig,
  type Optim,
  type OptimFixtures,
  type OptimRow,
} from './parity/optim_cases';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';

const fx = fixtures as unknown as OptimFixtures;
const configs = fx.optimizers as OptConfig[];
const p0 = fx.p0;
const grads = fx.grads;
const N = p0.length;

/** Every row within its tolerance; the message lists the ones that are not. */
function expectRowsOk(rows: OptimRow[]): void {
  const bad = rows.filter((r) => !r.ok).map((r) => r.detail);
  expect(bad, bad.join('\n')).toEqual([]);
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
      const step = twinStepper(cfg, N);
      cfg.steps.forEach((ref, k) => {
        step(theta, grads[k], k + 1);
        const c = compare(`${cfg.name}.p[step ${k + 1}]`, ref, theta, { atol: 1e-12 * maxAbs(ref) });
        note(`${cfg.name} twin`, relErr(ref, theta));
        expect(c.ok, c.detail).toBe(true);
      });
    });

    it(`${cfg.name}: cpu backend within 1e-6 (f32 parameter storage)`, async () => {
      const { rows, stepCount } = await runOptimTrajectory(cpu, fx, cfg);
      for (const r of rows) note(`${cfg.name} cpu`, r.relErr);
      expect(rows.length).toBe(cfg.steps.length);
      expectRowsOk(rows);
      expect(stepCount).toBe(4);
    });

    it(`${cfg.name}: gpu within 1e-6, one submit and no readback per step`, async () => {
      const ctx = gpuCtx(gpu);
      const before = ctx.memory();
      const queue = ctx.device.queue;
      const submit = queue.submit;
      let submits = 0;
      try {
        const { rows } = await runOptimTrajectory(gpu, fx, cfg, async (step) => {
          const stats = gpu.stats();
          queue.submit = (cbs: Iterable<GPUCommandBuffer>) => {
            submits++;
            return submit.call(queue, cbs);
          };
          try {
            await step();
          } finally {
            queue.submit = submit;
          }
          expect(gpu.stats().readbacks).toBe(stats.readbacks);
          expect(gpu.stats().dispatches - stats.dispatches).toBe(1);
        });
        for (const r of rows) note(`${cfg.name} gpu`, r.relErr);
        expect(rows.length).toBe(cfg.steps.length);
        expectRowsOk(rows);
        expect(submits).toBe(4);
      } finally {
        queue.submit = submit;
      }
      expect(ctx.memory()).toEqual(before);
    });
  }

  it('several parameters of awkward sizes: gpu = float64 twin within 1e-6, one dispatch per parameter', async () => {
    for (const cfg of configs.filter((c) => AWKWARD_CONFIGS.includes(c.name))) {
      const { rows, dispatchesPerStep } = await runOptimAwkwardSizes(gpu, cfg);
      expect(dispatchesPerStep).toEqual([AWKWARD_SIZES.length, AWKWARD_SIZES.length, AWKWARD_SIZES.length]);
      for (const r of rows) note(`${cfg.name} gpu (sizes ${AWKWARD_SIZES.join('/')})`, r.relErr);
      expect(rows.length).toBe(AWKWARD_SIZES.length);
      expectRowsOk(rows);
    }
  });
});

describe('gradient clipping vs torch.nn.utils (optim.json)', () => {
  let gpu: Runtime;
  let cpu: Runtime;
  const errs: Record<string, number> = {};
  const note = (key: string, e: number) => (errs[key] = Math.max(errs[key] ?? 0, e));
  beforeAll(async () => {
    gpu = await gpuRuntime();
    cpu = await cpuRuntime();
  });
  afterAll(() => {
    console.log('clipping: max error / max|ref| vs torch:', errs);
    gpu?.dispose();
  });

  for (const c of fx.clipGradNorm) {
    it(`clipGradNorm ${c.name}: float64 twin within 1e-12`, () => {
      const gs = c.gradsIn.map((g) => Float64Array.from(g));
      const norm = clipGradNormRef(gs, c.maxNorm);
      expect(Math.abs(norm - c.totalNorm)).toBeLessThanOrEqual(1e-12 * c.totalNorm);
      gs.forEach((g, i) => expect(relErr(c.gradsOut[i], g)).toBeLessThanOrEqual(1e-12));
    });

    it(`clipGradNorm ${c.name}: cpu backend within 1e-12, norm returned when asked`, async () => {
      const r = await runClipGradNormCase(cpu, c);
      expect(r.returned).toBeNull();
      for (const row of r.rows) note(`norm ${c.name} cpu${row.name.endsWith('totalNorm') ? ' (returned norm)' : ''}`, row.relErr);
      expect(r.rows.length).toBe(c.gradsIn.length + 1); // every gradient and the norm
      expectRowsOk(r.rows);
    });

    it(`clipGradNorm ${c.name}: gpu within 1e-6, no readback unless the norm is asked for`, async () => {
      const ctx = gpuCtx(gpu);
      const before = ctx.memory();
      const r = await runClipGradNormCase(gpu, c);
      expect(r.returned).toBeNull();
      expect(r.plainCall.readbacks).toBe(0);
      expect(r.plainCall.dispatches).toBe(2 * c.gradsIn.length + 1);
      expect(r.normCall.readbacks).toBe(1);
      for (const row of r.rows) note(`norm ${c.name} gpu${row.name.endsWith('totalNorm') ? ' (returned norm)' : ''}`, row.relErr);
      expect(r.rows.length).toBe(c.gradsIn.length + 1);
      expectRowsOk(r.rows);
      expect(ctx.memory()).toEqual(before); // partials and total freed
    });
  }

  it('clipGradNorm on large awkward sizes: gpu = float64 twin within 1e-6', async () => {
    const { rows, refNorm } = await runClipGradNormLarge(gpu);
    expect(refNorm).toBeGreaterThan(1); // clipping happens
    for (const row of rows) note(`norm large gpu${row.name.endsWith('totalNorm') ? ' (returned norm)' : ''}`, row.relErr);
    expect(rows.length).toBe(6); // the norm and 5 gradients
    expectRowsOk(rows);
  });

  it('clipGradValue: twin, cpu and gpu exact', async () => {
    const c = fx.clipGradValue;
    const twin = c.gradsIn.map((g) => Float64Array.from(g));
    clipGradValueRef(twin, c.clipValue);
    twin.forEach((g, i) => expect(Array.from(g)).toEqual(c.gradsOut[i]));

    const onCpu = await runClipGradValueCase(cpu, c);
    expect(onCpu.rows.length).toBe(c.gradsIn.length);
    expectRowsOk(onCpu.rows);

    // gradsIn and ±0.5 are f32-exact, so the GPU result is exact too.
    const onGpu = await runClipGradValueCase(gpu, c);
    expect(onGpu.readbacks).toBe(0);
    expect(onGpu.rows.length).toBe(c.gradsIn.length);
    expectRowsOk(onGpu.rows);
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
