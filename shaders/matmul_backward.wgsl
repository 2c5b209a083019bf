// The gradient matmuls, over all time steps at once:
//   TRANS_A = false:  C (M, N) (+)= A (M, K) · B (K, N)      dx = dxg · W_ih
//   TRANS_A = true:   C (M, N) (+)= A (K, M)ᵀ · B (K, N)     dW_ih = dxgᵀ·x, dW_hhᵀ = hsᵀ·dA
// Each operand may be a column block of a wider row-major buffer: element (i, j) of
// A as stored is a[offA + i·lda + j], of B bm[offB + i·ldb + j], of C
// c[offC + i·ldc + j]. Dense operands have lda = K (M with TRANS_A), ldb = ldc = N
// and zero offsets. The Keras reset_after=False GRU uses the blocks for dW_hhᵀ
// (H, G): columns [0, 2H) += hsᵀ·dA[:, :2H], columns [2H, 3H) += (r ⊙ h)ᵀ·dA[:, 2H:]
// with r ⊙ h read from block 3 of the recorded gates (T·B, 4H).
// ACCUMULATE = true adds into C (weight gradients accumulate over directions,
// windows and batches until the optimizer zeroes them); false overwrites.
// Dispatch: (ceil(N / 16), ceil(M / 16)) workgroups of 16 × 16, one C element per
//           thread; K walked in tiles of 16 staged in workgroup memory.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  lda: u32,
  ldb: u32,
  ldc: u32,
  offA: u32,
  offB: u32,
  offC: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> bm: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

override TRANS_A: bool = false;
override ACCUMULATE: bool = false;

const TILE: u32 = 16u;
var<workgroup> as_: array<array<f32, 16>, 16>; // as_[row m][k]
var<workgroup> bs: array<array<f32, 16>, 16>;  // bs[k][col n]

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let row = wid.y * TILE + lid.y;
  let col = wid.x * TILE + lid.x;
  var acc = 0.0;
  let tiles = (p.K + TILE - 1u) / TILE;
  for (var t = 0u; t < tiles; t++) {
    // A tile: element (m = wid.y·16 + ly, k = t·16 + lx)
    let k = t * TILE + lid.x;
    var av = 0.0;
    if (row < p.M && k < p.K) {
      if (TRANS_A) { av = a[p.offA + k * p.lda + row]; } else { av = a[p.offA + row * p.lda + k]; }
    }
    as_[lid.y][lid.x] = av;
    // B tile: element (k = t·16 + ly, n = col)
    let kb = t * TILE + lid.y;
    var bv = 0.0;
    if (kb < p.K && col < p.N) { bv = bm[p.offB + kb * p.ldb + col]; }
    bs[lid.y][lid.x] = bv;
    workgroupBarrier();
    for (var kk = 0u; kk < TILE; kk++) {
      acc += as_[lid.y][kk] * bs[kk][lid.x];
    }
    workgroupBarrier();
  }
  if (row < p.M && col < p.N) {
    let ci = p.offC + row * p.ldc + col;
    if (ACCUMULATE) { c[ci] += acc; } else { c[ci] = acc; }
  }
}
