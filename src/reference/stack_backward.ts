// CPU twin of a whole recurrent stack (multi-layer, bidirectional), forward and
// backward, float64, plain loops. The forward is Recurrent.forwardCpu's; the backward
// chains recurrenceBackwardRef (recurrent_backward.ts) through the input projections
// and down the layers.
//
// Forward: x_0 = x (B, T, I); for layer l and direction d (d = 1 runs reversed)
//   xg_ld = x_l·W_ih,ldᵀ + b_ih,ld                       (B, T, G)    matmulBiasRef
//   out_ld, hN_ld, cN_ld = recurrence(xg_ld, h0_ld, c0_ld)  (B, T, H)    recurrenceRef
//   x_{l+1}[b, t, :] = [out_l0[b, t, :], out_l1[b, t, :]]   (B, T, D·H)  (forward, reverse)
// output = x_L; hN and cN are (L·D, B, H), row l·D + d.
//
// Backward, for the layers in reverse order (l = L−1 … 0), starting from dX_L = dOutput:
//   dout_ld = dX_{l+1}[:, :, d·H:(d+1)·H]
//   dxg_ld, dW_hh, db_hh, dh0_ld, dc0_ld = recurrenceBackwardRef(dout_ld, dhN_ld, dcN_ld)
//   dW_ih[g, i]   = Σ_{b,t} dxg_ld[b, t, g]·x_l[b, t, i]
//   db_ih[g]      = Σ_{b,t} dxg_ld[b, t, g]
//   dX_l[b, t, i] = Σ_d Σ_g dxg_ld[b, t, g]·W_ih,ld[g, i]    (both directions read x_l)
// dx = dX_0. The three sums skip padded positions (t ≥ lengths[b]): dxg is 0 there
// already, and skipping makes dx exactly 0 there and dW_ih exactly independent of
// whatever the padded x holds (0·NaN would otherwise be NaN).
//
// Bias 'single' (Keras SimpleRNN, LSTM, GRU reset_after = false): b_hh is held at 0 and
// is not a trainable parameter. dbhh is still computed and reported (the gradient b_hh
// would have); for these cells b_hh enters every pre-activation exactly where b_ih does,
// so it equals dbih. A trainer must not apply it.
import { WeightError } from '../errors';
import { assertLength } from '../validate';
import { directions, gateCount, layerInputSize, type RecurrentConfig } from '../weights/types';
import { matmulBiasRef } from './matmul';
import { recurrenceRef } from './recurrent';
import { recurrenceBackwardRef } from './recurrent_backward';

/** CellWeights with any numeric arrays (Float32Array weights, or float64 copies for finite differences). */
export interface CellWeightsLike {
  wih: ArrayLike<number>; // (G, I_l)
  whh: ArrayLike<number>; // (G, H)
  bih: ArrayLike<number>; // (G)
  bhh: ArrayLike<number>; // (G)
}

/** Weights of a stack, [layer][direction]; StackWeights fits. */
export type StackWeightsLike = readonly (readonly CellWeightsLike[])[];

/** Gradients of one layer direction's weights, same layouts as CellWeights. */
export interface CellGrads {
  dwih: Float64Array; // (G, I_l)
  dwhh: Float64Array; // (G, H)
  dbih: Float64Array; // (G)
  dbhh: Float64Array; // (G) reported also for bias 'single', where b_hh is not trainable
}

export interface StackForwardOptions {
  B: number;
  T: number;
  lengths?: ArrayLike<number>; // (B) valid steps per sample; all T when absent
  mask?: ArrayLike<number> | null; // (B, T) Keras step mask (1 = runs); then lengths is not used
  h0?: ArrayLike<number> | null; // (L·D, B, H); zeros when absent
  c0?: ArrayLike<number> | null; // (L·D, B, H), LSTM; zeros when absent
}

export interface StackBackwardOptions extends StackForwardOptions {
  dOutput: ArrayLike<number>; // (B, T, D·H) ∂L/∂output
  dhN?: ArrayLike<number> | null; // (L·D, B, H) ∂L/∂hN; zeros when absent
  dcN?: ArrayLike<number> | null; // (L·D, B, H) ∂L/∂cN, LSTM; zeros when absent
  /** Also return ‖∂L/∂h_t‖ of every step per layer and direction (stepNorms). */
  stepGradNorms?: boolean;
}

/** What the forward keeps of one layer direction. */
export interface DirectionTape {
  xg: Float64Array; // (B, T, G) x_l·W_ihᵀ + b_ih
  hs: Float64Array; // (T+1, B, H) state before step s at [s]
  cs: Float64Array | null; // (T+1, B, H), LSTM
}

/** What the forward keeps of one layer. */
export interface LayerTape {
  input: Float64Array; // (B, T, I_l) x_l
  dirs: DirectionTape[]; // [direction]
}

export interface StackForwardResult {
  output: Float64Array; // (B, T, D·H)
  hN: Float64Array; // (L·D, B, H)
  cN: Float64Array | null; // (L·D, B, H), LSTM
  layers: LayerTape[]; // [layer]
}

