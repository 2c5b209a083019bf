// CPU twin of the recurrent backward pass: the gradient of one layer direction of
// recurrenceRef (recurrent.ts), float64, plain loops, derived from the math (not from
// any WGSL).
//
// Forward, for one valid step (b, t) with previous state h (and c for LSTM). σ is the
// sigmoid, ⊙ elementwise; for a gate block q, W_q is its H rows of W_hh (G, H), b_q its
// H entries of b_hh and xg_q its H columns of xg[b, t, :] (xg = x·W_ihᵀ + b_ih).
//   SimpleRNN   a = xg + b + W h,   h' = act(a)
//   GRU, reset_after = true (PyTorch)
//     r = σ(xg_r + b_r + W_r h),  z = σ(xg_z + b_z + W_z h)
//     m = W_n h + b_n,            n = tanh(xg_n + r ⊙ m)
//     h' = (1 − z) ⊙ n + z ⊙ h
//   GRU, reset_after = false (Keras v1)
//     r, z as above,              n = tanh(xg_n + b_n + W_n (r ⊙ h))
//     h' = (1 − z) ⊙ n + z ⊙ h
//   LSTM        a_q = xg_q + b_q + W_q h   for q in (i, f, g, o)
//     i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
//     c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
// where tanh stands for the cell activation act (Keras `activation`: tanh, relu,
// sigmoid or linear; tanh by default) and 1 − y² below for its derivative act'
// written with its output y: 1 − y², [y > 0], y(1 − y), 1.
// A step with t ≥ lengths[b] is masked: h' = h, c' = c, output 0.
//
// Backward walks the steps in the reverse of the forward's order (s = T−1 … 0) carrying
// the state gradients dh = ∂L/∂h', dc = ∂L/∂c' (B, H), which start at dhN, dcN (the
// final state is the state after step T−1; for a short sample it was carried unchanged
// from its last valid step, so dhN reaches that step through the masked steps).
//   valid step:  dh ← dh + dout[b, t, :] (the output is h'), then the local derivatives
//                below give dxg[b, t, :], add to dW_hh and db_hh, and replace dh (dc)
//                by the gradient of the previous state.
//   masked step: identity on the state and a constant 0 output: dxg[b, t, :] = 0, no
//                weight gradient, dh and dc pass unchanged, dout[b, t, :] is ignored.
// With a Keras step mask (a.mask), a masked step's output repeats the previous
// step's output, so its output gradient belongs to that step: it is carried
// backwards (dOutCarry) and added to the output gradient of the next valid step
// met, or dropped at the first step (whose previous output is the constant 0).
// After step s = 0, dh and dc are dh0 and dc0.
//
// Per valid step two gradient rows of G entries are formed:
//   dxg[g] = ∂L/∂xg[b, t, g]
//   da[g]  = ∂L/∂(W_hh v + b_hh)[g], the recurrent pre-activation of row g, where v = h
//            for every row except the n block of GRU reset_after = false, where v = r ⊙ h.
// from which, shared by all cells,
//   db_hh[g] += da[g],   dW_hh[g, k] += da[g]·v[k],   dh_prev[k] += Σ_g da[g]·W_hh[g, k]
// (the last sum over the rows with v = h; the GRU reset_after = false n block's sum is
// ∂L/∂(r ⊙ h), which the GRU step splits into its r and h parts itself).
// dW_hh and db_hh accumulate over every valid (b, t).
import type { CellType } from '../weights/types';
import { gateCount } from '../weights/types';
import { cellActivation, cellDerivative, gateActivation, gateDerivative } from './math';
import { recurrenceRef, type RecurrenceRefArgs } from './recurrent';

export interface RecurrenceBackwardArgs extends RecurrenceRefArgs {
  dout: ArrayLike<number>; // (B, T, H) gradient of this direction's outputs
  dhN: ArrayLike<number> | null; // (B, H) gradient of the final hidden state; null = 0
  dcN: ArrayLike<number> | null; // (B, H) gradient of the final cell state (LSTM); null = 0
  /** Also return ‖∂L/∂h_t‖ (over B·H) of every step, in time order (the twin of step_grad_norms.wgsl). */
  stepGradNorms?: boolean;
  /** The forward's states (recurrenceRef's hs, cs for these same inputs), if the caller kept them; else re-run. */
  states?: { hs: Float64Array; cs: Float64Array | null };
}

