// Gradient check of the CPU reference backward (src/reference/recurrent_backward.ts,
// src/reference/stack_backward.ts) against finite differences, all float64, no GPU.
//
// Loss: L = Σ output ⊙ Rout + Σ hN ⊙ Rh (+ Σ cN ⊙ Rc for LSTM), R fixed N(0, 1) draws,
// so the analytic gradients come from stackForwardBackwardRef with dOutput = Rout,
// dhN = Rh, dcN = Rc. Every entry of x, h0, c0 and of every weight (W_ih, W_hh, b_ih,
// b_hh) of every layer and direction is checked, by two stencils, each against the bar
// max err < 1e-6:
//
//   central, ε = 1e-6:   fd = (L(θ+ε) − L(θ−ε)) / 2ε
//                        err = |fd − an| / max(|fd| + |an|, 1e-2)
//   4-point, ε = 1e-3:   fd = (−L(θ+2ε) + 8L(θ+ε) − 8L(θ−ε) + L(θ−2ε)) / 12ε
//                        err = |fd − an| / max(|fd| + |an|, 1e-6)
//
// Why two, and why these floors. L is O(1) and is itself rounded at about 1e-15, so
// the plain central difference with ε = 1e-6 carries an absolute noise of about
// 1e-15 / 2ε ≈ 1e-9 (measured: up to 2e-9 over these cases, while the analytic
// gradient agrees with the 4-point stencil to 5e-11). A relative bar of 1e-6 is
// therefore only meaningful for gradients above ~1e-3; its floor of 1e-2 makes it a
// relative check above |g| ≈ 1e-2 and an absolute check at 1e-8 below. The fourth-order
// stencil has truncation error O(ε⁴) ≈ 1e-12 and rounding ≈ 1e-15 / ε ≈ 1e-12, so it
// holds the 1e-6 relative bar down to gradients of ~1e-6 (the floor).
//
// relu kinks: relu's derivative jumps at 0, so a difference whose stencil straddles 0
// is meaningless. For SimpleRNN relu every evaluation also records the sign of each
// relu pre-activation at every valid step; an entry whose stencil changes any sign is
// skipped for that stencil and counted. The test asserts the central stencil skips
// none and the 4-point one (steps up to 2e-3) at most 2% of the entries; with these
// seeds the smallest |relu pre-activation| is about 1e-2 and neither skips any.
import { afterAll, describe, expect, it } from 'vitest';
import { stackForwardBackwardRef, stackForwardRef, type StackForwardOptions } from '../src/reference/stack_backward';
import { initTorch } from '../src/weights/init';
import { compare } from './parity/compare';
import { Rng } from '../src/weights/random';
import { directions, gateCount, layerInputSize, type CellType, type RecurrentConfig } from '../src/weights/types';

interface Stencil {
  name: string;
  eps: number;
  /** Offsets (in units of eps) and weights; fd = Σ w·L(θ + o·eps) / (den·eps). */
  points: [offset: number, weight: number][];
  den: number;
  floor: number; // denominator floor of the error measure
}

const STENCILS: Stencil[] = [
  { name: 'central 1e-6', eps: 1e-6, points: [[1, 1], [-1, -1]], den: 2, floor: 1e-2 },
  { name: '4-point 1e-3', eps: 1e-3, points: [[2, -1], [1, 8], [-1, -8], [-2, 1]], den: 12, floor: 1e-6 },
];
const BAR = 1e-6; // max error allowed, both stencils
const MAX_RELU_SKIP = 0.02; // fraction of entries the 4-point stencil may skip at relu kinks

interface CellCase {
  name: string;
  cell: CellType;
  nonlinearity: 'tanh' | 'relu';
  resetAfter: boolean;
}

const CELLS: CellCase[] = [
  { name: 'rnn tanh', cell: 'rnn', nonlinearity: 'tanh', resetAfter: true },
  { name: 'rnn relu', cell: 'rnn', nonlinearity: 'relu', resetAfter: true },
  { name: 'gru resetAfter=true', cell: 'gru', nonlinearity: 'tanh', resetAfter: true },
  { name: 'gru resetAfter=false', cell: 'gru', nonlinearity: 'tanh', resetAfter: false },
  { name: 'lstm', cell: 'lstm', nonlinearity: 'tanh', resetAfter: true },
];

interface ShapeCase {
  name: string;
  I: number;
  H: number;
  L: number;
  bidirectional: boolean;
  B: number;
  T: number;
  lengths?: number[];
}

