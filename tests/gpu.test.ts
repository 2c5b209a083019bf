// GPU plumbing: every kernel compiles on this adapter, a broken kernel fails with
// an error naming it, and the scheduler's dispatch counts are what we claim.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelError, createRuntime, type Runtime } from '../src/index';
import type { GpuContext, KernelDef } from '../src/gpu/context';
import { withCommon } from '../src/kernels/common';
import { gruResetKernel, gruSeqKernel, gruStepBackwardKernel, gruStepKernel, gruV1ResetBackwardKernel, gruV1StepBackwardKernel, gruV1StepKernel } from '../src/kernels/gru';
import { embeddingKernel, softmaxKernel } from '../src/kernels/heads';
import { lstmSeqKernel, lstmStepKernel } from '../src/kernels/lstm';
import { matmulBiasKernel, matmulGradKernel, matmulTiledKernel } from '../src/kernels/matmul';
import { stateGradKernel } from '../src/kernels/recurrent';
import { rnnSeqKernel, rnnStepKernel } from '../src/kernels/rnn';
import { gpuRuntime } from './helpers/runtimes';

let rt: Runtime;
let ctx: GpuContext;
beforeAll(async () => {
  rt = await gpuRuntime();
  const be = rt.backendRef;
  if (be.kind !== 'webgpu') throw new Error('expected the webgpu backend');
  ctx = be.ctx;
});
afterAll(() => rt.dispose());

describe('kernels', () => {
  const all: [KernelDef, Record<string, number>][] = [
    [matmulBiasKernel, { ACT: 3 }],
    [rnnStepKernel, { ACT: 1 }],
    [rnnStepKernel, { ACT: 3, ROWS: 4 }],
    [gruStepKernel, { ROWS: 4, RECORD: 1 }],
    [gruResetKernel, { ROWS: 2, RECORD: 1 }],
    [gruV1StepKernel, { ROWS: 4, RECORD: 1 }],
    [rnnSeqKernel, { ACT: 3, CAP: 512 }],
    [gruStepKernel, {}],
    [gruSeqKernel, { CAP: 1024, RESET_AFTER: 0 }],
    [gruSeqKernel, { CAP: 1024, RESET_AFTER: 0, RECORD: 1 }],
    [gruResetKernel, {}],
    [gruResetKernel, { RECORD: 1 }],
    [gruV1StepKernel, {}],
    [gruV1StepKernel, { RECORD: 1 }],
    [gruStepBackwardKernel, {}],
    [gruV1StepBackwardKernel, {}],
    [gruV1ResetBackwardKernel, {}],
    [gruV1ResetBackwardKernel, { ROWS: 4 }],
    [gruV1StepBackwardKernel, { ROWS: 4 }],
    [gruStepBackwardKernel, { ROWS: 2 }],
    [stateGradKernel, {}],
    [matmulGradKernel, { TRANS_A: 1, ACCUMULATE: 1 }],
    [matmulTiledKernel, { TRANS_A: 1, ACCUMULATE: 1 }],
    [matmulTiledKernel, { TRANS_B: 1, ACT: 3 }],
    [lstmStepKernel, {}],
    [lstmStepKernel, { ROWS: 4, RECORD: 1 }],
    [lstmSeqKernel, { CAP: 512 }],
    [embeddingKernel, {}],
    [softmaxKernel, {}],
  ];
  for (const [def, constants] of all) {
    it(`${def.name} ${JSON.stringify(constants)} compiles and validates with its declared bind-group layout`, async () => {
      const p = await ctx.pipeline(def, constants);
      expect(p.label).toBe(def.name);
      // cached: the same variant is compiled once
      expect(await ctx.pipeline(def, constants)).toBe(p);
    });
  }

  it('a WGSL error fails with a KernelError that names the kernel and the line', async () => {
    const broken: KernelDef<'y'> = {
      name: 'broken_kernel',
      wgsl: withCommon('@group(0) @binding(0) var<storage, read_write> y: array<f32>;\n@compute @workgroup_size(1) fn main() { y[0] = undefined_thing; }'),
      bindings: { y: { binding: 0, type: 'storage' } },
    };
    const err = await ctx.pipeline(broken).catch((e) => e);
    expect(err).toBeInstanceOf(KernelError);
    expect(err.message).toMatch(/broken_kernel/);
    expect(err.message).toMatch(/line \d+/);
  });
});

