// Backward passes against PyTorch float64 autograd, in Node (Dawn on SwiftShader)
// and on the CPU reference; and the Keras reset_after=False GRU's GPU backward
// against the CPU reference on random shapes (both paths, tiling, padding).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fixtures from './fixtures/gradients.json';
import type { Runtime, Tensor } from '../src/index';
import { Rng } from '../src/weights/random';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';
import { GRAD_TOL, runGradCases, type GradCase, type GradRow } from './parity/grad_cases';

const cases = fixtures.cases as unknown as GradCase[];

describe('gradients vs PyTorch autograd', () => {
  let gpu: Runtime;
  let cpu: Runtime;
  const seen: Record<string, number> = {};
  const note = (rows: GradRow[], backend: string) => {
    for (const r of rows) seen[`${r.cell} ${backend}`] = Math.max(seen[`${r.cell} ${backend}`] ?? 0, r.relErr);
  };
  beforeAll(async () => {
    gpu = await gpuRuntime();
    cpu = await cpuRuntime();
  });
  afterAll(() => {
    console.log('max relative gradient error vs PyTorch (cell, backend):', seen);
    gpu?.dispose();
  });

  for (const c of cases) {
    it(`${c.name}: cpu reference within 1e-6 relative`, async () => {
      const rows = await runGradCases(cpu, [c]);
      note(rows, 'cpu');
      expect(rows.length).toBeGreaterThanOrEqual(5);
      for (const r of rows) expect(r.ok, `${r.name}: ${r.detail}`).toBe(true);
    });
    it(`${c.name}: gpu within 1e-4 relative`, async () => {
      const before = gpu.memory();
      const rows = await runGradCases(gpu, [c]);
      note(rows, 'gpu');
      expect(rows.length).toBeGreaterThanOrEqual(5);
      for (const r of rows) expect(r.ok, `${r.name}: ${r.detail}`).toBe(true);
      expect(gpu.memory()).toEqual(before); // tapes, gradients and results all freed
    });
  }
});

// Keras reset_after=False GRU: GPU gradients against the float64 CPU reference
// (its v1 branch is checked by finite differences in gradcheck.test.ts) on shapes
// the fixtures do not reach: H = 67 > 64 (the backward kernels' tiles of 64 over
// H and over the 2H r, z columns), two bidirectional layers with padding and h0,
// and B = T = H = 1; each on the per-step and the persistent forward path (they
// record the tape differently; the backward is the same). Loss
// L = Σ output ⊙ R_out + Σ h_n ⊙ R_h, as the fixtures.
// Tolerance: the fixtures' GPU bar, GRAD_TOL.webgpu = 1e-4 of each tensor's largest
// entry. Measured (Dawn/SwiftShader): ≤ 1e-6, except 6e-6 for dh0 at B = T = H = 1,
// one entry of 0.0035 left by cancelling O(0.1) float32 terms. Each of the v1
// specifics broken on purpose (dW_hn paired with h instead of r ⊙ h, the r ⊙ q term
// of ∂L/∂h dropped, the state gradient summing the n columns) fails every case.
interface V1Shape {
  name: string;
  B: number;
  T: number;
  I: number;
  H: number;
  L: number;
  bidirectional: boolean;
  lengths?: number[];
}

const v1Shapes: V1Shape[] = [
  { name: 'v1_h67_padded', B: 3, T: 5, I: 4, H: 67, L: 1, bidirectional: false, lengths: [5, 2, 4] },
  { name: 'v1_bidir_2layer_padded', B: 4, T: 6, I: 3, H: 5, L: 2, bidirectional: true, lengths: [6, 3, 1, 5] },
  { name: 'v1_h67_bidir_2layer', B: 2, T: 3, I: 2, H: 67, L: 2, bidirectional: true, lengths: [3, 2] },
  { name: 'v1_b1_t1_h1', B: 1, T: 1, I: 1, H: 1, L: 1, bidirectional: false },
];

async function readAll(ts: (Tensor | null)[]): Promise<ArrayLike<number>[]> {
  const out: ArrayLike<number>[] = [];
  for (const t of ts) {
    if (t) out.push(await t.read());
    t?.dispose();
  }
  return out;
}

