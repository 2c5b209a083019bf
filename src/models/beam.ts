// Beam search bookkeeping for Seq2Seq.beamSearch(), on the CPU: the model runs a
// decoder step for all B·K rows at once (states on the backend), hands the rows'
// log-probabilities here, and gets back which row each new beam continues (to
// reorder the states) and its token. No tensors here: plain arrays.
//
// Per source sentence b, at every step:
//   - every live beam k (log-probability λ_k) is extended by every token v:
//     candidate score λ_k + log p(v | beam k);
//   - the candidates are ranked by that sum (ties: lower beam, then lower token);
//   - among the 2K best, an end token ranked within the first K finishes a
//     hypothesis (as Hugging Face's BeamSearchScorer), the others are skipped; the
//     first K candidates that are not the end token become the live beams;
//   - b is done when it has K finished hypotheses, or (lengthPenalty 0 only, where
//     scores can only fall) when its best finished hypothesis scores at least its
//     best live beam.
// At maxLength, live beams of unfinished sentences count as hypotheses without an
// end token. Hypotheses are ranked by GNMT's length-normalised score
//   score = logProb / lp(n),  lp(n) = ((5 + n) / 6)^α
// with n the number of tokens produced (the end token included) and α =
// lengthPenalty (0, the default: the plain log-probability; larger α favours longer
// outputs). With beamWidth 1 this is exactly greedy decoding.

export interface Hypothesis {
  /** The tokens produced, without the end token. */
  tokens: number[];
  /** Σ log p of the tokens, the end token included when `ended`. */
  logProb: number;
  /** logProb / lp(n), the ranking score. */
  score: number;
  /** Whether it finished with the end token (false: cut at maxLength). */
  ended: boolean;
}

/** GNMT's length penalty lp(n) = ((5 + n) / 6)^α. */
export function lengthPenalty(n: number, alpha: number): number {
  return ((5 + n) / 6) ** alpha;
}

interface Beam {
  tokens: number[];
  logProb: number;
}

export class BeamState {
  readonly B: number;
  readonly K: number;
  private readonly alpha: number;
  private readonly endToken: number;
  private live: Beam[][]; // [b][k]; logProb −∞ for an empty slot
  private readonly finished: Hypothesis[][];
  private readonly doneItems: boolean[];

  constructor(B: number, K: number, opts: { lengthPenalty: number; endToken: number }) {
    this.B = B;
    this.K = K;
    this.alpha = opts.lengthPenalty;
    this.endToken = opts.endToken;
    // one live beam per sentence at the start, so the K beams do not repeat each other
    this.live = Array.from({ length: B }, () => Array.from({ length: K }, (_, k) => ({ tokens: [], logProb: k === 0 ? 0 : -Infinity })));
    this.finished = Array.from({ length: B }, () => []);
    this.doneItems = new Array<boolean>(B).fill(false);
  }

  get done(): boolean {
    return this.doneItems.every(Boolean);
  }

  /**
   * One step. logp is (B·K, V) row-major: log p(v | row's beam). Returns, per new
   * row b·K + k, the row it continues (parents) and its token (the next input).
   */
  advance(logp: ArrayLike<number>, V: number): { parents: Int32Array; tokens: Int32Array } {
    const { B, K } = this;
    const parents = Int32Array.from({ length: B * K }, (_, r) => r);
    const tokens = new Int32Array(B * K).fill(this.endToken);
    for (let b = 0; b < B; b++) {
      if (this.doneItems[b]) continue;
      const beams = this.live[b];
      const cands: { k: number; v: number; s: number }[] = [];
      for (let k = 0; k < K; k++) {
        if (beams[k].logProb === -Infinity) continue;
        const row = (b * K + k) * V;
        for (let v = 0; v < V; v++) cands.push({ k, v, s: beams[k].logProb + logp[row + v] });
      }
      cands.sort((x, y) => y.s - x.s || x.k - y.k || x.v - y.v);
      const next: (Beam & { k: number; v: number })[] = [];
      for (let j = 0; j < cands.length && j < 2 * K && next.length < K; j++) {
        const c = cands[j];
        const tokensSoFar = beams[c.k].tokens;
        if (c.v === this.endToken) {
          if (j < K) this.finished[b].push({ tokens: [...tokensSoFar], logProb: c.s, score: c.s / lengthPenalty(tokensSoFar.length + 1, this.alpha), ended: true });
          continue;
        }
        next.push({ tokens: [...tokensSoFar, c.v], logProb: c.s, k: c.k, v: c.v });
      }
      const fresh: Beam[] = [];
      for (let i = 0; i < K; i++) {
        const n = next[i];
        if (n) {
          parents[b * K + i] = b * K + n.k;
          tokens[b * K + i] = n.v;
          fresh.push({ tokens: n.tokens, logProb: n.logProb });
        } else fresh.push({ tokens: [], logProb: -Infinity });
      }
      this.live[b] = fresh;
      const fin = this.finished[b];
      const bestLive = Math.max(...fresh.map((x) => x.logProb));
      const bestFinished = Math.max(-Infinity, ...fin.map((h) => h.logProb));
      if (fin.length >= K || bestLive === -Infinity || (this.alpha === 0 && fin.length > 0 && bestFinished >= bestLive)) this.doneItems[b] = true;
    }
    return { parents, tokens };
  }

  /** The hypotheses of every sentence, best first (at most K); live beams count when unfinished. */
  results(): Hypothesis[][] {
    return this.finished.map((fin, b) => {
      const all = [...fin];
      if (!this.doneItems[b] || fin.length === 0) {
        for (const beam of this.live[b]) {
          if (beam.logProb > -Infinity) all.push({ tokens: [...beam.tokens], logProb: beam.logProb, score: beam.logProb / lengthPenalty(beam.tokens.length, this.alpha), ended: false });
        }
      }
      return all.sort((x, y) => y.score - x.score).slice(0, this.K);
    });
  }
}

/** Log-softmax of each row of logits (R, V), in float64. */
export function logSoftmaxRows(logits: ArrayLike<number>, R: number, V: number): Float64Array {
  const out = new Float64Array(R * V);
  for (let r = 0; r < R; r++) {
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, logits[r * V + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[r * V + v] - m);
    const lse = m + Math.log(sum);
    for (let v = 0; v < V; v++) out[r * V + v] = logits[r * V + v] - lse;
  }
  return out;
}