export interface StackBackwardResult {
  output: Float64Array; // (B, T, D·H)
  hN: Float64Array; // (L·D, B, H)
  cN: Float64Array | null; // (L·D, B, H), LSTM
  dx: Float64Array; // (B, T, I); exactly 0 at padded positions
  dh0: Float64Array; // (L·D, B, H)
  dc0: Float64Array | null; // (L·D, B, H), LSTM
  grads: CellGrads[][]; // [layer][direction]
  stepNorms: Float64Array | null; // (L·D, T) ‖∂L/∂h_t‖ in time order, with stepGradNorms
}

function allLengths(op: string, B: number, T: number, lengths: ArrayLike<number> | undefined): ArrayLike<number> {
  if (lengths === undefined) return new Uint32Array(B).fill(T);
  assertLength(op, 'lengths', lengths, [B], '(B)', 'one length per sequence in the batch.');
  return lengths;
}

function checkWeights(op: string, cfg: RecurrentConfig, weights: StackWeightsLike): void {
  const D = directions(cfg);
  const H = cfg.hiddenSize;
  const G = gateCount(cfg.cell) * H;
  if (weights.length !== cfg.numLayers || weights.some((row) => row.length !== D)) {
    throw new WeightError(
      `${op}: weights has ${weights.length} layers of [${weights.map((row) => row.length).join(', ')}] directions, expected L = ${cfg.numLayers} layers of D = ${D}. Hint: index weights as [layer][direction].`,
    );
  }
  for (let l = 0; l < cfg.numLayers; l++) {
    for (let d = 0; d < D; d++) {
      const w = weights[l][d];
      const I = layerInputSize(cfg, l);
      assertLength(op, `weights[${l}][${d}].wih`, w.wih, [G, I], '(G, I_l)');
      assertLength(op, `weights[${l}][${d}].whh`, w.whh, [G, H], '(G, H)');
      assertLength(op, `weights[${l}][${d}].bih`, w.bih, [G], '(G)');
      assertLength(op, `weights[${l}][${d}].bhh`, w.bhh, [G], '(G)');
    }
  }
}

/** Rows [ld·B·H, (ld+1)·B·H) of an (L·D, B, H) array, or null. */
function stateSlice(v: ArrayLike<number> | null | undefined, ld: number, BH: number): Float64Array | null {
  if (!v) return null;
  const out = new Float64Array(BH);
  for (let i = 0; i < BH; i++) out[i] = v[ld * BH + i];
  return out;
}

/** The stack forward in float64, keeping each layer's input and each direction's xg and states. */
export function stackForwardRef(cfg: RecurrentConfig, weights: StackWeightsLike, x: ArrayLike<number>, opts: StackForwardOptions): StackForwardResult {
  const op = 'stackForwardRef';
  const { B, T } = opts;
  const H = cfg.hiddenSize;
  const D = directions(cfg);
  const G = gateCount(cfg.cell) * H;
  const BH = B * H;
  const LD = cfg.numLayers * D;
  checkWeights(op, cfg, weights);
  assertLength(op, 'x', x, [B, T, cfg.inputSize], '(B, T, I)');
  if (opts.h0) assertLength(op, 'h0', opts.h0, [LD, B, H], '(L·D, B, H)');
  if (opts.c0) assertLength(op, 'c0', opts.c0, [LD, B, H], '(L·D, B, H)');
  const lengths = allLengths(op, B, T, opts.lengths);

  const hN = new Float64Array(LD * BH); // (L·D, B, H)
  const cN = cfg.cell === 'lstm' ? new Float64Array(LD * BH) : null; // (L·D, B, H)
  const layers: LayerTape[] = [];
  let input = Float64Array.from(x); // (B, T, I_l)
  for (let l = 0; l < cfg.numLayers; l++) {
    const I = layerInputSize(cfg, l);
    const out = new Float64Array(B * T * D * H); // (B, T, D·H)
    const dirs: DirectionTape[] = [];
    for (let d = 0; d < D; d++) {
      const w = weights[l][d];
      const ld = l * D + d;
      const xg = matmulBiasRef(input, w.wih, w.bih, B * T, G, I); // (B, T, G)
      const r = recurrenceRef({
        cell: cfg.cell,
        nonlinearity: cfg.nonlinearity,
        resetAfter: cfg.resetAfter,
        recurrentActivation: cfg.recurrentActivation,
        B,
        T,
        H,
        reverse: d === 1,
        xg,
        whh: w.whh,
        bhh: w.bhh,
        lengths,
        mask: opts.mask ?? null,
        h0: stateSlice(opts.h0, ld, BH) ?? new Float64Array(BH),
        c0: stateSlice(opts.c0, ld, BH),
      });
      for (let bt = 0; bt < B * T; bt++) {
        for (let j = 0; j < H; j++) out[bt * D * H + d * H + j] = r.out[bt * H + j];
      }
      hN.set(r.hs.subarray(T * BH), ld * BH);
      if (cN && r.cs) cN.set(r.cs.subarray(T * BH), ld * BH);
      dirs.push({ xg, hs: r.hs, cs: r.cs });
    }
    layers.push({ input, dirs });
    input = out;
  }
  return { output: input, hN, cN, layers };
}

