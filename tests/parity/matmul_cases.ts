// The matmul kernels against their CPU twin (src/reference/matmul.ts matmulRef), on
// seeded random data, run straight through the launchers of src/kernels/matmul.ts:
// matmulBiasForward (forward: x·Wᵀ + bias, activation) and matmulGrad (backward:
// transposes, accumulation, column-block views). Shared by the Node test
// (tests/kernels_parity.test.ts) and the headless-Chrome page (tests/browser/parity.ts).
//
// The launchers pick matmul_tiled.wgsl when the operands are 4-aligned (and
// M ≥ 8), else matmul_bias_forward.wgsl / matmul_backward.wgsl; every case names the
// kernel it expects, so both families and every tiled variant (TRANS_A, TRANS_B,
// ACCUMULATE, bias and activation, views, M and N ending mid-tile, clamped
// vec4 halves) are covered, and a change of choice fails loudly.
import type { GpuContext } from '../../src/gpu/context';
import { matmulBiasForward, matmulGrad, type MatrixView } from '../../src/kernels/matmul';
import { submitOps } from '../../src/kernels/common';
import { matmulRef } from '../../src/reference/matmul';
import type { ActivationName } from '../../src/reference/math';
import { Rng } from '../../src/weights/random';
import { compare, type Comparison } from './compare';

export interface MatmulCase {
  name: string;
  /** 'forward': matmulBiasForward (transB); 'grad': matmulGrad (B as stored). */
  op: 'forward' | 'grad';
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  accumulate?: boolean;
  bias?: boolean;
  activation?: ActivationName;
  /** Buffer widths and offsets (floats) when an operand is a block of a wider buffer. */
  aView?: Required<MatrixView>;
  bView?: Required<MatrixView>;
  cView?: Required<MatrixView>;
  /** The kernel the launcher must pick. */
  kernel: 'matmul_tiled' | 'matmul_bias_forward' | 'matmul_backward';
}

export const matmulCases: MatmulCase[] = [
  // tiled forward: x (M, K) · w (N, K)ᵀ (+ bias, act); N need not be a multiple of 4 (transB)
  { name: 'fwd_tiled', op: 'forward', M: 24, N: 40, K: 16, bias: true, kernel: 'matmul_tiled' },
  { name: 'fwd_tiled_edges_tanh', op: 'forward', M: 13, N: 11, K: 12, bias: true, activation: 'tanh', kernel: 'matmul_tiled' },
  { name: 'fwd_tiled_nobias_relu', op: 'forward', M: 8, N: 5, K: 4, activation: 'relu', kernel: 'matmul_tiled' },
  { name: 'fwd_tiled_sigmoid', op: 'forward', M: 9, N: 17, K: 8, bias: true, activation: 'sigmoid', kernel: 'matmul_tiled' },
  // untiled forward: K not a multiple of 4, or fewer than 8 rows
  { name: 'fwd_k_odd', op: 'forward', M: 16, N: 12, K: 7, bias: true, kernel: 'matmul_bias_forward' },
  { name: 'fwd_m_small', op: 'forward', M: 3, N: 12, K: 8, bias: true, activation: 'tanh', kernel: 'matmul_bias_forward' },
  // tiled gradients: aᵀ·b (weight gradients) and a·b (input gradients)
  { name: 'grad_transA', op: 'grad', M: 16, N: 24, K: 20, transA: true, kernel: 'matmul_tiled' },
  { name: 'grad_transA_acc_m12', op: 'grad', M: 12, N: 12, K: 8, transA: true, accumulate: true, kernel: 'matmul_tiled' },
  { name: 'grad_plain_acc', op: 'grad', M: 20, N: 8, K: 16, accumulate: true, kernel: 'matmul_tiled' },
  { name: 'grad_plain_n4', op: 'grad', M: 11, N: 4, K: 12, kernel: 'matmul_tiled' },
  // column blocks, as the Keras reset_after=False GRU's dW_hhᵀ uses them
  {
    name: 'grad_views',
    op: 'grad',
    M: 8,
    N: 8,
    K: 12,
    transA: true,
    accumulate: true,
    aView: { ld: 16, offset: 4 },
    bView: { ld: 12, offset: 4 },
    cView: { ld: 12, offset: 4 },
    kernel: 'matmul_tiled',
  },
  // untiled gradients: odd sizes and misaligned views
  { name: 'grad_transA_odd', op: 'grad', M: 9, N: 6, K: 5, transA: true, accumulate: true, kernel: 'matmul_backward' },
  { name: 'grad_plain_n_odd', op: 'grad', M: 10, N: 3, K: 8, kernel: 'matmul_backward' },
  {
    name: 'grad_views_odd',
    op: 'grad',
    M: 3,
    N: 3,
    K: 6,
    transA: true,
    accumulate: true,
    aView: { ld: 12, offset: 9 },
    bView: { ld: 9, offset: 6 },
    cView: { ld: 9, offset: 6 },
    kernel: 'matmul_backward',
  },
];

