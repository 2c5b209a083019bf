// The cell activation (Keras `activation`: relu, sigmoid, linear) on a target
// runtime and path against the CPU reference: outputs, final states and every
// gradient. Shared by tests/cell_activation.test.ts (Node: GPU both paths, wasm) and
// the browser parity page (tests/browser/parity.ts: Chromium's WebGPU).
// Tolerances: outputs and states 1e-5 relative to the tensor's largest entry (at
// least 1e-5 abs): float32 against float64 with O(1) values, and relu/linear cells
// on |x| ≥ 30 inputs reach O(10²); gradients 1e-4 relative to the tensor's largest
// entry (float32 sums over T and B of products of O(1) terms).
import type { Runtime } from '../../src/index';
import { data } from '../helpers/data';
import { compare, type Comparison } from './compare';

export type CellName = 'lstm' | 'gru' | 'simpleRNN';
export type CellAct = 'relu' | 'sigmoid' | 'linear';

export interface CellActivationCase {
  name: string;
  cell: CellName;
  opts: { resetAfter?: boolean; convention?: 'keras' };
  activation: CellAct;
  B: number;
  T: number;
  I: number;
  H: number;
  /** Inputs are data() in (−1, 1) times this. */
  scale: number;
  numLayers: number;
  bidirectional: boolean;
  lengths?: number[];
  /** Initialiser seed; default 4. */
  seed?: number;
}

export const CELL_VARIANTS = [
  ['lstm', {}],
  ['gru', {}],
  ['gru', { resetAfter: false, convention: 'keras' as const }],
  ['simpleRNN', {}],
] as const;
export const cellVariantName = (cell: string, opts: object): string => `${cell}${'resetAfter' in opts ? '_v1' : ''}`;

export const cellActivationCases: readonly CellActivationCase[] = [
  // every cell and activation: 2 layers, bidirectional, one short sample
  ...(['relu', 'sigmoid', 'linear'] as const).flatMap((activation) =>
    CELL_VARIANTS.map(([cell, opts]): CellActivationCase => ({ name: `${cellVariantName(cell, opts)}_${activation}_2layer_bidi`, cell, opts, activation, B: 3, T: 4, I: 3, H: 4, scale: 2, numLayers: 2, bidirectional: true, lengths: [4, 2, 4] })),
  ),
  // B = T = H = 1 (seed 11: its one g unit is active, relu > 0)
  { name: 'lstm_relu_1x1x1', cell: 'lstm', opts: {}, activation: 'relu', B: 1, T: 1, I: 1, H: 1, scale: 1, numLayers: 1, bidirectional: false, seed: 11 },
  // inputs with |x| ≥ 30
  { name: 'lstm_relu_extreme', cell: 'lstm', opts: {}, activation: 'relu', B: 2, T: 3, I: 2, H: 3, scale: 40, numLayers: 1, bidirectional: true },
  { name: 'gru_sigmoid_extreme', cell: 'gru', opts: {}, activation: 'sigmoid', B: 2, T: 3, I: 2, H: 3, scale: 40, numLayers: 1, bidirectional: true },
  { name: 'gru_v1_linear_extreme', cell: 'gru', opts: { resetAfter: false, convention: 'keras' }, activation: 'linear', B: 2, T: 3, I: 2, H: 3, scale: 40, numLayers: 1, bidirectional: true },
];

export type Path = 'auto' | 'step' | 'persistent';

interface Run {
  out: Float32Array | Float64Array;
  h: Float32Array | Float64Array;
  c: Float32Array | Float64Array | null;
  dx: Float32Array | Float64Array;
  dh0: Float32Array | Float64Array;
  dc0: Float32Array | Float64Array | null;
  grads: Record<string, ArrayLike<number>>;
}

async function forwardBackward(rt: Runtime, path: Path, c: CellActivationCase): Promise<Run> {
  const D = c.bidirectional ? 2 : 1;
  const layer = rt[c.cell]({ inputSize: c.I, hiddenSize: c.H, numLayers: c.numLayers, bidirectional: c.bidirectional, seed: c.seed ?? 4, activation: c.activation, ...c.opts });
  try {
    const x = data(c.B * c.T * c.I, 31).map((v) => v * c.scale);
    const dOut = data(c.B * c.T * D * c.H, 32);
    const dh = data(c.numLayers * D * c.B * c.H, 33);
    const r = await layer.forward(x, { batch: c.B, record: true, path, lengths: c.lengths });
    const g = await layer.backward(r.tape!, { dOutput: dOut, dh });
    const run: Run = {
      out: await r.output.read(),
      h: await r.h.read(),
      c: r.c ? await r.c.read() : null,
      dx: await g.dx.read(),
      dh0: await g.dh0.read(),
      dc0: g.dc0 ? await g.dc0.read() : null,
      grads: await layer.gradients(),
    };
    for (const t of [r.output, r.h, r.c, g.dx, g.dh0, g.dc0]) t?.dispose();
    return run;
  } finally {
    layer.dispose();
  }
}

const largest = (a: ArrayLike<number>): number => Math.max(...Array.from(a, Math.abs));

/** One case on `target` (path) against the CPU reference `ref`: one comparison per tensor. */
export async function runCellActivationCase(ref: Runtime, target: Runtime, path: Path, c: CellActivationCase): Promise<Comparison[]> {
  const want = await forwardBackward(ref, 'auto', c);
  const got = await forwardBackward(target, path, c);
  const tag = `${c.name}[${target.backend} ${path}]`;
  const rows: Comparison[] = [];
  // the backward must see something: a zero gradient everywhere would pass trivially
  if (!(largest(want.dx) > 1e-3)) rows.push({ name: `${tag}.nontrivial`, ok: false, maxAbs: NaN, detail: `${tag}: the reference dx is all (near) zero; pick another seed` });
  const fwd = (name: string, a: ArrayLike<number>, b: ArrayLike<number> | null) => rows.push(compare(`${tag}.${name}`, a, b ?? [], { atol: 1e-5 * Math.max(1, largest(a)) }));
  const grad = (name: string, a: ArrayLike<number>, b: ArrayLike<number> | null) => rows.push(compare(`${tag}.${name}`, a, b ?? [], { atol: 1e-4 * Math.max(1e-3, largest(a)) }));
  fwd('output', want.out, got.out);
  fwd('h', want.h, got.h);
  if (want.c) fwd('c', want.c, got.c);
  grad('dx', want.dx, got.dx);
  grad('dh0', want.dh0, got.dh0);
  if (want.dc0) grad('dc0', want.dc0, got.dc0);
  for (const name of Object.keys(want.grads)) grad(`d${name}`, want.grads[name], got.grads[name] ?? null);
  return rows;
}