const SHAPES: ShapeCase[] = [
  { name: '1 layer', I: 3, H: 3, L: 1, bidirectional: false, B: 2, T: 3 },
  { name: '2 layers bidirectional, lengths [4, 2, 1]', I: 2, H: 3, L: 2, bidirectional: true, B: 3, T: 4, lengths: [4, 2, 1] },
  { name: 'B = T = H = 1', I: 1, H: 1, L: 1, bidirectional: false, B: 1, T: 1 },
];

/** A problem instance: config, float64 weights and inputs, fixed loss weights R. */
interface Problem {
  cfg: RecurrentConfig;
  weights: { wih: Float64Array; whh: Float64Array; bih: Float64Array; bhh: Float64Array }[][];
  x: Float64Array; // (B, T, I)
  h0: Float64Array; // (L·D, B, H)
  c0: Float64Array | null; // (L·D, B, H)
  opts: { B: number; T: number; lengths?: number[] };
  rOut: Float64Array; // (B, T, D·H)
  rH: Float64Array; // (L·D, B, H)
  rC: Float64Array | null; // (L·D, B, H)
}

function makeProblem(c: CellCase, s: ShapeCase, seed: number, bias: 'double' | 'single' = 'double'): Problem {
  const cfg: RecurrentConfig = {
    cell: c.cell,
    inputSize: s.I,
    hiddenSize: s.H,
    numLayers: s.L,
    bidirectional: s.bidirectional,
    nonlinearity: c.nonlinearity,
    resetAfter: c.resetAfter,
    bias,
  };
  const rng = new Rng(seed);
  const weights = initTorch(cfg, seed + 1).map((row) =>
    row.map((w) => ({ wih: Float64Array.from(w.wih), whh: Float64Array.from(w.whh), bih: Float64Array.from(w.bih), bhh: Float64Array.from(w.bhh) })),
  );
  const D = directions(cfg);
  const LDBH = s.L * D * s.B * s.H;
  const lstm = c.cell === 'lstm';
  return {
    cfg,
    weights,
    x: rng.fillNormal(new Float64Array(s.B * s.T * s.I)),
    h0: rng.fillNormal(new Float64Array(LDBH), 0, 0.5),
    c0: lstm ? rng.fillNormal(new Float64Array(LDBH), 0, 0.5) : null,
    opts: { B: s.B, T: s.T, lengths: s.lengths },
    rOut: rng.fillNormal(new Float64Array(s.B * s.T * D * s.H)),
    rH: rng.fillNormal(new Float64Array(LDBH)),
    rC: lstm ? rng.fillNormal(new Float64Array(LDBH)) : null,
  };
}

function fwdOpts(p: Problem): StackForwardOptions {
  return { ...p.opts, h0: p.h0, c0: p.c0 };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let acc = 0;
  for (let i = 0; i < a.length; i++) acc += a[i] * b[i];
  return acc;
}

interface Evaluation {
  loss: number;
  /** SimpleRNN relu: sign (a > 0) of every relu pre-activation at a valid step; '' otherwise. */
  reluSigns: string;
}

/** L = Σ output ⊙ Rout + Σ hN ⊙ Rh (+ Σ cN ⊙ Rc), from the current (possibly perturbed) arrays. */
function evaluate(p: Problem): Evaluation {
  const f = stackForwardRef(p.cfg, p.weights, p.x, fwdOpts(p));
  let loss = dot(f.output, p.rOut) + dot(f.hN, p.rH);
  if (f.cN && p.rC) loss += dot(f.cN, p.rC);
  if (!(p.cfg.cell === 'rnn' && p.cfg.nonlinearity === 'relu')) return { loss, reluSigns: '' };
  // Pre-activations a = xg + b_hh + W_hh·h from the tape (G = H for SimpleRNN).
  const { B, T } = p.opts;
  const H = p.cfg.hiddenSize;
  const lengths = p.opts.lengths ?? new Array<number>(B).fill(T);
  let signs = '';
  f.layers.forEach((layer, l) =>
    layer.dirs.forEach((dir, d) => {
      const w = p.weights[l][d];
      for (let s = 0; s < T; s++) {
        const t = d === 1 ? T - 1 - s : s;
        for (let b = 0; b < B; b++) {
          if (t >= lengths[b]) continue;
          for (let j = 0; j < H; j++) {
            let a = dir.xg[(b * T + t) * H + j] + w.bhh[j];
            for (let k = 0; k < H; k++) a += w.whh[j * H + k] * dir.hs[(s * B + b) * H + k];
            signs += a > 0 ? '+' : '-';
          }
        }
      }
    }),
  );
  return { loss, reluSigns: signs };
}