export interface MatmulRow extends Comparison {
  case: string;
  kernel: string;
}

// float32 kernels vs float64 twin on float32 inputs: sums of K ≤ 20 products of
// values in [−1, 1], so errors of a few ulps of ~5: 1e-5 absolute plus relative.
const TOL = { atol: 1e-5, rtol: 1e-5 };

function rand(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-1, 1);
  return out;
}

/** Runs the cases on `ctx` and compares every output element with matmulRef. */
export async function runMatmulCases(ctx: GpuContext, cases: MatmulCase[] = matmulCases): Promise<MatmulRow[]> {
  const rows: MatmulRow[] = [];
  for (const mc of cases) {
    const rng = new Rng(7 + mc.M * 31 + mc.N * 7 + mc.K);
    const transA = mc.transA ?? false;
    const transB = mc.op === 'forward';
    // stored sizes: rows × row width, with views as wide as they say
    const aRows = transA ? mc.K : mc.M;
    const bRows = transB ? mc.N : mc.K;
    const aLen = mc.aView ? mc.aView.offset + aRows * mc.aView.ld : aRows * (transA ? mc.M : mc.K);
    const bLen = mc.bView ? mc.bView.offset + bRows * mc.bView.ld : bRows * (transB ? mc.K : mc.N);
    const cLen = mc.cView ? mc.cView.offset + mc.M * mc.cView.ld : mc.M * mc.N;
    const a = rand(rng, aLen);
    const b = rand(rng, bLen);
    const c0 = rand(rng, cLen);
    const bias = mc.bias ? rand(rng, mc.N) : null;
    const bufs = [ctx.createStorage('mm.a', a), ctx.createStorage('mm.b', b), ctx.createStorage('mm.c', c0)];
    const [ga, gb, gc] = bufs;
    const gbias = bias ? ctx.createStorage('mm.bias', bias) : null;
    if (gbias) bufs.push(gbias);
    try {
      const op =
        mc.op === 'forward'
          ? await matmulBiasForward(ctx, { x: ga, w: gb, bias: gbias, y: gc, M: mc.M, N: mc.N, K: mc.K, activation: mc.activation })
          : await matmulGrad(ctx, { a: ga, b: gb, c: gc, M: mc.M, N: mc.N, K: mc.K, transA, accumulate: mc.accumulate ?? false, aView: mc.aView, bView: mc.bView, cView: mc.cView });
      const kernel = op.label;
      await submitOps(ctx, `matmul case ${mc.name}`, [op]);
      const got = await ctx.readback(gc, cLen);
      const ref = matmulRef({
        a,
        b,
        c: Float64Array.from(c0),
        M: mc.M,
        N: mc.N,
        K: mc.K,
        transA,
        transB,
        accumulate: mc.accumulate ?? false,
        bias,
        activation: mc.activation,
        aView: mc.aView,
        bView: mc.bView,
        cView: mc.cView,
      });
      const cmp = compare(`${mc.name}.c`, ref, got, TOL);
      const rightKernel = kernel === mc.kernel;
      rows.push({
        ...cmp,
        ok: cmp.ok && rightKernel,
        detail: rightKernel ? `${kernel}: ${cmp.detail}` : `ran ${kernel}, expected ${mc.kernel}; ${cmp.detail}`,
        case: mc.name,
        kernel,
      });
    } finally {
      for (const buf of bufs) ctx.destroyBuffer(buf);
    }
  }
  return rows;
}
