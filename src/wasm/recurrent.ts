// The wasm backend's recurrent stack (multi-layer, bidirectional), forward and
// forward+backward, on the kernels of src/wasm/assembly/kernels.ts. The float64 twin
// is src/reference/stack_backward.ts (stackForwardRef, stackForwardBackwardRef),
// whose semantics (lengths, Keras masks, h0/c0, dhN/dcN, step norms) this follows.
//
// Per layer l and direction d (buffers in wasm memory, float32, zero-padded):
//   in_l  (B·T, Ip_l)        layer input; layer 0: x; l > 0: the outputs below, direction d at columns [d·H, d·H + Hp)
//   xg    (B·T, Gp)          gemmPk(in_l, W_ih's panels) + b_ih: the input projection of all steps as one GEMM
//   hs    (T+1, B, Hp)       states, hs[0] = h0; cs likewise (LSTM)
//   tape  (T, B, Gp), ext (T, B, Hp)   gate activations (recorded only for a backward)
// Backward, layers in reverse order:
//   dxg (B·T, Gp), da (T·B, Gp) = recBackward(...)          the step backward, all steps in one call
//   dW_hh = daᵀ·hs, dW_ih = dxgᵀ·in_l, dx_l += dxg·W_ih       GEMMs over all steps (transposed copies make them NT)
//   db_hh, db_ih = row sums of daᵀ, dxgᵀ
// Weight gradients come back as float64 arrays in PyTorch layout, to be accumulated by the layer.
//
// Weights are packed once per weights version (packCell) and owned by the layer.
import type { CellGrads } from '../reference/stack_backward';
import { directions, gateCount, layerInputSize, type CellWeights, type GateActivation, type RecurrentConfig } from '../weights/types';
import { pad4, type Scope, type WasmEngine } from './engine';

/**
 * One layer direction's weights in wasm memory: padded to Hp (hidden), Ip (input), Gp = gates·Hp.
 * The forward's GEMMs read W_ih and W_hh as panels (packPanels: (⌈Gp/16⌉, K, 16)); the
 * backward's read their transposes.
 */
export interface PackedCell {
  wihP: number; // (⌈Gp/16⌉, Ip, 16) panels of W_ih (Gp, Ip)
  wihT: number; // (Ip, Gp)
  whhP: number; // (⌈Gp/16⌉, Hp, 16) panels of W_hh (Gp, Hp); GRU reset_after = false: W_r,z's then W_n's
  whhT: number; // (Hp, Gp)
  bih: number; // (Gp)
  bhh: number; // (Gp)
  Ip: number;
}

const CELL_CODE = { rnn: 0, gru: 1, lstm: 2 } as const;
const ACT_CODE: Record<GateActivation, number> = { sigmoid: 0, hardSigmoid: 1, hardSigmoidKeras3: 2 };
/** The cell activation (SimpleRNN's nonlinearity; every cell's Keras `activation`). */
const CELL_ACT_CODE: Record<string, number> = { tanh: 0, relu: 1, sigmoid: 2, linear: 3 };

/** Ip of layer l's input in wasm: room for every direction's padded block below it. */
export function wasmInputWidth(cfg: RecurrentConfig, l: number): number {
  if (l === 0) return pad4(cfg.inputSize);
  return pad4((directions(cfg) - 1) * cfg.hiddenSize + pad4(cfg.hiddenSize));
}

/** Floats of the panels of an (N, K) matrix. */
const panelFloats = (N: number, K: number): number => Math.ceil(N / 16) * 16 * K;

