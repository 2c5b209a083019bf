// Gradients of a layer direction's initial state, after its last backward step
// (step 0):
//   dh0[b, k] = carry[0, b, k] + Σ_{g < cols} W_hh[g, k]·dA[0, b, g]      dc0[b, k] = carry[1, b, k]
// cols = G, except for the Keras reset_after=False GRU: cols = 2H (its r and z rows),
// because the n rows multiply r ⊙ h and gru_v1_reset_backward.wgsl already put
// their h term into carry.
// Buffers:  whhT (H, G) · dA (T, B, G) · carry (2, B, H) · dh0, dc0 (L·D, B, H), this
//           layer direction's rows at `offset` · HAS_C: write dc0 (LSTM).
// Dispatch: (ceil(H / 64), B) workgroups of 64.

struct Params {
  B: u32,
  H: u32,
  G: u32,
  offset: u32,
  cols: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> whhT: array<f32>;
@group(0) @binding(2) var<storage, read> dA: array<f32>;
@group(0) @binding(3) var<storage, read> carry: array<f32>;
@group(0) @binding(4) var<storage, read_write> dh0: array<f32>;
@group(0) @binding(5) var<storage, read_write> dc0: array<f32>;

override HAS_C: bool = false;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let k = gid.x;
  let b = gid.y;
  if (k >= p.H) { return; }
  var acc = carry[b * p.H + k];
  for (var g = 0u; g < p.cols; g++) { acc += whhT[k * p.G + g] * dA[b * p.G + g]; }
  dh0[p.offset + b * p.H + k] = acc;
  if (HAS_C) { dc0[p.offset + b * p.H + k] = carry[(p.B + b) * p.H + k]; }
}
