// CPU twin of shaders/attention_forward.wgsl and attention_backward.wgsl
// (Luong dot-product attention), float64, written from the formulas:
//   score[b,t,s] = q[b,t,:] · e[b,s,:]                for s < len[b]
//   a[b,t,:]     = softmax_s(score[b,t,:])            (a = 0 for s ≥ len[b])
//   ctx[b,t,:]   = Σ_s a[b,t,s] · e[b,s,:]
//   out[b,t,:]   = [ctx[b,t,:]; q[b,t,:]]             (B, T, 2H): the input of W_c
// q (B, T, H) are the decoder outputs, e (B, S, H) the encoder outputs.

/** Forward: out (B, T, 2H) = [context; q] and the weights a (B, T, S). */
export function attentionForwardRef(
  q: ArrayLike<number>,
  e: ArrayLike<number>,
  lengths: ArrayLike<number>,
  B: number,
  T: number,
  S: number,
  H: number,
): { out: Float64Array; a: Float64Array } {
  const out = new Float64Array(B * T * 2 * H);
  const a = new Float64Array(B * T * S);
  for (let b = 0; b < B; b++) {
    const len = lengths[b];
    for (let t = 0; t < T; t++) {
      const qRow = (b * T + t) * H;
      const scores = new Float64Array(len);
      let max = -Infinity;
      for (let s = 0; s < len; s++) {
        let dot = 0;
        for (let j = 0; j < H; j++) dot += q[qRow + j] * e[(b * S + s) * H + j];
        scores[s] = dot;
        if (dot > max) max = dot;
      }
      let sum = 0;
      for (let s = 0; s < len; s++) sum += Math.exp(scores[s] - max);
      const aRow = (b * T + t) * S;
      for (let s = 0; s < len; s++) a[aRow + s] = Math.exp(scores[s] - max) / sum;
      const oRow = (b * T + t) * 2 * H;
      for (let j = 0; j < H; j++) {
        let c = 0;
        for (let s = 0; s < len; s++) c += a[aRow + s] * e[(b * S + s) * H + j];
        out[oRow + j] = c;
        out[oRow + H + j] = q[qRow + j];
      }
    }
  }
  return { out, a };
}

/**
 * Backward, from ∂L/∂out (B, T, 2H) = [dctx; dq_direct]:
 *   da[b,t,s] = dctx[b,t,:] · e[b,s,:]
 *   dscore    = a ⊙ (da − Σ_s a·da)          (softmax backward; Σ_s a·da = dctx · ctx)
 *   dq[b,t,:] = dq_direct + Σ_s dscore[b,t,s] · e[b,s,:]
 *   de[b,s,:] = Σ_t a[b,t,s] · dctx[b,t,:] + dscore[b,t,s] · q[b,t,:]   (0 for s ≥ len[b])
 */
export function attentionBackwardRef(
  dOut: ArrayLike<number>,
  q: ArrayLike<number>,
  e: ArrayLike<number>,
  a: ArrayLike<number>,
  lengths: ArrayLike<number>,
  B: number,
  T: number,
  S: number,
  H: number,
): { dq: Float64Array; de: Float64Array } {
  const dq = new Float64Array(B * T * H);
  const de = new Float64Array(B * S * H);
  for (let b = 0; b < B; b++) {
    const len = lengths[b];
    for (let t = 0; t < T; t++) {
      const oRow = (b * T + t) * 2 * H;
      const qRow = (b * T + t) * H;
      const aRow = (b * T + t) * S;
      const da = new Float64Array(len);
      let weighted = 0; // Σ_s a·da
      for (let s = 0; s < len; s++) {
        let dot = 0;
        for (let j = 0; j < H; j++) dot += dOut[oRow + j] * e[(b * S + s) * H + j];
        da[s] = dot;
        weighted += a[aRow + s] * dot;
      }
      for (let j = 0; j < H; j++) dq[qRow + j] = dOut[oRow + H + j];
      for (let s = 0; s < len; s++) {
        const ds = a[aRow + s] * (da[s] - weighted);
        const eRow = (b * S + s) * H;
        for (let j = 0; j < H; j++) {
          dq[qRow + j] += ds * e[eRow + j];
          de[eRow + j] += a[aRow + s] * dOut[oRow + j] + ds * q[qRow + j];
        }
      }
    }
  }
  return { dq, de };
}
