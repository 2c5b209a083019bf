// Luong dot attention: the GPU kernels (attention_forward/backward.wgsl) against
// their float64 CPU twin (src/reference/attention.ts) on seeded random data, through
// the layer (forward → record → backward), shared by the Node test and the
// headless-Chromium parity page.
import type { Runtime, Tensor } from '../../src/index';
import { Attention } from '../../src/layers/attention';
import { Rng } from '../../src/weights/random';
import { compare, type Comparison } from './compare';

export interface AttentionCase {
  name: string;
  B: number;
  T: number;
  S: number;
  H: number;
  /** Valid source steps per sample (B); all S when absent. */
  lengths?: number[];
  /** q and e = sign(u)·(30 + 10|u|): scores of O(1e4), softmax saturated to one-hot. */
  extreme?: boolean;
}

export const attentionCases: AttentionCase[] = [
  { name: 'attn_basic', B: 2, T: 3, S: 4, H: 5, lengths: [4, 2] },
  // B·T = 85 and B·T + B·S = 120 rows: two workgroups of 64 in both kernels, the last partial
  { name: 'attn_odd_rows', B: 5, T: 17, S: 7, H: 3, lengths: [7, 1, 4, 6, 2] },
  { name: 'attn_h33_long_source', B: 3, T: 2, S: 23, H: 33, lengths: [23, 11, 17] },
  { name: 'attn_extreme', B: 2, T: 3, S: 5, H: 4, lengths: [5, 3], extreme: true },
  { name: 'attn_b1_t1_s1_h1', B: 1, T: 1, S: 1, H: 1 },
];

// Tolerances, float32 GPU vs float64 CPU on bit-identical float32 inputs. out's
// context half is a convex combination of e's rows, its q half a copy (exact);
// the gradients are sums of O(S·H) products of O(1) values. Measured (Dawn on
// SwiftShader): out ≤ 1.8e-7, a ≤ 1.6e-7, dq/de ≤ 5e-7 on the O(1) cases; the
// extreme case saturates the softmax (a one-hot, gradients of O(30)): ≤ 6e-8.
// atol 1e-5 + rtol 1e-5 leaves ≥ 20x headroom on every case.
const TOL = { atol: 1e-5, rtol: 1e-5 };

export interface AttentionRow extends Comparison {
  group: 'attention';
  case: string;
}

function values(rng: Rng, n: number, extreme: boolean): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const u = rng.next() * 2 - 1;
    return extreme ? Math.sign(u || 1) * (30 + 10 * Math.abs(u)) : u;
  });
}

/** Runs each case on both runtimes and compares out, a, dq and de. */
export async function runAttentionCases(gpu: Runtime, cpu: Runtime, cases: AttentionCase[] = attentionCases): Promise<AttentionRow[]> {
  const rows: AttentionRow[] = [];
  for (const c of cases) {
    const rng = new Rng(c.B * 1000 + c.T * 100 + c.S * 10 + c.H);
    const q = values(rng, c.B * c.T * c.H, !!c.extreme);
    const e = values(rng, c.B * c.S * c.H, !!c.extreme);
    const dOut = values(rng, c.B * c.T * 2 * c.H, false);
    const got: Record<string, Record<string, ArrayLike<number>>> = {};
    for (const rt of [gpu, cpu]) {
      const att = Attention.create(rt.backendRef);
      const qt = rt.tensor(q, [c.B, c.T, c.H]);
      const et = rt.tensor(e, [c.B, c.S, c.H]);
      const dt = rt.tensor(dOut, [c.B, c.T, 2 * c.H]);
      const made: Tensor[] = [qt, et, dt];
      try {
        const f = await att.forward(qt, et, c.lengths);
        made.push(f.output, f.weights);
        const { output, tape } = await att.record(qt, et, c.lengths);
        made.push(output);
        const { dq, de } = await att.backward(tape, dt);
        made.push(dq, de);
        got[rt.backend] = { out: await f.output.read(), a: await f.weights.read(), recorded: await output.read(), dq: await dq.read(), de: await de.read() };
      } finally {
        for (const t of made) t.dispose();
      }
    }
    const shapes: Record<string, { dims: number[]; names: string[] }> = {
      out: { dims: [c.B, c.T, 2 * c.H], names: ['b', 't', 'j'] },
      recorded: { dims: [c.B, c.T, 2 * c.H], names: ['b', 't', 'j'] },
      a: { dims: [c.B, c.T, c.S], names: ['b', 't', 's'] },
      dq: { dims: [c.B, c.T, c.H], names: ['b', 't', 'j'] },
      de: { dims: [c.B, c.S, c.H], names: ['b', 's', 'j'] },
    };
    for (const k of ['out', 'a', 'recorded', 'dq', 'de']) {
      rows.push({ group: 'attention', case: c.name, ...compare(`${c.name}.${k}`, got.cpu[k], got.webgpu[k], TOL, shapes[k]) });
    }
  }
  return rows;
}