function analytic(p: Problem, x: Float64Array = p.x) {
  return stackForwardBackwardRef(p.cfg, p.weights, x, { ...fwdOpts(p), dOutput: p.rOut, dhN: p.rH, dcN: p.rC });
}

interface Check {
  stencil: string;
  maxErr: number;
  worst: string;
  count: number;
  skipped: number; // entries whose stencil crossed a relu kink
}

/** Every entry of x, h0, c0 and every weight, by each stencil, against the analytic gradient. */
function gradcheck(p: Problem): Check[] {
  const an = analytic(p);
  const named: [string, Float64Array, ArrayLike<number>][] = [
    ['x', p.x, an.dx],
    ['h0', p.h0, an.dh0],
  ];
  if (p.c0 && an.dc0) named.push(['c0', p.c0, an.dc0]);
  p.weights.forEach((row, l) =>
    row.forEach((w, d) => {
      const g = an.grads[l][d];
      named.push([`l${l}d${d}.wih`, w.wih, g.dwih], [`l${l}d${d}.whh`, w.whh, g.dwhh], [`l${l}d${d}.bih`, w.bih, g.dbih], [`l${l}d${d}.bhh`, w.bhh, g.dbhh]);
    }),
  );
  const baseSigns = evaluate(p).reluSigns;
  return STENCILS.map((st) => {
    const res: Check = { stencil: st.name, maxErr: 0, worst: 'none', count: 0, skipped: 0 };
    for (const [name, arr, grad] of named) {
      expect(grad.length, `${name}: gradient length`).toBe(arr.length);
      for (let i = 0; i < arr.length; i++) {
        const v = arr[i];
        let acc = 0;
        let kink = false;
        for (const [o, wgt] of st.points) {
          arr[i] = v + o * st.eps;
          const e = evaluate(p);
          acc += wgt * e.loss;
          if (e.reluSigns !== baseSigns) kink = true;
        }
        arr[i] = v;
        res.count++;
        if (kink) {
          res.skipped++;
          continue;
        }
        const fd = acc / (st.den * st.eps);
        const err = Math.abs(fd - grad[i]) / Math.max(Math.abs(fd) + Math.abs(grad[i]), st.floor);
        if (!(err <= res.maxErr)) {
          res.maxErr = Number.isNaN(err) ? NaN : err;
          res.worst = `${name}[${i}]: fd ${fd} vs analytic ${grad[i]}`;
        }
      }
    }
    return res;
  });
}

/** Runs gradcheck and asserts the bar and the relu skip limits; returns the checks. */
function expectGradcheck(p: Problem): Check[] {
  const checks = gradcheck(p);
  for (const r of checks) {
    expect(r.count).toBeGreaterThan(0);
    expect(r.maxErr, `${r.stencil}: max error ${r.maxErr.toExponential(2)} at ${r.worst}`).toBeLessThan(BAR);
    const allowed = r.stencil.startsWith('central') ? 0 : Math.floor(MAX_RELU_SKIP * r.count);
    expect(r.skipped, `${r.stencil}: ${r.skipped} of ${r.count} entries crossed a relu kink`).toBeLessThanOrEqual(allowed);
  }
  return checks;
}

/** Exact equality (atol 0) through the shared comparison helper; [] when equal, else its detail. */
function exactDiff(name: string, ref: ArrayLike<number> | null, got: ArrayLike<number> | null): string[] {
  if (ref === null || got === null) return ref === got ? [] : [`${name}: one is null`];
  const c = compare(name, ref, got, { atol: 0 });
  return c.ok ? [] : [c.detail];
}

const maxErr = new Map<string, number[]>(); // cell -> max error per stencil, over all its cases
let skippedTotal = 0;
function record(cell: string, checks: Check[]): void {
  const prev = maxErr.get(cell) ?? checks.map(() => 0);
  maxErr.set(cell, checks.map((c, k) => Math.max(prev[k], c.maxErr)));
  for (const c of checks) skippedTotal += c.skipped;
}
afterAll(() => {
  const head = `  ${'cell'.padEnd(22)} ${STENCILS.map((s) => s.name.padEnd(14)).join(' ')}`;
  const rows = [...maxErr].map(([k, v]) => `  ${k.padEnd(22)} ${v.map((e) => e.toExponential(2).padEnd(14)).join(' ')}`);
  console.log(`gradcheck: max error per cell over all its cases (bar ${BAR}; relu kink skips: ${skippedTotal}):\n${head}\n${rows.join('\n')}`);
});

