// Luong dot attention (shaders/attention_*.wgsl, src/reference/attention.ts):
//  - the float64 CPU twin against central finite differences of its own forward
//    (dq and de of L = Σ out ⊙ R), and its masking and normalisation by hand;
//  - the GPU kernels against the twin on random data (tests/parity/attention_cases.ts:
//    partial workgroups, a 23-step source with H = 33, saturated scores, B = T = S = H = 1);
//  - typed errors of the layer, and no buffer left behind.
// The same GPU-vs-CPU cases run in headless Chromium (tests/browser_parity.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShapeError, ValueError, type Runtime } from '../src/index';
import { Attention } from '../src/layers/attention';
import { attentionBackwardRef, attentionForwardRef } from '../src/reference/attention';
import { Rng } from '../src/weights/random';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';
import { attentionCases, runAttentionCases, type AttentionRow } from './parity/attention_cases';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.dispose());

describe('attention reference (float64)', () => {
  it('weights sum to 1 over the valid source steps, are 0 past them; out = [context; q]', () => {
    // B = 1, T = 1, S = 3 (length 2), H = 2: scores q·e = [1, 2], e_2 masked
    const { out, a } = attentionForwardRef([1, 0], [1, 5, 2, 7, 100, 100], [2], 1, 1, 3, 2);
    const z = Math.exp(1) + Math.exp(2);
    expect(a[0]).toBeCloseTo(Math.exp(1) / z, 14);
    expect(a[1]).toBeCloseTo(Math.exp(2) / z, 14);
    expect(a[2]).toBe(0);
    expect(out[0]).toBeCloseTo(a[0] * 1 + a[1] * 2, 14);
    expect(out[1]).toBeCloseTo(a[0] * 5 + a[1] * 7, 14);
    expect([out[2], out[3]]).toEqual([1, 0]);
  });

  it('dq and de match central finite differences (1e-8 relative)', () => {
    const B = 2, T = 3, S = 4, H = 3;
    const lengths = [4, 2];
    const rng = new Rng(7);
    const r = (n: number) => Float64Array.from({ length: n }, () => rng.next() * 2 - 1);
    const q = r(B * T * H);
    const e = r(B * S * H);
    const R = r(B * T * 2 * H);
    const loss = (qq: Float64Array, ee: Float64Array) => attentionForwardRef(qq, ee, lengths, B, T, S, H).out.reduce((s, v, i) => s + v * R[i], 0);
    const { a } = attentionForwardRef(q, e, lengths, B, T, S, H);
    const { dq, de } = attentionBackwardRef(R, q, e, a, lengths, B, T, S, H);
    const h = 1e-6;
    let worst = 0;
    for (const [x, g] of [[q, dq], [e, de]] as const) {
      for (let i = 0; i < x.length; i++) {
        const keep = x[i];
        x[i] = keep + h;
        const up = loss(q, e);
        x[i] = keep - h;
        const down = loss(q, e);
        x[i] = keep;
        const fd = (up - down) / (2 * h);
        worst = Math.max(worst, Math.abs(fd - g[i]) / (1e-3 + Math.abs(fd)));
      }
    }
    // masked source steps get no gradient
    for (let s = 2; s < S; s++) for (let j = 0; j < H; j++) expect(de[(1 * S + s) * H + j]).toBe(0);
    console.log(`attention reference vs finite differences: worst relative error ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-8);
  });
});

describe('attention kernels vs the CPU twin (random data)', () => {
  const all: AttentionRow[] = [];
  afterAll(() => console.log('attention max abs error GPU vs CPU:', Object.fromEntries(all.map((r) => [r.name, r.maxAbs]))));
  for (const c of attentionCases) {
    it(c.name, async () => {
      const before = gpu.memory();
      const rows = await runAttentionCases(gpu, cpu, [c]);
      all.push(...rows);
      expect(rows).toHaveLength(5);
      for (const r of rows) expect(r.ok, r.detail).toBe(true);
      expect(gpu.memory()).toEqual(before);
    });
  }
});

describe('Attention layer errors', () => {
  it('typed errors for shapes, lengths, tensors of another runtime, used tapes', async () => {
    for (const rt of [gpu, cpu]) {
      const before = rt.memory();
      const att = Attention.create(rt.backendRef);
      const q = rt.tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]);
      const e = rt.tensor(new Float32Array(2 * 5 * 4), [2, 5, 4]);
      const eBad = rt.tensor(new Float32Array(2 * 5 * 3), [2, 5, 3]);
      await expect(att.forward(q, eBad)).rejects.toThrow(ShapeError);
      await expect(att.forward(q, e, [5, 6])).rejects.toThrow(ValueError); // length > S
      await expect(att.forward(q, e, [5])).rejects.toThrow(ShapeError); // one per sample
      await expect(att.forward(q, e, [0, 2])).rejects.toThrow(ValueError);
      await expect(att.forward([1, 2] as never, e)).rejects.toThrow(ValueError);
      const other = rt === gpu ? cpu : gpu;
      const foreign = other.tensor(new Float32Array(2 * 5 * 4), [2, 5, 4]);
      await expect(att.forward(q, foreign)).rejects.toThrow(ValueError);
      foreign.dispose();
      const { output, tape } = await att.record(q, e, [5, 2]);
      await expect(att.backward(tape, q)).rejects.toThrow(ShapeError); // not (B, T, 2H): the tape stays unused
      const { dq, de } = await att.backward(tape, output);
      await expect(att.backward(tape, output)).rejects.toThrow(ValueError); // already used
      for (const t of [output, dq, de]) t.dispose();
      for (const t of [q, e, eBad]) t.dispose();
      expect(rt.memory()).toEqual(before);
    }
  });
});
