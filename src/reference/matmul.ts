// CPU twins of the matmul kernels: matmulBiasRef for matmul_bias_forward.wgsl, y (M, N) = act(x (M, K) · w (N, K)ᵀ + bias (N)),
// and matmulRef for matmul_tiled.wgsl and matmul_backward.wgsl (transposes, views, accumulation).
import { applyActivation, type ActivationName } from './math';

export function matmulBiasRef(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  bias: ArrayLike<number> | null,
  M: number,
  N: number,
  K: number,
  activation: ActivationName = 'none',
): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = bias ? bias[n] : 0;
      for (let k = 0; k < K; k++) acc += x[m * K + k] * w[n * K + k];
      y[m * N + n] = applyActivation(activation, acc);
    }
  }
  return y;
}

/** Where an operand sits in its buffer (floats): row stride and first element. */
export interface MatrixViewRef {
  ld?: number;
  offset?: number;
}

/**
 * CPU twin of matmul_tiled.wgsl and matmul_backward.wgsl, in float64:
 *   c (M, N) (+)= act(op(a) · op(b) + bias)
 * op(a) = a (M, K), or aᵀ with a stored (K, M) when transA; op(b) = b (K, N), or bᵀ
 * with b stored (N, K) when transB. Views as in the shaders; `c` is updated in place
 * and returned.
 */
export function matmulRef(g: {
  a: ArrayLike<number>;
  b: ArrayLike<number>;
  c: Float64Array;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  accumulate: boolean;
  bias?: ArrayLike<number> | null;
  activation?: ActivationName;
  aView?: MatrixViewRef;
  bView?: MatrixViewRef;
  cView?: MatrixViewRef;
}): Float64Array {
  const lda = g.aView?.ld ?? (g.transA ? g.M : g.K);
  const ldb = g.bView?.ld ?? (g.transB ? g.K : g.N);
  const ldc = g.cView?.ld ?? g.N;
  const oa = g.aView?.offset ?? 0;
  const ob = g.bView?.offset ?? 0;
  const oc = g.cView?.offset ?? 0;
  for (let i = 0; i < g.M; i++) {
    for (let j = 0; j < g.N; j++) {
      let acc = g.bias ? g.bias[j] : 0;
      for (let k = 0; k < g.K; k++) {
        const av = g.transA ? g.a[oa + k * lda + i] : g.a[oa + i * lda + k];
        const bv = g.transB ? g.b[ob + j * ldb + k] : g.b[ob + k * ldb + j];
        acc += av * bv;
      }
      const v = applyActivation(g.activation ?? 'none', acc);
      const ci = oc + i * ldc + j;
      g.c[ci] = g.accumulate ? g.c[ci] + v : v;
    }
  }
  return g.c;
}
