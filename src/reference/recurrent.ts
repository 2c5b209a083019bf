// CPU twin of the recurrent kernels (per-step and persistent alike): one layer
// direction over a padded batch, float64 throughout.
//
// Semantics (PyTorch, packed sequences): step s handles time t = s (forward) or
// t = T-1-s (reverse). A sample b with t ≥ lengths[b] keeps its state and
// outputs 0, so the final state is the state at its last valid step and the
// reverse direction starts at that step.
// With a step mask instead (Keras masking): a sample b skips every step whose
// mask[b, t] is 0, for any position of the zeros (pre-padding too): it keeps its
// state, and its output there repeats the output of the step before it in this
// direction's order (0 before the first, whatever h0 is), as Keras's rnn() does.
//
// Gate order is PyTorch's: LSTM (i, f, g, o), GRU (r, z, n). W_hh is (G, H) here,
// PyTorch's own layout (the GPU keeps its transpose; the reference need not).
import type { CellActivation, CellType, GateActivation } from '../weights/types';
import { cellActivation, gateActivation } from './math';

export interface RecurrenceRefArgs {
  cell: CellType;
  /** The cell activation (Keras `activation`): SimpleRNN's h, GRU's n, LSTM's g and act(c). */
  nonlinearity: CellActivation;
  resetAfter: boolean;
  /** LSTM/GRU gate activation; the sigmoid when absent. */
  recurrentActivation?: GateActivation;
  B: number;
  T: number;
  H: number;
  reverse: boolean;
  xg: ArrayLike<number>; // (B, T, G) = x·W_ihᵀ + b_ih
  whh: ArrayLike<number>; // (G, H)
  bhh: ArrayLike<number>; // (G)
  lengths: ArrayLike<number>; // (B)
  /** (B, T) step mask, 1 = the step runs: Keras semantics, and `lengths` is not used. */
  mask?: ArrayLike<number> | null;
  h0: ArrayLike<number>; // (B, H)
  c0: ArrayLike<number> | null; // (B, H), LSTM
}

export interface RecurrenceRefResult {
  hs: Float64Array; // (T+1, B, H) state before step s at [s]
  cs: Float64Array | null; // (T+1, B, H) LSTM
  out: Float64Array; // (B, T, H) this direction's outputs
}

/** W_hh[g·H + j, :] · v for one gate block g and unit j. */
function rowDot(whh: ArrayLike<number>, H: number, row: number, v: ArrayLike<number>, vOff: number): number {
  let acc = 0;
  for (let k = 0; k < H; k++) acc += whh[row * H + k] * v[vOff + k];
  return acc;
}

export function recurrenceRef(a: RecurrenceRefArgs): RecurrenceRefResult {
  const { B, T, H, cell } = a;
  const G = (cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1) * H;
  const hs = new Float64Array((T + 1) * B * H);
  const cs = cell === 'lstm' ? new Float64Array((T + 1) * B * H) : null;
  const out = new Float64Array(B * T * H);
  for (let i = 0; i < B * H; i++) {
    hs[i] = a.h0[i];
    if (cs) cs[i] = a.c0 ? a.c0[i] : 0;
  }
  const rh = new Float64Array(H);
  const sigmoid = gateActivation(a.recurrentActivation); // the gates' activation
  const act = cellActivation(a.nonlinearity); // the cell activation (tanh by default)
  for (let s = 0; s < T; s++) {
    const t = a.reverse ? T - 1 - s : s;
    for (let b = 0; b < B; b++) {
      const prev = (s * B + b) * H;
      const next = prev + B * H;
      const valid = a.mask ? a.mask[b * T + t] !== 0 : t < a.lengths[b];
      const x = (b * T + t) * G; // offset of xg[b, t, :]
      if (cell === 'gru' && !a.resetAfter && valid) {
        for (let k = 0; k < H; k++) {
          const r = sigmoid(a.xg[x + k] + a.bhh[k] + rowDot(a.whh, H, k, hs, prev));
          rh[k] = r * hs[prev + k];
        }
      }
      for (let j = 0; j < H; j++) {
        let h = hs[prev + j];
        let o = 0;
        if (valid) {
          if (cell === 'rnn') {
            const pre = a.xg[x + j] + a.bhh[j] + rowDot(a.whh, H, j, hs, prev);
            h = act(pre);
          } else if (cell === 'gru') {
            const z = sigmoid(a.xg[x + H + j] + a.bhh[H + j] + rowDot(a.whh, H, H + j, hs, prev));
            let n: number;
            if (a.resetAfter) {
              const r = sigmoid(a.xg[x + j] + a.bhh[j] + rowDot(a.whh, H, j, hs, prev));
              n = act(a.xg[x + 2 * H + j] + r * (a.bhh[2 * H + j] + rowDot(a.whh, H, 2 * H + j, hs, prev)));
            } else {
              n = act(a.xg[x + 2 * H + j] + a.bhh[2 * H + j] + rowDot(a.whh, H, 2 * H + j, rh, 0));
            }
            h = (1 - z) * n + z * h;
          } else {
            const gate = (g: number) => a.xg[x + g * H + j] + a.bhh[g * H + j] + rowDot(a.whh, H, g * H + j, hs, prev);
            const i = sigmoid(gate(0));
            const f = sigmoid(gate(1));
            const g = act(gate(2));
            const og = sigmoid(gate(3));
            const c = f * cs![prev + j] + i * g;
            cs![next + j] = c;
            h = og * act(c);
          }
          o = h;
        } else {
          if (cs) cs[next + j] = cs[prev + j];
          if (a.mask && s > 0) o = out[(b * T + (a.reverse ? t + 1 : t - 1)) * H + j]; // Keras: the previous output
        }
        hs[next + j] = h;
        out[(b * T + t) * H + j] = o;
      }
    }
  }
  return { hs, cs, out };
}