export interface RecurrenceBackwardResult {
  dxg: Float64Array; // (B, T, G) gradient wrt xg = x·W_ihᵀ + b_ih; 0 at masked steps
  dwhh: Float64Array; // (G, H)
  dbhh: Float64Array; // (G)
  dh0: Float64Array; // (B, H)
  dc0: Float64Array | null; // (B, H), LSTM (also when c0 was null, i.e. zeros)
  /** (T) ‖∂L/∂h_t‖ in time order: the gradient of the state step t produced, over B·H; with stepGradNorms. */
  stepNorms: Float64Array | null;
}

/** Scratch of one valid step (b, t): inputs copied in, gradient rows written out. */
interface Step {
  cell: CellType;
  gate: (x: number) => number; // the gate activation (sigmoid or a hard sigmoid)
  dgate: (y: number) => number; // its derivative, from its output
  act: (x: number) => number; // the cell activation (tanh by default)
  dact: (y: number) => number; // its derivative, from its output
  resetAfter: boolean;
  H: number;
  whh: ArrayLike<number>; // (G, H)
  bhh: ArrayLike<number>; // (G)
  xg: Float64Array; // (G) xg[b, t, :]
  h: Float64Array; // (H) previous hidden state
  c: Float64Array; // (H) previous cell state (LSTM)
  dhOut: Float64Array; // (H) ∂L/∂h' = carried state gradient + output gradient
  dcOut: Float64Array; // (H) ∂L/∂c' carried from later steps (LSTM)
  rh: Float64Array; // (H) r ⊙ h (GRU reset_after = false), the v of the n rows
  dxg: Float64Array; // (G) out: ∂L/∂xg[b, t, :]
  da: Float64Array; // (G) out: ∂L/∂(W_hh v + b_hh)
  dhPrev: Float64Array; // (H) out: ∂L/∂h, the parts not through Σ_g da[g]·W_hh[g, :] over rows with v = h
  dcPrev: Float64Array; // (H) out: ∂L/∂c (LSTM)
}

/** b_hh[row] + W_hh[row, :] · v, the recurrent pre-activation of one gate row. */
function recurrentPre(st: Step, row: number, v: Float64Array): number {
  let acc = st.bhh[row];
  for (let k = 0; k < st.H; k++) acc += st.whh[row * st.H + k] * v[k];
  return acc;
}

/**
 * SimpleRNN: a = xg + b + W h, h' = act(a).
 *   da = dh' · act'(a), taken from h' (cellDerivative: [h' > 0] for relu, 0 at the kink as PyTorch)
 *   dxg = da; no direct path from h to h'.
 */
function rnnStepBackward(st: Step): void {
  for (let j = 0; j < st.H; j++) {
    const a = st.xg[j] + recurrentPre(st, j, st.h);
    const d = st.dact(st.act(a));
    st.da[j] = st.dhOut[j] * d;
    st.dxg[j] = st.da[j];
    st.dhPrev[j] = 0;
  }
}

/**
 * GRU. With h' = (1 − z) ⊙ n + z ⊙ h:
 *   dn = dh' ⊙ (1 − z),  dz = dh' ⊙ (h − n),  dh (direct) = dh' ⊙ z
 *   da_z = dz ⊙ z(1 − z) = dxg_z,   da_r = dr ⊙ r(1 − r) = dxg_r
 * reset_after = true,  n = tanh(xg_n + r ⊙ m), m = W_n h + b_n:
 *   dxg_n = dn ⊙ (1 − n²),  da_n = ∂L/∂m = dxg_n ⊙ r,  dr = dxg_n ⊙ m
 * reset_after = false, n = tanh(xg_n + b_n + W_n (r ⊙ h)):
 *   dxg_n = da_n = dn ⊙ (1 − n²)  (v = r ⊙ h for these rows)
 *   d(r ⊙ h) = W_nᵀ da_n,  dr = d(r ⊙ h) ⊙ h,  dh (direct) += d(r ⊙ h) ⊙ r
 */