/** Forward and backward of the whole stack; gradients of L given ∂L/∂output, ∂L/∂hN, ∂L/∂cN. */
export function stackForwardBackwardRef(cfg: RecurrentConfig, weights: StackWeightsLike, x: ArrayLike<number>, opts: StackBackwardOptions): StackBackwardResult {
  const op = 'stackForwardBackwardRef';
  const { B, T } = opts;
  const H = cfg.hiddenSize;
  const D = directions(cfg);
  const G = gateCount(cfg.cell) * H;
  const BH = B * H;
  const LD = cfg.numLayers * D;
  const fwd = stackForwardRef(cfg, weights, x, opts);
  assertLength(op, 'dOutput', opts.dOutput, [B, T, D * H], '(B, T, D·H)');
  if (opts.dhN) assertLength(op, 'dhN', opts.dhN, [LD, B, H], '(L·D, B, H)');
  if (opts.dcN) assertLength(op, 'dcN', opts.dcN, [LD, B, H], '(L·D, B, H)');
  const lengths = allLengths(op, B, T, opts.lengths);

  const dh0 = new Float64Array(LD * BH); // (L·D, B, H)
  const dc0 = cfg.cell === 'lstm' ? new Float64Array(LD * BH) : null; // (L·D, B, H)
  const grads: CellGrads[][] = [];
  const stepNorms = opts.stepGradNorms ? new Float64Array(LD * T) : null; // (L·D, T)
  let dUpper: ArrayLike<number> = opts.dOutput; // (B, T, D·H) ∂L/∂x_{l+1}
  let dx = new Float64Array(0); // (B, T, I) once layer 0 is done
  for (let l = cfg.numLayers - 1; l >= 0; l--) {
    const I = layerInputSize(cfg, l);
    const xl = fwd.layers[l].input; // (B, T, I)
    const dxl = new Float64Array(B * T * I); // (B, T, I) ∂L/∂x_l, summed over directions
    const layerGrads: CellGrads[] = [];
    for (let d = 0; d < D; d++) {
      const w = weights[l][d];
      const ld = l * D + d;
      const dout = new Float64Array(B * T * H); // (B, T, H) this direction's slice of dUpper
      for (let bt = 0; bt < B * T; bt++) {
        for (let j = 0; j < H; j++) dout[bt * H + j] = dUpper[bt * D * H + d * H + j];
      }
      // The states come from the forward just run (fwd's tape), not a second recurrence.
      const r = recurrenceBackwardRef({
        cell: cfg.cell,
        nonlinearity: cfg.nonlinearity,
        resetAfter: cfg.resetAfter,
        recurrentActivation: cfg.recurrentActivation,
        B,
        T,
        H,
        reverse: d === 1,
        xg: fwd.layers[l].dirs[d].xg,
        whh: w.whh,
        bhh: w.bhh,
        lengths,
        mask: opts.mask ?? null,
        h0: stateSlice(opts.h0, ld, BH) ?? new Float64Array(BH),
        c0: stateSlice(opts.c0, ld, BH),
        dout,
        dhN: stateSlice(opts.dhN, ld, BH),
        dcN: stateSlice(opts.dcN, ld, BH),
        states: { hs: fwd.layers[l].dirs[d].hs, cs: fwd.layers[l].dirs[d].cs },
        stepGradNorms: !!opts.stepGradNorms,
      });
      if (stepNorms && r.stepNorms) stepNorms.set(r.stepNorms, ld * T);
      dh0.set(r.dh0, ld * BH);
      if (dc0 && r.dc0) dc0.set(r.dc0, ld * BH);

      // Input projection xg = x_l·W_ihᵀ + b_ih, over the valid positions only.
      const dwih = new Float64Array(G * I); // (G, I)
      const dbih = new Float64Array(G); // (G)
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < (opts.mask ? T : Math.min(lengths[b], T)); t++) { // dxg is 0 at masked steps
          const bt = b * T + t;
          for (let g = 0; g < G; g++) {
            const dg = r.dxg[bt * G + g];
            dbih[g] += dg;
            for (let i = 0; i < I; i++) {
              dwih[g * I + i] += dg * xl[bt * I + i];
              dxl[bt * I + i] += dg * w.wih[g * I + i];
            }
          }
        }
      }
      layerGrads.push({ dwih, dwhh: r.dwhh, dbih, dbhh: r.dbhh });
    }
    grads[l] = layerGrads;
    dUpper = dxl;
    dx = dxl;
  }
  return { output: fwd.output, hN: fwd.hN, cN: fwd.cN, dx, dh0, dc0, grads, stepNorms };
}
