// The one place that knows how recurrent weights are laid out on the GPU.
//
// PyTorch keeps W_hh as (G, H), row r = g·H + j for gate g of unit j. The GPU
// keeps it transposed, (H, G), so that thread j of a step kernel reads
// neighbouring addresses; for LSTM the columns are also gate-interleaved,
// column c(r) = 4j + g, so that the four gates of unit j are one vec4 (see
// lstm_step_forward.wgsl). b_hh (and the gradients dW_hh, db_hh, which the
// kernels produce in the same layout) follow the same column order.
import type { CellType } from './types';

/** GPU column of PyTorch gate row r = g·H + j. */
function column(cell: CellType, H: number, r: number): number {
  if (cell !== 'lstm') return r;
  const g = Math.floor(r / H);
  const j = r % H;
  return 4 * j + g;
}

/** W_hh (G, H) in PyTorch layout → the GPU's (H, G). */
export function whhToGpu(cell: CellType, whh: ArrayLike<number>, H: number): Float32Array {
  const G = whh.length / H;
  const out = new Float32Array(H * G);
  for (let r = 0; r < G; r++) {
    const c = column(cell, H, r);
    for (let k = 0; k < H; k++) out[k * G + c] = whh[r * H + k];
  }
  return out;
}

/** The GPU's (H, G) → W_hh (G, H) in PyTorch layout (weights or their gradients). */
export function whhFromGpu(cell: CellType, gpu: ArrayLike<number>, H: number): Float32Array {
  const G = gpu.length / H;
  const out = new Float32Array(G * H);
  for (let r = 0; r < G; r++) {
    const c = column(cell, H, r);
    for (let k = 0; k < H; k++) out[r * H + k] = gpu[k * G + c];
  }
  return out;
}

/** b_hh (G) in PyTorch gate order → the GPU's column order. */
export function bhhToGpu(cell: CellType, bhh: ArrayLike<number>, H: number): Float32Array {
  const out = new Float32Array(bhh.length);
  for (let r = 0; r < bhh.length; r++) out[column(cell, H, r)] = bhh[r];
  return out;
}

/** The GPU's column order → b_hh (G) in PyTorch gate order (weights or gradients). */
export function bhhFromGpu(cell: CellType, gpu: ArrayLike<number>, H: number): Float32Array {
  const out = new Float32Array(gpu.length);
  for (let r = 0; r < gpu.length; r++) out[r] = gpu[column(cell, H, r)];
  return out;
}
