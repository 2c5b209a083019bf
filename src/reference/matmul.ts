// CPU twin of matmul_bias_forward.wgsl: y (M, N) = act(x (M, K) · w (N, K)ᵀ + bias (N)).
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