/** Packs one layer direction (PyTorch layout, float32) into wasm memory. */
export function packCell(eng: WasmEngine, cfg: RecurrentConfig, l: number, w: CellWeights): PackedCell {
  const H = cfg.hiddenSize;
  const Hp = pad4(H);
  const nG = gateCount(cfg.cell);
  const Gp = nG * Hp;
  const I = layerInputSize(cfg, l);
  const Ip = wasmInputWidth(cfg, l);
  const made: number[] = [];
  const alloc = (n: number, zero = true) => {
    const p = eng.alloc(n, zero);
    made.push(p);
    return p;
  };
  const sc = eng.scope(); // the row-major copies, only for packing
  try {
    const p: PackedCell = { wihP: alloc(panelFloats(Gp, Ip), false), wihT: alloc(Ip * Gp), whhP: alloc(panelFloats(2 * Hp, Hp) + panelFloats(Gp, Hp), false), whhT: alloc(Hp * Gp), bih: alloc(Gp), bhh: alloc(Gp), Ip };
    const wih = sc.alloc(Gp * Ip); // (Gp, Ip)
    const whh = sc.alloc(Gp * Hp); // (Gp, Hp)
    for (let q = 0; q < nG; q++) {
      // gate q's H rows go to rows [q·Hp, q·Hp + H)
      eng.write(wih + q * Hp * Ip * 4, Ip, w.wih, H, I, I, q * H * I);
      eng.write(whh + q * Hp * Hp * 4, Hp, w.whh, H, H, H, q * H * H);
      eng.write(p.bih + q * Hp * 4, Hp, w.bih, 1, H, H, q * H);
      eng.write(p.bhh + q * Hp * 4, Hp, w.bhh, 1, H, H, q * H);
    }
    eng.k.transpose(Gp, Ip, wih, Ip, p.wihT, Gp);
    eng.k.transpose(Gp, Hp, whh, Hp, p.whhT, Gp);
    eng.k.packPanels(Gp, Ip, wih, Ip, p.wihP);
    if (cfg.cell === 'gru' && !cfg.resetAfter) {
      // the step's two GEMMs: W_r,z (2Hp rows), then W_n (its panels right after)
      eng.k.packPanels(2 * Hp, Hp, whh, Hp, p.whhP);
      eng.k.packPanels(Hp, Hp, whh + 2 * Hp * Hp * 4, Hp, p.whhP + panelFloats(2 * Hp, Hp) * 4);
    } else eng.k.packPanels(Gp, Hp, whh, Hp, p.whhP);
    return p;
  } catch (e) {
    for (const b of made) eng.release(b);
    throw e;
  } finally {
    sc.dispose();
  }
}

export function freeCell(eng: WasmEngine, p: PackedCell): void {
  for (const b of [p.wihP, p.wihT, p.whhP, p.whhT, p.bih, p.bhh]) eng.release(b);
}

export interface WasmStackArgs {
  B: number;
  T: number;
  /** (B, T) 1 = step t of sample b runs (from lengths or a Keras mask). */
  valid: Uint32Array;
  /** Keras mask semantics (a masked step repeats the previous output). */
  keras: boolean;
  h0: ArrayLike<number> | null; // (L·D, B, H)
  c0: ArrayLike<number> | null; // (L·D, B, H)
}

export interface WasmBackwardArgs {
  dOutput: ArrayLike<number>; // (B, T, D·H)
  dhN: ArrayLike<number> | null; // (L·D, B, H)
  dcN: ArrayLike<number> | null; // (L·D, B, H)
  stepGradNorms: boolean;
}

export interface WasmStackResult {
  output: Float64Array; // (B, T, D·H)
  hN: Float64Array; // (L·D, B, H)
  cN: Float64Array | null;
  /** With a backward: */
  dx: Float64Array | null; // (B, T, I)
  dh0: Float64Array | null; // (L·D, B, H)
  dc0: Float64Array | null;
  grads: CellGrads[][] | null; // [layer][direction], PyTorch layout
  stepNorms: Float64Array | null; // (L·D, T)
}

interface LayerRun {
  input: number; // (B·T, Ip_l)
  dirs: { hs: number; cs: number; tape: number; ext: number }[];
}

/**
 * What a recorded forward keeps in the engine's memory for its backward: each layer's
 * input, states and gate tape (blocks of `scope`, freed by the backward or by
 * freeRecorded). Owned by the layer's RecurrentTape.
 */
export interface WasmRecorded {
  scope: Scope;
  B: number;
  T: number;
  keras: boolean;
  valid: number; // (B, T) i32
  scratch: number;
  layers: LayerRun[];
}

export function freeRecorded(rec: WasmRecorded): void {
  rec.scope.dispose();
}