/** max |got − ref| / max |ref| over a tensor. */
function relErr(ref: ArrayLike<number>, got: ArrayLike<number>): number {
  let maxRef = 0;
  let maxDiff = 0;
  for (let i = 0; i < ref.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
    maxDiff = Math.max(maxDiff, Math.abs(got[i] - ref[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}

/** Gradients of one layer (weights, x, h0) after one recorded forward and backward. */
async function v1Gradients(
  rt: Runtime,
  s: V1Shape,
  sd: ReturnType<ReturnType<Runtime['gru']>['torchStateDict']>,
  data: { x: Float32Array; h0: Float32Array; R_out: Float32Array; R_h: Float32Array },
  path: 'step' | 'persistent' | 'auto',
): Promise<Record<string, ArrayLike<number>>> {
  const layer = rt.gru({ inputSize: s.I, hiddenSize: s.H, numLayers: s.L, bidirectional: s.bidirectional, resetAfter: false });
  try {
    layer.loadTorchStateDict(sd);
    const fwd = await layer.forward(data.x, { batch: s.B, seqLen: s.T, lengths: s.lengths, h0: data.h0, path, record: true });
    if (rt.backend === 'webgpu') expect(fwd.stats.path).toBe(path);
    const back = await layer.backward(fwd.tape!, { dOutput: data.R_out, dh: data.R_h });
    const [dx, dh0] = await readAll([back.dx, back.dh0, fwd.output, fwd.h]);
    return { ...(await layer.gradients()), x: dx, h0: dh0 };
  } finally {
    layer.dispose();
  }
}

describe('Keras reset_after=False GRU: GPU gradients vs the CPU reference', () => {
  let gpu: Runtime;
  let cpu: Runtime;
  const worst: Record<string, number> = {};
  beforeAll(async () => {
    gpu = await gpuRuntime();
    cpu = await cpuRuntime();
  });
  afterAll(() => {
    console.log('max relative gradient error, Keras v1 GRU, GPU vs CPU reference (case[path]):', worst);
    gpu?.dispose();
  });

  for (const s of v1Shapes) {
    it(`${s.name}: every gradient within ${GRAD_TOL.webgpu} relative, per-step and persistent`, async () => {
      const D = s.bidirectional ? 2 : 1;
      const rng = new Rng(s.B * 1000 + s.H * 10 + s.L);
      const draw = (n: number, f: () => number) => Float32Array.from({ length: n }, f);
      const data = {
        x: draw(s.B * s.T * s.I, () => rng.normal()),
        h0: draw(s.L * D * s.B * s.H, () => rng.uniform(-1, 1)),
        R_out: draw(s.B * s.T * D * s.H, () => rng.uniform(-1, 1)),
        R_h: draw(s.L * D * s.B * s.H, () => rng.uniform(-1, 1)),
      };
      // Doubled (exact in float32) PyTorch-style init: the gates leave their linear region.
      const init = gpu.gru({ inputSize: s.I, hiddenSize: s.H, numLayers: s.L, bidirectional: s.bidirectional, resetAfter: false, seed: rng.nextUint32() });
      const sd = init.torchStateDict();
      init.dispose();
      for (const t of Object.values(sd)) for (let k = 0; k < t.data.length; k++) t.data[k] *= 2;

      const ref = await v1Gradients(cpu, s, sd, data, 'auto');
      expect(Object.keys(ref).length).toBe(s.L * D * 4 + 2);
      const before = gpu.memory();
      for (const path of ['step', 'persistent'] as const) {
        const got = await v1Gradients(gpu, s, sd, data, path);
        for (const [name, r] of Object.entries(ref)) {
          const g = got[name];
          expect(g?.length, `${s.name}[${path}].d${name}`).toBe(r.length);
          const e = relErr(r, g);
          const key = `${s.name}[${path}]`;
          worst[key] = Math.max(worst[key] ?? 0, e);
          expect(e, `${key}.d${name}: relative error ${e.toExponential(2)}`).toBeLessThanOrEqual(GRAD_TOL.webgpu);
        }
      }
      expect(gpu.memory()).toEqual(before); // tapes, gradients and results all freed
    });
  }
});