function gruStepBackward(st: Step): void {
  const { H } = st;
  const r = new Float64Array(H);
  for (let k = 0; k < H; k++) {
    r[k] = st.gate(st.xg[k] + recurrentPre(st, k, st.h));
    st.rh[k] = r[k] * st.h[k];
  }
  const dr = new Float64Array(H); // ∂L/∂r
  for (let j = 0; j < H; j++) {
    const z = st.gate(st.xg[H + j] + recurrentPre(st, H + j, st.h));
    let n: number;
    let m = 0;
    if (st.resetAfter) {
      m = recurrentPre(st, 2 * H + j, st.h);
      n = st.act(st.xg[2 * H + j] + r[j] * m);
    } else {
      n = st.act(st.xg[2 * H + j] + recurrentPre(st, 2 * H + j, st.rh));
    }
    const dn = st.dhOut[j] * (1 - z);
    const dz = st.dhOut[j] * (st.h[j] - n);
    st.dhPrev[j] = st.dhOut[j] * z;
    const dan = dn * st.dact(n); // ∂L/∂(argument of the n activation)
    st.dxg[2 * H + j] = dan;
    if (st.resetAfter) {
      st.da[2 * H + j] = dan * r[j];
      dr[j] = dan * m;
    } else {
      st.da[2 * H + j] = dan;
    }
    st.da[H + j] = dz * st.dgate(z);
    st.dxg[H + j] = st.da[H + j];
  }
  if (!st.resetAfter) {
    // d(r ⊙ h)[k] = Σ_j da_n[j]·W_n[j, k], split over r and h.
    for (let k = 0; k < H; k++) {
      let drh = 0;
      for (let j = 0; j < H; j++) drh += st.da[2 * H + j] * st.whh[(2 * H + j) * H + k];
      dr[k] = drh * st.h[k];
      st.dhPrev[k] += drh * r[k];
    }
  }
  for (let k = 0; k < H; k++) {
    st.da[k] = dr[k] * st.dgate(r[k]);
    st.dxg[k] = st.da[k];
  }
}

/**
 * LSTM. With c' = f ⊙ c + i ⊙ g and h' = o ⊙ tanh(c'):
 *   do = dh' ⊙ tanh(c'),  dc' (total) = dc' (carried) + dh' ⊙ o ⊙ (1 − tanh²(c'))
 *   di = dc' ⊙ g,  df = dc' ⊙ c,  dg = dc' ⊙ i,  dc (previous) = dc' ⊙ f
 *   da_i = di ⊙ i(1 − i), da_f = df ⊙ f(1 − f), da_g = dg ⊙ (1 − g²), da_o = do ⊙ o(1 − o)
 *   dxg = da; no direct path from h to h'.
 */
function lstmStepBackward(st: Step): void {
  const { H } = st;
  for (let j = 0; j < H; j++) {
    const i = st.gate(st.xg[j] + recurrentPre(st, j, st.h));
    const f = st.gate(st.xg[H + j] + recurrentPre(st, H + j, st.h));
    const g = st.act(st.xg[2 * H + j] + recurrentPre(st, 2 * H + j, st.h));
    const o = st.gate(st.xg[3 * H + j] + recurrentPre(st, 3 * H + j, st.h));
    const tc = st.act(f * st.c[j] + i * g);
    const dO = st.dhOut[j] * tc;
    const dC = st.dcOut[j] + st.dhOut[j] * o * st.dact(tc);
    st.dcPrev[j] = dC * f;
    st.da[j] = dC * g * st.dgate(i);
    st.da[H + j] = dC * st.c[j] * st.dgate(f);
    st.da[2 * H + j] = dC * i * st.dact(g);
    st.da[3 * H + j] = dO * st.dgate(o);
    for (let q = 0; q < 4; q++) st.dxg[q * H + j] = st.da[q * H + j];
    st.dhPrev[j] = 0;
  }
}