function cellFlags(cfg: RecurrentConfig, keras: boolean): readonly [number, number, number, number, number, number] {
  return [CELL_CODE[cfg.cell], cfg.resetAfter ? 1 : 0, CELL_ACT_CODE[cfg.nonlinearity] ?? 0, ACT_CODE[cfg.recurrentActivation ?? 'sigmoid'], 0, keras ? 1 : 0];
}

/** Forward and, when `bw` is given, backward in one call (recording on the way; nothing kept after). */
export function wasmStackRun(eng: WasmEngine, cfg: RecurrentConfig, cells: PackedCell[][], x: ArrayLike<number>, a: WasmStackArgs, bw: WasmBackwardArgs | null): WasmStackResult {
  const { res, rec } = wasmStackForward(eng, cfg, cells, x, a, !!bw);
  if (!rec || !bw) return res;
  return { ...wasmStackBackward(eng, cfg, cells, rec, bw), output: res.output, hN: res.hN, cN: res.cN };
}

/** The stack forward; with `record`, also the tape the backward needs, kept in the engine's memory (the caller owns it). */
export function wasmStackForward(eng: WasmEngine, cfg: RecurrentConfig, cells: PackedCell[][], x: ArrayLike<number>, a: WasmStackArgs, record: boolean): { res: WasmStackResult; rec: WasmRecorded | null } {
  const bw = record;
  const { B, T } = a;
  const H = cfg.hiddenSize;
  const Hp = pad4(H);
  const D = directions(cfg);
  const nG = gateCount(cfg.cell);
  const Gp = nG * Hp;
  const L = cfg.numLayers;
  const BT = B * T;
  const BH = B * H;
  const lstm = cfg.cell === 'lstm';
  const flags = cellFlags(cfg, a.keras);
  const sc = eng.scope();
  let kept = false;
  try {
    const valid = sc.alloc(BT); // (B, T) i32
    eng.i32().set(a.valid, valid >>> 2);
    const outW = wasmInputWidth(cfg, L); // stride of the last layer's output rows
    const layers: LayerRun[] = [];
    const hN = new Float64Array(L * D * BH);
    const cN = lstm ? new Float64Array(L * D * BH) : null;
    let input = sc.alloc(BT * wasmInputWidth(cfg, 0));
    eng.write(input, wasmInputWidth(cfg, 0), x, BT, cfg.inputSize);
    const xg = sc.alloc(BT * Gp, false); // (B·T, Gp), reused by every layer direction; gemmNT writes all of it
    const scratch = sc.alloc(B * Gp + 3 * B * Hp);
    for (let l = 0; l < L; l++) {
      const Ip = wasmInputWidth(cfg, l);
      const Iq = wasmInputWidth(cfg, l + 1);
      const out = sc.alloc(BT * Iq);
      const run: LayerRun = { input, dirs: [] };
      for (let d = 0; d < D; d++) {
        const w = cells[l][d];
        const ld = l * D + d;
        eng.gemmPanels(BT, Gp, Ip, input, Ip, w.wihP, xg, Gp, 0, 0, w.bih, 0);
        const hs = sc.alloc((T + 1) * B * Hp);
        const cs = lstm ? sc.alloc((T + 1) * B * Hp) : 0;
        if (a.h0) eng.write(hs, Hp, a.h0, B, H, H, ld * BH);
        if (cs && a.c0) eng.write(cs, Hp, a.c0, B, H, H, ld * BH);
        // written at every step that runs, the only steps the backward reads
        const tape = bw ? sc.alloc(T * B * Gp, false) : 0;
        const ext = bw && cfg.cell === 'gru' ? sc.alloc(T * B * Hp, false) : 0;
        eng.recForward(flags[0], flags[1], flags[2], flags[3], d, flags[5], B, T, Hp, xg, w.whhP, w.bhh, valid, hs, cs, out + d * H * 4, Iq, tape, ext, scratch); // batch rows split over the threads
        eng.read(hs + T * B * Hp * 4, Hp, B, H, hN, H, ld * BH);
        if (cN) eng.read(cs + T * B * Hp * 4, Hp, B, H, cN, H, ld * BH);
        run.dirs.push({ hs, cs, tape, ext });
      }
      layers.push(run);
      input = out;
    }
    const output = eng.read(input, outW, BT, D * H, new Float64Array(BT * D * H));
    const res: WasmStackResult = { output, hN, cN, dx: null, dh0: null, dc0: null, grads: null, stepNorms: null };
    if (!record) return { res, rec: null };
    kept = true;
    return { res, rec: { scope: sc, B, T, keras: a.keras, valid, scratch, layers } };
  } finally {
    if (!kept) sc.dispose();
  }
}

