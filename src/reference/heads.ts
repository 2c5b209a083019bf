// CPU twins of embedding_forward/backward.wgsl, softmax_forward.wgsl,
// activation_backward.wgsl and repeat_forward/backward.wgsl, float64.
import type { ActivationName } from './math';

/** out (N, D) = table (V, D) [ids]. */
export function embeddingRef(ids: ArrayLike<number>, table: ArrayLike<number>, D: number): Float64Array {
  const out = new Float64Array(ids.length * D);
  for (let n = 0; n < ids.length; n++) {
    for (let d = 0; d < D; d++) out[n * D + d] = table[ids[n] * D + d];
  }
  return out;
}

/** Softmax of each row of x (R, C), shifted by the row maximum. */
export function softmaxRef(x: ArrayLike<number>, R: number, C: number): Float64Array {
  const y = new Float64Array(R * C);
  for (let r = 0; r < R; r++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, x[r * C + c]);
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(x[r * C + c] - m);
    for (let c = 0; c < C; c++) y[r * C + c] = Math.exp(x[r * C + c] - m) / sum;
  }
  return y;
}

/** dTable (V, D) += Σ_n one-hot(ids[n]) ⊗ dOut[n, :], in place. */
export function embeddingBackwardRef(ids: ArrayLike<number>, dOut: ArrayLike<number>, dTable: Float64Array, D: number): void {
  for (let n = 0; n < ids.length; n++) {
    for (let d = 0; d < D; d++) dTable[ids[n] * D + d] += dOut[n * D + d];
  }
}

/** da = dy ⊙ act'(a), from the activation's output y. */
export function activationBackwardRef(kind: ActivationName, y: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  const da = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    const slope = kind === 'relu' ? (v > 0 ? 1 : 0) : kind === 'sigmoid' ? v * (1 - v) : kind === 'tanh' ? 1 - v * v : 1;
    da[i] = dy[i] * slope;
  }
  return da;
}

/** RepeatVector: y (B, n, F) with y[b, t, :] = x[b, :] for every step t. */
export function repeatVectorRef(x: ArrayLike<number>, B: number, n: number, F: number): Float64Array {
  const y = new Float64Array(B * n * F);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < n; t++) {
      for (let f = 0; f < F; f++) y[(b * n + t) * F + f] = x[b * F + f];
    }
  }
  return y;
}

/** Gradient of RepeatVector: dx (B, F) = Σ_t dy (B, n, F)[b, t, :], summed in step order. */
export function repeatVectorBackwardRef(dy: ArrayLike<number>, B: number, n: number, F: number): Float64Array {
  const dx = new Float64Array(B * F);
  for (let b = 0; b < B; b++) {
    for (let f = 0; f < F; f++) {
      let sum = 0;
      for (let t = 0; t < n; t++) sum += dy[(b * n + t) * F + f];
      dx[b * F + f] = sum;
    }
  }
  return dx;
}
