// The gradient matmuls, over all time steps at once:
//   TRANS_A = false:  C (M, N) (+)= A (M, K) · B (K, N)      dx = dxg · W_ih
//   TRANS_A = true:   C (M, N) (+)= A (K, M)ᵀ · B (K, N)     dW_ih = dxgᵀ·x, dW_hhᵀ = hsᵀ·dA
// ACCUMULATE = true adds into C (weight gradients accumulate over directions,
// windows and batches until the optimizer zeroes them); false overwrites.
// Dispatch: (ceil(N / 16), ceil(M / 16)) workgroups of 16 × 16, one C element per
//           thread; K walked in tiles of 16 staged in workgroup memory.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  _pad: u32,
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
      if (TRANS_A) { av = a[k * p.M + row]; } else { av = a[row * p.K + k]; }
    }
    as_[lid.y][lid.x] = av;
    // B tile: element (k = t·16 + ly, n = col)
    let kb = t * TILE + lid.y;
    var bv = 0.0;
    if (kb < p.K && col < p.N) { bv = bm[kb * p.N + col]; }
    bs[lid.y][lid.x] = bv;
    workgroupBarrier();
    for (var kk = 0u; kk < TILE; kk++) {
      acc += as_[lid.y][kk] * bs[kk][lid.x];
    }
    workgroupBarrier();
  }
  if (row < p.M && col < p.N) {
    if (ACCUMULATE) { c[row * p.N + col] += acc; } else { c[row * p.N + col] = acc; }
  }
}