/** BPTT over a recorded forward; consumes (frees) `rec`. Weight gradients in PyTorch layout, float64. */
export function wasmStackBackward(
  eng: WasmEngine,
  cfg: RecurrentConfig,
  cells: PackedCell[][],
  rec: WasmRecorded,
  bw: WasmBackwardArgs,
): Pick<WasmStackResult, 'dx' | 'dh0' | 'dc0' | 'grads' | 'stepNorms'> {
  const { B, T, valid, scratch, layers } = rec;
  const H = cfg.hiddenSize;
  const Hp = pad4(H);
  const D = directions(cfg);
  const Gp = gateCount(cfg.cell) * Hp;
  const L = cfg.numLayers;
  const BT = B * T;
  const BH = B * H;
  const lstm = cfg.cell === 'lstm';
  const flags = cellFlags(cfg, rec.keras);
  const k = eng.k;
  const outW = wasmInputWidth(cfg, L);
  const sc = eng.scope();
  try {
    const res: Pick<WasmStackResult, 'dx' | 'dh0' | 'dc0' | 'grads' | 'stepNorms'> = { dx: null, dh0: null, dc0: null, grads: null, stepNorms: null };
    const dh0 = new Float64Array(L * D * BH);
    const dc0 = lstm ? new Float64Array(L * D * BH) : null;
    const norms = bw.stepGradNorms ? new Float64Array(L * D * T) : null;
    const grads: CellGrads[][] = [];
    let dUpper = sc.alloc(BT * outW); // (B·T, Ip_L) ∂L/∂output
    eng.write(dUpper, outW, bw.dOutput, BT, D * H);
    const dout = sc.alloc(BT * Hp); // (B·T, Hp) this direction's slice, zero-padded
    const dxg = sc.alloc(BT * Gp);
    const da = sc.alloc(T * B * Gp);
    const dh = sc.alloc(B * Hp);
    const dc = lstm ? sc.alloc(B * Hp) : 0;
    const normBuf = norms ? sc.alloc(T) : 0;
    const TBp = pad4(T * B);
    const BTp = pad4(BT);
    const daT = sc.alloc(Gp * TBp);
    const vT = sc.alloc(Hp * TBp); // hsᵀ (or (r ⊙ h)ᵀ)
    const dWhh = sc.alloc(Gp * Hp);
    const dbhh = sc.alloc(Gp);
    const dbih = sc.alloc(Gp);
    const f32 = () => eng.f32();
    for (let l = L - 1; l >= 0; l--) {
      const Ip = wasmInputWidth(cfg, l);
      const Iq = wasmInputWidth(cfg, l + 1);
      const I = layerInputSize(cfg, l);
      const dxl = sc.alloc(BT * Ip);
      const inT = sc.alloc(Ip * BTp); // in_lᵀ
      k.transpose(BT, Ip, layers[l].input, Ip, inT, BTp);
      const dxgT = sc.alloc(Gp * BTp);
      const dWih = sc.alloc(Gp * Ip);
      const row: CellGrads[] = [];
      for (let d = 0; d < D; d++) {
        const w = cells[l][d];
        const ld = l * D + d;
        const st = layers[l].dirs[d];
        k.copyRows(BT, H, Hp, dUpper + d * H * 4, Iq, dout, Hp);
        f32().fill(0, dxg >>> 2, (dxg >>> 2) + BT * Gp);
        f32().fill(0, da >>> 2, (da >>> 2) + T * B * Gp);
        f32().fill(0, dh >>> 2, (dh >>> 2) + B * Hp);
        if (dc) f32().fill(0, dc >>> 2, (dc >>> 2) + B * Hp);
        if (bw.dhN) eng.write(dh, Hp, bw.dhN, B, H, H, ld * BH);
        if (dc && bw.dcN) eng.write(dc, Hp, bw.dcN, B, H, H, ld * BH);
        k.recBackward(flags[0], flags[1], flags[2], flags[3], d, flags[5], B, T, Hp, w.whhT, st.hs, st.cs, st.tape, st.ext, valid, dout, Hp, dh, dc, dxg, da, normBuf, scratch);
        eng.read(dh, Hp, B, H, dh0, H, ld * BH);
        if (dc0) eng.read(dc, Hp, B, H, dc0, H, ld * BH);
        if (norms) eng.read(normBuf, T, 1, T, norms, T, ld * T);
        // dW_hh = daᵀ · v over all steps (v = h_prev; GRU reset_after = false's n rows: r ⊙ h)
        k.transpose(T * B, Gp, da, Gp, daT, TBp);
        k.transpose(T * B, Hp, st.hs, Hp, vT, TBp);
        const gruRh = cfg.cell === 'gru' && !cfg.resetAfter;
        eng.gemm(gruRh ? 2 * Hp : Gp, Hp, TBp, daT, TBp, vT, TBp, dWhh, Hp, 0, 0, 0, 0);
        if (gruRh) {
          k.transpose(T * B, Hp, st.ext, Hp, vT, TBp);
          eng.gemm(Hp, Hp, TBp, daT + 2 * Hp * TBp * 4, TBp, vT, TBp, dWhh + 2 * Hp * Hp * 4, Hp, 0, 0, 0, 0);
        }
        f32().fill(0, dbhh >>> 2, (dbhh >>> 2) + Gp);
        f32().fill(0, dbih >>> 2, (dbih >>> 2) + Gp);
        k.rowSumAdd(Gp, TBp, daT, TBp, dbhh);
        // dW_ih = dxgᵀ · in_l, db_ih, and dx_l += dxg · W_ih
        k.transpose(BT, Gp, dxg, Gp, dxgT, BTp);
        eng.gemm(Gp, Ip, BTp, dxgT, BTp, inT, BTp, dWih, Ip, 0, 0, 0, 0);
        k.rowSumAdd(Gp, BTp, dxgT, BTp, dbih);
        eng.gemm(BT, Ip, Gp, dxg, Gp, w.wihT, Gp, dxl, Ip, dxl, Ip, 0, 0);
        row.push(unpackGrads(eng, cfg, l, { dWih, dWhh, dbih, dbhh }));
      }
      grads[l] = row;
      dUpper = dxl;
      if (l === 0) res.dx = eng.read(dxl, Ip, BT, I, new Float64Array(BT * I));
    }
    res.dh0 = dh0;
    res.dc0 = dc0;
    res.grads = grads;
    res.stepNorms = norms;
    return res;
  } finally {
    sc.dispose();
    freeRecorded(rec);
  }
}

/** Padded wasm gradients → PyTorch layout float64 (gate q's rows from [q·Hp, q·Hp + H)). */
function unpackGrads(eng: WasmEngine, cfg: RecurrentConfig, l: number, g: { dWih: number; dWhh: number; dbih: number; dbhh: number }): CellGrads {
  const H = cfg.hiddenSize;
  const Hp = pad4(H);
  const nG = gateCount(cfg.cell);
  const I = layerInputSize(cfg, l);
  const Ip = wasmInputWidth(cfg, l);
  const G = nG * H;
  const out: CellGrads = { dwih: new Float64Array(G * I), dwhh: new Float64Array(G * H), dbih: new Float64Array(G), dbhh: new Float64Array(G) };
  for (let q = 0; q < nG; q++) {
    eng.read(g.dWih + q * Hp * Ip * 4, Ip, H, I, out.dwih, I, q * H * I);
    eng.read(g.dWhh + q * Hp * Hp * 4, Hp, H, H, out.dwhh, H, q * H * H);
    eng.read(g.dbih + q * Hp * 4, Hp, 1, H, out.dbih, H, q * H);
    eng.read(g.dbhh + q * Hp * 4, Hp, 1, H, out.dbhh, H, q * H);
  }
  return out;
}
