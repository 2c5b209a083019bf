// CPU twins of embedding_forward.wgsl and softmax_forward.wgsl, float64.

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