describe('dispatches per time step', () => {
  const x = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.cos(i));
  const cases = [
    ['lstm', {}, 1],
    ['gru', {}, 1],
    ['gru', { resetAfter: false }, 2],
    ['rnn', {}, 1],
  ] as const;
  for (const [cell, extra, perStep] of cases) {
    it(`${cell}${'resetAfter' in extra ? ' reset_after=false' : ''}: per-step path ${perStep}, persistent 1/T, plus one projection per layer direction`, async () => {
      const opts = { inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, ...extra };
      const layer = cell === 'lstm' ? rt.lstm(opts) : cell === 'gru' ? rt.gru(opts) : rt.simpleRNN(opts);
      const T = 6;
      for (const path of ['step', 'persistent'] as const) {
        const before = rt.stats().dispatches;
        const res = await layer.forward(x(2 * T * 3), { batch: 2, seqLen: T, path });
        const issued = rt.stats().dispatches - before;
        const LD = 4; // 2 layers × 2 directions
        expect(res.stats.path).toBe(path);
        expect(res.stats.dispatchesPerStep).toBeCloseTo(path === 'step' ? perStep : 1 / T, 12);
        expect(issued).toBe(res.stats.dispatches);
        expect(issued).toBe(LD + LD * (path === 'step' ? perStep * T : 1));
        res.output.dispose();
        res.h.dispose();
        res.c?.dispose();
      }
      layer.dispose();
    });
  }

  // Backward of one layer direction: the step kernels (1 per step; 2 for the Keras
  // reset_after=False GRU, whose dA_r needs W_hnᵀ·dA_n of all units), the initial
  // state's gradient, dW_ih, db_ih, dW_hhᵀ (2 column blocks for the v1 GRU: r, z
  // with h, n with r ⊙ h), db_hh (double-bias layers) and dx.
  const backwardCases = [
    ['gru reset_after=true', { resetAfter: true }, 1, 1],
    ['gru reset_after=false', { resetAfter: false }, 2, 2],
    ['gru reset_after=false, Keras single bias', { resetAfter: false, convention: 'keras' }, 2, 2],
  ] as const;
  for (const [label, extra, perStep, whhMatmuls] of backwardCases) {
    it(`${label}: backward ${perStep} per step + state gradient + matmuls, after either forward path`, async () => {
      const opts = { inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, ...extra };
      const layer = rt.gru(opts);
      const T = 6;
      const B = 2;
      const LD = 4; // 2 layers × 2 directions
      const bhh = 'convention' in extra ? 0 : 1; // db_hh colsum
      const perDirection = perStep * T + 1 + 2 + whhMatmuls + bhh + 1;
      for (const path of ['step', 'persistent'] as const) {
        const res = await layer.forward(x(B * T * 3), { batch: B, seqLen: T, path, record: true });
        const before = rt.stats().dispatches;
        const back = await layer.backward(res.tape!, { dOutput: x(B * T * 2 * 5) });
        expect(rt.stats().dispatches - before).toBe(LD * perDirection);
        for (const t of [res.output, res.h, back.dx, back.dh0]) t.dispose();
      }
      layer.dispose();
    });
  }

  it("'auto' picks persistent for B·H ≤ 64 and per-step above", async () => {
    const small = rt.lstm({ inputSize: 2, hiddenSize: 8 });
    const big = rt.lstm({ inputSize: 2, hiddenSize: 300 });
    const a = await small.forward(x(2 * 3 * 2), { batch: 2, seqLen: 3 });
    const b = await big.forward(x(4 * 3 * 2), { batch: 4, seqLen: 3 });
    expect(a.stats.path).toBe('persistent');
    expect(b.stats.path).toBe('step');
    // a single sequence with H = 128: per-step measured faster (two workgroups, two cores)
    const wide = rt.lstm({ inputSize: 2, hiddenSize: 128 });
    const c = await wide.forward(x(1 * 3 * 2), { batch: 1, seqLen: 3 });
    expect(c.stats.path).toBe('step');
    // the boundary, B·H = 64 (measured in Chromium: persistent faster up to there)
    const h32 = rt.gru({ inputSize: 2, hiddenSize: 32 });
    const d = await h32.forward(x(2 * 3 * 2), { batch: 2, seqLen: 3 });
    const e = await h32.forward(x(4 * 3 * 2), { batch: 4, seqLen: 3 });
    expect(d.stats.path).toBe('persistent');
    expect(e.stats.path).toBe('step');
    for (const r of [a, b, c, d, e]) for (const t of [r.output, r.h, r.c]) t?.dispose();
    for (const l of [small, big, wide, h32]) l.dispose();
  });
});

describe('GPU-side time from timestamp queries', () => {
  it('without { timestamps: true } nothing is timed and gpuTime() is null', async () => {
    expect(rt.timestamps).toBe(false);
    expect(await rt.gpuTime()).toBeNull();
  });

  it('with { timestamps: true } on an adapter that offers them, forward and backward passes are summed and taken', async () => {
    const timed = await createRuntime({ timestamps: true });
    try {
      // SwiftShader (Dawn) offers 'timestamp-query': this runtime must time.
      expect(timed.timestamps).toBe(timed.device!.features.has('timestamp-query'));
      expect(timed.timestamps).toBe(true);
      const layer = timed.lstm({ inputSize: 4, hiddenSize: 8 });
      const input = new Float32Array(3 * 6 * 4).map((_, i) => Math.sin(i));
      const res = await layer.forward(input, { batch: 3, seqLen: 6, record: true });
      await res.output.read();
      const fwd = await timed.gpuTime();
      expect(fwd!.passes).toBe(1); // the whole forward is one compute pass
      expect(fwd!.ms).toBeGreaterThan(0);
      expect(fwd!.untimed).toBe(0);
      expect(await timed.gpuTime()).toEqual({ ms: 0, passes: 0, untimed: 0 }); // taken: the sum restarts
      const back = await layer.backward(res.tape!, { dOutput: new Float32Array(3 * 6 * 8).fill(0.1) });
      const bwd = await timed.gpuTime();
      expect(bwd!.passes).toBe(1);
      expect(bwd!.ms).toBeGreaterThan(0);
      for (const t of [res.output, res.h, res.c, back.dx, back.dh0, back.dc0]) t?.dispose();
      layer.dispose();
    } finally {
      timed.dispose();
    }
  });
});