describe('reference backward vs finite differences (float64)', () => {
  CELLS.forEach((c, ci) => {
    SHAPES.forEach((s, si) => {
      it(`${c.name}, ${s.name}`, () => {
        record(c.name, expectGradcheck(makeProblem(c, s, 100 * ci + si)));
      });
    });
  });
});

describe('single bias (Keras one-bias layers)', () => {
  // b_hh is not trainable there, but its reported gradient must be right (finite
  // differences) and, as b_hh enters exactly where b_ih does, equal to db_ih (up to
  // summation order).
  CELLS.filter((c) => !(c.cell === 'gru' && c.resetAfter)).forEach((c, ci) => {
    it(`${c.name}: dbhh matches finite differences and equals dbih`, () => {
      const p = makeProblem(c, SHAPES[1], 500 + ci, 'single');
      record(c.name, expectGradcheck(p));
      const an = analytic(p);
      for (const row of an.grads) {
        for (const g of row) {
          for (let k = 0; k < g.dbhh.length; k++) expect(Math.abs(g.dbhh[k] - g.dbih[k])).toBeLessThan(1e-12);
        }
      }
    });
  });
});

describe('masking: padded positions', () => {
  const s = SHAPES[1]; // 2 layers bidirectional, lengths [4, 2, 1]
  CELLS.forEach((c, ci) => {
    it(`${c.name}: dx is exactly 0 at padded positions and garbage there changes nothing`, () => {
      const p = makeProblem(c, s, 900 + ci);
      const { B, T } = p.opts;
      const I = s.I;
      const lengths = s.lengths!;
      const base = analytic(p);

      const nonZero: string[] = [];
      for (let b = 0; b < B; b++) {
        for (let t = lengths[b]; t < T; t++) {
          for (let i = 0; i < I; i++) if (!Object.is(base.dx[(b * T + t) * I + i], 0)) nonZero.push(`dx[b=${b},t=${t},i=${i}] = ${base.dx[(b * T + t) * I + i]}`);
        }
      }
      expect(nonZero).toEqual([]);

      // Large finite garbage in every padded position of x.
      const junk = Float64Array.from(p.x);
      const rng = new Rng(7);
      for (let b = 0; b < B; b++) {
        for (let t = lengths[b]; t < T; t++) for (let i = 0; i < I; i++) junk[(b * T + t) * I + i] = 1e3 * rng.normal();
      }
      const g = analytic(p, junk);
      const diffs = [
        ...exactDiff('output', base.output, g.output),
        ...exactDiff('hN', base.hN, g.hN),
        ...exactDiff('cN', base.cN, g.cN),
        ...exactDiff('dx', base.dx, g.dx),
        ...exactDiff('dh0', base.dh0, g.dh0),
        ...exactDiff('dc0', base.dc0, g.dc0),
      ];
      base.grads.forEach((row, l) =>
        row.forEach((cg, d) => {
          const gg = g.grads[l][d];
          diffs.push(
            ...exactDiff(`l${l}d${d}.dwih`, cg.dwih, gg.dwih),
            ...exactDiff(`l${l}d${d}.dwhh`, cg.dwhh, gg.dwhh),
            ...exactDiff(`l${l}d${d}.dbih`, cg.dbih, gg.dbih),
            ...exactDiff(`l${l}d${d}.dbhh`, cg.dbhh, gg.dbhh),
          );
        }),
      );
      expect(diffs).toEqual([]);
    });
  });
});

describe('shapes of the gradients', () => {
  it('match the weights and states', () => {
    const p = makeProblem(CELLS[4], SHAPES[1], 1);
    const an = analytic(p);
    const H = p.cfg.hiddenSize;
    const G = gateCount(p.cfg.cell) * H;
    const LD = p.cfg.numLayers * directions(p.cfg);
    expect(an.dx.length).toBe(p.x.length);
    expect(an.dh0.length).toBe(LD * p.opts.B * H);
    expect(an.dc0?.length).toBe(LD * p.opts.B * H);
    an.grads.forEach((row, l) =>
      row.forEach((g) => {
        expect([g.dwih.length, g.dwhh.length, g.dbih.length, g.dbhh.length]).toEqual([G * layerInputSize(p.cfg, l), G * H, G, G]);
      }),
    );
  });
});