export function recurrenceBackwardRef(a: RecurrenceBackwardArgs): RecurrenceBackwardResult {
  const { B, T, H, cell } = a;
  const G = gateCount(cell) * H;
  const BH = B * H;
  // The state sequence: hs[s] (and cs[s]) is the state before step s; re-run the
  // forward unless the caller kept it.
  const { hs, cs } = a.states ?? recurrenceRef(a);

  const dxg = new Float64Array(B * T * G); // (B, T, G)
  const dwhh = new Float64Array(G * H); // (G, H)
  const dbhh = new Float64Array(G); // (G)
  const dh = new Float64Array(BH); // (B, H) ∂L/∂(state after the step being undone)
  const dc = cell === 'lstm' ? new Float64Array(BH) : null; // (B, H)
  for (let i = 0; i < BH; i++) {
    if (a.dhN) dh[i] = a.dhN[i];
    if (dc && a.dcN) dc[i] = a.dcN[i];
  }
  const st: Step = {
    cell,
    gate: gateActivation(a.recurrentActivation),
    dgate: gateDerivative(a.recurrentActivation),
    act: cellActivation(a.nonlinearity),
    dact: cellDerivative(a.nonlinearity),
    resetAfter: a.resetAfter,
    H,
    whh: a.whh,
    bhh: a.bhh,
    xg: new Float64Array(G),
    h: new Float64Array(H),
    c: new Float64Array(H),
    dhOut: new Float64Array(H),
    dcOut: new Float64Array(H),
    rh: new Float64Array(H),
    dxg: new Float64Array(G),
    da: new Float64Array(G),
    dhPrev: new Float64Array(H),
    dcPrev: new Float64Array(H),
  };
  const dOutCarry = a.mask ? new Float64Array(BH) : null; // (B, H) Keras masks only
  // GRU reset_after = false: its n rows multiply r ⊙ h, not h (see the header).
  const nRowsUseRh = cell === 'gru' && !a.resetAfter;

  const stepNorms = a.stepGradNorms ? new Float64Array(T) : null;
  for (let s = T - 1; s >= 0; s--) {
    const t = a.reverse ? T - 1 - s : s;
    let sq = 0; // Σ over the batch of ‖∂L/∂h_t‖²
    for (let b = 0; b < B; b++) {
      const oOff = (b * T + t) * H; // offset of dout[b, t, :]
      const valid = a.mask ? a.mask[b * T + t] !== 0 : t < a.lengths[b];
      if (!valid) {
        // masked: dxg stays 0, dh and dc pass through; a Keras mask passes the output gradient on
        if (stepNorms) for (let k = 0; k < H; k++) sq += dh[b * H + k] ** 2;
        if (dOutCarry) for (let k = 0; k < H; k++) dOutCarry[b * H + k] += a.dout[oOff + k];
        continue;
      }
      const prev = (s * B + b) * H; // offset of hs[s, b, :]
      const xOff = (b * T + t) * G; // offset of xg[b, t, :]
      for (let g = 0; g < G; g++) st.xg[g] = a.xg[xOff + g];
      for (let k = 0; k < H; k++) {
        st.h[k] = hs[prev + k];
        st.c[k] = cs ? cs[prev + k] : 0;
        st.dhOut[k] = dh[b * H + k] + a.dout[oOff + k] + (dOutCarry ? dOutCarry[b * H + k] : 0);
        if (dOutCarry) dOutCarry[b * H + k] = 0;
        st.dcOut[k] = dc ? dc[b * H + k] : 0;
        sq += st.dhOut[k] ** 2;
      }

      if (cell === 'rnn') rnnStepBackward(st);
      else if (cell === 'gru') gruStepBackward(st);
      else lstmStepBackward(st);

      // Shared part: db_hh, dW_hh and the W_hhᵀ·da path into the previous state.
      for (let g = 0; g < G; g++) {
        dxg[xOff + g] = st.dxg[g];
        dbhh[g] += st.da[g];
        const viaRh = nRowsUseRh && g >= 2 * H;
        const v = viaRh ? st.rh : st.h;
        for (let k = 0; k < H; k++) dwhh[g * H + k] += st.da[g] * v[k];
        if (!viaRh) {
          for (let k = 0; k < H; k++) st.dhPrev[k] += st.da[g] * a.whh[g * H + k];
        }
      }
      for (let k = 0; k < H; k++) {
        dh[b * H + k] = st.dhPrev[k];
        if (dc) dc[b * H + k] = st.dcPrev[k];
      }
    }
    if (stepNorms) stepNorms[t] = Math.sqrt(sq);
  }
  return { dxg, dwhh, dbhh, dh0: dh, dc0: dc, stepNorms };
}
